"""The API is an adapter of the domain's rules (tests/complaints/test_rules.py): it lets the
most specific role act, offers only what the workflow allows now, and serves the staff queue in
the one urgency order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import StaffRole
from agencies.services import staff_membership_grant
from complaints.models import Complaint, ComplaintEvent, EventKind
from complaints.scope import Purpose, complaints_for
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role

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
    body = client_as(officer).get("/api/v1/staff/queue/").json()
    assert [row["tracking_code"] for row in body["results"]] == expected
    assert body["results"][0]["is_overdue"] is True
    assert Complaint.objects.get(pk=anonim.pk).status == ComplaintStatus.RESOLVED
