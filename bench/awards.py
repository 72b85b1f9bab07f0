"""Benchmark of the annual ranking (``awards``) on the 1,000,000-complaint PostgreSQL data set.

Reports figures, asserts nothing. Run it with ``make bench-awards`` or directly::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lapor_bench_awards \\
        .venv/bin/python bench/awards.py [--year 2025] [--repeat 3]

What it does:

1. Uses its own copy of the deadline benchmark's data: when the database is missing it is created
   with ``CREATE DATABASE ... TEMPLATE lapor_bench`` (retried while someone is connected to the
   template; fill that first with ``make bench-deadlines``), then migrated. The deadline
   benchmark's database itself is never touched.
2. For one year (default: the last complete year of the data, about 310,000 complaints) it times
   the indicators per regency and per agency (``awards.indicators.indicator_sets``) and the whole
   ranking computation (``awards.services.ranking_compute``: indicators, scoring, and writing the
   draft's rows and values) at both levels, each ``--repeat`` times (median reported), and
   counts their SQL statements. Each computation runs in a transaction that is rolled back, so
   the database is left as it was.
   Because the shared machine is often busy, it also measures each one's CPU time without
   parallel workers (the PostgreSQL backend's, from ``/proc``, plus Python's): a figure that
   does not grow with other programs' load.
3. Prints the ``EXPLAIN (ANALYZE, BUFFERS)`` plan of the regency aggregate.

The figures go to stdout and to ``bench-results/awards.json``, with the machine's load average:
the shared development machine is often busy, which slows every figure down.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lapor_bench_awards"
TEMPLATE = os.environ.get("AWARDS_BENCH_TEMPLATE", "lapor_bench")  # --template
RESULTS_DIR = ROOT / "bench-results"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["CELERY_BROKER_URL"] = "filesystem://"
os.environ["LAPOR_VAR_DIR"] = str(RESULTS_DIR / "var")

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg2 import sql as pgsql  # noqa: E402

from awards.indicators import _without_jit, counted, indicator_sets, year_bounds  # noqa: E402
from awards.models import Level  # noqa: E402
from awards.services import ranking_compute  # noqa: E402
from complaints.models import Complaint  # noqa: E402


class Rollback(Exception):
    pass


def ensure_database(template: str = TEMPLATE) -> None:
    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    name = db["NAME"]
    if name == template:
        sys.exit(f"Refusing to run on {template}, the deadline benchmark's own database.")
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return
            for attempt in range(20):
                try:
                    cursor.execute(
                        pgsql.SQL("CREATE DATABASE {} template {}").format(
                            pgsql.Identifier(name), pgsql.Identifier(template)
                        )
                    )
                    print(f"created {name} from {template}")
                    return
                except psycopg2.errors.ObjectInUse:
                    print(f"{template} is in use; retrying ({attempt + 1}/20)")
                    time.sleep(15)
                except psycopg2.errors.InvalidCatalogName:
                    sys.exit(f"{template} does not exist: run `make bench-deadlines` first.")
            sys.exit(f"{template} stayed in use; try again later.")
    finally:
        admin.close()


def timed(fn, repeat: int):
    """(median seconds, SQL statements of the last run, its result) of ``fn`` in a transaction
    that is rolled back each time."""
    times, queries, value = [], 0, None
    for _ in range(repeat):
        try:
            with transaction.atomic():
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    value = fn()
                    times.append(time.perf_counter() - started)
                queries = len(captured)
                selects = sum(
                    1 for q in captured if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
                )
                raise Rollback
        except Rollback:
            pass
    return statistics.median(times), queries, selects, times, value


def backend_cpu_seconds() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_cost(fn) -> dict | None:
    """CPU seconds of one run without parallel workers: the database backend's and Python's.
    Unlike wall-clock time, this does not grow when other programs share the machine."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            db_before, py_before = backend_cpu_seconds(), time.process_time()
            fn()
            db_after, py_after = backend_cpu_seconds(), time.process_time()
            raise Rollback
    except Rollback:
        pass
    if db_before is None:
        return None
    return {
        "database_cpu_seconds": round(db_after - db_before, 3),
        "python_cpu_seconds": round(py_after - py_before, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, help="default: the last complete year of the data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--template", default=TEMPLATE, help="the filled database to copy (default lapor_bench)"
    )
    args = parser.parse_args()

    ensure_database(args.template)
    call_command("migrate", verbosity=0)
    settings.DEBUG = False
    newest = Complaint.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    if newest is None:
        sys.exit("The database holds no complaints: run `make bench-deadlines` first.")
    year = args.year or timezone.localtime(newest).year - 1
    start, end = year_bounds(year)
    now = max(timezone.now(), end + timedelta(days=1))
    complaints_in_year = counted(start=start, end=end).count()
    print(f"year {year}: {complaints_in_year:,} complaints counted")

    figures = {
        "year": year,
        "complaints_counted": complaints_in_year,
        "complaints_total": Complaint.objects.count(),
        "repeat": args.repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": os.getloadavg(),
            "python": platform.python_version(),
        },
        "runs": {},
    }
    scenarios = [
        (
            "indicators_regency",
            lambda: indicator_sets(group_by="region", start=start, end=end),
        ),
        (
            "indicators_agency",
            lambda: indicator_sets(group_by="agency", start=start, end=end),
        ),
        (
            "ranking_regency",
            lambda: ranking_compute(year=year, level=Level.REGENCY, now=now).rows.count(),
        ),
        (
            "ranking_agency",
            lambda: ranking_compute(year=year, level=Level.AGENCY, now=now).rows.count(),
        ),
    ]
    for name, fn in scenarios:
        median, queries, selects, times, value = timed(fn, args.repeat)
        groups = len(value) if isinstance(value, dict) else value
        cpu = cpu_cost(fn)
        figures["runs"][name] = {
            "cpu_one_process": cpu,
            "median_seconds": round(median, 3),
            "all_seconds": [round(t, 3) for t in times],
            "sql_statements": queries,
            "selects": selects,
            "groups": groups,
        }
        print(
            f"{name:20} median {median * 1000:7.0f} ms  runs "
            f"{', '.join(f'{t * 1000:.0f}' for t in times)} ms  "
            f"{queries} SQL statements ({selects} SELECT)  {groups} groups"
        )
        if cpu:
            print(
                f"{'':20} CPU without parallel workers: database "
                f"{cpu['database_cpu_seconds'] * 1000:.0f} ms + Python "
                f"{cpu['python_cpu_seconds'] * 1000:.0f} ms"
            )
    figures["machine"]["load_average_after"] = os.getloadavg()

    # The plan of the regency aggregate, as Django sends it.
    qs_sql = None
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        indicator_sets(group_by="region", start=start, end=end)
    for q in captured:
        if q["sql"].lstrip().upper().startswith("SELECT"):
            qs_sql = q["sql"]
    if qs_sql:
        # With the settings the computation runs under (``_without_jit``): without its memory
        # the breach hashes do not fit, and PostgreSQL probes a list once per complaint (the
        # plan then runs for many minutes).
        with transaction.atomic(), connection.cursor() as cursor:
            _without_jit(connection.alias)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + qs_sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the regency aggregate:\n" + plan)
        figures["regency_plan"] = plan

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "awards.json").write_text(json.dumps(figures, indent=2, default=str))
    print(
        f"\nload average {figures['machine']['load_average_before']} before, "
        f"{figures['machine']['load_average_after']} after, on {os.cpu_count()} CPUs"
    )
    print(f"figures in {RESULTS_DIR / 'awards.json'}")


if __name__ == "__main__":
    main()
