"""The staff figures' indicator counts from the cache (``workspace.figures._indicator_sets``):
kept under the page cache's generation and keyed on the caller's own scope, so nobody gets
another scope's figures; a committed change is counted within ``FIGURES_STALE_SECONDS`` (at once
with 0), the page says how old its counts are, and "overdue now" stays live.

Transactional tests: the generation moves when a change commits, as in production.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Complaint
from complaints.querysets import overdue_q
from tests.factories import agency, complaint_submitted, coordinator, officer

pytestmark = pytest.mark.django_db(transaction=True)
WITA = timezone.get_fixed_timezone(8 * 60)
NOW = datetime(2026, 6, 20, 10, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def _page_cache_on(settings, media_root):
    settings.PAGE_CACHE_SECONDS = 120


def figures(client, user, query=""):
    client.force_login(user)
    return client.get("/dashboard/figures/" + query).context


def aggregates(captured) -> int:
    return sum("COUNT(" in q["sql"] and "GROUP BY" in q["sql"] for q in captured)


def test_each_scope_has_its_own_figures_and_a_change_counts_at_once(client, settings):
    settings.FIGURES_STALE_SECONDS = 0
    with time_machine.travel(NOW, tick=False):
        perkim = officer("63.72", "perkim", username="perkim")
        pupr = officer("63.72", "pupr", username="pupr")
        for n in range(3):
            complaint_submitted(now=NOW - timedelta(days=n + 1), category_code="pju")
        complaint_submitted(now=NOW - timedelta(days=2), category_code="jalan")

        assert figures(client, perkim)["total"].figures.received == 3
        with CaptureQueriesContext(connection) as second:
            assert figures(client, perkim)["total"].figures.received == 3
        assert aggregates(second.captured_queries) == 0  # from the cache
        # Another agency's officer asks other rows: never the first one's entry.
        assert figures(client, pupr)["total"].figures.received == 1
        assert figures(client, coordinator("63.72"))["total"].figures.received == 4
        rows = {r.label: r.figures.received for r in figures(client, coordinator("63.72"))["rows"]}
        assert rows == {agency("63.72", "perkim").name: 3, agency("63.72", "pupr").name: 1}

        complaint_submitted(now=NOW - timedelta(hours=1), category_code="pju")  # commits
        assert figures(client, perkim)["total"].figures.received == 4
        assert figures(client, pupr)["total"].figures.received == 1


@pytest.fixture
def stale_for_a_minute(settings):
    settings.FIGURES_STALE_SECONDS = 60


def test_after_a_change_the_counts_stay_a_minute_and_say_when_they_were_counted(
    client, stale_for_a_minute
):
    with time_machine.travel(NOW, tick=False):
        perkim = officer("63.72", "perkim", username="perkim")
        pupr = officer("63.72", "pupr", username="pupr")
        complaint_submitted(now=NOW - timedelta(days=1), category_code="pju")
        assert figures(client, perkim)["total"].figures.received == 1
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        complaint_submitted(now=NOW - timedelta(hours=1), category_code="pju")  # commits
        client.force_login(perkim)
        page = client.get("/dashboard/figures/")
        assert page.context["total"].figures.received == 1  # counted 30 s ago
        assert page.context["as_of"] == NOW
        assert "Angka per pukul 10:00 WITA." in page.content.decode()
        # Another scope has no entry of its own yet: counted now, with the change.
        assert figures(client, pupr)["as_of"] == NOW + timedelta(seconds=30)
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        context = figures(client, perkim)
        assert context["total"].figures.received == 2
        assert context["as_of"] == NOW + timedelta(seconds=61)


def test_overdue_now_moves_with_the_clock_while_the_counts_come_from_the_cache(client):
    with time_machine.travel(NOW, tick=False):
        perkim = officer("63.72", "perkim", username="perkim")
        complaint_submitted(now=NOW - timedelta(hours=2), category_code="pju")
        assert figures(client, perkim)["total"].overdue == 0
    later = NOW + timedelta(days=8)  # past the follow-up deadline, same month, no write
    with time_machine.travel(later, tick=False):
        mine = Complaint.objects.filter(assigned_agency=agency("63.72", "perkim"))
        assert mine.filter(overdue_q(timezone.now())).count() == 1
        with CaptureQueriesContext(connection) as captured:
            context = figures(client, perkim)
        assert aggregates(captured.captured_queries) == 0
        assert context["total"].overdue == 1 and context["total"].figures.received == 1
