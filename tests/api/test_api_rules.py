"""The API is an adapter of the domain's rules (tests/complaints/test_rules.py): it lets the
most specific role act, offers only what the workflow allows now, and serves the staff queue in
the one urgency order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import StaffRole
from agencies.services import staff_membership_grant
from complaints.models import Complaint, ComplaintEvent, EventKind
from complaints.pagination import keyset_page
from complaints.scope import Purpose, complaints_for
from complaints.selectors import queue_keys, queue_rows
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from tests.factories import complaint_submitted

from .conftest import client_as


@pytest.fixture
def officer_and_coordinator(people, filed):
    """The regency's coordinator who is also an officer of the agency holding the complaints."""
    user = people["coordinator"]
    staff_membership_grant(
        user=user, role=StaffRole.AGENCY_OFFICER, agency=filed["public"].assigned_agency
    )
    return user


@pytest.mark.parametrize(
    ("endpoint", "data", "kind", "role"),
    [
        ("follow-up", {"note": "Dijadwalkan."}, EventKind.FOLLOW_UP, Role.AGENCY_OFFICER),
        ("notes", {"note": "Untuk tim."}, EventKind.NOTE, Role.AGENCY_OFFICER),
        ("archive", {"reason": "out_of_scope"}, EventKind.ARCHIVED, Role.REGION_COORDINATOR),
    ],
)
def test_someone_with_two_roles_acts_in_the_most_specific_the_step_allows(
    officer_and_coordinator, filed, endpoint, data, kind, role
):
    complaint = filed["public"]
    response = client_as(officer_and_coordinator).post(
        f"/api/v1/complaints/{complaint.tracking_code}/{endpoint}/", data, format="json"
    )
    assert response.status_code == 200, response.json()
    event = ComplaintEvent.objects.filter(complaint=complaint, kind=kind).get()
    assert event.actor_role == role


def _close(complaint, people):
    officer = people["officer"]
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer,
        note="Selesai.",
    )
    complaint_transition(
        complaint=complaint, action=Action.CLOSE, role=Role.REPORTER, actor=people["reporter"]
    )


def test_a_closed_complaint_offers_its_reporter_nothing(people, filed):
    complaint = filed["public"]
    reporter = client_as(people["reporter"])
    url = f"/api/v1/complaints/{complaint.tracking_code}/"
    assert reporter.get(url).json()["allowed_actions"] == ["reply"]
    _close(complaint, people)
    assert reporter.get(url).json()["allowed_actions"] == []
    assert client_as(people["officer"]).get(url).json()["allowed_actions"] == ["notes"]
    refused = reporter.post(f"{url}reply/", {"note": "Masih mati."}, format="json")
    assert refused.status_code == 409


def test_a_resolved_complaint_offers_its_reporter_the_reply_window(people, filed):
    complaint = filed["public"]
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=people["officer"],
        note="Selesai.",
    )
    url = f"/api/v1/complaints/{complaint.tracking_code}/"
    assert client_as(people["reporter"]).get(url).json()["allowed_actions"] == [
        "reopen",
        "rate",
        "reply",
    ]


def test_the_staff_queue_comes_most_urgent_first(people, filed, time_machine):
    officer = people["officer"]
    public, anonim, rahasia = filed["public"], filed["anonim"], filed["rahasia"]
    # Filed public, anonim, rahasia; the public one gets its follow-up and the anonim one is
    # resolved, so the urgent order is neither the order of filing nor its reverse.
    complaint_transition(
        complaint=public,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=officer,
        note="Dijadwalkan.",
    )
    complaint_transition(
        complaint=anonim,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer,
        note="Selesai.",
    )
    rahasia.refresh_from_db()
    time_machine.move_to(rahasia.follow_up_due_at + timedelta(minutes=1))
    expected = [rahasia.tracking_code, public.tracking_code, anonim.tracking_code]
    ordered = complaints_for(officer, purpose=Purpose.WORK).by_urgency(timezone.now())
    assert [c.tracking_code for c in ordered] == expected
    codes = sorted(Complaint.objects.values_list("pk", "tracking_code"))
    assert expected not in ([c for _pk, c in codes], [c for _pk, c in reversed(codes)])
    # The open ones by default, as on the dashboard; the resolved one when asked for.
    body = client_as(officer).get("/api/v1/staff/queue/").json()
    assert [row["tracking_code"] for row in body["results"]] == expected[:2]
    assert body["results"][0]["is_overdue"] is True
    statuses = {"status": ["assigned", "in_progress", "resolved"]}
    body = client_as(officer).get("/api/v1/staff/queue/", statuses).json()
    assert [row["tracking_code"] for row in body["results"]] == expected
    assert Complaint.objects.get(pk=anonim.pk).status == ComplaintStatus.RESOLVED


def test_the_staff_queue_pages_with_the_dashboards_cursors(people, filed, time_machine):
    """The API's pages are the HTML queue's pager: the same order, the same signed cursors
    (``after``/``before``), nothing counted; a cursor that is not ours is the first page and
    ``page_size`` is bounded."""
    officer = people["officer"]
    for minutes in range(4):
        time_machine.move_to(timezone.now() + timedelta(minutes=minutes + 1))
        complaint_submitted(
            reporter=people["reporter"], reporter_name="", reporter_email="", reporter_phone=""
        )
    work = complaints_for(officer, purpose=Purpose.WORK)
    expected = [c.tracking_code for c in queue_rows(work, sort="urgency", now=timezone.now())]
    assert len(expected) == 7
    client = client_as(officer)

    first = client.get("/api/v1/staff/queue/", {"page_size": 3}).json()
    assert set(first) == {"next", "previous", "results"} and first["previous"] is None
    seen, body = [], first
    while True:
        seen += [row["tracking_code"] for row in body["results"]]
        if body["next"] is None:
            break
        assert "page_size=3" in body["next"]
        body = client.get(body["next"]).json()
    assert seen == expected
    # Back from the last page: the rows before it, in the same order.
    back = client.get(body["previous"]).json()
    assert [row["tracking_code"] for row in back["results"]] == expected[3:6]
    # The cursor is the dashboard's: the HTML pager reads it as its own.
    cursor = first["next"].split("after=")[1].split("&")[0]
    html = keyset_page(
        queue_rows(work, sort="urgency", now=timezone.now()),
        keys=queue_keys("urgency"),
        after=cursor,
        size=3,
    )
    assert [c.tracking_code for c in html] == expected[3:6]

    for bad in ({"after": "nope"}, {"before": "x" * 500}, {"after": cursor[:-2] + "xx"}):
        body = client.get("/api/v1/staff/queue/", {"page_size": 3, **bad}).json()
        assert [row["tracking_code"] for row in body["results"]] == expected[:3], bad
    for size, rows in (("0", 7), ("-1", 7), ("abc", 7), ("100000", 7), ("2", 2)):
        body = client.get("/api/v1/staff/queue/", {"page_size": size}).json()
        assert len(body["results"]) == rows, size
