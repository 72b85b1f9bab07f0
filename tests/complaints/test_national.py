"""The exchange with SP4N-LAPOR!: export in the national vocabulary (rahasia and anonim rules),
import through the workflow with a dry run first, all rows or none; the command."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from complaints import national
from complaints.models import Complaint, ComplaintEvent, EventKind
from complaints.services import complaint_national_number_set, complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from tests.factories import complaint_submitted, officer, province_staff

pytestmark = pytest.mark.django_db

HEADER = "nomor_lapor,nomor_nasional,status,instansi,keterangan\n"


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def staff():
    return province_staff(username="provinsi")


def period():
    now = timezone.now()
    return now - timedelta(hours=1), now + timedelta(seconds=1)


def export_csv_text(user) -> str:
    since, until = period()
    return "".join(national.export_csv(national.export_rows(user, since=since, until=until)))


def snapshot():
    return (
        list(Complaint.objects.order_by("pk").values()),
        ComplaintEvent.objects.count(),
    )


def test_export_speaks_the_national_vocabulary_and_keeps_identity_back(staff):
    plain = complaint_submitted(title='=HYPERLINK("http://x")', reporter_name="Siti").complaint
    secret = complaint_submitted(is_confidential=True, reporter_name="Rahasia Orang").complaint
    hidden = complaint_submitted(is_anonymous=True, reporter_name="Anonim Orang").complaint
    complaint_national_number_set(
        complaint=plain, actor=staff, role=Role.PROVINCE_STAFF, number="LAP-2026-0001"
    )
    text = export_csv_text(staff)
    assert text.startswith("\ufeff")
    rows = {r["nomor_lapor"]: r for r in csv.DictReader(io.StringIO(text[1:]))}
    assert rows[plain.tracking_code]["judul"].startswith("'=")  # formula-safe
    assert rows[plain.tracking_code]["nomor_nasional"] == "LAP-2026-0001"
    assert rows[plain.tracking_code]["nama_pelapor"] == "Siti"
    assert rows[plain.tracking_code]["status"] == "didisposisikan"
    assert rows[plain.tracking_code]["instansi"] == "63.72/perkim"
    assert rows[plain.tracking_code]["klasifikasi"] == "pengaduan"
    # Rahasia: the content goes, the reporter's identity does not.
    assert rows[secret.tracking_code]["rahasia"] == "ya"
    assert rows[secret.tracking_code]["isi"] == secret.description
    assert rows[secret.tracking_code]["nama_pelapor"] == ""
    assert rows[secret.tracking_code]["email_pelapor"] == ""
    assert rows[secret.tracking_code]["telepon_pelapor"] == ""
    # Anonim: never the reporter.
    assert rows[hidden.tracking_code]["anonim"] == "ya"
    assert "Anonim Orang" not in text and "Rahasia Orang" not in text
    since, until = period()
    data = json.loads(
        national.export_json(
            national.export_rows(staff, since=since, until=until), since=since, until=until
        )
    )
    assert data["format"] == "lapor-sp4n/1"
    assert {r["nomor_lapor"] for r in data["laporan"]} == set(rows)
    assert all(
        r["nama_pelapor"] == "" for r in data["laporan"] if r["nomor_lapor"] != plain.tracking_code
    )


def test_a_day_holds_the_complaints_new_or_changed_that_day(staff):
    old = complaint_submitted(now=timezone.now() - timedelta(days=3)).complaint
    new = complaint_submitted().complaint
    today = timezone.localdate()
    since, until = national.day_period(today)
    codes = {r["nomor_lapor"] for r in national.export_rows(staff, since=since, until=until)}
    assert new.tracking_code in codes
    # ``updated_at`` is the moment of the last change: the old one was written now too.
    Complaint.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))
    codes = {r["nomor_lapor"] for r in national.export_rows(staff, since=since, until=until)}
    assert old.tracking_code not in codes


def test_export_then_import_changes_nothing(staff):
    a = complaint_submitted(title="+SUM(A1)").complaint
    b = complaint_submitted(category_code="jalan", is_confidential=True).complaint
    perkim = officer(username="perkim")
    complaint_transition(
        complaint=a, action=Action.RESOLVE, role=Role.AGENCY_OFFICER, actor=perkim, note="Sudah."
    )
    complaint_national_number_set(complaint=b, actor=staff, role=Role.PROVINCE_STAFF, number="N-2")
    text = export_csv_text(staff)
    before = snapshot()
    check = national.import_check(staff, text)
    assert check.ok, [(r.code, r.outcome, r.message) for r in check.rows]
    assert {r.outcome for r in check.rows} == {national.Outcome.UNCHANGED}
    national.import_apply(staff, text)
    assert snapshot() == before
    since, until = period()
    as_json = national.export_json(
        national.export_rows(staff, since=since, until=until), since=since, until=until
    )
    national.import_apply(staff, as_json)
    assert snapshot() == before


def test_import_applies_dispositions_and_statuses_through_the_workflow(staff):
    routed = complaint_submitted().complaint
    moved = complaint_submitted().complaint
    text = HEADER + (
        f"{routed.tracking_code},LAP-9,ditindaklanjuti,,Sedang dikerjakan\n"
        f"{moved.tracking_code},,didisposisikan,63.72/pupr,\n"
    )
    check = national.import_check(staff, text)
    assert [r.outcome for r in check.rows] == ["apply", "apply"]
    assert Complaint.objects.get(pk=routed.pk).status == ComplaintStatus.ASSIGNED  # a dry run
    national.import_apply(staff, text)
    routed.refresh_from_db()
    moved.refresh_from_db()
    assert routed.status == ComplaintStatus.IN_PROGRESS
    assert routed.national_number == "LAP-9"
    assert routed.events.filter(kind=EventKind.FOLLOW_UP, note="Sedang dikerjakan").exists()
    assert routed.events.filter(kind=EventKind.NATIONAL, actor=staff).exists()
    assert moved.assigned_agency.code == "pupr"
    assert moved.events.filter(kind=EventKind.REROUTED, actor_role=Role.PROVINCE_STAFF).exists()


def test_a_conflicting_row_is_reported_and_nothing_is_applied(staff):
    fine = complaint_submitted().complaint
    done = complaint_submitted().complaint
    perkim = officer(username="perkim")
    complaint_transition(
        complaint=done, action=Action.RESOLVE, role=Role.AGENCY_OFFICER, actor=perkim, note="Sudah."
    )
    text = HEADER + (
        f"{fine.tracking_code},LAP-1,selesai,,Beres\n"
        f"{done.tracking_code},,ditindaklanjuti,,\n"  # national is behind Lapor: a conflict
        "LPR-ZZZZ-ZZZZ,,selesai,,\n"
    )
    before = snapshot()
    check = national.import_check(staff, text)
    assert [r.outcome for r in check.rows] == ["apply", "conflict", "unknown"]
    assert not check.ok
    with pytest.raises(national.ImportRefused):
        national.import_apply(staff, text)
    assert snapshot() == before  # the correct row was not applied either


def test_a_national_number_already_taken_or_different_is_a_conflict(staff):
    a = complaint_submitted().complaint
    b = complaint_submitted().complaint
    complaint_national_number_set(complaint=a, actor=staff, role=Role.PROVINCE_STAFF, number="N-1")
    text = (
        HEADER
        + f"{a.tracking_code},N-2,didisposisikan,63.72/perkim,\n"
        + f"{b.tracking_code},N-1,didisposisikan,63.72/perkim,\n"
    )
    check = national.import_check(staff, text)
    assert [r.outcome for r in check.rows] == ["conflict", "conflict"]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("{code},=cmd|' /C calc'!A0,selesai,,", "invalid"),  # a formula as the number
        ('{code},,=HYPERLINK("x"),,', "invalid"),  # a formula as the status
        ("{code},,didisposisikan,,", "invalid"),  # a disposition names the agency
        ("{code},,didisposisikan,63.72/nope,", "invalid"),
        ("{code},,diarsipkan,,", "invalid"),  # archiving needs a reason
        (",,selesai,,", "invalid"),
    ],
)
def test_invalid_rows(staff, cells, expected):
    complaint = complaint_submitted().complaint
    text = HEADER + cells.format(code=complaint.tracking_code) + "\n"
    check = national.import_check(staff, text)
    assert [r.outcome for r in check.rows] == [expected]
    assert check.rows[0].message


@pytest.mark.parametrize(
    "data",
    [
        "nomor_lapor,status\nA,B\n".encode("utf-16"),  # not UTF-8
        b"\xff\xfe\x00garbage",
        b"x" * (national.MAX_BYTES + 1),  # too large
        b"",
        b"judul,isi\nA,B\n",  # not the exchange's columns
        b"{not json",
        b'{"laporan": 5}',
        (HEADER + "A,,selesai,,\n" * (national.MAX_ROWS + 2)).encode(),
        HEADER.encode() + b'"' + b"x" * 200_000 + b'"\n',  # a cell beyond csv's limit
    ],
)
def test_hostile_files_are_refused_with_a_message(staff, data):
    with pytest.raises(national.FileError) as refused:
        national.import_check(staff, national.decode(data))
    assert refused.value.message


def test_json_rows_that_are_not_text_are_invalid(staff):
    complaint = complaint_submitted().complaint
    text = json.dumps({"laporan": [5, {"nomor_lapor": complaint.tracking_code, "status": 3}]})
    check = national.import_check(staff, text)
    assert [r.outcome for r in check.rows] == ["invalid", "invalid"]


def test_only_provincial_staff_import(staff):
    complaint = complaint_submitted().complaint
    perkim = officer(username="perkim")
    text = HEADER + f"{complaint.tracking_code},,ditindaklanjuti,,Dikerjakan\n"
    with pytest.raises(national.ImportRefused):
        national.import_apply(perkim, text)
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.ASSIGNED


def test_the_command_exports_and_imports_with_a_dry_run(staff, tmp_path):
    complaint = complaint_submitted().complaint
    out = tmp_path / "day.json"
    call_command(
        "sp4n",
        "export",
        "--day",
        timezone.localdate().isoformat(),
        "--format",
        "json",
        "--output",
        str(out),
        "--as",
        "provinsi",
    )
    assert json.loads(out.read_text())["laporan"][0]["nomor_lapor"] == complaint.tracking_code
    national_file = tmp_path / "balik.csv"
    national_file.write_text(
        HEADER + f"{complaint.tracking_code},LAP-77,selesai,,Selesai diperbaiki\n"
    )
    call_command("sp4n", "import", str(national_file), "--dry-run", "--as", "provinsi")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ASSIGNED and complaint.national_number == ""
    call_command("sp4n", "import", str(national_file), "--as", "provinsi")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED and complaint.national_number == "LAP-77"
    national_file.write_text(HEADER + f"{complaint.tracking_code},,didisposisikan,63.72/perkim,\n")
    with pytest.raises(CommandError):
        call_command("sp4n", "import", str(national_file), "--as", "provinsi")
    with pytest.raises(CommandError):
        call_command("sp4n", "export", "--day", "2026-01-01", "--as", "nobody")
