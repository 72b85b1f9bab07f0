"""Staff pages run a fixed number of queries, however many complaints, agencies or months."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import complaint_submitted, coordinator, officer, province_staff

from .workspace_helpers import triage_complaint

pytestmark = pytest.mark.django_db

CATEGORIES = ("pju", "jalan", "parkir", "kesehatan", "pendidikan")


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200, url
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(captured)


def add_complaints(count: int, *, seed: int) -> None:
    """Complaints over several agencies and months, some followed up, some rated, some triage."""
    perkim = officer("63.72", "perkim", username=f"o{seed}")
    for n in range(count):
        complaint = complaint_submitted(
            now=timezone.now() - timedelta(days=(n * 17 + seed) % 200),
            category_code=CATEGORIES[(n * seed) % len(CATEGORIES)],
            title=f"Keluhan {seed}-{n}",
            is_anonymous=n % 2 == 0,
        ).complaint
        if complaint.assigned_agency_id == perkim.staff_memberships.get().agency_id:
            complaint_transition(
                complaint=complaint,
                action=Action.FOLLOW_UP,
                role=Role.AGENCY_OFFICER,
                actor=perkim,
                note="Dicek.",
            )
    triage_complaint("63.72", title=f"Triage {seed}")


URLS = [
    "/dashboard/",
    "/dashboard/queue/",
    "/dashboard/queue/?status=all&sort=newest&q=Keluhan&overdue=on",
    "/dashboard/queue/?breached=on&due_soon=on&channel=web&classification=pengaduan",
    "/dashboard/queue/export.csv?status=all",
    "/dashboard/triage/",
    "/dashboard/figures/",
    "/dashboard/figures/?period=year",
    "/dashboard/figures/?period=range&start={year_ago}&end={today}",
    "/dashboard/intake/",
]


USERS = {
    "coordinator": lambda: coordinator("63.72", username="q"),
    "province": lambda: province_staff(username="q"),
    "officer": lambda: officer("63.72", "perkim", username="q"),
}


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (who, url)
        for who in USERS
        for url in URLS
        if not (who == "officer" and url == "/dashboard/triage/")  # officers have no triage
    ],
)
def test_staff_pages_do_not_query_per_row(client, who, url):
    user = USERS[who]()
    client.force_login(user)
    today = timezone.localdate()
    url = url.format(today=today, year_ago=today - timedelta(days=365))
    add_complaints(3, seed=1)
    few = queries(client, url)
    add_complaints(12, seed=2)
    assert queries(client, url) == few


def test_the_staff_complaint_page_does_not_query_per_event_or_attachment(client):
    complaint = complaint_submitted().complaint
    perkim = officer("63.72", "perkim")
    client.force_login(perkim)
    url = complaint.get_absolute_url()
    few = queries(client, url)
    for n in range(5):
        complaint_transition(
            complaint=complaint,
            action=Action.FOLLOW_UP,
            role=Role.AGENCY_OFFICER,
            actor=perkim,
            note=f"Tindak lanjut {n}",
        )
    assert queries(client, url) == few
