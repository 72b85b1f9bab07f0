"""No page reads the complaints or the breaches by a sequential scan (PostgreSQL).

Every query a page runs against ``complaints_complaint`` or ``complaints_deadlinebreach`` is
explained with sequential scans priced out (``enable_seqscan = off``): PostgreSQL still picks one
when no index can answer the query, so a plan with a ``Seq Scan`` on these tables names a query
that would read all million rows in production.
"""

import importlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.enforcement import deadlines_sweep
from complaints.pagination import NEWEST_FIRST, encode_cursor
from tests.factories import complaint_submitted, coordinator, officer, province_staff

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's"),
]

WATCHED = {"complaints_complaint", "complaints_deadlinebreach"}


def seq_scans(plan) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in WATCHED:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child))
    return found


def scanned_queries(client, url) -> list[tuple[str, list[str]]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    bad = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                if not any(table in sql for table in WATCHED):
                    continue
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                scans = seq_scans(plan[0]["Plan"])
                if scans:
                    bad.append((sql, scans))
        finally:
            cursor.execute("RESET enable_seqscan")
    return bad


@pytest.fixture
def data(media_root):
    from datetime import timedelta

    from django.utils import timezone

    made = [
        complaint_submitted(now=timezone.now() - timedelta(days=n), region_code=code).complaint
        for n, code in enumerate(["63.72", "63.71", "63.72", "63.03"])
    ]
    deadlines_sweep(now=timezone.now() + timedelta(days=30))
    return made


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/complaints/",
        "/complaints/?q=lampu",
        "/complaints/?q=lampu+sekolah&region=63.72",
        "/complaints/?region=63.72&classification=pengaduan",
        "/complaints/?status=assigned&category=pju",
        "/track/",
        # The map's page (its counts per regency); its data endpoint: tests/portal/test_discover.py.
        "/peta/",
        "/peta/?category=pju&region=63.72&status=assigned&period=30",
    ],
)
def test_public_pages_use_indexes(client, data, url):
    assert scanned_queries(client, url) == []


def test_the_next_pages_and_the_complaint_page_use_indexes(client, data):
    cursor = encode_cursor(data[1], NEWEST_FIRST)
    assert scanned_queries(client, f"/complaints/?after={cursor}") == []
    assert scanned_queries(client, f"/complaints/?before={cursor}") == []
    assert scanned_queries(client, data[0].get_absolute_url()) == []


def test_the_check_sees_a_sequential_scan(data):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT count(*) FROM complaints_complaint "
            "WHERE UPPER(description) LIKE '%LAMPU%'"
        )
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_seqscan")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert seq_scans(plan[0]["Plan"]) == ["complaints_complaint"]


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: officer("63.72", "perkim", username="plan"),
        lambda: coordinator("63.72", username="plan"),
        lambda: province_staff(username="plan"),
    ],
)
@pytest.mark.parametrize("follow", [False, True])
@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/",
        "/dashboard/queue/",
        "/dashboard/queue/?sort=newest",
        "/dashboard/queue/?sort=oldest&status=all",
        "/dashboard/triage/",
    ],
)
def test_dashboards_use_indexes(client, data, make_user, url, follow, monkeypatch):
    """Each staff list, and (``follow``) the pages after and before its first."""
    user = make_user()
    if url == "/dashboard/triage/" and not coordinates(user):
        return  # an officer's triage is a 403
    client.force_login(user)
    if not follow:
        assert scanned_queries(client, url) == []
        return
    for module in ("workspace.home", "workspace.queue"):
        monkeypatch.setattr(importlib.import_module(module), "PAGE_SIZE", 1)
    from tests.workspace.workspace_helpers import triage_complaint

    triage_complaint("63.72")
    triage_complaint("63.72")
    path = url.split("?")[0]
    followed = 0
    for name in ("page", "queue", "triage"):
        page = client.get(url).context.get(name)
        if page is None or not page.has_next:
            continue
        following = f"{path}?{page.next_query}"
        assert scanned_queries(client, following) == []
        back = client.get(following).context[name]
        assert scanned_queries(client, f"{path}?{back.previous_query}") == []
        followed += 1
    assert followed or path == "/dashboard/"  # a province's dashboard shows no list of rows


def coordinates(user) -> bool:
    from agencies.selectors import staff_scope_for

    scope = staff_scope_for(user)
    return bool(scope.region_ids or scope.is_province)


def node_types(plan) -> list[str]:
    return [plan["Node Type"], *(t for child in plan.get("Plans", []) for t in node_types(child))]


@pytest.mark.parametrize(
    ("make_user", "url"),
    [
        (lambda: officer("63.72", "perkim", username="plan"), "/dashboard/queue/?sort=newest"),
        (lambda: officer("63.72", "perkim", username="plan"), "/dashboard/queue/?sort=oldest"),
        (lambda: coordinator("63.72", username="plan"), "/dashboard/queue/?sort=newest"),
        (lambda: coordinator("63.72", username="plan"), "/dashboard/triage/"),
    ],
)
def test_the_date_ordered_lists_page_in_index_order(client, data, make_user, url, monkeypatch):
    """The queue by date and the triage by its due moment read their next page from an index,
    already in order (no sort step, even with sorting priced out): the keyset's ``NULLS LAST``
    and directions match the indexes."""
    from tests.workspace.workspace_helpers import triage_complaint

    triage_complaint("63.72")
    triage_complaint("63.72")
    monkeypatch.setattr(importlib.import_module("workspace.queue"), "PAGE_SIZE", 1)
    client.force_login(make_user())
    page = client.get(url).context["page"]
    assert page.has_next
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"{url.split('?')[0]}?{page.next_query}").status_code == 200
    listed = [
        q["sql"]
        for q in captured.captured_queries
        if "complaints_complaint" in q["sql"] and "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert len(listed) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + listed[0])
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    types = node_types(plan[0]["Plan"])
    assert "Sort" not in types and "Incremental Sort" not in types, types
    assert seq_scans(plan[0]["Plan"]) == []


def index_scans(plan) -> list[tuple[str, str]]:
    found = []
    if plan.get("Index Name"):
        found.append((plan["Node Type"], plan["Index Name"]))
    for child in plan.get("Plans", []):
        found.extend(index_scans(child))
    return found


@pytest.mark.parametrize(
    ("make_user", "url", "index"),
    [
        (lambda: officer("63.72", "perkim", username="plan"), "/dashboard/", "agency"),
        (lambda: officer("63.72", "perkim", username="plan"), "/dashboard/queue/", "agency"),
        (lambda: officer("63.72", "perkim", username="plan"), "/api/v1/staff/queue/", "agency"),
        (lambda: coordinator("63.72", username="plan"), "/dashboard/queue/", "region"),
        (lambda: coordinator("63.72", username="plan"), "/api/v1/staff/queue/", "region"),
    ],
)
def test_the_urgent_queue_finds_its_page_from_an_index_alone(client, data, make_user, url, index):
    """The urgency order is computed (overdue, the next clock), so no index holds it: the pager
    asks for a page's ids first, and the partial index of the open work set carries every key
    of the order, so that step reads the index only (``Index Only Scan``), never the table; the
    page's rows are then read by id."""
    client.force_login(make_user())
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    found = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "complaints_complaint"."id" AS "pk" FROM')
        and "ORDER BY CASE WHEN" in q["sql"]
    ]
    assert len(found) == 1, [q["sql"][:120] for q in captured.captured_queries]
    with connection.cursor() as cursor:
        # A few rows, never vacuumed: tell the planner what it sees on a large table that
        # autovacuum keeps, every page all-visible, and leave it no other index of the work
        # set to weigh on so few rows (all rolled back with the test): what is asserted is that
        # the open index alone answers the step, as it does on the million (docs/scaling.md).
        # Both dimensions' status and date indexes: an officer's queue also names the
        # agency's regency, so after other tests' statistics the planner may weigh the
        # regency's index for the agency's queue (and the other way round).
        for dimension in ("agency", "region"):
            for other in ("status", "date"):
                cursor.execute(f"DROP INDEX complaint_{dimension}_{other}_idx")
        cursor.execute("ANALYZE complaints_complaint")
        cursor.execute(
            "UPDATE pg_class SET relallvisible = relpages, relpages = relpages * 1000, "
            "reltuples = reltuples * 1000 WHERE relname = 'complaints_complaint'"
        )
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + found[0])
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_bitmapscan")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert index_scans(plan[0]["Plan"]) == [("Index Only Scan", f"complaint_{index}_open_idx")]
