"""Benchmark of retention (``complaints.services.complaints_anonymise_due``) on PostgreSQL.

Reports figures, asserts nothing. On a database of your own (it is migrated and filled)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lapor_bench_retention DEBUG=1 \\
        .venv/bin/python bench/retention.py --count 100000

The fill copies one real complaint (submitted, followed up with a note naming the reporter,
resolved, closed, with its emails) ``--count`` times in set-based SQL, each closed 400 days before
"now", with three events and one email to the reporter: a year's worth all due at once, the worst
case after first deploying retention. Then one run of ``complaints_anonymise_due`` (timed) and a
second one (must find nothing). The issue asks for 1,000,000; that takes hours of fill on a
shared 2-core machine, so run it where the machine is yours.
"""

import argparse
import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402


def fill(count: int, now) -> int:
    from complaints.models import Complaint
    from complaints.services import complaint_transition, complaints_close_expired
    from complaints.workflow import Action, Role
    from tests.factories import complaint_submitted, province_staff

    staff = province_staff(username=f"bench.prov.{int(time.time())}")
    start = now - timedelta(days=420)
    seed = complaint_submitted(now=start).complaint
    complaint_transition(
        complaint=seed,
        action=Action.RESOLVE,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        note="Sudah ditelepon Siti Aminah",
        now=start + timedelta(days=1),
    )
    complaints_close_expired(now=start + timedelta(days=20))
    Complaint.objects.filter(pk=seed.pk).update(closed_at=now - timedelta(days=400))
    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       "WHERE table_name='complaints_complaint' AND column_name NOT IN "
                       "('id','tracking_code','idempotency_key')")  # fmt: skip
        cols = [r[0] for r in cursor.fetchall()]
        # Column names come from information_schema, not from anyone's input.
        copy = (
            f"INSERT INTO complaints_complaint (tracking_code, {', '.join(cols)}) "  # noqa: S608
            f"SELECT 'B' || lpad(g::text, 12, '0'), {', '.join(cols)} "
            "FROM complaints_complaint, generate_series(1, %s) g WHERE id = %s"
        )
        cursor.execute(copy, [count - 1, seed.pk])
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       "WHERE table_name='complaints_complaintevent' AND column_name NOT IN "
                       "('id','complaint_id')")  # fmt: skip
        ecols = ", ".join(r[0] for r in cursor.fetchall())
        copy = (
            f"INSERT INTO complaints_complaintevent (complaint_id, {ecols}) "  # noqa: S608
            f"SELECT c.id, {', '.join('e.' + x.strip() for x in ecols.split(','))} "
            "FROM complaints_complaint c, complaints_complaintevent e "
            "WHERE c.tracking_code LIKE 'B%%' AND e.complaint_id = %s"
        )
        cursor.execute(copy, [seed.pk])
        # The outbox rows follow the model (bench/fill.py): a new NOT NULL column gets its
        # default, or stops the fill naming it.
        from fill import insert_select

        from notifications.models import Notification

        sql, params = insert_select(
            Notification,
            ["dedupe_key", "complaint_id", "recipient", "subject", "body", "status", "attempts",
             "created_at"],
            "SELECT 'bench:' || c.id, c.id, c.reporter_email, 's', 'Halo Siti Aminah', 'sent', 1, "
            "%(created_at)s FROM complaints_complaint c WHERE c.tracking_code LIKE 'B%%'",
        )  # fmt: skip
        cursor.execute(sql, {**params, "created_at": now - timedelta(days=400)})
        cursor.execute("ANALYZE")
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from complaints.services import complaints_anonymise_due

    now = timezone.now()
    t = time.perf_counter()
    fill(args.count, now)
    print(f"fill: {args.count} closed complaints in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    done = complaints_anonymise_due(now=now)
    first = time.perf_counter() - t
    print(f"anonymised {done} in {first:.1f} s ({done / first:.0f} complaints/s)")
    t = time.perf_counter()
    again = complaints_anonymise_due(now=now)
    print(f"second run: {again} in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
