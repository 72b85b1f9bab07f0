"""The load test (bench/load.py, ``make load``) in short: 15 s of submissions and page reads
through two web processes, two Celery workers and beat, then the deadline sweep days later with
two beats. Asserts the counts only (accepted = stored = routed, nothing twice, nothing lost, each
breach and each email once), never a timing. Its database is ``<DATABASE_URL's name>_load``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("DATABASE_URL", "")
BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not URL.startswith("postgres"), reason="the load test needs PostgreSQL"),
    pytest.mark.skipif(not BROKER.startswith("redis"), reason="the workers share a Redis broker"),
]


def test_a_short_load_run_loses_nothing_and_does_nothing_twice(tmp_path):
    output = tmp_path / "load.json"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--seconds",
            "15",
            "--rate",
            "4",
            "--readers",
            "1",
            "--output",
            str(output),
        ],  # fmt: skip
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    report = json.loads(output.read_text())
    assert report["disagree"] == 0
    found = {row["what"]: row["found"] for row in report["counts"]}
    accepted = found["submissions accepted (HTTP 302 to the complaint)"]
    assert accepted > 0
    assert found["complaints stored"] == found["complaints routed (assigned to an agency)"]
    assert found["complaints stored"] == accepted
    assert found["follow-up breaches recorded"] == accepted
    assert found["lost: accepted, not stored"] == 0
    assert found["duplicates: same form token stored twice"] == 0
    assert found["emails written twice (same recipient, subject, body)"] == 0
    assert found["complaints with exactly one confirmation email"] == accepted
    assert "| count | found | expected | |" in done.stdout
