"""The staff pages are adapters of the domain's rules (tests/complaints/test_rules.py): a person
with two roles acts in the most specific one the step allows, and the page offers a reporter
only what the workflow allows now."""

import pytest
from django.test import Client

from agencies.models import StaffRole
from agencies.services import staff_membership_grant
from complaints.models import ComplaintEvent, EventKind
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from tests.factories import complaint_submitted, coordinator, officer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.mark.parametrize(
    ("data", "kind", "role"),
    [
        ({"action": "follow_up", "note": "Dijadwalkan."}, EventKind.FOLLOW_UP, Role.AGENCY_OFFICER),
        ({"action": "resolve", "note": "Selesai."}, EventKind.RESOLVED, Role.AGENCY_OFFICER),
        (
            {"action": "archive", "reason": "out_of_scope"},
            EventKind.ARCHIVED,
            Role.REGION_COORDINATOR,
        ),
    ],
)
def test_someone_with_two_roles_acts_in_the_most_specific_the_step_allows(client, data, kind, role):
    complaint = complaint_submitted().complaint
    both = coordinator("63.72")
    staff_membership_grant(
        user=both, role=StaffRole.AGENCY_OFFICER, agency=complaint.assigned_agency
    )
    client.force_login(both)
    response = client.post(f"/complaints/{complaint.tracking_code}/act/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ComplaintEvent.objects.get(complaint=complaint, kind=kind).actor_role == role


def test_the_page_offers_the_reporter_a_reply_until_the_complaint_closes():
    result = complaint_submitted()
    complaint = result.complaint
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.get(f"{complaint.get_absolute_url()}?key={result.access_key}")
    url = complaint.get_absolute_url()
    assert browser.get(url).context["reply_form"] is not None
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", complaint.assigned_agency.code),
        note="Selesai.",
    )
    context = browser.get(url).context
    assert context["reply_form"] is not None and context["rating_form"] is not None
    complaint_transition(complaint=complaint, action=Action.CLOSE, role=Role.REPORTER)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED
    page = browser.get(url)
    assert page.context["is_reporter"]
    assert page.context["reply_form"] is None and page.context["rating_form"] is None
    assert f"{url}reply/" not in page.content.decode()
