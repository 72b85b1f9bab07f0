"""The one keyset pager (``complaints.pagination``), table-driven: every order of the HTML lists,
mixed directions, nullable and annotated keys, ties, rows filed between two pages, and cursors
that are not ours (the first page, never an error)."""

from datetime import datetime, timedelta

import pytest
from django.db.models import Case, IntegerField, Value, When
from django.http import QueryDict
from django.utils import timezone

from complaints.models import Complaint
from complaints.pagination import (
    MOST_SUPPORTED_FIRST,
    NEWEST_FIRST,
    OLDEST_FIRST,
    RELEVANT_FIRST,
    TRIAGE_DUE_FIRST,
    Key,
    _signer,
    encode_cursor,
    keyset_page,
    page_from_query,
)
from complaints.querysets import URGENCY
from complaints.workflow import ComplaintStatus
from tests.factories import complaint_submitted

pytestmark = pytest.mark.django_db
S = ComplaintStatus
WITA = timezone.get_fixed_timezone(8 * 60)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=WITA)
H = timedelta(hours=1)

# (status, the due moment that matters, in hours from NOW or None, filed hours before NOW).
# Ties on purpose: equal due moments (rows 1-3), equal filing moments (rows 1-2, 6-7, 10-11),
# both at once (rows 1-2), several rows with no next clock (resolved, closed).
ROWS = [
    (S.ASSIGNED, -5, 30),  # 0 overdue
    (S.ASSIGNED, -2, 20),  # 1 overdue
    (S.ASSIGNED, -2, 20),  # 2 overdue, the same moments as 1
    (S.TRIAGE, -2, 19),  # 3 overdue in triage, due with 1 and 2
    (S.TRIAGE, 4, 10),  # 4 triage, not yet due
    (S.ASSIGNED, 4, 12),  # 5 due with 4
    (S.IN_PROGRESS, 48, 8),  # 6 a completion target (never "overdue")
    (S.IN_PROGRESS, -1, 8),  # 7 a completion target passed: not overdue by the rule
    (S.RESOLVED, None, 8),  # 8 no next clock
    (S.CLOSED, None, 40),  # 9 no next clock
    (S.RESOLVED, None, 3),  # 10
    (S.TRIAGE, 4, 3),  # 11 due with 4 and 5, filed with 10
]
DUE_FIELD = {
    S.TRIAGE: "triage_due_at",
    S.ASSIGNED: "follow_up_due_at",
    S.IN_PROGRESS: "completion_due_at",
}


def make_rows(rows=ROWS) -> list[int]:
    ids = []
    for n, (status, due, filed) in enumerate(rows):
        complaint = complaint_submitted(now=NOW - filed * H).complaint
        fields = {
            "status": status,
            "supporter_count": n % 3,
            "created_at": NOW - filed * H,
            "triage_due_at": None,
            "follow_up_due_at": None,
            "completion_due_at": None,
        }
        if due is not None:
            fields[DUE_FIELD[status]] = NOW + due * H
        Complaint.objects.filter(pk=complaint.pk).update(**fields)
        ids.append(complaint.pk)
    return ids


def rows_of(ids):
    """The rows with every key the orders use: ``is_overdue``, ``next_due``, ``search_rank``."""
    rank = Case(
        *[When(pk=pk, then=Value(n % 3)) for n, pk in enumerate(ids)],
        default=Value(0),
        output_field=IntegerField(),
    )
    return (
        Complaint.objects.filter(pk__in=ids)
        .with_overdue(NOW)
        .with_next_due()
        .annotate(search_rank=rank)
    )


def python_order(rows, keys) -> list[int]:
    """The order the keys mean, worked out here: stable sorts from the last key to the first,
    nulls last in either direction."""
    rows = list(rows)
    for key in reversed(keys):
        present = [r for r in rows if getattr(r, key.name) is not None]
        absent = [r for r in rows if getattr(r, key.name) is None]
        present.sort(key=lambda r, k=key: getattr(r, k.name), reverse=key.descending)
        rows = present + absent
    return [r.pk for r in rows]


def walk_forward(queryset, keys, size) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, keys=keys, after=cursor, size=size)
        pages.append([r.pk for r in page.object_list])
        assert page.has_previous == (cursor is not None)
        if not page.has_next:
            return pages
        cursor = page.next_cursor
        assert len(pages) <= len(ROWS) + 1, "the pager goes round in circles"


ORDERS = {
    "urgency": URGENCY,
    "newest": NEWEST_FIRST,
    "oldest": OLDEST_FIRST,
    "relevant": RELEVANT_FIRST,
    "supporters": MOST_SUPPORTED_FIRST,
    "triage": TRIAGE_DUE_FIRST,
    # Mixed directions with the nullable key first: the due moment latest first, nulls last.
    "due-latest": (Key("next_due", datetime, descending=True, nullable=True), Key("id")),
}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 12, 20])
@pytest.mark.parametrize("order", sorted(ORDERS))
def test_pages_walk_the_whole_order_both_ways(order, size, media_root):
    keys = ORDERS[order]
    ids = make_rows()
    queryset = rows_of(ids)
    if order == "triage":
        queryset = queryset.filter(status=S.TRIAGE)
    expected = python_order(queryset, keys)
    assert [r.pk for r in queryset.order_by(*(k.ordering for k in keys))] == expected

    pages = walk_forward(queryset, keys, size)
    assert [pk for page in pages for pk in page] == expected
    assert all(len(page) == size for page in pages[:-1])

    # Back from the last page: each previous page is the one seen on the way there.
    page = keyset_page(queryset, keys=keys, after=None, size=size)
    cursors = []
    while page.has_next:
        cursors.append(page.next_cursor)
        page = keyset_page(queryset, keys=keys, after=page.next_cursor, size=size)
    back = [[r.pk for r in page.object_list]]
    while page.has_previous:
        page = keyset_page(queryset, keys=keys, before=page.previous_cursor, size=size)
        back.insert(0, [r.pk for r in page.object_list])
    assert back == pages


def test_urgency_means_overdue_then_next_clock_nulls_last_then_newest(media_root):
    ids = make_rows()
    pages = walk_forward(rows_of(ids), URGENCY, 4)
    order = [ids.index(pk) for page in pages for pk in page]
    # Overdue first, by their clock (1-3 due together: the newest filed first, then the higher
    # id); then the others by their clock (a passed completion target is not "overdue"; 4, 5
    # and 11 due together, newest first); then the rows with none, newest first.
    assert order == [0, 3, 2, 1, 7, 11, 4, 5, 6, 10, 8, 9]


@pytest.mark.parametrize(
    ("order", "size", "inserted", "shows_up"),
    [
        # Filed after the first page was read: newest first, so it sorts before the cursor.
        ("newest", 3, [(S.ASSIGNED, 10, 0)], False),
        ("oldest", 3, [(S.ASSIGNED, 10, 0)], True),
        # An overdue complaint sorts before the cursor, one with no next clock after it.
        ("urgency", 3, [(S.ASSIGNED, -9, 1)], False),
        ("urgency", 3, [(S.RESOLVED, None, 50)], True),
        # Tied on every key but the id with rows 1 and 2: the higher id sorts first, so before
        # the cursor when the first page ends at row 2, after it when it ends at row 3.
        ("urgency", 3, [(S.ASSIGNED, -2, 20)], False),
        ("urgency", 2, [(S.ASSIGNED, -2, 20)], True),
        ("triage", 2, [(S.TRIAGE, 5, 1)], True),
        ("triage", 2, [(S.TRIAGE, -3, 1)], False),
    ],
)
def test_rows_filed_between_two_pages_neither_repeat_nor_hide_a_row(
    order, size, inserted, shows_up, media_root
):
    keys = ORDERS[order]
    ids = make_rows()
    queryset = rows_of(ids)
    if order == "triage":
        queryset = queryset.filter(status=S.TRIAGE)
    first = keyset_page(queryset, keys=keys, size=size)
    before = python_order(queryset, keys)
    new = make_rows(inserted)
    queryset = rows_of(ids + new)
    if order == "triage":
        queryset = queryset.filter(status=S.TRIAGE)
    rest = []
    cursor = first.next_cursor
    while cursor:
        page = keyset_page(queryset, keys=keys, after=cursor, size=size)
        rest += [r.pk for r in page.object_list]
        cursor = page.next_cursor
    shown = [r.pk for r in first.object_list]
    assert not set(shown) & set(rest)  # nothing twice
    assert set(before) - set(shown) <= set(rest)  # nothing lost
    assert (new[0] in rest) == shows_up
    assert [pk for pk in rest if pk not in new] == before[size:]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "nonsense",
        "W10",  # base64 of [] without a signature
        "x" * 1000,
        "WyIyMDI2LTAzLTEwVDEwOjAwOjAwKzA4OjAwIiwgMV0",  # a well-formed but unsigned cursor
        "\x00",
        "a.b.c",
    ],
)
def test_a_cursor_that_is_not_ours_is_the_first_page(cursor, media_root):
    ids = make_rows(ROWS[:4])
    queryset = rows_of(ids)
    first = [r.pk for r in keyset_page(queryset, keys=URGENCY, size=2).object_list]
    for after, before in ((cursor, None), (None, cursor), (cursor, cursor)):
        page = keyset_page(queryset, keys=URGENCY, after=after, before=before, size=2)
        assert [r.pk for r in page.object_list] == first
        assert not page.has_previous


def other_last(cursor: str) -> str:
    return cursor[:-1] + ("B" if cursor[-1] != "B" else "C")


def _tampered(keys, values):
    """A cursor signed as ours but with values we never write."""
    return _signer(keys).sign_object(values)


@pytest.mark.parametrize(
    ("keys", "make_cursor"),
    [
        # A real cursor changed by one character, in the values and in the signature.
        (NEWEST_FIRST, lambda row: "X" + encode_cursor(row, NEWEST_FIRST)[1:]),
        (NEWEST_FIRST, lambda row: other_last(encode_cursor(row, NEWEST_FIRST))),
        # A real cursor of another order (the oldest first, or the urgency).
        (NEWEST_FIRST, lambda row: encode_cursor(row, OLDEST_FIRST)),
        (URGENCY, lambda row: encode_cursor(row, NEWEST_FIRST)),
        # Signed, but not the values of a row: wrong count, wrong types, bounds.
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, [])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, {"id": 1})),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["2026-03-10T10:00:00+08:00"])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["2026-02-30T10:00:00+08:00", 1])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["0001-01-01T00:00:00+00:00", 1])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["9999-12-31T23:59:59-08:00", 1])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["2026-01-30T10:00:00+99:00", 1])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, [None, 1])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["2026-03-10T10:00:00", True])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["2026-03-10T10:00:00", 2**70])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, ["2026-03-10T10:00:00", "1"])),
        (NEWEST_FIRST, lambda row: _tampered(NEWEST_FIRST, [20260310, 1])),
        (URGENCY, lambda row: _tampered(URGENCY, [1, None, "2026-03-10T10:00:00", 1])),
        (URGENCY, lambda row: _tampered(URGENCY, [True, "soon", "2026-03-10T10:00:00", 1])),
        (URGENCY, lambda row: _tampered(URGENCY, [True, None, None, 1])),
        (RELEVANT_FIRST, lambda row: _tampered(RELEVANT_FIRST, [1.5, "2026-03-10", 1])),
        (RELEVANT_FIRST, lambda row: _tampered(RELEVANT_FIRST, [False, "2026-03-10", 1])),
    ],
)
def test_a_tampered_cursor_is_the_first_page(keys, make_cursor, media_root):
    ids = make_rows(ROWS[:4])
    queryset = rows_of(ids)
    first = keyset_page(queryset, keys=keys, size=2)
    cursor = make_cursor(queryset.get(pk=ids[1]))
    for direction in ("after", "before"):
        page = keyset_page(queryset, keys=keys, size=2, **{direction: cursor})
        assert [r.pk for r in page.object_list] == [r.pk for r in first.object_list]


def test_a_signed_cursor_with_a_null_where_the_key_allows_it_is_read(media_root):
    ids = make_rows()
    queryset = rows_of(ids)
    no_clock = [pk for pk, row in zip(ids, ROWS, strict=True) if row[1] is None]
    # After the first row with no next clock (nulls last): only the others with none remain.
    row = queryset.get(pk=python_order(queryset.filter(pk__in=no_clock), URGENCY)[0])
    page = keyset_page(queryset, keys=URGENCY, after=encode_cursor(row, URGENCY), size=20)
    assert [r.pk for r in page.object_list] == python_order(
        queryset.filter(pk__in=no_clock), URGENCY
    )[1:]


def test_cursors_need_no_escaping_and_the_links_keep_the_filters(media_root):
    ids = make_rows(ROWS[:5])
    query = QueryDict("status=all&q=lampu+jalan&page=3&triage_after=keep")
    page = page_from_query(rows_of(ids), query, keys=URGENCY, size=2)
    assert page.first_query == "status=all&q=lampu+jalan&triage_after=keep"
    assert page.next_query == f"status=all&q=lampu+jalan&triage_after=keep&after={page.next_cursor}"
    assert set(page.next_cursor) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    )
    second = page_from_query(rows_of(ids), QueryDict(page.next_query), keys=URGENCY, size=2)
    assert second.previous_query.startswith("status=all&q=lampu+jalan&triage_after=keep&before=")
    assert "after=" not in second.previous_query.replace("triage_after", "")
    # A second list on the page pages with its own prefix and leaves the first one's cursor.
    other = page_from_query(
        rows_of(ids), QueryDict(page.next_query), keys=NEWEST_FIRST, size=2, prefix="triage_"
    )
    assert [r.pk for r in other.object_list] == python_order(rows_of(ids), NEWEST_FIRST)[:2]
    assert f"after={page.next_cursor}" in other.next_query
