"""Every HTML list pages through the one keyset pager: "newer/older" links that keep the
filters, each list of a page with its own cursor, and a cursor that is not ours answered with
the first page (never an error). The pager's own rules are tested in
tests/complaints/test_pagination.py."""

import importlib
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.utils import timezone

from complaints.pagination import OLDEST_FIRST, encode_cursor
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import UserFactory, complaint_submitted, coordinator, officer
from tests.workspace.workspace_helpers import triage_complaint

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


@pytest.fixture
def small_pages(monkeypatch):
    for module in ("workspace.home", "workspace.queue"):
        monkeypatch.setattr(importlib.import_module(module), "PAGE_SIZE", 2)


def codes(page) -> list[str]:
    return [c.tracking_code for c in page.object_list]


def link(html: str, rel: str) -> str:
    found = re.search(rf'<a href="(\?[^"]*)" rel="{rel}"', html)
    assert found, f'no rel="{rel}" link'
    return unescape(found.group(1))


def test_the_queue_pages_keep_the_filters_the_order_and_the_counts(client, frozen, small_pages):
    perkim = officer("63.72", "perkim")
    made = [complaint_submitted(now=NOW - timedelta(hours=n)).complaint for n in range(5)]
    complaint_submitted(now=NOW, category_code="jalan")  # filtered out
    client.force_login(perkim)
    url = "/dashboard/queue/?category=pju&sort=oldest"
    seen, pages = [], 0
    while url:
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "5 pengaduan" in html  # every match, on every page
        counts = {code: count for code, _label, count in response.context["counts"]}
        assert counts["assigned"] == 5
        seen += codes(response.context["page"])
        pages += 1
        if not response.context["page"].has_next:
            break
        url = "/dashboard/queue/" + link(html, "next")
        assert "category=pju" in url and "sort=oldest" in url and "after=" in url
    assert pages == 3
    assert seen == [c.tracking_code for c in reversed(made)]
    back = client.get("/dashboard/queue/" + link(html, "prev"))
    assert codes(back.context["page"]) == seen[2:4]
    assert "Lebih lama" in html  # "Older": the previous page of the oldest first


def test_the_queue_by_supporters_pages_most_supported_first(client, frozen, small_pages):
    made = [complaint_submitted(now=NOW - timedelta(hours=n)).complaint for n in range(4)]
    for n, complaint in enumerate(made):
        type(complaint).objects.filter(pk=complaint.pk).update(supporter_count=n % 2)
    client.force_login(officer("63.72", "perkim"))
    first = client.get("/dashboard/queue/?sort=supporters")
    html = first.content.decode()
    second = client.get("/dashboard/queue/" + link(html, "next"))
    assert "Lebih sedikit pendukung" in html  # "Fewer supporters"
    # Supported first (1 and 3), newest first among equals.
    expected = [made[i].tracking_code for i in (1, 3, 0, 2)]
    assert codes(first.context["page"]) + codes(second.context["page"]) == expected


def test_the_triage_pages_by_verification_due(client, frozen, small_pages):
    waiting = []
    for n in range(3):
        with time_machine.travel(NOW - timedelta(hours=n), tick=False):
            waiting.append(triage_complaint("63.72", title=f"Keluhan {n}"))
    client.force_login(coordinator("63.72"))
    first = client.get("/dashboard/triage/")
    second = client.get("/dashboard/triage/" + link(first.content.decode(), "next"))
    expected = [c.tracking_code for c in sorted(waiting, key=lambda c: (c.triage_due_at, c.pk))]
    assert codes(first.context["page"]) + codes(second.context["page"]) == expected
    assert not second.context["page"].has_next


def test_the_dashboards_two_lists_page_each_with_its_own_cursor(client, frozen, small_pages):
    # An officer of Perkim who is also the regency's coordinator: the queue and the triage.
    officer("63.72", "perkim", username="dua-peran")
    both = coordinator("63.72", username="dua-peran")
    for n in range(3):
        complaint_submitted(now=NOW - timedelta(days=n))
        with time_machine.travel(NOW - timedelta(hours=n), tick=False):
            triage_complaint("63.72", title=f"Keluhan {n}")
    client.force_login(both)
    home = client.get("/dashboard/")
    html = home.content.decode()
    assert 'aria-label="Halaman antrean perangkat daerah Anda"' in html
    assert 'aria-label="Halaman verifikasi"' in html
    queue, triage = home.context["queue"], home.context["triage"]
    assert len(queue) == 2 and len(triage) == 2
    # The queue's next page leaves the triage where it was, and the other way round.
    step = client.get(f"/dashboard/?{queue.next_query}")
    assert codes(step.context["queue"]) != codes(queue)
    assert codes(step.context["triage"]) == codes(triage)
    step_triage = step.context["triage"]
    both_on = client.get(f"/dashboard/?{step_triage.next_query}")
    assert codes(both_on.context["queue"]) == codes(step.context["queue"])
    assert len(both_on.context["triage"]) == 1
    back = client.get(f"/dashboard/?{both_on.context['triage'].previous_query}")
    assert codes(back.context["triage"]) == codes(triage)
    assert codes(back.context["queue"]) == codes(step.context["queue"])


def test_my_complaints_page_newer_and_older(client, frozen):
    citizen = UserFactory(username="warga-halaman")
    made = [
        complaint_submitted(now=NOW - timedelta(hours=n), reporter=citizen).complaint
        for n in range(23)
    ]
    client.force_login(citizen)
    first = client.get("/accounts/complaints/")
    html = first.content.decode()
    assert len(first.context["page"]) == 20
    second = client.get("/accounts/complaints/" + link(html, "next"))
    assert codes(first.context["page"]) + codes(second.context["page"]) == [
        c.tracking_code for c in made
    ]
    assert "Lebih baru" in second.content.decode()  # "Newer"


def _cursor_of_another_order(complaint):
    return encode_cursor(complaint, OLDEST_FIRST)


@pytest.mark.parametrize(
    "bad",
    ["nonsense", "W10", "x" * 500, "0001-01-01", "99999999999999999999", "other-order"],
)
def test_every_list_answers_a_cursor_not_ours_with_its_first_page(client, frozen, bad):
    complaint = complaint_submitted(now=NOW - timedelta(hours=1)).complaint
    triage_complaint("63.72")
    citizen = UserFactory(username="warga-kursor")
    complaint_submitted(now=NOW - timedelta(hours=2), reporter=citizen)
    cursor = _cursor_of_another_order(complaint) if bad == "other-order" else bad
    lists = [
        (None, "/complaints/", "page"),
        (citizen, "/accounts/complaints/", "page"),
        (officer("63.72", "perkim"), "/dashboard/queue/?sort=newest", "page"),
        (officer("63.72", "perkim", username="p2"), "/dashboard/", "queue"),
        (coordinator("63.72"), "/dashboard/triage/", "page"),
        (coordinator("63.72", username="k2"), "/dashboard/", "triage"),
    ]
    for user, url, name in lists:
        if user is not None:
            client.force_login(user)
        else:
            client.logout()
        plain = client.get(url).context[name]
        joiner = "&" if "?" in url else "?"
        for param in ("after", "before", "triage_after", "triage_before"):
            response = client.get(f"{url}{joiner}{param}={cursor}")
            assert response.status_code == 200, (url, param)
            assert codes(response.context[name]) == codes(plain), (url, param)


def test_an_old_page_number_is_ignored(client, frozen):
    made = complaint_submitted(now=NOW - timedelta(hours=1)).complaint
    client.force_login(officer("63.72", "perkim"))
    response = client.get("/dashboard/queue/?page=7")
    assert codes(response.context["page"]) == [made.tracking_code]
    perkim_done = complaint_submitted(now=NOW - timedelta(hours=2)).complaint
    complaint_transition(
        complaint=perkim_done,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim", username="p3"),
        note="OK",
    )
    response = client.get("/dashboard/queue/?status=all&page=2")
    assert len(response.context["page"]) == 2
