"""Benchmark of the deadline sweep (``complaints.enforcement.deadlines_sweep``) on PostgreSQL.

Reports figures, asserts nothing. ``make bench-deadlines``, or on a database of your own::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lapor_bench_me \\
        .venv/bin/python bench/deadlines.py --complaints 100000

1. **Fill** (when the database holds another number of bench complaints, or with ``--refill``):
   ``--count`` complaints over three years and the 13 regencies and cities, in set-based SQL
   (``INSERT ... SELECT generate_series``, secondary indexes dropped for the load). Random draws
   give each complaint its region, category, classification, age and fate. Its due times follow
   ``complaints.deadlines``: each rule (the follow-up days of the categories, the completion
   target of each classification, triage) depends only on the WITA day it starts on, so Python
   asks the deadline module once per day and rule, with the real calendar (weekends, holidays,
   cuti bersama, ``NonWorkingDay`` rows); the answers are loaded from a VALUES list into a
   temporary table that the fill joins. Then the breach rows and events earlier sweeps would
   have left, and the five watermarks where a sweep at the data's "now" leaves them. A sample of
   complaints is checked against the deadline module afterwards.
2. **Scenarios** at the data's "now" (30 minutes after the newest complaint, so figures do not
   drift with the wall clock), each in a transaction that is rolled back: A, 10,000 complaints
   newly past their follow-up deadline (and a repeat sweep, which must find nothing); B, nothing
   newly past due (median of 5; target under 100 ms); C, 1,000 newly past due. "Newly past due":
   the follow-up watermark goes back 10 minutes and old backlog complaints get due times in those
   minutes. D, auto-close (``complaints.services.complaints_close_expired``) ten days on, when
   every resolved complaint is past its reply window. Also the ``EXPLAIN (ANALYZE, BUFFERS)``
   plan of scenario A's range query.
3. **Committed**: scenario A once more, committed as production does, its notifications handed
   to a file-system broker under ``bench-results/var/`` that no worker reads; then undone by SQL.

Figures go to stdout and ``bench-results/deadlines.json``. ``--only A,D,A_committed`` runs only
those scenarios (default: all).
"""

import argparse
import contextlib
import json
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lapor_bench"
RESULTS_DIR = ROOT / "bench-results"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")
os.environ.setdefault("DEBUG", "1")  # only to import the settings without a SECRET_KEY
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["CELERY_BROKER_URL"] = "filesystem://"  # the committed run reaches no real worker
os.environ["LAPOR_VAR_DIR"] = str(RESULTS_DIR / "var")

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from fill import BREACH_COLUMNS, COMPLAINT_COLUMNS, EVENT_COLUMNS, insert_select  # noqa: E402
from psycopg2 import sql as pgsql  # noqa: E402
from psycopg2.extras import execute_values  # noqa: E402

from agencies.models import Agency, Category, Region, StaffMembership, StaffRole  # noqa: E402
from complaints import deadlines  # noqa: E402
from complaints.enforcement import ALL_IDS, BATCH, STEPS, deadlines_sweep  # noqa: E402
from complaints.models import (  # noqa: E402
    Classification,
    Complaint,
    ComplaintEvent,
    DeadlineBreach,
    SweepMark,
)
from complaints.services import complaints_close_expired  # noqa: E402
from notifications.models import Notification  # noqa: E402

settings.DEBUG = False  # as in production: Django keeps no log of every statement

WITA = ZoneInfo("Asia/Makassar")
NOON = clock(12)
PREFIX = "BEN-"
SPAN_DAYS = 3 * 365
OUTBOX = Notification._meta.db_table
TABLES = [
    "complaints_complaint",
    "complaints_complaintevent",
    "complaints_deadlinebreach",
    "complaints_searchtext",  # the search text of each complaint, kept by triggers
]
SCENARIOS = ("A", "B", "C", "D", "A_committed")
WINDOW = timedelta(minutes=10)  # scenarios A and C: how far the follow-up watermark goes back
REGION_WEIGHTS = {  # complaints per regency or city, roughly by population (thousands)
    "63.01": 35, "63.02": 33, "63.03": 58, "63.04": 32, "63.05": 19, "63.06": 23, "63.07": 27,
    "63.08": 24, "63.09": 25, "63.10": 35, "63.11": 13, "63.71": 66, "63.72": 27,
}  # fmt: skip
CATEGORY_WEIGHTS = {
    "jalan": 18, "sampah": 12, "drainase": 10, "air": 10, "adminduk": 10, "pju": 8,
    "kesehatan": 8, "pendidikan": 7, "ketertiban": 6, "lainnya": 6, "parkir": 5,
}  # fmt: skip


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def scalar(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


# --- Due times from the deadline module --------------------------------------------------------


def due_rules() -> dict[str, Callable[[datetime], datetime]]:
    """Each deadline the fill sets, by rule name, as the deadline module computes it."""
    rules = {
        f"completion:{value}": partial(deadlines.completion_due, classification=value)
        for value in Classification.values
    }
    rules["triage"] = deadlines.triage_due
    for days in set(Category.objects.values_list("follow_up_days", flat=True)):
        rules[f"follow_up:{days}"] = partial(deadlines.follow_up_due, days=days)
    return rules


def due_calendar(first: date, last: date) -> list[tuple]:
    """(WITA day, rule, days to add, keeps the time of day) for every day and rule.

    A due time depends only on the WITA day the clock starts: it is that day plus a number of
    days, at the same time of day, or at 00:00 when the start falls on a non-working day. One
    call per day and rule, at noon, tells which.
    """
    # The admin-added days, read once for the whole span instead of once per call.
    extra = deadlines._extra_days(first, last + timedelta(days=120))
    rows = []
    with mock.patch.object(
        deadlines, "_extra_days", lambda lo, hi: {d for d in extra if lo <= d <= hi}
    ):
        for rule, due in due_rules().items():
            day = first
            while day <= last:
                end = due(datetime.combine(day, NOON, WITA)).astimezone(WITA)
                rows.append((day, rule, (end.date() - day).days, end.time() == NOON))
                day += timedelta(days=1)
    return rows


def due_sql(alias: str, local_start: str) -> str:
    """SQL for the due time (timestamptz) of ``local_start`` (a WITA timestamp without time
    zone: WITA has no daylight saving, so local arithmetic is exact) via calendar row ``alias``."""
    return (
        f"((CASE WHEN {alias}.keeps_time THEN {local_start}"
        f" ELSE date_trunc('day', {local_start}) END"
        f" + {alias}.days * interval '1 day') AT TIME ZONE 'Asia/Makassar')"
    )


def due_join(alias: str, rule: str, local_start: str) -> str:
    return (
        f"LEFT JOIN bench_due {alias} ON {alias}.rule = {rule}"
        f" AND {alias}.day = {local_start}::date"
    )


# --- The fill ----------------------------------------------------------------------------------

# One chunk of complaints, ids %(lo)s..%(hi)s of %(n)s, as of %(now)s. Status by age: recent
# complaints mostly open, those older than a month mostly closed. Each ``OFFSET 0`` is a fence:
# random() draws once per row, and a layer's columns are computed once, not once per use above.
SELECT_COMPLAINTS = f"""
SELECT i, '{PREFIX}' || lpad(i::text, 10, '0'), classification,
    left('Laporan ' || lower(category_name) || ' di ' || region_name, 150),
    'Warga melaporkan ' || lower(category_name) || ' di ' || address || '. '
        || repeat('Masalah ini sudah lama dan mengganggu warga sekitar. ', (1 + i %% 4)::int),
    category_id, region_id, '', address,
    CASE WHEN r_geo < 0.4 THEN round((-3.8 + 1.5 * r_geo / 0.4)::numeric, 6) END,
    CASE WHEN r_geo < 0.4 THEN round((114.4 + 1.2 * r_chan)::numeric, 6) END,
    (created_at AT TIME ZONE 'Asia/Makassar')::date - floor(r_misc * 14)::int,
    (ARRAY['web', 'web', 'web', 'web', 'web', 'web', 'web', 'web', 'web', 'web', 'web',
           'open311', 'open311', 'open311', 'sms', 'social_media', 'social_media', 'phone',
           'walk_in', 'api'])[1 + floor(r_chan * 20)::int],
    r_flags < 0.10, r_flags >= 0.10 AND r_flags < 0.13, NULL, '', '', '', '', NULL, NULL,
    status, agency_id, assigned_at, follow_up_due_at, completion_due_at, first_follow_up_at,
    triage_due_at, resolved_at, reply_due_at,
    CASE WHEN status = 'closed' THEN
        CASE WHEN rating IS NOT NULL THEN resolved_at + r_misc * interval '10 days'
             ELSE reply_due_at END END,
    CASE WHEN kind = 'archived'
         THEN (ARRAY['spam', 'out_of_scope', 'too_general', 'duplicate'])
              [1 + floor(r_misc * 4)::int]
         ELSE '' END,
    CASE WHEN kind = 'archived' AND r_misc >= 0.75 AND i > 1
         THEN greatest(1, i - 1 - floor(r_rate * 500)::bigint) END,
    rating, '', created_at, greatest(created_at, assigned_at, first_follow_up_at, resolved_at)
FROM (
    SELECT e.*,
        CASE WHEN kind <> 'done' THEN kind
             WHEN reply_due_at > now THEN 'resolved' ELSE 'closed' END AS status,
        CASE WHEN kind = 'done' AND reply_due_at <= now AND r_rate < 0.35
             THEN 1 + floor(r_rate / 0.35 * 5)::int END AS rating
    FROM (
        SELECT d.*, resolved_at + {deadlines.REPLY_WINDOW_DAYS} * interval '1 day' AS reply_due_at
        FROM (
            SELECT c.*,
                CASE WHEN kind = 'done' THEN first_follow_up_at
                    + least((1 + 24 * r_resolve) * interval '1 day',
                            (now - first_follow_up_at) * 0.9) END AS resolved_at
            FROM (
                SELECT b.*,
                    {due_sql("fu", "b.assigned_local")} AS follow_up_due_at,
                    {due_sql("co", "b.assigned_local")} AS completion_due_at,
                    {due_sql("tr", "b.created_local")} AS triage_due_at,
                    CASE WHEN kind IN ('in_progress', 'done') THEN b.assigned_at
                        + least(b.follow_up_days * (0.05 + 1.25 * r_follow) * interval '1 day',
                                (now - b.assigned_at) * 0.9) END AS first_follow_up_at
                FROM (SELECT j.*, l.* FROM (
                    SELECT a.*, cat.follow_up_days, cat.name_id AS category_name,
                        reg.name AS region_name,
                        CASE WHEN a.kind IN ('assigned', 'in_progress', 'done')
                            THEN rr.agency_id END AS agency_id,
                        CASE WHEN a.kind IN ('assigned', 'in_progress', 'done')
                            THEN least((5 + 115 * a.r_assign) * interval '1 minute',
                                       (a.now - a.created_at) / 2) END AS assigned_after,
                        'Jl. ' || (ARRAY['A. Yani', 'Lambung Mangkurat', 'Pangeran Antasari',
                                         'Sultan Adam', 'Veteran', 'Gatot Subroto',
                                         'Panglima Batur', 'Trikora'])[1 + a.i %% 8]
                            || ' No. ' || (1 + a.i %% 250) AS address
                    FROM (
                        SELECT r.*,
                            now - interval '30 minutes' - age * interval '1 day' AS created_at,
                            (now - interval '30 minutes' - age * interval '1 day')
                                AT TIME ZONE 'Asia/Makassar' AS created_local,
                            (%(regions)s::bigint[])
                                [1 + floor(r_reg * cardinality(%(regions)s::bigint[]))::int]
                                AS region_id,
                            (%(categories)s::bigint[])
                                [1 + floor(r_cat * cardinality(%(categories)s::bigint[]))::int]
                                AS category_id,
                            CASE WHEN r_cls < 0.80 THEN 'pengaduan'
                                 WHEN r_cls < 0.92 THEN 'aspirasi'
                                 ELSE 'permintaan_informasi' END AS classification,
                            CASE
                                WHEN age < 3 THEN CASE WHEN r_kind < 0.08 THEN 'triage'
                                    WHEN r_kind < 0.63 THEN 'assigned'
                                    WHEN r_kind < 0.83 THEN 'in_progress'
                                    WHEN r_kind < 0.95 THEN 'done' ELSE 'archived' END
                                WHEN age < 30 THEN CASE WHEN r_kind < 0.01 THEN 'triage'
                                    WHEN r_kind < 0.06 THEN 'assigned'
                                    WHEN r_kind < 0.36 THEN 'in_progress'
                                    WHEN r_kind < 0.94 THEN 'done' ELSE 'archived' END
                                ELSE CASE WHEN r_kind < 0.002 THEN 'triage'
                                    WHEN r_kind < 0.015 THEN 'assigned'
                                    WHEN r_kind < 0.05 THEN 'in_progress'
                                    WHEN r_kind < 0.92 THEN 'done' ELSE 'archived' END
                            END AS kind
                        FROM (
                            SELECT i, %(now)s::timestamptz AS now,
                                %(span)s * power((%(n)s - i)::float8 / %(n)s, 1.25) AS age,
                                random() AS r_kind, random() AS r_cls, random() AS r_reg,
                                random() AS r_cat, random() AS r_assign, random() AS r_follow,
                                random() AS r_resolve, random() AS r_misc, random() AS r_geo,
                                random() AS r_chan, random() AS r_flags, random() AS r_rate
                            FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i
                            OFFSET 0
                        ) r
                        OFFSET 0
                    ) a
                    JOIN agencies_category cat ON cat.id = a.category_id
                    JOIN agencies_region reg ON reg.id = a.region_id
                    LEFT JOIN agencies_routingrule rr
                        ON rr.region_id = a.region_id AND rr.category_id = a.category_id
                ) j
                CROSS JOIN LATERAL (
                    SELECT j.created_at + j.assigned_after AS assigned_at,
                        j.created_local + j.assigned_after AS assigned_local
                ) l
                OFFSET 0
                ) b
                {due_join("fu", "'follow_up:' || b.follow_up_days", "b.assigned_local")}
                {due_join("co", "'completion:' || b.classification", "b.assigned_local")}
                {due_join("tr", "CASE WHEN b.kind = 'triage' THEN 'triage' END", "b.created_local")}
                OFFSET 0
            ) c
            OFFSET 0
        ) d
        OFFSET 0
    ) e
    OFFSET 0
) f
"""  # noqa: S608 - the interpolations are this module's own SQL fragments, values are bound

# When earlier sweeps (each two minutes after a deadline) recorded each breach and escalation,
# as of %(now)s: a follow-up or resolution before the deadline means no breach.
HISTORY = """
CREATE TEMPORARY TABLE bench_history ON COMMIT DROP AS
SELECT * FROM (
    SELECT id, assigned_agency_id, region_id, follow_up_due_at, completion_due_at, triage_due_at,
        CASE WHEN coalesce(first_follow_up_at, now) > follow_up_due_at
             THEN least(follow_up_due_at + interval '2 minutes',
                        coalesce(first_follow_up_at, now)) END AS follow_up_breached_at,
        CASE WHEN coalesce(first_follow_up_at, now) > follow_up_due_at + interval '3 days'
             THEN least(follow_up_due_at + interval '3 days 2 minutes',
                        coalesce(first_follow_up_at, now)) END AS province_escalated_at,
        CASE WHEN coalesce(resolved_at, now) > completion_due_at
             THEN least(completion_due_at + interval '2 minutes', coalesce(resolved_at, now))
        END AS completion_breached_at,
        CASE WHEN status = 'triage' AND now > triage_due_at
             THEN least(triage_due_at + interval '2 minutes', now) END AS triage_breached_at
    FROM complaints_complaint, (SELECT %(now)s::timestamptz AS now) n
) h
WHERE follow_up_breached_at IS NOT NULL OR completion_breached_at IS NOT NULL
    OR triage_breached_at IS NOT NULL
"""
SELECT_BREACHES = """
SELECT id, 'follow_up', follow_up_due_at, assigned_agency_id, region_id, follow_up_breached_at,
       province_escalated_at FROM bench_history WHERE follow_up_breached_at IS NOT NULL
UNION ALL
SELECT id, 'completion', completion_due_at, assigned_agency_id, region_id,
       completion_breached_at, NULL FROM bench_history WHERE completion_breached_at IS NOT NULL
UNION ALL
SELECT id, 'triage', triage_due_at, NULL::bigint, region_id, triage_breached_at, NULL
FROM bench_history WHERE triage_breached_at IS NOT NULL
"""
SELECT_EVENTS = """
SELECT id, 'submitted', NULL::integer, 'reporter', created_at, '', 'submitted', NULL::bigint,
       NULL::bigint, '', false, '{}'::jsonb FROM complaints_complaint
UNION ALL
SELECT id, 'routed', NULL, 'system', assigned_at, 'submitted', 'assigned', NULL,
       assigned_agency_id, '', false, jsonb_build_object('follow_up_due_at', follow_up_due_at,
                                                        'completion_due_at', completion_due_at)
FROM complaints_complaint WHERE assigned_at IS NOT NULL
UNION ALL
SELECT id, 'breach', NULL, 'system', follow_up_breached_at, '', '', assigned_agency_id, NULL, '',
       true, jsonb_build_object('deadline', 'follow_up', 'due_at', follow_up_due_at)
FROM bench_history WHERE follow_up_breached_at IS NOT NULL
UNION ALL
SELECT id, 'escalated', NULL, 'system', province_escalated_at, '', '', NULL, NULL, '', true,
       jsonb_build_object('to', 'province', 'due_at', follow_up_due_at)
FROM bench_history WHERE province_escalated_at IS NOT NULL
UNION ALL
SELECT id, 'breach', NULL, 'system', completion_breached_at, '', '', assigned_agency_id, NULL,
       '', true, jsonb_build_object('deadline', 'completion', 'due_at', completion_due_at)
FROM bench_history WHERE completion_breached_at IS NOT NULL
UNION ALL
SELECT id, 'breach', NULL, 'system', triage_breached_at, '', '', NULL, NULL, '', true,
       jsonb_build_object('deadline', 'triage', 'due_at', triage_due_at)
FROM bench_history WHERE triage_breached_at IS NOT NULL
"""


def weighted_ids(queryset, weights: dict) -> list[int]:
    return [pk for pk, code in queryset.values_list("pk", "code") for _ in range(weights[code])]


def fill(count: int, now: datetime) -> dict:
    """Replace the complaint tables' contents by ``count`` bench complaints as of ``now``."""
    regions = weighted_ids(
        Region.objects.filter(code__in=REGION_WEIGHTS).order_by("code"), REGION_WEIGHTS
    )
    categories = weighted_ids(
        Category.objects.filter(code__in=CATEGORY_WEIGHTS).order_by("pk"), CATEGORY_WEIGHTS
    )
    # Built from the models first: a column the fill does not know stops it before any work.
    fill_complaints, defaults = insert_select(Complaint, COMPLAINT_COLUMNS, SELECT_COMPLAINTS)
    insert_select(DeadlineBreach, BREACH_COLUMNS, SELECT_BREACHES)
    insert_select(ComplaintEvent, EVENT_COLUMNS, SELECT_EVENTS)
    timings, started = {}, time.perf_counter()
    first = (now - timedelta(days=SPAN_DAYS + 2)).astimezone(WITA).date()
    calendar = due_calendar(first, now.astimezone(WITA).date() + timedelta(days=1))
    timings["calendar_s"] = time.perf_counter() - started
    log(
        f"  {len(calendar):,} due-time rules from complaints.deadlines "
        f"({timings['calendar_s']:.1f} s)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # no deferred checks pending at CREATE INDEX
        cursor.execute(
            f"TRUNCATE complaints_complaint, complaints_complaintevent, complaints_deadlinebreach,"
            f" {OUTBOX}, complaints_assignment, complaints_attachment RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_due (day date, rule text, days int, keeps_time bool,"
            " PRIMARY KEY (rule, day)) ON COMMIT DROP"
        )
        execute_values(cursor, "INSERT INTO bench_due VALUES %s", calendar, page_size=5000)
        cursor.execute("ANALYZE bench_due")
        # Secondary indexes go for the load and come back from their own definitions.
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [TABLES],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SELECT setseed(0.4242)")
        chunk = 200_000
        for lo in range(1, count + 1, chunk):
            hi = min(count, lo + chunk - 1)
            params = {"lo": lo, "hi": hi, "n": count, "now": now, "span": SPAN_DAYS}
            cursor.execute(
                fill_complaints,
                {**params, **defaults, "regions": regions, "categories": categories},
            )
            log(f"  complaints {hi:>9,} / {count:,}  ({time.perf_counter() - started:5.1f} s)")
        timings["complaints_s"] = time.perf_counter() - started - timings["calendar_s"]
        mark = time.perf_counter()
        cursor.execute(HISTORY, {"now": now})
        cursor.execute(*insert_select(DeadlineBreach, BREACH_COLUMNS, SELECT_BREACHES))
        cursor.execute(*insert_select(ComplaintEvent, EVENT_COLUMNS, SELECT_EVENTS))
        timings["history_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        timings["indexes_s"] = time.perf_counter() - mark
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('complaints_complaint', 'id'), %s)", [count]
        )
        set_marks(steady_marks(now))
    timings["vacuum_analyze_s"] = vacuum()
    timings["total_s"] = time.perf_counter() - started
    log(f"  filled in {timings['total_s']:.1f} s")
    return {key: round(value, 1) for key, value in timings.items()}


def due_times_check(sample: int = 300) -> dict:
    """Recompute the due times of a random sample with the deadline module: they must agree."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.classification, cat.follow_up_days, c.assigned_at, c.follow_up_due_at,"
            " c.completion_due_at, c.created_at, c.triage_due_at FROM complaints_complaint c"
            " JOIN agencies_category cat ON cat.id = c.category_id"
            " WHERE c.assigned_at IS NOT NULL OR c.status = 'triage'"
            " ORDER BY random() LIMIT %s",
            [sample],
        )
        rows = cursor.fetchall()
    wrong = []
    for cls, days, assigned, follow_up, completion, created, triage in rows:
        if assigned is not None:
            if deadlines.follow_up_due(assigned, days=days) != follow_up:
                wrong.append(("follow_up", assigned, follow_up))
            if deadlines.completion_due(assigned, classification=cls) != completion:
                wrong.append(("completion", assigned, completion))
        elif deadlines.triage_due(created) != triage:
            wrong.append(("triage", created, triage))
    return {"checked": len(rows), "disagree": len(wrong), "examples": wrong[:3]}


# --- Database, staff, watermarks ---------------------------------------------------------------


def ensure_database() -> str:
    """Create the configured PostgreSQL database if it does not exist; returns its name."""
    config = settings.DATABASES["default"]
    if "postgresql" not in config["ENGINE"]:
        sys.exit("bench/deadlines.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    params = {
        "dbname": "postgres",
        "user": config.get("USER"),
        "password": config.get("PASSWORD"),
        "host": config.get("HOST"),
        "port": config.get("PORT"),
    }
    conn = psycopg2.connect(connect_timeout=5, **{k: v for k, v in params.items() if v})
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(
                    pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(config["NAME"]))
                )
                log(f"created database {config['NAME']}")
    finally:
        conn.close()
    return config["NAME"]


def refuse_foreign_data() -> None:
    """The fill truncates the complaint tables: never on a database with real complaints."""
    if scalar(
        "SELECT EXISTS (SELECT 1 FROM complaints_complaint WHERE tracking_code NOT LIKE %s)",
        [PREFIX + "%"],
    ):
        sys.exit(
            "DATABASE_URL points at a database with complaints that are not the benchmark's; "
            f"the benchmark needs its own database, e.g. {DEFAULT_DATABASE_URL}."
        )


def vacuum() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in [*TABLES, OUTBOX]:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


def ensure_staff() -> None:
    """An officer per agency, a coordinator per regency/city and a provincial staff member,
    and an address per agency, so that the digests have recipients."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    users = get_user_model().objects
    if users.filter(username__startswith="bench-").exists():
        return
    password = make_password(None)
    with transaction.atomic():
        for agency in Agency.objects.select_related("region"):
            if not agency.email:
                agency.email = f"{agency.code}.{agency.region.code}@bench.lapor.test"
                agency.save(update_fields=["email"])
            user = users.create(
                username=f"bench-officer-{agency.pk}",
                email=f"officer{agency.pk}@bench.lapor.test",
                password=password,
            )
            StaffMembership.objects.create(user=user, role=StaffRole.AGENCY_OFFICER, agency=agency)
        for region in Region.objects.exclude(kind="province"):
            user = users.create(
                username=f"bench-coord-{region.code}",
                email=f"coord{region.code}@bench.lapor.test",
                password=password,
            )
            StaffMembership.objects.create(
                user=user, role=StaffRole.REGION_COORDINATOR, region=region
            )
        user = users.create(
            username="bench-province", email="prov@bench.lapor.test", password=password
        )
        StaffMembership.objects.create(user=user, role=StaffRole.PROVINCE_STAFF)


def steady_marks(now: datetime) -> dict[str, tuple[datetime, int]]:
    """The watermarks a sweep at ``now`` leaves: each step's boundary, every id handled."""
    return {name: (step.boundary(now), ALL_IDS) for name, step in STEPS.items()}


def set_marks(marks: dict[str, tuple[datetime, int]]) -> None:
    with transaction.atomic():
        SweepMark.objects.all().delete()
        SweepMark.objects.bulk_create(
            SweepMark(step=step, until=until, last_id=last_id)
            for step, (until, last_id) in marks.items()
        )


def bench_count() -> int:
    return scalar("SELECT count(*) FROM complaints_complaint")


def anchor() -> datetime:
    """The data's "now": 30 minutes after the newest bench complaint."""
    return scalar("SELECT max(created_at) FROM complaints_complaint") + timedelta(minutes=30)


# --- Scenarios ---------------------------------------------------------------------------------


class Rollback(Exception):
    pass


def in_rollback(function):
    """``function()`` in a transaction that is always rolled back (the sweep's own transactions
    become savepoints, and no on_commit hand-over to the broker runs)."""
    result = []
    try:
        with transaction.atomic():
            result.append(function())
            raise Rollback
    except Rollback:
        pass
    return result[0]


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (Linux), so that ru_maxrss is this run's peak."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def timed_sweep(now: datetime, *, memory: bool = False) -> dict:
    """One sweep: wall time, what it returned, and (``memory``) its peak memory."""
    if memory:
        reset_peak_rss()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
    statements = []

    def count(execute, query, params, many, context):
        started = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            statements.append((query, params, time.perf_counter() - started))

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        result = deadlines_sweep(now=now)
    figures = {
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "sql_ms": round(sum(s for _q, _p, s in statements) * 1000, 1),
        "statements": len(statements),
        "returned": {k: v for k, v in vars(result).items() if v},
        "_statements": statements,
    }
    if memory:
        figures["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        figures["max_rss_growth_mib"] = round(growth / 1024, 1)
    return figures


# Old backlog complaints, long breached: the candidates made newly past due.
TARGETS = """
SELECT min(id), max(id), count(*) FROM (
    SELECT id FROM complaints_complaint
    WHERE status = 'assigned' AND follow_up_due_at < %(old)s ORDER BY id LIMIT %(k)s
) t
"""
TARGET_WHERE = "status = 'assigned' AND follow_up_due_at < %(old)s AND id BETWEEN %(lo)s AND %(hi)s"
# As if re-routed one follow-up period ago and never followed up since: due times spread over
# the eight minutes up to %(due)s; the follow-up watermark goes back to %(start)s.
MAKE_PAST_DUE = [
    f"""UPDATE complaints_complaint SET
        follow_up_due_at = %(due)s - ((id - %(lo)s) %% 481) * interval '1 second',
        assigned_at = %(due)s - ((id - %(lo)s) %% 481) * interval '1 second'
            - (SELECT follow_up_days FROM agencies_category WHERE id = category_id)
              * interval '1 day',
        updated_at = %(due)s - interval '3 days'
    WHERE {TARGET_WHERE}""",  # noqa: S608 - module constants; values are bound
    "UPDATE complaints_sweepmark SET until = %(start)s, last_id = %(all_ids)s"
    " WHERE step = 'follow_up'",
]
SAVE = [
    "CREATE TABLE bench_saved_complaints AS SELECT id, assigned_at, follow_up_due_at, "  # noqa: S608
    "updated_at FROM complaints_complaint WHERE " + TARGET_WHERE,
    "CREATE TABLE bench_saved_marks AS SELECT * FROM complaints_sweepmark",
]
UNDO = [
    f"DELETE FROM {OUTBOX} WHERE created_at >= %(wall)s",  # noqa: S608 - a table name
    "DELETE FROM complaints_deadlinebreach WHERE recorded_at = %(now)s"
    " AND complaint_id IN (SELECT id FROM bench_saved_complaints)",
    "DELETE FROM complaints_complaintevent WHERE created_at = %(now)s"
    " AND complaint_id IN (SELECT id FROM bench_saved_complaints)",
    "UPDATE complaints_complaint c SET assigned_at = s.assigned_at,"
    " follow_up_due_at = s.follow_up_due_at, updated_at = s.updated_at"
    " FROM bench_saved_complaints s WHERE s.id = c.id",
    "DELETE FROM complaints_sweepmark",
    "INSERT INTO complaints_sweepmark SELECT * FROM bench_saved_marks",
    "DROP TABLE bench_saved_complaints, bench_saved_marks",
]
# What must be as it was after every scenario.
SIGNATURE = f"""
SELECT (SELECT count(*) FROM complaints_deadlinebreach),
    (SELECT count(*) FROM complaints_complaintevent),
    (SELECT count(*) FROM {OUTBOX}),
    (SELECT md5(string_agg(concat_ws('|', id, assigned_at, follow_up_due_at, updated_at), ','
                           ORDER BY id)) FROM complaints_complaint WHERE id BETWEEN %s AND %s),
    (SELECT string_agg(concat_ws('|', step, until, last_id), ',' ORDER BY step)
     FROM complaints_sweepmark)
"""  # noqa: S608 - a model's table name


def targets(now: datetime, k: int) -> dict:
    old = now - timedelta(days=4)
    with connection.cursor() as cursor:
        cursor.execute(TARGETS, {"old": old, "k": k})
        lo, hi, found = cursor.fetchone()
    due = now - timedelta(minutes=1)
    return {
        "lo": lo,
        "hi": hi,
        "count": found,
        "old": old,
        "due": due,
        "start": now - WINDOW,
        "all_ids": ALL_IDS,
    }


def make_past_due(target: dict) -> None:
    with connection.cursor() as cursor:
        for statement in MAKE_PAST_DUE:
            cursor.execute(statement, target)


def signature(target: dict) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(SIGNATURE, [target["lo"], target["hi"]])
        return tuple(cursor.fetchone())


def explain(statements: list, setup) -> str:
    """The EXPLAIN (ANALYZE, BUFFERS) plan of the first range read over complaints."""
    query, params = next(
        (q, p) for q, p, _s in statements if q.startswith('SELECT "complaints_complaint"')
    )

    def plan():
        setup()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
            return "\n".join(line for (line,) in cursor.fetchall())

    return in_rollback(plan)


def past_due_scenario(now: datetime, k: int, runs: int, *, plan: bool = False) -> dict:
    """``k`` complaints newly past due: ``runs`` timed sweeps and a repeat, each rolled back."""
    target = targets(now, k)
    before = signature(target)
    timed, repeats = [], []
    for run in range(runs):

        def scenario(first_run=run == 0):
            make_past_due(target)
            return timed_sweep(now, memory=first_run), timed_sweep(now)

        first, repeat = in_rollback(scenario)
        timed.append(first)
        repeats.append(repeat)
        log(f"  run {run + 1}: {first['ms']:8.1f} ms, repeat {repeat['ms']:6.1f} ms")
    figures = {
        "newly_past_due": target["count"],
        "runs_ms": [run["ms"] for run in timed],
        "median_ms": statistics.median(run["ms"] for run in timed),
        "sql_ms": timed[0]["sql_ms"],
        "statements": timed[0]["statements"],
        "returned": timed[0]["returned"],
        "tracemalloc_peak_mib": timed[0]["tracemalloc_peak_mib"],
        "max_rss_growth_mib": timed[0]["max_rss_growth_mib"],
        "repeat_ms": [run["ms"] for run in repeats],
        "repeat_returned": repeats[0]["returned"],
        "restored": signature(target) == before,
    }
    if plan:
        figures["plan"] = explain(timed[0]["_statements"], lambda: make_past_due(target))
    return figures


def close_scenario(now: datetime, runs: int) -> dict:
    """Auto-close (``complaints_close_expired``) ten days on, when every complaint resolved by
    now is past its reply window: set-based, one event each; rolled back."""
    later = now + timedelta(days=deadlines.REPLY_WINDOW_DAYS, minutes=1)
    seconds, closed = [], 0
    for _ in range(runs):

        def close():
            started = time.perf_counter()
            count = complaints_close_expired(now=later)
            return count, round((time.perf_counter() - started) * 1000, 1)

        closed, ms = in_rollback(close)
        seconds.append(ms)
    return {"closed": closed, "runs_ms": seconds, "median_ms": statistics.median(seconds)}


def idle_scenario(now: datetime, runs: int = 5) -> dict:
    seconds = [in_rollback(lambda: timed_sweep(now))["ms"] for _ in range(runs)]
    return {"runs_ms": seconds, "median_ms": statistics.median(seconds), "target_ms": 100}


def committed_scenario(now: datetime, k: int) -> dict:
    """Scenario A with real commits and the hand-over to the broker; then undone by SQL."""
    target = targets(now, k)
    before = signature(target)
    queue = RESULTS_DIR / "var" / "broker" / "queue"
    queued_before = set(queue.iterdir()) if queue.exists() else set()
    wall = datetime.now(UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in SAVE:
            cursor.execute(statement, target)
        make_past_due(target)
    try:
        run = timed_sweep(now)
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in UNDO:
                cursor.execute(statement, {"now": now, "wall": wall})
        queued = (set(queue.iterdir()) if queue.exists() else set()) - queued_before
        for path in queued:
            path.unlink(missing_ok=True)
    vacuum()
    run.pop("_statements")
    return {**run, "broker_messages": len(queued), "restored": signature(target) == before}


# --- Main --------------------------------------------------------------------------------------


def summary() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM complaints_complaint GROUP BY 1 ORDER BY 2 DESC"
        )
        statuses = dict(cursor.fetchall())
        cursor.execute("SELECT kind, count(*) FROM complaints_deadlinebreach GROUP BY 1")
        breaches = dict(cursor.fetchall())
    return {
        "complaints": sum(statuses.values()),
        "statuses": statuses,
        "breach_rows": breaches,
        "events": scalar("SELECT count(*) FROM complaints_complaintevent"),
        "complaint_table": scalar(
            "SELECT pg_size_pretty(pg_total_relation_size('complaints_complaint'))"
        ),
    }


def print_report(report: dict) -> None:
    data, fill_info, s = report["data"], report["fill"], report["scenarios"]
    print(f"\ndeadlines_sweep on {data['complaints']:,} complaints, now = {report['now']}")
    print("  data     " + ", ".join(f"{k} {v:,}" for k, v in data["statuses"].items()))
    print(
        f"           {sum(data['breach_rows'].values()):,} breach rows, {data['events']:,} "
        f"events; complaint table with indexes {data['complaint_table']}"
    )
    if fill_info:
        print(
            f"  fill     {fill_info['total_s']:.0f} s (due-time calendar "
            f"{fill_info['calendar_s']:.1f} s, complaints {fill_info['complaints_s']:.0f} s, "
            f"history {fill_info['history_s']:.0f} s, indexes {fill_info['indexes_s']:.0f} s, "
            f"VACUUM {fill_info['vacuum_analyze_s']:.0f} s)"
        )
    check = report["due_times"]
    print(
        f"  due times of {check['checked']} sampled complaints recomputed with "
        f"complaints.deadlines: {check['disagree']} disagree"
    )
    for name in ("A", "C"):
        if name not in s:
            continue
        run = s[name]
        print(
            f"\n{name}  {run['newly_past_due']:,} newly past due: median {run['median_ms']:,.0f} ms"
            f" (runs {' / '.join(f'{ms:,.0f}' for ms in run['runs_ms'])} ms; SQL "
            f"{run['sql_ms']:,.0f} ms in {run['statements']} statements)"
        )
        print(f"   returned {run['returned']}")
        print(
            f"   repeat sweep {' / '.join(f'{ms:.1f}' for ms in run['repeat_ms'])} ms, returned "
            f"{run['repeat_returned'] or 'nothing'}; peak memory: tracemalloc "
            f"{run['tracemalloc_peak_mib']} MiB, max-RSS growth {run['max_rss_growth_mib']} MiB"
        )
    if "B" in s:
        b = s["B"]
        print(
            f"\nB  nothing newly past due: median {b['median_ms']:.1f} ms (target under "
            f"{b['target_ms']} ms; runs {' / '.join(f'{ms:.1f}' for ms in b['runs_ms'])})"
        )
    if "D" in s:
        d = s["D"]
        print(
            f"\nD  auto-close ten days on: {d['closed']:,} complaints closed, median "
            f"{d['median_ms']:,.0f} ms (runs {' / '.join(f'{ms:,.0f}' for ms in d['runs_ms'])} ms)"
        )
    if "A_committed" in s:
        c = s["A_committed"]
        print(
            f"\nA committed: {c['ms']:,.0f} ms, {c['broker_messages']} notifications handed to "
            f"the broker, returned {c['returned']}"
        )
    if "A" in s:
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of scenario A's range read:\n{s['A'].pop('plan')}")
    restored = all(run.get("restored", True) for run in s.values())
    print(f"\ndatabase {'restored' if restored else 'NOT RESTORED'}; figures in {report['output']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--complaints",
        "--count",
        "--rows",
        dest="count",
        type=int,
        default=int(os.environ.get("BENCH_COMPLAINTS") or 1_000_000),
        help="complaints to fill (default: $BENCH_COMPLAINTS or 1,000,000)",
    )
    parser.add_argument("--refill", action="store_true", help="fill the database again")
    parser.add_argument("--breaches", type=int, default=10_000, help="scenario A size")
    parser.add_argument("--growth", type=int, default=1_000, help="scenario C size")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of scenarios A and C")
    parser.add_argument("--no-commit-run", action="store_true", help="skip the committed run")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"the scenarios to run, comma-separated (default: all, {','.join(SCENARIOS)}; "
        "A_committed is the committed run)",
    )
    parser.add_argument("--output", default=str(RESULTS_DIR / "deadlines.json"))
    args = parser.parse_args()

    database = ensure_database()
    call_command("migrate", verbosity=0)
    refuse_foreign_data()
    ensure_staff()
    fill_info = None
    if args.refill or bench_count() != args.count:
        log(f"filling {args.count:,} complaints ...")
        fill_info = fill(args.count, datetime.now(UTC).replace(second=0, microsecond=0))
    now = anchor()
    if {m.step: (m.until, m.last_id) for m in SweepMark.objects.all()} != steady_marks(now):
        sys.exit("the sweep watermarks are not in their steady state; run with --refill")
    steady = in_rollback(lambda: deadlines_sweep(now=now))
    if steady.total or steady.notifications:
        sys.exit(f"a sweep at {now.isoformat()} would find {steady}; run with --refill")

    due_times = due_times_check()
    if due_times["disagree"]:
        log(
            f"WARNING: {due_times['disagree']} of {due_times['checked']} sampled due times differ "
            "from complaints.deadlines (a fill by an older version?): run with --refill"
        )
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if only - set(SCENARIOS):
        parser.error(f"unknown scenarios {', '.join(sorted(only - set(SCENARIOS)))}")
    scenarios = {}
    if "A" in only:
        log(f"scenario A: {args.breaches:,} newly past due ...")
        scenarios["A"] = past_due_scenario(now, args.breaches, args.runs, plan=True)
        vacuum()
    if "B" in only:
        log("scenario B: nothing newly past due ...")
        scenarios["B"] = idle_scenario(now)
    if "D" in only:
        log("scenario D: auto-close ten days on ...")
        scenarios["D"] = close_scenario(now, args.runs)
    if "C" in only:
        log(f"scenario C: {args.growth:,} newly past due ...")
        scenarios["C"] = past_due_scenario(now, args.growth, args.runs)
    if "A_committed" in only and not args.no_commit_run:
        log("scenario A, committed ...")
        scenarios["A_committed"] = committed_scenario(now, args.breaches)

    report = {
        "benchmark": "complaints.enforcement.deadlines_sweep",
        "generated_at": datetime.now(UTC).isoformat(),
        "now": now.isoformat(),
        "environment": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "postgresql": scalar("SHOW server_version"),
            "cpus": os.cpu_count(),
            "database": database,
            "sweep_batch": BATCH,
        },
        "fill": fill_info,
        "due_times": due_times,
        "data": summary(),
        "scenarios": scenarios,
        "output": args.output,
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report)


if __name__ == "__main__":
    main()
