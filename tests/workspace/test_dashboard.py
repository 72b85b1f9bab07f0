"""Staff pages: queues scoped to the caller, and staff actions through the workflow."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from complaints.models import ComplaintEvent
from complaints.workflow import ComplaintStatus
from tests.factories import (
    UserFactory,
    agency,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
)

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")
# A Wednesday in June, away from year ends and holidays: "received this year" and "five days
# ago, so overdue" mean the same whatever day the suite runs.
PINNED = datetime(2025, 6, 18, 10, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def _pinned_clock(time_machine):
    time_machine.move_to(PINNED)


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def test_citizens_and_visitors_cannot_open_the_dashboard(client):
    assert client.get("/dashboard/").status_code == 302  # to sign in
    client.force_login(UserFactory())
    assert client.get("/dashboard/").status_code == 403


def test_an_officer_sees_their_agency_queue_most_urgent_first(client):
    late = complaint_submitted(now=timezone.now() - timedelta(days=5), title="Lampu mati lama")
    fresh = complaint_submitted(title="Lampu mati baru")
    other = complaint_submitted(region_code="63.71", title="Lampu mati Banjarmasin")
    client.force_login(officer("63.72", "perkim"))
    response = client.get("/dashboard/")
    assert response.status_code == 200
    queue = list(response.context["queue"].object_list)
    assert queue == [late.complaint, fresh.complaint]
    assert other.complaint not in queue
    assert "Lampu mati Banjarmasin" not in response.content.decode()


def test_a_coordinator_sees_the_triage_of_their_region_and_routes_from_it(client):
    complaint = complaint_submitted(now=timezone.now() - timedelta(hours=5)).complaint
    agency_officer = officer("63.72", "perkim")
    client.force_login(agency_officer)
    response = client.post(
        f"/complaints/{complaint.tracking_code}/act/",
        {"action": "not_ours", "note": "Ini urusan Dinas PUPR."},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.TRIAGE

    client.force_login(coordinator("63.72"))
    page = client.get("/dashboard/")
    assert list(page.context["triage"]) == [complaint]
    pupr = agency("63.72", "pupr")
    response = client.post(
        f"/complaints/{complaint.tracking_code}/act/", {"action": "reroute", "agency": pupr.pk}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.assigned_agency) == (ComplaintStatus.ASSIGNED, pupr)
    # The timeline keeps each routing's own deadline, not the current one twice.
    routed = complaint.events.get(kind="routed")
    page = client.get(complaint.get_absolute_url()).content.decode()
    dues = {routed.data["follow_up_due_at"], complaint.follow_up_due_at.isoformat()}
    assert len(dues) == 2
    for due in dues:
        shown = date_format(
            timezone.localtime(datetime.fromisoformat(due)), "j F Y, H:i", use_l10n=True
        )
        assert shown in page

    client.force_login(coordinator("63.71", username="coord-bjm"))
    assert list(client.get("/dashboard/").context["triage"]) == []


def test_an_officer_follows_up_with_evidence_and_resolves(client):
    complaint = complaint_submitted().complaint
    client.force_login(officer("63.72", "perkim"))
    missing_note = client.post(
        f"/complaints/{complaint.tracking_code}/act/", {"action": "follow_up", "note": ""}
    )
    assert missing_note.status_code == 400
    assert not ComplaintEvent.objects.filter(complaint=complaint, kind="follow_up").exists()
    ok = client.post(
        f"/complaints/{complaint.tracking_code}/act/",
        {"action": "follow_up", "note": "Tim ke lokasi besok pagi."},
    )
    assert ok.status_code == 302
    resolved = client.post(
        f"/complaints/{complaint.tracking_code}/act/",
        {"action": "resolve", "note": "Lampu sudah diganti."},
    )
    assert resolved.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.first_follow_up_at is not None


def test_staff_cannot_act_outside_their_scope_or_beyond_their_role(client):
    complaint = complaint_submitted().complaint
    client.force_login(officer("63.71", "uptd-pju"))
    assert (
        client.post(
            f"/complaints/{complaint.tracking_code}/act/", {"action": "resolve", "note": "x"}
        ).status_code
        == 404
    )
    client.force_login(officer("63.72", "perkim", username="perkim2"))
    archived = client.post(
        f"/complaints/{complaint.tracking_code}/act/", {"action": "archive", "reason": "spam"}
    )
    assert archived.status_code == 400
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ASSIGNED


def test_archiving_as_a_duplicate_needs_a_real_original(client):
    original = complaint_submitted(title="Lampu mati pertama").complaint
    duplicate = complaint_submitted(title="Lampu mati kedua").complaint
    client.force_login(coordinator("63.72"))
    url = f"/complaints/{duplicate.tracking_code}/act/"
    bad = client.post(
        url, {"action": "archive", "reason": "duplicate", "duplicate_of": "LPR-2222-2222"}
    )
    assert bad.status_code == 400
    assert "duplicate_of" in bad.context["staff_form"].errors
    good = client.post(
        url, {"action": "archive", "reason": "duplicate", "duplicate_of": original.tracking_code}
    )
    assert good.status_code == 302
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of) == (ComplaintStatus.ARCHIVED, original)


def test_the_province_sees_every_region(client):
    complaint_submitted(now=timezone.now() - timedelta(days=5))
    complaint_submitted(region_code="63.71")
    client.force_login(province_staff())
    response = client.get("/dashboard/")
    rows = {row.code: row for row in response.context["region_rows"]}
    assert len(rows) == 14
    assert (rows["63.72"].received, rows["63.72"].overdue) == (1, 1)
    assert (rows["63.71"].received, rows["63.71"].overdue) == (1, 0)


def test_in_the_first_days_of_january_last_years_complaints_are_overdue_not_received(
    client, time_machine
):
    time_machine.move_to(datetime(2026, 1, 2, 10, 0, tzinfo=WITA))
    complaint_submitted(now=datetime(2025, 12, 29, 9, 0, tzinfo=WITA))  # due 1 January
    complaint_submitted(now=datetime(2026, 1, 2, 8, 0, tzinfo=WITA))
    client.force_login(province_staff())
    rows = {row.code: row for row in client.get("/dashboard/").context["region_rows"]}
    assert (rows["63.72"].received, rows["63.72"].open, rows["63.72"].overdue) == (1, 2, 1)


def test_a_coordinator_sees_open_and_overdue_per_agency_of_their_region_only(client):
    now = timezone.now()
    complaint_submitted(now=now - timedelta(days=5), title="Lampu mati lama")  # Perkim, overdue
    complaint_submitted(now=now - timedelta(hours=3), title="Lampu mati baru", is_confidential=True)
    complaint_submitted(now=now - timedelta(days=1), category_code="jalan")  # PUPR
    complaint_submitted(now=now - timedelta(days=5), region_code="63.71")  # another city
    client.force_login(coordinator("63.72"))
    rows = client.get("/dashboard/").context["agency_rows"]
    assert [(row.code, row.open, row.overdue) for row in rows] == [
        ("perkim", 2, 1),
        ("pupr", 1, 0),
    ]
    assert {row.region.code for row in rows} == {"63.72"}


def test_the_agency_never_sees_an_anonymous_reporter_while_handling(client):
    complaint = complaint_submitted(is_anonymous=True, reporter_name="Warga Tanpa Nama").complaint
    client.force_login(officer("63.72", "perkim"))
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "Warga Tanpa Nama" not in page
    assert f"/complaints/{complaint.tracking_code}/act/" in page  # the officer may act on it


def test_the_queue_orders_by_the_clock_that_matters_next(client):
    now = timezone.now()
    agency_officer = officer("63.72", "perkim")
    # In progress, completion target in about 13 working days: least urgent.
    started = complaint_submitted(now=now - timedelta(days=1), title="Sudah ditangani").complaint
    from complaints.services import complaint_transition
    from complaints.workflow import Action, Role

    complaint_transition(
        complaint=started,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=agency_officer,
        note="Dicek.",
    )
    waiting = complaint_submitted(now=now - timedelta(days=2), title="Menunggu").complaint
    late = complaint_submitted(now=now - timedelta(days=4), title="Terlambat").complaint
    client.force_login(agency_officer)
    queue = list(client.get("/dashboard/").context["queue"].object_list)
    assert queue == [late, waiting, started]


def test_staff_read_breaches_and_escalations_on_the_timeline_and_the_public_does_not(client):
    from complaints.enforcement import deadlines_sweep

    complaint = complaint_submitted(now=timezone.now() - timedelta(days=7)).complaint
    deadlines_sweep()
    client.force_login(coordinator("63.72"))
    staff_page = client.get(complaint.get_absolute_url()).content.decode()
    assert "melewati batas waktu" in staff_page
    assert "Dieskalasi ke koordinator kabupaten/kota." in staff_page
    assert "dieskalasi ke provinsi" in staff_page
    client.logout()
    public_page = client.get(complaint.get_absolute_url()).content.decode()
    assert "melewati batas waktu" not in public_page
    assert "dieskalasi" not in public_page.lower()
