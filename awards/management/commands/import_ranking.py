from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from awards.imports import decode, ranking_import
from awards.services import RankingError


class Command(BaseCommand):
    help = (
        "Import a regency ranking the province published before Lapor from a CSV with the "
        "columns region, score, rank, predicate. Checks only (a dry run) unless --apply."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--scheme", required=True, help="the scheme the province used")
        parser.add_argument("--source", default="", help="where it was published")
        parser.add_argument("--apply", action="store_true", help="save it (after a clean check)")

    def handle(self, *args, file, year, scheme, source, apply, **options):
        try:
            text = decode(file.read_bytes())
            check, result = ranking_import(
                year=year, text=text, scheme_name=scheme, source=source, dry_run=not apply
            )
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except RankingError as exc:
            raise CommandError(str(exc.message)) from exc
        for error in check.errors:
            self.stderr.write(error)
        for row in check.rows:
            line = (
                f"line {row.line}: {row.region_text} · {row.score} · {row.rank} · {row.predicate}"
            )
            if row.errors:
                self.stderr.write(f"{line} — " + " ".join(row.errors))
            else:
                self.stdout.write(line)
        if not check.ok:
            raise CommandError(f"{check.row_errors} row(s) with errors; nothing imported.")
        if result is None:
            self.stdout.write(
                f"{len(check.rows)} row(s) correct. Run again with --apply to import."
            )
        else:
            self.stdout.write(f"Imported {year}: {len(check.rows)} row(s), result {result.pk}.")
