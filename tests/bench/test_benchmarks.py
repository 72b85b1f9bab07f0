"""Every benchmark runs once on a small fill, so that a change that breaks one fails CI.

Asserts only that each runs and reports its figures (no timing: speed is for the benchmarks
themselves). The million-complaint runs stay ``make bench``. Needs PostgreSQL: the fill is
PostgreSQL SQL. The databases are ``<DATABASE_URL's name>_test_bench``, ``..._test_bench_awards``
and ``..._test_bench_retention``, dropped at the start and the end: never the names the
``make bench`` targets fill (``lapor_bench``, ``lapor_bench_awards``), which a run of the suite
with ``DATABASE_URL=.../lapor`` used to drop, a million complaints with them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]
COMPLAINTS = 5_000
URL = os.environ.get("DATABASE_URL", "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not URL.startswith("postgres"), reason="the fill needs PostgreSQL"),
]


def drop(url: str) -> None:
    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        conn.close()


def run(script: str, *args: str, env: dict | None = None, timeout: int = 240) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done.stdout


def create(url: str) -> None:
    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


@pytest.fixture
def bench_databases(tmp_path):
    base = URL.split("?", 1)[0]
    urls = {
        "main": f"{base}_test_bench",
        "awards": f"{base}_test_bench_awards",
        "retention": f"{base}_test_bench_retention",
    }
    for url in urls.values():
        drop(url)
    yield urls
    for url in urls.values():
        drop(url)


def test_every_benchmark_runs_on_a_small_fill(bench_databases, tmp_path):
    main, awards = bench_databases["main"], bench_databases["awards"]

    # Fill, the sweep's scenarios (A, B, C), auto-close (D) and the committed run.
    out = run(
        "deadlines.py",
        *("--complaints", str(COMPLAINTS), "--runs", "1", "--breaches", "200", "--growth", "50"),
        env={"DATABASE_URL": main},
    )
    assert f"deadlines_sweep on {COMPLAINTS:,} complaints" in out
    for figure in ("\nA  ", "\nB  nothing newly past due", "\nC  ", "\nD  auto-close"):
        assert figure in out
    assert "0 disagree" in out and "database restored" in out

    # The ranking, on a copy of that fill.
    out = run(
        "awards.py",
        *("--template", main.rsplit("/", 1)[1], "--repeat", "1"),
        env={"DATABASE_URL": awards},
    )
    for name in ("indicators_regency", "indicators_agency", "ranking_regency", "ranking_agency"):
        assert name in out
    assert "EXPLAIN (ANALYZE, BUFFERS) of the regency aggregate" in out

    # Mail: a few emails through a real worker on the file-system broker.
    out = run("mail.py", "--count", "20", "--no-smtp", "--brokers", "filesystem")
    assert "file system  SQLite      file  |" in out and "not all" not in out

    # Retention: a small year's worth of closed complaints anonymised at once, then nothing.
    create(bench_databases["retention"])
    out = run(
        "retention.py",
        *("--count", "200"),
        env={"DATABASE_URL": bench_databases["retention"], "DEBUG": "1"},
    )
    assert "anonymised 200 in" in out and "second run: 0 in" in out

    # Pages: every page once beside the bare view, through gunicorn (last: it adds complaints).
    output = tmp_path / "pages.json"
    out = run(
        "pages.py",
        *("--database-url", main, "--clients", "1", "--requests", "1"),
        *("--output", str(output)),
        timeout=300,
    )
    report = json.loads(output.read_text())
    assert {"bare_before", "bare_after", "home", "API list", "POST /complaints/new/"} <= set(
        report["pages"]
    )
    broken = {
        name: f["1"]["error_statuses"] for name, f in report["pages"].items() if f["1"]["errors"]
    }
    assert not broken
    for family in ("map data, town (markers)", "open data CSV (regency 30 days)", "officer queue"):
        assert family in report["pages"]
    submissions = report["submissions"]
    assert submissions["answered_stored"] == submissions["in_database"] > 0
    assert "| bare_before |" in out and output.with_suffix(".md").exists()
