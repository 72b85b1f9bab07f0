"""The exchange with SP4N-LAPOR!, the national complaint system (docs/sp4n-lapor.md).

No public API of the national system is documented, so Lapor defines a file format in its
vocabulary: one row per complaint, in CSV or JSON, with Lapor's tracking code beside the
national number. ``export_*`` writes the complaints new or changed in a period; ``import_check``
reads a national file of dispositions and status updates and says, row by row, what it would do;
``import_apply`` does it through the workflow (``complaints.services``), all rows or none.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from agencies.models import Agency
from agencies.selectors import staff_scope_for
from lapor.spreadsheet import BOM, FORMULA_STARTS, safe_writer

from . import selectors, services
from .codes import tracking_code_normalise
from .models import Complaint
from .workflow import Action, ArchiveReason, ComplaintStatus, Role, WorkflowError

if TYPE_CHECKING:
    from lapor.types import AnyUser

S = ComplaintStatus
FORMAT = "lapor-sp4n/1"
MAX_BYTES = 2_000_000
MAX_ROWS = 5000
MAX_CELL = 5000

# The national statuses, in the order a complaint goes through them; ``diarsipkan`` is apart.
BELUM_TERVERIFIKASI = "belum_terverifikasi"
DIDISPOSISIKAN = "didisposisikan"
DITINDAKLANJUTI = "ditindaklanjuti"
SELESAI = "selesai"
DITUTUP = "ditutup"
DIARSIPKAN = "diarsipkan"
NATIONAL_STATUSES = (
    BELUM_TERVERIFIKASI,
    DIDISPOSISIKAN,
    DITINDAKLANJUTI,
    SELESAI,
    DITUTUP,
    DIARSIPKAN,
)
NATIONAL_STATUS = {
    S.SUBMITTED: BELUM_TERVERIFIKASI,
    S.TRIAGE: BELUM_TERVERIFIKASI,
    S.ASSIGNED: DIDISPOSISIKAN,
    S.IN_PROGRESS: DITINDAKLANJUTI,
    S.RESOLVED: SELESAI,
    S.CLOSED: DITUTUP,
    S.ARCHIVED: DIARSIPKAN,
}
ARCHIVE_REASONS = {
    "spam": ArchiveReason.SPAM,
    "di_luar_kewenangan": ArchiveReason.OUT_OF_SCOPE,
    "terlalu_umum": ArchiveReason.TOO_GENERAL,
}
CHANNELS = {"web": "website", "api": "api", "open311": "aplikasi", "email": "email"}

COLUMNS = (
    "nomor_lapor",
    "nomor_nasional",
    "klasifikasi",
    "judul",
    "isi",
    "kategori",
    "wilayah_kode",
    "wilayah",
    "kecamatan",
    "lokasi",
    "tanggal_kejadian",
    "tanggal_lapor",
    "tanggal_diperbarui",
    "kanal",
    "rahasia",
    "anonim",
    "nama_pelapor",
    "email_pelapor",
    "telepon_pelapor",
    "status",
    "instansi",
    "instansi_nama",
    "tanggal_selesai",
    "keterangan",
    "alasan_arsip",
)
# What an import reads; every other column (the rest of an export) is ignored.
IMPORT_COLUMNS = ("nomor_lapor", "nomor_nasional", "status", "instansi", "keterangan")
IMPORT_OPTIONAL = ("alasan_arsip",)


# --- export -----------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _yes(value: bool) -> str:
    return "ya" if value else "tidak"


def agency_key(agency: Agency | None) -> str:
    """An agency as the exchange names it: ``<region code>/<agency code>``, e.g. 63.72/perkim."""
    return f"{agency.region.code}/{agency.code}" if agency is not None else ""


def export_row(complaint: Complaint) -> dict[str, str]:
    """One complaint in the national vocabulary. Rahasia: the content is sent (the national
    system keeps it from the public too), the reporter's identity is not; anonim: never the
    reporter."""
    identity = not (complaint.is_confidential or complaint.is_anonymous)
    agency = complaint.assigned_agency
    return {
        "nomor_lapor": complaint.tracking_code,
        "nomor_nasional": complaint.national_number,
        "klasifikasi": complaint.classification,
        "judul": complaint.title,
        "isi": complaint.description,
        "kategori": complaint.category.name_id,
        "wilayah_kode": complaint.region.code,
        "wilayah": complaint.region.name,
        "kecamatan": complaint.district,
        "lokasi": complaint.address,
        "tanggal_kejadian": complaint.incident_date.isoformat(),
        "tanggal_lapor": _when(complaint.created_at),
        "tanggal_diperbarui": _when(complaint.updated_at),
        "kanal": CHANNELS.get(complaint.channel, complaint.channel),
        "rahasia": _yes(complaint.is_confidential),
        "anonim": _yes(complaint.is_anonymous),
        "nama_pelapor": complaint.reporter_name if identity else "",
        "email_pelapor": complaint.reporter_email if identity else "",
        "telepon_pelapor": complaint.reporter_phone if identity else "",
        "status": NATIONAL_STATUS[S(complaint.status)],
        "instansi": agency_key(agency),
        "instansi_nama": agency.name if agency is not None else "",
        "tanggal_selesai": _when(complaint.resolved_at),
        "keterangan": "",
        "alasan_arsip": next(
            (k for k, v in ARCHIVE_REASONS.items() if v == complaint.archive_reason), ""
        ),
    }


def day_period(day: date) -> tuple[datetime, datetime]:
    """The local (WITA) day as the period (since, until] of an export."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start - timedelta(microseconds=1), start + timedelta(days=1) - timedelta(microseconds=1)


def export_rows(user: AnyUser, *, since: datetime, until: datetime) -> Iterator[dict[str, str]]:
    for complaint in selectors.complaints_national_export(user, since=since, until=until).iterator(
        chunk_size=1000
    ):
        yield export_row(complaint)


def export_csv(rows: Iterable[dict[str, str]]) -> Iterator[str]:
    """The CSV, line by line: UTF-8 with a BOM, a header of ``COLUMNS``, formula-safe cells."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = safe_writer(Echo())
    yield BOM + writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([row[column] for column in COLUMNS])


def export_json(rows: Iterable[dict[str, str]], *, since: datetime, until: datetime) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            # To the microsecond: the next export's mark, without a gap or an overlap.
            "sejak": timezone.localtime(since).isoformat(),
            "sampai": timezone.localtime(until).isoformat(),
            "laporan": list(rows),
        },
        ensure_ascii=False,
        indent=1,
    )


# --- import: reading --------------------------------------------------------------------------


class FileError(Exception):
    """The file as a whole cannot be read; ``message`` is safe to show (a field error)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def decode(data: bytes) -> str:
    """The file's text: at most ``MAX_BYTES``, UTF-8 (a BOM is fine)."""
    if len(data) > MAX_BYTES:
        raise FileError(
            _("The file is too large (at most %(n)s MB).") % {"n": MAX_BYTES // 1_000_000}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(_("Save the file as UTF-8 (CSV or JSON) and upload it again.")) from exc
    if "\x00" in text:
        raise FileError(_("Save the file as UTF-8 (CSV or JSON) and upload it again."))
    return text


def _unquote(value: str) -> str:
    """A cell as written: the apostrophe a spreadsheet-safe export put before a formula-like
    cell is taken off again (the text stays text: it is never evaluated here)."""
    if value.startswith("'") and value[1:].lstrip(" ").startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FileError(_("The JSON file cannot be read.")) from exc
    if isinstance(data, dict):
        data = data.get("laporan")
    if not isinstance(data, list):
        raise FileError(_("The JSON file has no list “laporan”."))
    return data


def _csv_rows(text: str) -> list[dict[str, Any]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in IMPORT_COLUMNS if c not in header]
        if missing:
            raise FileError(
                _("The file lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)}
            )
        rows: list[dict[str, Any]] = []
        for cells in reader:
            if len(rows) > MAX_ROWS:
                break
            if any(cell.strip() for cell in cells):
                rows.append(dict(zip(header, cells, strict=False)))
    except StopIteration as exc:
        raise FileError(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise FileError(_("The CSV file cannot be read.")) from exc
    return rows


def read_rows(text: str) -> list[dict[str, Any]]:
    """The rows of a CSV or JSON file (JSON when it starts with ``{`` or ``[``)."""
    text = text.lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise FileError(_("The file is empty."))
    rows = _json_rows(stripped) if stripped[0] in "{[" else _csv_rows(text)
    if not rows:
        raise FileError(_("The file has no rows."))
    if len(rows) > MAX_ROWS:
        raise FileError(_("The file has more than %(n)s rows.") % {"n": MAX_ROWS})
    return rows


# --- import: checking -------------------------------------------------------------------------


class Outcome:
    APPLY = "apply"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"
    CONFLICT = "conflict"
    INVALID = "invalid"


OUTCOME_LABELS = {
    Outcome.APPLY: _l("apply"),
    Outcome.UNCHANGED: _l("nothing to change"),
    Outcome.UNKNOWN: _l("unknown complaint"),
    Outcome.CONFLICT: _l("conflicting status"),
    Outcome.INVALID: _l("invalid"),
}


@dataclass
class Step:
    """One service call an applied row makes."""

    kind: str  # "number" or an Action
    agency: Agency | None = None
    note: str = ""
    reason: str = ""


@dataclass
class ImportRow:
    line: int
    code: str = ""
    number: str = ""
    status: str = ""
    agency_text: str = ""
    note: str = ""
    reason_text: str = ""
    complaint: Complaint | None = None
    outcome: str = Outcome.INVALID
    message: str = ""
    steps: list[Step] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))

    @property
    def is_problem(self) -> bool:
        return self.outcome not in (Outcome.APPLY, Outcome.UNCHANGED)


@dataclass
class ImportCheck:
    rows: list[ImportRow] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def problems(self) -> list[ImportRow]:
        return [r for r in self.rows if r.outcome not in (Outcome.APPLY, Outcome.UNCHANGED)]

    @property
    def ok(self) -> bool:
        """Every row can be applied (or changes nothing): only then is anything applied."""
        return bool(self.rows) and not self.problems

    @property
    def changes(self) -> int:
        return self.count(Outcome.APPLY)


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_CELL:
        return None
    return _unquote(value.strip())


def _agencies() -> dict[str, Agency]:
    return {
        agency_key(a): a for a in Agency.objects.filter(is_active=True).select_related("region")
    }


def _read_row(line: int, raw: Any) -> ImportRow:
    row = ImportRow(line=line)
    if not isinstance(raw, dict):
        row.message = _("The row is not a set of named cells.")
        return row
    values = {key: _text(raw, key) for key in IMPORT_COLUMNS + IMPORT_OPTIONAL}
    bad = [key for key, value in values.items() if value is None]
    if bad:
        row.message = _("Not text, or too long: %(columns)s.") % {"columns": ", ".join(bad)}
        return row
    row.code = tracking_code_normalise(str(values["nomor_lapor"])) if values["nomor_lapor"] else ""
    row.number = str(values["nomor_nasional"])
    row.status = str(values["status"]).lower()
    row.agency_text = str(values["instansi"])
    row.note = str(values["keterangan"])
    row.reason_text = str(values["alasan_arsip"]).lower()
    row.outcome = ""
    return row


def _invalid(row: ImportRow, message: str) -> ImportRow:
    row.outcome, row.message = Outcome.INVALID, message
    return row


def _conflict(row: ImportRow, message: str) -> ImportRow:
    row.outcome, row.message = Outcome.CONFLICT, message
    return row


def _status_steps(row: ImportRow, complaint: Complaint, agency: Agency | None) -> list[Step] | str:
    """The workflow moves that bring ``complaint`` to the row's national status (none when it
    is there already), or the conflict's message."""
    current = NATIONAL_STATUS[S(complaint.status)]
    same_agency = agency is None or agency.pk == complaint.assigned_agency_id
    if row.status == current and same_agency:
        return []
    note = row.note or _("Update from SP4N-LAPOR!")
    if (
        row.status == DIDISPOSISIKAN
        and not same_agency
        and complaint.status in (S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS)
    ):
        assert agency is not None  # noqa: S101 - not the same agency: one is named
        if agency.region_id != complaint.region_id and not agency.region.is_province:
            return _("%(agency)s does not serve this regency or city.") % {
                "agency": row.agency_text
            }
        return [Step(Action.REROUTE, agency=agency)]
    if row.status in (DITINDAKLANJUTI, SELESAI) and same_agency:
        action = Action.FOLLOW_UP if row.status == DITINDAKLANJUTI else Action.RESOLVE
        if complaint.status == S.ASSIGNED or (
            complaint.status == S.IN_PROGRESS and action == Action.RESOLVE
        ):
            return [Step(action, note=note)]
        if row.status == SELESAI and complaint.status == S.CLOSED:
            return []
    if row.status == DIARSIPKAN and complaint.status in (
        S.SUBMITTED,
        S.TRIAGE,
        S.ASSIGNED,
        S.IN_PROGRESS,
    ):
        return [Step(Action.ARCHIVE, note=note, reason=ARCHIVE_REASONS[row.reason_text])]
    if not same_agency and row.status != DIDISPOSISIKAN:
        return _("SP4N-LAPOR! names another agency (%(agency)s); a disposition comes first.") % {
            "agency": row.agency_text
        }
    return _("Lapor has “%(lapor)s”; SP4N-LAPOR! says “%(national)s”.") % {
        "lapor": current,
        "national": row.status,
    }


def _check_row(
    row: ImportRow,
    *,
    by_code: dict[str, Complaint],
    by_number: dict[str, Complaint],
    agencies: dict[str, Agency],
    seen: set[int],
) -> ImportRow:
    if not row.code and not row.number:
        return _invalid(row, _("Give nomor_lapor or nomor_nasional."))
    if row.number:
        try:
            row.number = services.check_national_number(row.number)
        except ValidationError:
            return _invalid(row, _("nomor_nasional may hold letters, digits, . / - only."))
    if row.status not in NATIONAL_STATUSES:
        return _invalid(row, _("Unknown status “%(status)s”.") % {"status": row.status[:40]})
    agency = None
    if row.agency_text:
        agency = agencies.get(row.agency_text)
        if agency is None:
            return _invalid(row, _("Unknown agency “%(agency)s”.") % {"agency": row.agency_text})
    elif row.status == DIDISPOSISIKAN:
        return _invalid(row, _("A disposition names the agency (instansi)."))
    if row.status == DIARSIPKAN and row.reason_text not in ARCHIVE_REASONS:
        return _invalid(
            row, _("Archiving needs alasan_arsip: spam, di_luar_kewenangan or terlalu_umum.")
        )
    complaint = by_code.get(row.code) if row.code else by_number.get(row.number)
    if complaint is None:
        row.outcome, row.message = Outcome.UNKNOWN, _("No such complaint in Lapor.")
        return row
    row.complaint = complaint
    if complaint.pk in seen:
        return _invalid(row, _("This complaint is in the file more than once."))
    seen.add(complaint.pk)
    steps: list[Step] = []
    if row.number and row.number != complaint.national_number:
        if complaint.national_number:
            return _conflict(
                row,
                _("Lapor has SP4N-LAPOR! number %(n)s for it.") % {"n": complaint.national_number},
            )
        owner = by_number.get(row.number)
        if owner is not None and owner.pk != complaint.pk:
            return _conflict(
                row, _("This number belongs to %(code)s.") % {"code": owner.tracking_code}
            )
        steps.append(Step("number"))
    moves = _status_steps(row, complaint, agency)
    if isinstance(moves, str):
        return _conflict(row, moves)
    row.steps = steps + moves
    row.outcome = Outcome.APPLY if row.steps else Outcome.UNCHANGED
    return row


def import_check(user: AnyUser, text: str) -> ImportCheck:
    """The dry run: what each row would do (apply, nothing to change, unknown complaint,
    conflicting status, invalid). Raises FileError when the file cannot be read. Writes
    nothing."""
    raws = read_rows(text)
    # A CSV's first line is its header; a JSON file's rows are counted from 1.
    first_line = 1 if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else 2
    rows = [_read_row(line, raw) for line, raw in enumerate(raws, start=first_line)]
    by_code, by_number = selectors.complaints_national_match(
        user, codes=[r.code for r in rows if r.code], numbers=[r.number for r in rows]
    )
    agencies = _agencies()
    seen: set[int] = set()
    for row in rows:
        if row.outcome != Outcome.INVALID:
            _check_row(row, by_code=by_code, by_number=by_number, agencies=agencies, seen=seen)
    return ImportCheck(rows=rows)


class ImportRefused(Exception):
    """Nothing was applied; ``check`` says why (or ``message``, a change since the check)."""

    def __init__(self, check: ImportCheck, message: str = ""):
        super().__init__(message)
        self.check = check
        self.message = message


def _apply_row(row: ImportRow, *, actor: AnyUser, now: datetime) -> None:
    complaint = row.complaint
    assert complaint is not None  # noqa: S101 - an APPLY row always has its complaint
    for step in row.steps:
        if step.kind == "number":
            services.complaint_national_number_set(
                complaint=complaint,
                actor=actor,
                role=Role.PROVINCE_STAFF,
                number=row.number,
                now=now,
            )
            continue
        services.complaint_transition(
            complaint=complaint,
            action=step.kind,
            role=Role.PROVINCE_STAFF,
            actor=actor,
            note=step.note,
            agency=step.agency,
            reason=step.reason,
            now=now,
        )


def import_apply(user: AnyUser, text: str, *, now: datetime | None = None) -> ImportCheck:
    """Check the file again and, when every row is correct, apply every change through the
    workflow, as provincial staff, in one transaction: all rows or none. Raises ImportRefused
    (nothing written) when a row is not correct or a move fails on the way."""
    now = now or timezone.now()
    check = import_check(user, text)
    if not staff_scope_for(user).is_province:
        raise ImportRefused(check, _("Only provincial staff import from SP4N-LAPOR!."))
    if not check.ok:
        raise ImportRefused(check)
    try:
        with transaction.atomic():
            for row in check.rows:
                if row.outcome == Outcome.APPLY:
                    _apply_row(row, actor=user, now=now)
    except (WorkflowError, ValidationError) as exc:
        message = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", []))
        raise ImportRefused(check, str(message)) from exc
    return check
