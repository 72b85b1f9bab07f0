"""Pages run a fixed number of queries, however many complaints they show (no N+1)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import complaint_submitted, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_complaints(count: int) -> None:
    agency_officer = officer("63.72", "perkim", username=f"o{count}")
    for n in range(count):
        complaint = complaint_submitted(
            now=timezone.now() - timedelta(days=n % 5), title=f"Lampu {n}"
        ).complaint
        complaint_transition(
            complaint=complaint,
            action=Action.FOLLOW_UP,
            role=Role.AGENCY_OFFICER,
            actor=agency_officer,
            note="Dicek besok.",
        )


@pytest.mark.parametrize("url", ["/", "/complaints/", "/complaints/?region=63.72&q=Lampu"])
def test_public_pages_do_not_query_per_complaint(client, url):
    add_complaints(2)
    few = queries(client, url)
    add_complaints(8)
    assert queries(client, url) == few


def test_the_detail_page_does_not_query_per_event(client):
    complaint = complaint_submitted().complaint
    agency_officer = officer("63.72", "perkim")
    url = complaint.get_absolute_url()
    few = queries(client, url)
    for n in range(6):
        complaint_transition(
            complaint=complaint,
            action=Action.FOLLOW_UP,
            role=Role.AGENCY_OFFICER,
            actor=agency_officer,
            note=f"Tindak lanjut {n}",
        )
    assert queries(client, url) == few


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: officer("63.72", "perkim", username="q"),
        lambda: coordinator("63.72", username="q"),
        lambda: province_staff(username="q"),
    ],
)
def test_the_dashboard_does_not_query_per_complaint(client, make_user):
    client.force_login(make_user())
    add_complaints(2)
    few = queries(client, "/dashboard/")
    add_complaints(8)
    assert queries(client, "/dashboard/") == few
