"""The queue says what it found, even nothing; staff search by the public search's rule; the
figures table is a table of its own."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import complaint_submitted, officer

pytestmark = pytest.mark.django_db
WITA = timezone.get_fixed_timezone(8 * 60)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def test_an_empty_queue_says_zero_nothing_matches_and_keeps_the_export_link(client, frozen):
    client.force_login(officer("63.72", "perkim"))

    response = client.get("/dashboard/queue/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "0 pengaduan" in html
    assert "Tidak ada yang cocok" in html
    assert "/dashboard/queue/export.csv" in html

    response = client.get("/dashboard/queue/?due_soon=on")
    html = response.content.decode()
    assert "0 pengaduan" in html
    assert "24 jam" in html.split('class="empty-state"')[1]
    assert "/dashboard/queue/export.csv?due_soon=on" in html


def test_staff_search_matches_every_word_in_title_address_or_description(client, frozen):
    client.force_login(officer("63.72", "perkim"))
    lamp = complaint_submitted(
        now=NOW - timedelta(hours=3),
        title="Lampu jalan mati",  # "lampu mati" is not one phrase here
        address="Jl. Panglima Batur",
    ).complaint
    other = complaint_submitted(
        now=NOW - timedelta(hours=2),
        title="Tiang listrik miring",
        description="Tiangnya hampir roboh.",
        address="Jl. Trikora",
    ).complaint

    def found(q):
        response = client.get("/dashboard/queue/", {"q": q})
        assert response.status_code == 200
        return [c.tracking_code for c in response.context["page"].object_list]

    assert found("lampu mati") == [lamp.tracking_code]
    assert found("Trikora") == [other.tracking_code]  # the address counts
    assert found("lampu trikora") == []
    assert found(other.tracking_code.lower()) == [other.tracking_code]


def test_the_figures_table_has_its_own_class_and_a_named_first_column(client, frozen):
    complaint_submitted(now=NOW - timedelta(days=2))
    client.force_login(officer("63.72", "perkim"))
    html = client.get("/dashboard/figures/").content.decode()
    assert 'class="figures-table"' in html
    assert 'class="figures"' not in html
    assert '<th scope="col"></th>' not in html
    assert 'tabindex="0" role="region"' in html


def test_an_officer_opening_triage_is_told_what_their_own_desk_is(client):
    client.force_login(officer("63.72", "perkim"))
    response = client.get("/dashboard/triage/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "meja kerja koordinator" in html
    assert "minta" not in html.lower().split("<main")[1]  # not told to ask for a role
    assert 'href="/dashboard/queue/"' in html


def test_route_form_suggests_the_rules_agency_and_is_not_marked_optional(client, frozen):
    from agencies.models import Agency, RoutingRule
    from tests.factories import coordinator

    complaint = complaint_submitted(now=NOW - timedelta(hours=2)).complaint  # routed by a rule
    rule = RoutingRule.objects.get(region=complaint.region, category=complaint.category)
    other = Agency.objects.filter(region=complaint.region).exclude(pk=rule.agency_id).first()
    type(complaint).objects.filter(pk=complaint.pk).update(assigned_agency=other)
    client.force_login(coordinator("63.72"))
    html = client.get(f"/complaints/{complaint.tracking_code}/").content.decode()
    form = html.split('value="reroute"')[0].rsplit("<form", 1)[1]
    assert "(opsional)" not in form.split("</label>")[0]
    assert f"Saran: {rule.agency.name}" in form
    assert f'<option value="{rule.agency_id}" selected>' in form
