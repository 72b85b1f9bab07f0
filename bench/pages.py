"""Benchmark of the pages, served as production serves them, on the 1,000,000-complaint data set.

Reports figures, asserts nothing. Run it with ``make bench-pages`` or directly::

    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/lapor_bench

What it does:

1. Migrates the database (default ``lapor_bench``, filled by ``make bench-deadlines``; give a
   copy with ``--database-url`` to keep the original as it is: the POST scenario adds
   complaints) and collects the static files into ``bench-results/pages/static``.
2. Creates (or reuses) three staff accounts like the demo's: an officer of the agency with the
   most open complaints, the coordinator of its regency, and a provincial staff member; and
   folds the figures' tally deltas, as the beat does every minute in production.
3. Starts gunicorn as production does (``DEBUG=0``, 2 sync workers, WhiteNoise, manifest static
   storage) on a free loopback port, serving ``bench/pages_wsgi.py``: the project's URLs plus a
   bare Django view doing ``SELECT 1`` (``/_bench/select-1``), which production never serves.
4. For each page, after a short warm-up, sends a bounded number of requests from 1 client and
   then from 8 clients (threads, a new connection per request as gunicorn's sync workers close
   them), and reports p50/p95/p99 latency and requests per second beside the bare view, measured
   in the same run (before and after the pages; the mean of both is the reference).

``--project-dir`` serves another checkout of Lapor with this script (e.g. ``main``, to compare
before and after); its code, migrations and templates are used, this script's load client and
bare view. The submission rate limits are raised for the run (``LAPOR_SUBMIT_RATE``,
``LAPOR_SUBMIT_CONTACT_RATE``); after the run the submissions answered as stored are counted
against the new rows in the database (nothing lost). Celery
messages go to a file-system broker under ``bench-results/`` that no worker reads. The figures
go to stdout and to ``bench-results/pages.json`` (``--output``).

The page cache of the public pages (``lapor/pagecache.py``) needs a cache shared by the
processes: ``CACHE_URL`` (a Redis database) is passed on; without it a local-memory cache is
used, which turns the page cache off.
"""

import argparse
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

from browser import Browser

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lapor_bench"
BARE = "bare view (SELECT 1)"
PASSWORD = "bench-pages-" + "x" * 12  # noqa: S105 - local benchmark accounts only

SETUP_CODE = r"""
import json
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from agencies.models import Agency, Category, Region, StaffRole
from agencies.services import staff_membership_grant
from complaints.models import Complaint

User = get_user_model()
agency = (
    Agency.objects.annotate(
        n=Count("complaints", filter=Q(complaints__status__in=["assigned", "in_progress"]))
    ).order_by("-n", "pk").first()
)
def account(username, role, **scope):
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(PASSWORD)
    user.save()
    staff_membership_grant(user=user, role=role, **scope)
    return user
account("bench.officer", StaffRole.AGENCY_OFFICER, agency=agency)
account("bench.coordinator", StaffRole.REGION_COORDINATOR, region=agency.region)
account("bench.province", StaffRole.PROVINCE_STAFF)
public = Complaint.objects.filter(is_confidential=False, status="in_progress").order_by("-pk")
detail = public.values_list("tracking_code", flat=True).first()
category = Category.objects.filter(is_active=True).order_by("pk").first()
# The rankings pages show a year's draft when nothing is published: compute one if missing.
from awards.models import Level
from awards.selectors import result_shown
from awards.services import ranking_compute
from django.utils import timezone
newest = Complaint.objects.order_by("-created_at").values_list("created_at", flat=True).first()
year = timezone.localtime(newest).year - 1
for level in (Level.REGENCY, Level.AGENCY):
    if result_shown(year=year, level=level) is None:
        ranking_compute(year=year, level=level, now=max(timezone.now(), newest))
# A page half-way down the officer's queue: the cursor of the row there (keyset pages).
from complaints.pagination import encode_cursor
from complaints.querysets import URGENCY
middle = Complaint.objects.filter(
    assigned_agency=agency, status__in=["assigned", "in_progress"]
).by_urgency(timezone.now())[max(0, agency.n // 2 - 1)]
# The beat folds the figures' tally deltas every minute; a fresh fill has left all of its own
# unfolded, which production never has (the dashboards would read every one of them).
from complaints.tally import tally_fold
tally_fold()
print("BENCH-SETUP " + json.dumps({
    "agency": str(agency), "open": agency.n, "region_code": agency.region.code,
    "region_id": agency.region_id, "category_id": category.pk, "detail": detail,
    "year": year, "deep_cursor": encode_cursor(middle, URGENCY),
}))
"""


STORED_CODE = (
    "from complaints.models import Complaint; print('BENCH-STORED', "
    "Complaint.objects.filter(reporter_name='Pelapor Uji Beban').count())"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--project-dir", default=str(ROOT), help="the Lapor checkout to serve (default: this one)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts")
    parser.add_argument("--requests", type=int, default=100, help="requests per page and level")
    parser.add_argument(
        "--max-seconds", type=float, default=20.0, help="stop a level after this long"
    )
    parser.add_argument("--only", default="", help="comma-separated page names to run")
    parser.add_argument("--label", default="", help="a name for this run in the JSON")
    parser.add_argument("--output", default=str(RESULTS_DIR / "pages.json"))
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client(Browser):
    """One browser (``bench/browser.py``) that signs in and stops the run on a missing form."""

    def form_token(self, path: str) -> str:
        status, token = self.csrf(path)
        if token is None:
            raise SystemExit(f"no form at {path} (HTTP {status})")
        return token

    def login(self, username: str) -> None:
        token = self.form_token("/accounts/login/")
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        )
        if status != 302:
            raise SystemExit(f"signing in as {username} failed (HTTP {status})")


def submission(setup: dict, token: str) -> dict:
    return {
        "csrfmiddlewaretoken": token,
        "classification": "pengaduan",
        "title": "Lampu jalan padam di depan sekolah",
        "description": "Lampu penerangan jalan sudah tiga malam padam, jalan gelap dan rawan.",
        "category": setup["category_id"],
        "region": setup["region_code"],
        "district": "Banjarbaru Utara",
        "address": "Jl. A. Yani km 33, depan SDN 2",
        "incident_date": date.today().isoformat(),
        "reporter_name": "Pelapor Uji Beban",
        "reporter_email": "",
        "reporter_phone": "08" + "".join(secrets.choice("0123456789") for _ in range(10)),
        "submission_token": str(uuid.uuid4()),
    }


def scenarios(setup: dict) -> list[dict]:
    """Every page family: public pages, the map and the open data, staff pages, the API and
    Open311."""
    deep = max(1, setup["open"] // 50 // 2)  # the page half-way down, 50 rows a page
    year = setup["year"]
    return [
        {"name": "home", "path": "/"},
        {"name": "public list", "path": "/complaints/"},
        {"name": "search ?q=lampu", "path": "/complaints/?q=lampu"},
        {
            "name": "filter (regency + type)",
            "path": f"/complaints/?region={setup['region_code']}&classification=aspirasi",
        },
        {"name": "complaint page", "path": f"/complaints/{setup['detail']}/"},
        {"name": "officer queue", "path": "/dashboard/", "user": "bench.officer"},
        {
            "name": f"officer queue page {deep}",
            "path": f"/dashboard/?after={setup['deep_cursor']}",
            "user": "bench.officer",
        },
        {"name": "officer work queue", "path": "/dashboard/queue/", "user": "bench.officer"},
        {
            "name": "work queue (overdue + search)",
            "path": "/dashboard/queue/?overdue=on&q=lampu",
            "user": "bench.officer",
        },
        {
            "name": "officer figures (month)",
            "path": "/dashboard/figures/",
            "user": "bench.officer",
        },
        {
            "name": "officer figures (year)",
            "path": "/dashboard/figures/?period=year",
            "user": "bench.officer",
        },
        {
            "name": "coordinator figures (month)",
            "path": "/dashboard/figures/",
            "user": "bench.coordinator",
        },
        {
            "name": "coordinator figures (year)",
            "path": "/dashboard/figures/?period=year",
            "user": "bench.coordinator",
        },
        {
            "name": "province figures (month)",
            "path": "/dashboard/figures/",
            "user": "bench.province",
        },
        {
            "name": "province figures (year)",
            "path": "/dashboard/figures/?period=year",
            "user": "bench.province",
        },
        {"name": "coordinator dashboard", "path": "/dashboard/", "user": "bench.coordinator"},
        {"name": "province dashboard", "path": "/dashboard/", "user": "bench.province"},
        {"name": "triage desk", "path": "/dashboard/triage/", "user": "bench.coordinator"},
        {"name": "manual intake form", "path": "/dashboard/intake/", "user": "bench.officer"},
        {"name": "ranking, staff view", "path": "/rankings/staff/", "user": "bench.province"},
        {"name": "API staff queue", "path": "/api/v1/staff/queue/", "user": "bench.officer"},
        # Public pages beyond the lists: rankings, tracking, the new-complaint form.
        {"name": "rankings", "path": "/rankings/"},
        {"name": "rankings, regencies of a year", "path": f"/rankings/{year}/"},
        {"name": "rankings, agencies of a year", "path": f"/rankings/{year}/?level=agency"},
        {
            "name": "ranking, a regency's figures",
            "path": f"/rankings/{year}/regions/{setup['region_code']}/",
        },
        {"name": "ranking CSV (regencies)", "path": f"/rankings/{year}/csv/"},
        # The map and the open data.
        {"name": "map page", "path": "/peta/"},
        {
            "name": "map data, province (cells)",
            "path": "/peta/data/?zoom=8&bbox=114.0,-4.3,116.6,-1.3",
        },
        {
            "name": "map data, town (markers)",
            "path": "/peta/data/?zoom=16&bbox=114.55,-3.36,114.64,-3.28",
        },
        {
            "name": "open data CSV (regency 30 days)",
            "path": f"/data/complaints.csv?region={setup['region_code']}&period=30",
        },
        {
            "name": "open data GeoJSON (regency 30 days)",
            "path": f"/data/complaints.geojson?region={setup['region_code']}&period=30",
        },
        {"name": "track form", "path": "/track/"},
        {"name": "new complaint form", "path": "/complaints/new/"},
        # The API and Open311, read anonymously.
        {"name": "API list", "path": "/api/v1/complaints/"},
        {"name": "API complaint", "path": f"/api/v1/complaints/{setup['detail']}/"},
        {
            "name": "API complaint timeline",
            "path": f"/api/v1/complaints/{setup['detail']}/timeline/",
        },
        {"name": "API rankings, agencies", "path": f"/api/v1/rankings/{year}/?level=agency"},
        {"name": "API reference data (categories)", "path": "/api/v1/categories/"},
        {"name": "Open311 services.json", "path": "/open311/v2/services.json"},
        {"name": "Open311 requests.json (90 days)", "path": "/open311/v2/requests.json"},
        {
            "name": "Open311 requests.xml?status=open",
            "path": "/open311/v2/requests.xml?status=open",
        },
        {
            "name": "Open311 request",
            "path": f"/open311/v2/requests/{setup['detail']}.json",
        },
        {"name": "POST /complaints/new/", "path": "/complaints/new/", "post": True},
    ]


def run_level(port, scenario, setup, clients: int, total: int, max_seconds: float):
    """``total`` requests from ``clients`` threads; latencies in ms, wall time, bad answers."""
    expected = 302 if scenario.get("post") else 200
    sessions = []
    for _ in range(clients):
        client = Client(port)
        if scenario.get("user"):
            client.login(scenario["user"])
        token = client.form_token("/complaints/new/") if scenario.get("post") else None
        sessions.append((client, token))
    latencies: list[float] = []
    errors: list[int] = []
    accepted = [0]
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + max_seconds

    def worker(client, token):
        while True:
            with lock:
                if remaining[0] <= 0 or time.monotonic() > deadline:
                    return
                remaining[0] -= 1
            body = submission(setup, token) if token else None
            started = time.perf_counter()
            status, _, content = client.request("POST" if body else "GET", scenario["path"], body)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                accepted[0] += status == expected
                if status != expected:
                    errors.append(status)
                    if len(errors) == 1:
                        found = re.findall(
                            rb'class="errorlist[^"]*"[^>]*>(.*?)</ul>', content, re.S
                        )
                        print(f"    HTTP {status} from {scenario['path']}: {found[:3]}", flush=True)

    threads = [threading.Thread(target=worker, args=session) for session in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if scenario.get("post"):
        SUBMITTED[0] += accepted[0]
    return latencies, wall, errors


# Submissions answered "stored" (302), warm-up included: each must be in the database.
SUBMITTED = [0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarise(latencies, wall, errors) -> dict:
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "rps": round(len(latencies) / wall, 1),
    }


def measure(port, scenario, setup, levels, args) -> dict:
    warm = Client(port)
    if scenario.get("user"):
        warm.login(scenario["user"])
    token = warm.form_token("/complaints/new/") if scenario.get("post") else None
    for _ in range(3):
        body = submission(setup, token) if token else None
        status, _, _content = warm.request("POST" if body else "GET", scenario["path"], body)
        SUBMITTED[0] += bool(body) and status == 302
    result = {}
    for clients in levels:
        total = args.requests if clients == 1 else args.requests * 2
        latencies, wall, errors = run_level(port, scenario, setup, clients, total, args.max_seconds)
        result[str(clients)] = summarise(latencies, wall, errors)
    return result


def main():
    args = parse_args()
    project = Path(args.project_dir).resolve()
    levels = [int(c) for c in args.clients.split(",")]
    work = RESULTS_DIR / "pages"
    (work / "broker").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lapor.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url,
        "CACHE_URL": os.environ.get("CACHE_URL", "locmemcache://"),
        "CELERY_BROKER_URL": "filesystem://",
        "LAPOR_VAR_DIR": str(work / "var"),
        "LAPOR_BROKER_DIR": str(work / "broker"),
        "STATIC_ROOT": str(work / "static"),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LAPOR_SUBMIT_RATE": "1000000/m",
        "LAPOR_SUBMIT_CONTACT_RATE": "1000000/m",
        "LOG_LEVEL": "WARNING",
    }
    for key in ("PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(key, None)
    python = sys.executable

    def manage(*command):
        result = subprocess.run(
            [python, "manage.py", *command], cwd=project, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(command)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    print(f"serving {project} on {args.database_url.rsplit('@', 1)[-1]}", flush=True)
    # Static files first: with DEBUG=0 the URLs (loaded by migrate's checks) need the manifest.
    manage("collectstatic", "--noinput", "--verbosity", "0")
    started = time.perf_counter()
    manage("migrate", "--noinput")
    print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)
    out = manage("shell", "-c", SETUP_CODE.replace("PASSWORD", repr(PASSWORD)))
    setup = json.loads(out.split("BENCH-SETUP ", 1)[1])
    print(f"officer of {setup['agency']} ({setup['open']} open complaints)", flush=True)

    stored_before = int(manage("shell", "-c", STORED_CODE).split("BENCH-STORED ", 1)[1])
    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(python).with_name("gunicorn")),
            "pages_wsgi",
            "--pythonpath",
            str(ROOT / "bench"),
            "--chdir",
            str(project),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                if Client(port).request("GET", "/_bench/select-1")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not answer /_bench/select-1 within 30 s")
        only = {name.strip() for name in args.only.split(",") if name.strip()}
        pages = [s for s in scenarios(setup) if not only or s["name"] in only]
        bare = {"name": BARE, "path": "/_bench/select-1"}
        results = {"bare_before": measure(port, bare, setup, levels, args)}
        for scenario in pages:
            print(f"  {scenario['name']} ...", flush=True)
            results[scenario["name"]] = measure(port, scenario, setup, levels, args)
        results["bare_after"] = measure(port, bare, setup, levels, args)
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
    stored = int(manage("shell", "-c", STORED_CODE).split("BENCH-STORED ", 1)[1]) - stored_before
    submissions = {"answered_stored": SUBMITTED[0], "in_database": stored}
    print(f"submissions: {SUBMITTED[0]} answered as stored, {stored} new in the database")

    bare_rps = {
        str(c): (results["bare_before"][str(c)]["rps"] + results["bare_after"][str(c)]["rps"]) / 2
        for c in levels
    }
    report = {
        "label": args.label,
        "project": str(project),
        "database": args.database_url.rsplit("@", 1)[-1],
        "workers": args.workers,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "bare_rps": bare_rps,
        "submissions": submissions,
        "pages": {},
    }
    header = (
        f"| page | p50 {levels[0]}c | p95 {levels[0]}c | p99 {levels[0]}c | rps {levels[0]}c "
        f"| p50 {levels[-1]}c | p95 {levels[-1]}c | rps {levels[-1]}c "
        f"| % of bare rps ({levels[-1]}c) | errors |"
    )
    lines = [header, "|" + "---|" * 10]
    for name, figures in results.items():
        report["pages"][name] = figures
        one, many = figures[str(levels[0])], figures[str(levels[-1])]
        ratio = many["rps"] / bare_rps[str(levels[-1])] * 100 if bare_rps[str(levels[-1])] else 0
        figures["ratio_rps_pct"] = round(ratio, 1)
        errors = sum(f["errors"] for k, f in figures.items() if k in map(str, levels))
        lines.append(
            f"| {name} | {one['p50_ms']} | {one['p95_ms']} | {one['p99_ms']} | {one['rps']} "
            f"| {many['p50_ms']} | {many['p95_ms']} | {many['rps']} | {ratio:.1f} % | {errors} |"
        )
    print("\n".join(lines))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    # The same table as Markdown, for a closing note: the bare view's rows are in it.
    output.with_suffix(".md").write_text(
        f"{report['when']}, {args.workers} gunicorn sync workers, database "
        f"{report['database']}, {args.requests} requests per page at 1 client\n\n"
        + "\n".join(lines)
        + f"\n\nSubmissions: {submissions['answered_stored']} answered as stored, "
        f"{submissions['in_database']} new in the database.\n"
    )
    print(f"written to {output} and {output.with_suffix('.md')}")


if __name__ == "__main__":
    main()
