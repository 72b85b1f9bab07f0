"""The search text's side table (PostgreSQL): its triggers keep it equal to the complaints'
title, address and description, whoever writes them, and a status change does not touch it."""

import json

import pytest
from django.db import connection

from complaints.models import Complaint
from complaints.search import INDEX_NAME, OLD_INDEX_NAME, TABLE, complaints_search
from tests.factories import complaint_submitted

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the side table is PostgreSQL's"),
]


def documents() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT complaint_id, document FROM {TABLE}")  # noqa: S608 - a constant
        return dict(cursor.fetchall())


def expected() -> dict[int, str]:
    return {
        pk: f"{title} {address} {description}"
        for pk, title, address, description in Complaint.objects.values_list(
            "pk", "title", "address", "description"
        )
    }


def found(word: str) -> set[int]:
    return set(complaints_search(Complaint.objects.all(), [word]).values_list("pk", flat=True))


def test_the_side_table_follows_every_write():
    first = complaint_submitted(title="Tiang listrik miring").complaint
    second = complaint_submitted(title="Jembatan retak", address="Jl. Kenanga").complaint
    assert documents() == expected()
    assert found("tiang") == {first.pk}

    # A bulk update of the text, as the retention's scrubbing does.
    Complaint.objects.filter(pk=first.pk).update(title="Gardu berasap")
    # A full save (every column written) with the text unchanged.
    second.refresh_from_db()
    second.save()
    assert documents() == expected()
    assert found("tiang") == set() and found("gardu") == {first.pk}
    assert found("kenanga") == {second.pk}

    with connection.cursor() as cursor:  # events are never deleted, and PROTECT the complaint
        cursor.execute("DELETE FROM complaints_complaintevent WHERE complaint_id = %s", [second.pk])
    Complaint.objects.filter(pk=second.pk).delete()
    assert documents() == expected() and found("kenanga") == set()


def test_a_status_change_runs_no_search_trigger():
    complaint = complaint_submitted(title="Sampah menumpuk").complaint
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) UPDATE complaints_complaint SET status = %s "
            "WHERE id = %s",
            ["in_progress", complaint.pk],
        )
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    triggers = {trigger["Trigger Name"] for trigger in plan[0].get("Triggers", [])}
    assert not {name for name in triggers if name.startswith(TABLE)}, triggers


def test_the_trigram_index_is_on_the_side_table_only():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE indexname IN (%s, %s)",
            [INDEX_NAME, OLD_INDEX_NAME],
        )
        assert cursor.fetchall() == [(INDEX_NAME, TABLE)]


def test_a_search_uses_the_trigram_index():
    complaint_submitted(title="Drainase tersumbat")
    query = complaints_search(Complaint.objects.all(), ["drainase", "tersumbat"])
    # A handful of rows: reading them all is cheapest, so price every full read out.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        try:
            sql, params = query.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
    assert INDEX_NAME in plan, plan
