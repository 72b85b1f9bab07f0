"""Past years: a ranking the province published before Lapor, imported from a CSV.

The file has a header row and the columns ``region`` (a regency's or city's name, e.g. "Kota
Banjarbaru" or "Kab. Banjar", or its code "63.72"), ``score`` ("2,01" or "2.01"), ``rank`` and
``predicate`` (may be empty); "," or ";" between cells, UTF-8 (a BOM is fine). It lists only the
groups that were published (a top three is enough). The import is checked as a whole first (a
dry run: every row's errors), and saved only when no row has one: a published result marked
"imported", with the named scheme and the source, and no breakdown. Movement in the next
computed year compares with it like with any earlier published year.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Region, RegionKind
from agencies.selectors import staff_scope_for

from .indicators import year_bounds
from .models import Level, LogAction, RankingLog, Result, ResultRow, ResultStatus, Scheme
from .services import FIRST_YEAR, RankingError, check_level

MAX_BYTES = 200_000
MAX_ROWS = 500
COLUMNS = ("region", "score", "rank", "predicate")


@dataclass
class ImportRow:
    line: int
    region_text: str
    region: Region | None = None
    score: Decimal | None = None
    rank: int | None = None
    predicate: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportCheck:
    """The dry run: rows as read, each with its errors, and errors about the whole file."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def row_errors(self) -> int:
        return sum(1 for r in self.rows if r.errors)


def _key(name: str) -> str:
    text = " ".join(name.lower().replace(".", ". ").split())
    text = re.sub(r"^kab\. ", "kabupaten ", text)
    return text.replace(".", "").strip()


def _regions() -> dict[str, Region]:
    found = {}
    for region in Region.objects.exclude(kind=RegionKind.PROVINCE):
        found[_key(region.name)] = region
        found[region.code] = region
    return found


def _decimal(text: str) -> Decimal | None:
    text = text.strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def decode(data: bytes) -> str:
    """The file's text; UTF-8 only (a BOM is fine)."""
    if len(data) > MAX_BYTES:
        raise RankingError(
            _("The file is too large (at most %(n)s KB).") % {"n": MAX_BYTES // 1000},
            field="file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RankingError(
            _("Save the file as UTF-8 CSV and upload it again."), field="file"
        ) from exc


def check_rows(text: str) -> ImportCheck:
    """Read and check the CSV text; nothing is saved."""
    check = ImportCheck()
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        check.errors.append(_("The file is empty."))
        return check
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        check.errors.append(
            _("The header must name the columns %(columns)s; missing: %(missing)s.")
            % {"columns": ", ".join(COLUMNS), "missing": ", ".join(missing)}
        )
        return check
    index = {c: header.index(c) for c in COLUMNS}
    regions = _regions()
    seen: dict[int, int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(check.rows) >= MAX_ROWS:
            check.errors.append(_("At most %(n)s rows.") % {"n": MAX_ROWS})
            break
        cells = cells + [""] * (len(header) - len(cells))

        def cell(name, cells=cells):
            return cells[index[name]].strip()

        row = ImportRow(line=line, region_text=cell("region")[:200])
        row.region = regions.get(cell("region")) or regions.get(_key(cell("region")))
        if row.region is None:
            row.errors.append(
                _("Unknown regency or city “%(name)s”.") % {"name": row.region_text[:100]}
            )
        elif row.region.pk in seen:
            row.errors.append(
                _("%(name)s is already on line %(line)s.")
                % {"name": row.region.name, "line": seen[row.region.pk]}
            )
        else:
            seen[row.region.pk] = line
        row.score = _decimal(cell("score"))
        if row.score is None or row.score < 0 or row.score >= Decimal("1e8"):
            row.errors.append(_("The score must be a number of 0 or more, e.g. 2,01."))
            row.score = None
        else:
            row.score = row.score.quantize(Decimal("0.00000001"))
        rank = cell("rank")
        if not rank.isdigit() or int(rank) < 1 or int(rank) > MAX_ROWS:
            row.errors.append(_("The rank must be a whole number from 1."))
        else:
            row.rank = int(rank)
        row.predicate = cell("predicate")
        if len(row.predicate) > 60:
            row.errors.append(_("The predicate has at most 60 characters."))
        check.rows.append(row)
    if not check.rows and not check.errors:
        check.errors.append(_("The file has no rows under its header."))
    return check


def _check_target(*, year: int, level: str, now: datetime) -> None:
    check_level(level)
    this_year = timezone.localdate(now).year
    if not FIRST_YEAR <= year < this_year:
        raise RankingError(
            _("Choose a past year from %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": this_year - 1},
            field="year",
        )
    if Result.objects.filter(year=year, level=level, status=ResultStatus.PUBLISHED).exists():
        raise RankingError(
            _("This year already has a published ranking; withdraw it first."), field="year"
        )


def ranking_import(
    *,
    year: int,
    text: str,
    scheme_name: str,
    source: str = "",
    actor=None,
    dry_run: bool = True,
    now: datetime | None = None,
) -> tuple[ImportCheck, Result | None]:
    """Check the CSV ``text`` and, unless ``dry_run`` or a row has an error, save it as the
    published (imported) regency ranking of ``year``. ``actor`` None: the management command."""
    now = now or timezone.now()
    level = Level.REGENCY
    if actor is not None and not staff_scope_for(actor).is_province:
        raise RankingError(_("Only provincial staff may do this."))
    scheme_name = (scheme_name or "").strip()
    if not scheme_name:
        raise RankingError(_("Name the scheme the province used that year."), field="scheme_name")
    _check_target(year=year, level=level, now=now)
    check = check_rows(text)
    if dry_run or not check.ok:
        return check, None
    start, end = year_bounds(year)
    with transaction.atomic():
        _check_target(year=year, level=level, now=now)
        scheme = Scheme.objects.filter(year=year, level=level).first()
        if scheme is None:
            scheme = Scheme.objects.create(
                year=year, level=level, name_id=scheme_name[:150], name_en=scheme_name[:150]
            )
        result = Result.objects.create(
            year=year,
            level=level,
            scheme=scheme,
            status=ResultStatus.PUBLISHED,
            period_start=start,
            period_end=end,
            computed_at=now,
            published_at=now,
            published_by=actor,
            is_imported=True,
            source_note=source.strip()[:300],
            scheme_snapshot={
                "scheme_id": scheme.pk,
                "name_id": scheme_name[:150],
                "name_en": scheme_name[:150],
                "imported": True,
                "criteria": [],
                "bands": [],
                "max_score": str(max(r.score for r in check.rows)),
            },
        )
        ResultRow.objects.bulk_create(
            ResultRow(
                result=result,
                region=row.region,
                name=row.region.name,
                region_name=row.region.name,
                rank=row.rank,
                score=row.score,
                band_id=row.predicate,
                band_en=row.predicate,
            )
            for row in check.rows
        )
        RankingLog.objects.create(
            year=year,
            level=level,
            action=LogAction.IMPORTED,
            result=result,
            actor=actor,
            reason=f"{scheme_name}; {source}".strip("; ")[:1000],
            at=now,
        )
    return check, result
