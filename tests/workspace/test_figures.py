"""Figures for an agency, a regency and the province: the awards indicators over the caller's
scope, side by side, with a trend by month drawn without JavaScript."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from awards.indicators import indicator_sets
from complaints.enforcement import deadlines_sweep
from complaints.models import Complaint
from complaints.querysets import overdue_q
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import agency, complaint_submitted, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db
WITA = timezone.get_fixed_timezone(8 * 60)
NOW = datetime(2026, 6, 20, 10, 0, tzinfo=WITA)
YEAR = (datetime(2026, 1, 1, tzinfo=WITA), datetime(2027, 1, 1, tzinfo=WITA))


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def history():
    """Half a year of Banjarbaru and Banjarmasin: followed up on time, late, never; resolved
    and rated; the breaches recorded by the sweep."""
    perkim = officer("63.72", "perkim", username="perkim")
    pupr = officer("63.72", "pupr", username="pupr")
    made = []
    for n in range(8):
        when = NOW - timedelta(days=20 * n + 1)
        category_code = "pju" if n % 2 == 0 else "jalan"
        complaint = complaint_submitted(now=when, category_code=category_code).complaint
        actor = perkim if category_code == "pju" else pupr
        if n % 3 != 2:  # followed up: on time (one day on) or late (five days on)
            complaint_transition(
                complaint=complaint,
                action=Action.RESOLVE if n % 3 == 0 else Action.FOLLOW_UP,
                role=Role.AGENCY_OFFICER,
                actor=actor,
                note="Ditangani.",
                now=when + timedelta(days=1 if n < 4 else 5),
            )
        made.append(complaint)
    complaint_submitted(now=NOW - timedelta(days=3), region_code="63.71")
    deadlines_sweep(now=NOW)
    return made


def test_a_coordinator_sees_the_regency_and_its_agencies_as_the_ranking_counts_them(
    client, history
):
    client.force_login(coordinator("63.72"))
    with time_machine.travel(NOW, tick=False):
        response = client.get("/dashboard/figures/?period=year")
        work = Complaint.objects.filter(region__code="63.72")
        expected = indicator_sets(group_by="region", start=YEAR[0], end=YEAR[1], complaints=work)
        by_agency = indicator_sets(group_by="agency", start=YEAR[0], end=YEAR[1], complaints=work)
        overdue_now = work.filter(overdue_q(timezone.now())).count()
    assert response.status_code == 200
    total = response.context["total"]
    region_id = history[0].region_id
    assert total.figures == expected[region_id]
    assert total.figures.received == 8
    assert total.overdue == overdue_now
    rows = {row.label: row for row in response.context["rows"]}
    perkim, pupr = agency("63.72", "perkim"), agency("63.72", "pupr")
    assert rows[perkim.name].figures == by_agency[perkim.pk]
    assert rows[pupr.name].figures == by_agency[pupr.pk]
    assert rows[perkim.name].figures.received + rows[pupr.name].figures.received == 8
    page = response.content.decode()
    assert "<svg" in page and "<script" not in page.split("<main", 1)[1]
    # One bar per month of the year so far and beyond: January to December.
    assert [bar.label for bar in response.context["bars"]][:2] == ["01/26", "02/26"]
    assert sum(bar.received for bar in response.context["bars"]) == 8


def test_an_officer_sees_their_agency_only(client, history):
    client.force_login(officer("63.72", "perkim", username="perkim2"))
    with time_machine.travel(NOW, tick=False):
        response = client.get("/dashboard/figures/?period=year")
        work = Complaint.objects.filter(assigned_agency=agency("63.72", "perkim"))
        expected = indicator_sets(group_by="agency", start=YEAR[0], end=YEAR[1], complaints=work)
    assert response.context["total"].figures == expected[agency("63.72", "perkim").pk]
    assert "rows" not in response.context


def test_the_province_compares_every_regency_and_adds_them_up(client, history):
    client.force_login(province_staff())
    with time_machine.travel(NOW, tick=False):
        response = client.get("/dashboard/figures/?period=year")
    rows = response.context["rows"]
    assert len(rows) == 14
    total = response.context["total"].figures
    assert total.received == sum(row.figures.received for row in rows) == 9
    assert total.breached == sum(row.figures.breached for row in rows)
    assert total.median_hours_to_follow_up is None  # a median cannot be added up


def test_this_month_and_a_date_range(client, history):
    client.force_login(coordinator("63.72"))
    with time_machine.travel(NOW, tick=False):
        month = client.get("/dashboard/figures/")
        assert month.context["total"].figures.received == 1  # 19 June only
        start, end = (NOW - timedelta(days=45)).date(), (NOW - timedelta(days=10)).date()
        ranged = client.get(f"/dashboard/figures/?period=range&start={start}&end={end}")
    assert ranged.context["total"].figures.received == 2  # 30 days and 40 days ago


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=range", "start"),
        ("period=range&start=2026-05-01", "end"),
        ("period=range&start=2026-05-01&end=2026-04-01", "end"),
        ("period=range&start=2020-01-01&end=2026-01-01", "end"),
        ("period=decade", "period"),
        ("period=range&start=kemarin&end=2026-01-01", "start"),
    ],
)
def test_a_bad_period_gets_a_clear_answer(client, query, field):
    client.force_login(coordinator("63.72"))
    response = client.get("/dashboard/figures/?" + query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
