"""``manage.py sp4n export|import``: the exchange with SP4N-LAPOR! (docs/sp4n-lapor.md)."""

import sys
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agencies.selectors import staff_scope_for
from complaints import national


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not an ISO date-time: {text!r}") from exc
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Exchange with SP4N-LAPOR!: 'export' writes the complaints new or changed on a day or "
        "since a mark (CSV or JSON); 'import FILE' applies a national file of dispositions and "
        "status updates through the workflow, all rows or none ('--dry-run' only reports)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        export = sub.add_parser("export")
        when = export.add_mutually_exclusive_group(required=True)
        when.add_argument("--day", type=date.fromisoformat, help="a local (WITA) day, YYYY-MM-DD")
        when.add_argument("--since", help="a mark: changed after this ISO date-time")
        export.add_argument("--until", help="changed up to this ISO date-time (default: now)")
        export.add_argument("--format", choices=("csv", "json"), default="csv")
        export.add_argument("--output", type=Path, help="a file (default: standard output)")
        export.add_argument("--as", dest="username", required=True, help="a provincial staff user")
        imported = sub.add_parser("import")
        imported.add_argument("file", type=Path)
        imported.add_argument("--dry-run", action="store_true", help="report only, change nothing")
        imported.add_argument(
            "--as", dest="username", required=True, help="a provincial staff user"
        )

    def _province_user(self, username: str):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None or not staff_scope_for(user).is_province:
            raise CommandError(f"{username!r} is not an active provincial staff user.")
        return user

    def handle(self, *args, what, username, **options):
        user = self._province_user(username)
        if what == "export":
            self._export(user, **options)
        else:
            self._import(user, **options)

    def _export(self, user, *, day, since, until, format, output, **options):
        if day is not None:
            start, end = national.day_period(day)
        else:
            start, end = _moment(since), _moment(until) if until else timezone.now()
        rows = national.export_rows(user, since=start, until=end)
        chunks: Iterable[str]
        if format == "json":
            chunks = [national.export_json(rows, since=start, until=end)]
        else:
            chunks = national.export_csv(rows)
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            for chunk in chunks:
                out.write(chunk)
        finally:
            if output:
                out.close()
        if output:
            self.stderr.write(f"Written {output}; next mark: {end.isoformat()}")

    def _import(self, user, *, file, dry_run, **options):
        try:
            text = national.decode(file.read_bytes()[: national.MAX_BYTES + 1])
            check = national.import_check(user, text)
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except national.FileError as exc:
            raise CommandError(exc.message) from exc
        for row in check.rows:
            line = f"line {row.line}: {row.code or row.number} {row.outcome}"
            if row.message:
                line += f" — {row.message}"
            (self.stdout if row.outcome in ("apply", "unchanged") else self.stderr).write(line)
        if not check.ok:
            raise CommandError(f"{len(check.problems)} row(s) cannot be applied; nothing changed.")
        if dry_run:
            self.stdout.write(f"{check.changes} row(s) to apply. Run without --dry-run to apply.")
            return
        try:
            national.import_apply(user, text)
        except national.ImportRefused as exc:
            raise CommandError(f"Nothing changed: {exc.message}") from exc
        self.stdout.write(f"Applied {check.changes} row(s).")
