"""Load test of a multi-node set-up on one machine: nothing lost, nothing twice.

Run it with ``make load`` (2 minutes; ``make load LOAD_SECONDS=30 LOAD_ARGS="--rate 20"``) or::

    .venv/bin/python bench/load.py --seconds 120 --rate 10

It needs PostgreSQL and Redis: ``DATABASE_URL``'s server (the database is ``<its name>_load``,
made afresh and dropped at the end; ``--database-url`` to choose), ``CELERY_BROKER_URL`` (a
``redis://`` URL) and ``CACHE_URL``.

1. **Under load** (``--seconds``): two web processes (``--web``; gunicorn, ``--web-workers``
   sync workers each, production settings: ``DEBUG=0``, manifest static files, Redis cache and
   broker), two Celery workers (``--workers``) and one beat, as docker-compose runs them. This
   script is the proxy: it spreads requests over the web processes in turn. Submitters send
   complaints through the public form at a steady rate (``--rate`` per second), each with its
   own email address, so each gets a confirmation email; every tenth is sent a second time, to
   the other web process, with the same form token (a double click, a retry). Readers
   (``--readers``) read the home page, the list, search, complaint pages, the API and Open311
   meanwhile, as fast as they are answered.
2. **Days later** (time travel): the web processes and workers stop; two workers and *two*
   beats start on a clock moved past every follow-up deadline just submitted (``load_clock.py``)
   and sweep every 3 s, until every complaint's breach is recorded and every email sent, then
   a few sweeps more. Two beats at once show that the sweep tolerates a second one.
3. **Counts**, from the database and the mail files (Django's file backend): accepted (answered
   with the complaint's page) = stored = routed (routed event, an agency), 0 duplicates (a
   token or a complaint twice, a retry answered with another complaint), 0 lost (accepted and
   not stored, stored and not acknowledged), each complaint's submitted and routed events once,
   one follow-up breach and one breach event per complaint, each email exactly once (every
   outbox row sent, one mail file entry per row, one confirmation per complaint), and each
   breach counted once in the agency's and the coordinator's digests. A table is printed; the
   exit status is 1 when any count disagrees. Timings are reported, not judged.

The figures go to ``bench-results/load.json`` and ``.md`` (``--output``).
"""

import argparse
import email
import json
import math
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from browser import Browser
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
SWEEP_SECONDS = 3
RETRY_EVERY = 10  # every tenth submission is sent twice
ESCALATION_AFTER = timedelta(days=3)  # complaints.enforcement.PROVINCE_ESCALATION_AFTER
READ_PAGES = (
    "/",
    "/complaints/",
    "/complaints/?q=lampu",
    "{complaint}",
    "/api/v1/complaints/",
    "/open311/v2/requests.json",
)

SETUP_CODE = r"""
import json
from collections import Counter
from django.contrib.auth import get_user_model
from agencies.models import RoutingRule, StaffRole
from agencies.services import staff_membership_grant

rules = list(RoutingRule.objects.select_related("category", "region", "agency")
             .filter(category__is_active=True).order_by("pk"))
# Categories with the same number of follow-up days: one clock moves past all their deadlines
# and stays before any escalation (three days after the deadline).
days = Counter(rule.category.follow_up_days for rule in rules).most_common(1)[0][0]
chosen, agencies = [], set()
for rule in rules:
    if rule.category.follow_up_days == days and rule.agency_id not in agencies:
        chosen.append(rule)
        agencies.add(rule.agency_id)
    if len(chosen) == 4:
        break
User = get_user_model()
def staff(username, role, **scope):
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": username + "@staff.load.test"}
    )
    staff_membership_grant(user=user, role=role, **scope)
    return user.email
officers = {r.agency_id: staff(f"load.officer.{r.agency_id}", StaffRole.AGENCY_OFFICER,
                               agency=r.agency) for r in chosen}
coordinators = {r.region_id: staff(f"load.coordinator.{r.region_id}",
                                   StaffRole.REGION_COORDINATOR, region=r.region) for r in chosen}
print("LOAD-SETUP " + json.dumps({
    "routes": [{"category": r.category_id, "region": r.region.code, "agency": r.agency_id,
                "region_id": r.region_id} for r in chosen],
    "officers": officers, "coordinators": coordinators,
}))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LOAD_SECONDS", 120)))
    parser.add_argument("--rate", type=float, default=10.0, help="submissions per second")
    parser.add_argument("--readers", type=int, default=2, help="threads reading pages")
    parser.add_argument("--web", type=int, default=2, help="web processes (gunicorn)")
    parser.add_argument("--web-workers", type=int, default=2, help="sync workers per web")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--phase-two-timeout", type=float, default=180.0)
    parser.add_argument("--output", default=str(RESULTS_DIR / "load.json"))
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the database ------------------------------------------------------------------------------


def load_database_url(given: str) -> str:
    if given:
        return given
    base = os.environ.get("DATABASE_URL", "").split("?", 1)[0]
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL URL, or give --database-url.")
    return f"{base}_load"


def server_command(url: str, statement: sql.Composable) -> None:
    base, _name = url.rsplit("/", 1)
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def database_recreate(url: str) -> None:
    name = sql.Identifier(url.rsplit("/", 1)[1])
    server_command(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    server_command(url, sql.SQL("CREATE DATABASE {}").format(name))


def database_drop(url: str) -> None:
    name = sql.Identifier(url.rsplit("/", 1)[1])
    server_command(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def query(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    finally:
        conn.close()


# --- the processes -----------------------------------------------------------------------------


class Processes:
    """Child processes in their own process groups, each with a log file; stopped in order."""

    def __init__(self, work: Path, env: dict):
        self.work = work
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], **extra_env: str) -> None:
        log = open(self.work / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.running[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self, *names: str) -> None:
        """SIGTERM (Celery's warm shutdown: running tasks finish), then wait for each."""
        for name in names:
            process = self.running.get(name)
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name in names:
            process = self.running.pop(name, None)
            if process is None:
                continue
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop_all(self) -> None:
        self.stop(*list(self.running))

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                log = (self.work / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} exited ({process.returncode}):\n{log}")


def celery(python: str, *args: str) -> list[str]:
    return [python, str(ROOT / "bench" / "load_clock.py"), "-A", "lapor", *args]


def start_workers(procs: Processes, python: str, args, phase: str, offset: float) -> list[str]:
    names = []
    for n in range(1, args.workers + 1):
        name = f"{phase}-worker{n}"
        procs.start(
            name,
            celery(
                python,
                *("worker", "--loglevel", "WARNING", "--concurrency", str(args.concurrency)),
                *("--hostname", f"load-{phase}-{n}-{os.getpid()}@%h", "--without-gossip"),
                "--without-mingle",
            ),
            LOAD_CLOCK_OFFSET=str(offset),
        )
        names.append(name)
    return names


def start_beats(procs: Processes, python: str, count: int, phase: str, offset: float) -> list[str]:
    names = []
    for n in range(1, count + 1):
        name = f"{phase}-beat{n}"
        schedule = procs.work / f"{name}-schedule"
        procs.start(
            name,
            celery(python, "beat", "--loglevel", "WARNING", "--schedule", str(schedule)),
            LOAD_CLOCK_OFFSET=str(offset),
        )
        names.append(name)
    return names


# --- the clients -------------------------------------------------------------------------------


class Run:
    """What the clients saw, under one lock."""

    def __init__(self, ports: list[int], routes: list[dict], seconds: float, rate: float):
        self.ports = ports
        self.routes = routes
        self.rate = rate
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.ends = self.started + seconds
        self.next_slot = 0
        self.accepted: dict[str, str] = {}  # form token -> tracking code
        self.retry_mismatch: list[tuple[str, str]] = []
        self.retries = 0
        self.refused: Counter = Counter()  # HTTP status of submissions not accepted
        self.unanswered = 0  # submissions whose answer never came (fate unknown)
        self.submit_ms: list[float] = []
        self.late = 0
        self.sent = 0
        self.load_average = 0.0
        self.page_ms: dict[str, list[float]] = defaultdict(list)
        self.page_errors: Counter = Counter()
        self.recent: list[str] = []

    def port(self, n: int) -> int:
        return self.ports[n % len(self.ports)]

    def slot(self) -> int | None:
        """The next submission's number, after waiting for its moment (steady rate)."""
        with self.lock:
            n = self.next_slot
            self.next_slot += 1
        moment = self.started + n / self.rate
        if moment >= self.ends or time.monotonic() >= self.ends:
            # The run is bounded in time: slots the portal could not keep up with are not sent.
            return None
        delay = moment - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with self.lock:
            self.sent += 1
            self.late += delay < -1
        return n

    @property
    def unsent(self) -> int:
        """Submissions due before the end that were not sent by then (the portal was behind)."""
        return max(0, math.ceil((self.ends - self.started) * self.rate) - self.sent)


def form_body(run: Run, n: int, token: str, csrf: str) -> dict:
    route = run.routes[n % len(run.routes)]
    return {
        "csrfmiddlewaretoken": csrf,
        "classification": "pengaduan",
        "title": f"Lampu jalan padam di depan sekolah {n}",
        "description": "Lampu penerangan jalan sudah tiga malam padam, jalan gelap dan rawan.",
        "category": route["category"],
        "region": route["region"],
        "district": "",
        "address": f"Jl. A. Yani km {n % 40 + 1}, depan SDN 2",
        "incident_date": date.today().isoformat(),
        "reporter_name": "Pelapor Uji Beban",
        "reporter_email": f"load-{n}@reporter.load.test",
        "reporter_phone": "",
        "submission_token": token,
    }


CREATED = re.compile(r"/complaints/([A-Za-z0-9-]+)/created/$")


def submitter(run: Run) -> None:
    client = Browser()
    csrf = ""
    while True:
        n = run.slot()
        if n is None:
            return
        try:
            if not csrf:
                status, _, content = client.request("GET", "/complaints/new/", port=run.port(n))
                match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
                if status != 200 or not match:
                    with run.lock:
                        run.refused[f"form {status}"] += 1
                    continue
                csrf = match.group(1).decode()
            token = str(uuid.uuid4())
            body = form_body(run, n, token, csrf)
            started = time.perf_counter()
            status, location, _ = client.request("POST", "/complaints/new/", body, port=run.port(n))
            elapsed = (time.perf_counter() - started) * 1000
        except OSError:
            with run.lock:
                run.unanswered += 1
            continue
        found = CREATED.search(urlsplit(location).path) if status == 302 else None
        with run.lock:
            run.submit_ms.append(elapsed)
            if not found:
                run.refused[str(status)] += 1
                continue
            run.accepted[token] = found.group(1)
            run.recent = [found.group(1), *run.recent[:49]]
        if n % RETRY_EVERY == 0:
            # The same form again, to the other web process: the same complaint, not a new one.
            try:
                status, location, _ = client.request(
                    "POST", "/complaints/new/", body, port=run.port(n + 1)
                )
            except OSError:
                with run.lock:
                    run.unanswered += 1
                continue
            again = CREATED.search(urlsplit(location).path) if status == 302 else None
            with run.lock:
                run.retries += 1
                if not again or again.group(1) != found.group(1):
                    run.retry_mismatch.append((found.group(1), again.group(1) if again else status))


def reader(run: Run, number: int) -> None:
    client = Browser()
    n = number
    while time.monotonic() < run.ends:
        n += 1
        path = READ_PAGES[n % len(READ_PAGES)]
        if path == "{complaint}":
            with run.lock:
                recent = list(run.recent)
            if not recent:
                continue
            path = f"/complaints/{recent[n % len(recent)]}/"
            name = "complaint page"
        else:
            name = path
        started = time.perf_counter()
        try:
            status, _, _ = client.request("GET", path, port=run.port(n))
        except OSError:
            status = 0
        elapsed = (time.perf_counter() - started) * 1000
        with run.lock:
            run.page_ms[name].append(elapsed)
            if status != 200:
                run.page_errors[f"{name} {status}"] += 1


def under_load(run: Run, readers: int) -> float:
    threads = [threading.Thread(target=submitter, args=(run,)) for _ in range(submitters(run))]
    threads += [threading.Thread(target=reader, args=(run, i)) for i in range(readers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def submitters(run: Run) -> int:
    # Enough threads that a slow answer does not hold the rate back (each waits for its slot).
    return max(2, min(32, int(run.rate)))


# --- the counts --------------------------------------------------------------------------------


def mails_read(folder: Path) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every email Django's file backend wrote into ``folder``."""
    mails = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text(errors="replace").split("-" * 79 + "\n"):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk, policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            mails.append((str(message["To"]), str(message["Subject"]), text))
    return mails


def phase_two_done(url: str) -> bool:
    (routed, breached, unsent) = query(
        url,
        """SELECT
             (SELECT count(*) FROM complaints_complaint WHERE assigned_agency_id IS NOT NULL),
             (SELECT count(DISTINCT complaint_id) FROM complaints_deadlinebreach
                WHERE kind = 'follow_up'),
             (SELECT count(*) FROM notifications_notification WHERE status <> 'sent')""",
    )[0]
    return routed > 0 and routed == breached and unsent == 0


def counts(url: str, run: Run, mails: list[tuple[str, str, str]], setup: dict) -> list[tuple]:
    """(what, found, expected) for every count the run must agree on."""
    one = lambda statement, *params: query(url, statement, params)[0][0]  # noqa: E731
    stored_codes = {row[0] for row in query(url, "SELECT tracking_code FROM complaints_complaint")}
    accepted_codes = set(run.accepted.values())
    accepted = len(accepted_codes)
    stored = len(stored_codes)
    routed = one(
        "SELECT count(*) FROM complaints_complaint WHERE status = 'assigned' "
        "AND assigned_agency_id IS NOT NULL"
    )
    events = dict(
        query(
            url,
            """SELECT kind, count(*) FROM (
                 SELECT complaint_id, kind, count(*) AS n FROM complaints_complaintevent
                 WHERE kind IN ('submitted', 'routed', 'breach') GROUP BY 1, 2
               ) per WHERE n = 1 GROUP BY kind""",
        )
    )
    twice = one(
        """SELECT count(*) FROM (SELECT complaint_id, kind FROM complaints_complaintevent
           WHERE kind IN ('submitted', 'routed', 'breach') GROUP BY 1, 2 HAVING count(*) > 1) t"""
    )
    breaches = one("SELECT count(*) FROM complaints_deadlinebreach WHERE kind = 'follow_up'")
    breached = one(
        "SELECT count(DISTINCT complaint_id) FROM complaints_deadlinebreach "
        "WHERE kind = 'follow_up'"
    )
    other_breaches = one("SELECT count(*) FROM complaints_deadlinebreach WHERE kind <> 'follow_up'")
    notifications = dict(
        query(url, "SELECT status, count(*) FROM notifications_notification GROUP BY 1")
    )
    sent_rows = Counter(
        (recipient, subject)
        for recipient, subject in query(
            url, "SELECT recipient, subject FROM notifications_notification WHERE status = 'sent'"
        )
    )
    mailed = Counter((to, subject) for to, subject, _ in mails)
    confirmations = Counter(
        code
        for to, subject, _ in mails
        if to.endswith("@reporter.load.test")
        for code in re.findall(r"LPR-[A-Z0-9-]+", subject)
    )
    per_agency = dict(
        query(
            url,
            "SELECT assigned_agency_id, count(*) FROM complaints_deadlinebreach b "
            "JOIN complaints_complaint c ON c.id = b.complaint_id GROUP BY 1",
        )
    )
    per_region = dict(
        query(
            url,
            "SELECT c.region_id, count(*) FROM complaints_deadlinebreach b "
            "JOIN complaints_complaint c ON c.id = b.complaint_id GROUP BY 1",
        )
    )
    digest_agency = digest_region = 0
    digest_wrong = 0
    for kind, audiences, expected_by in (
        ("breach_agency", setup["officers"], per_agency),
        ("breach_coordinator", setup["coordinators"], per_region),
    ):
        for key, address in audiences.items():
            listed = sum(
                int(re.search(r"\d+", subject).group(0))
                for (subject,) in query(
                    url,
                    "SELECT subject FROM notifications_notification "
                    "WHERE recipient = %s AND dedupe_key LIKE %s",
                    (address, f"{kind}:%"),
                )
            )
            if listed != expected_by.get(int(key), 0):
                digest_wrong += 1
            if kind == "breach_agency":
                digest_agency += listed
            else:
                digest_region += listed
    unsent = sum(n for status, n in notifications.items() if status != "sent")
    return [
        ("submissions accepted (HTTP 302 to the complaint)", accepted, None),
        ("complaints stored", stored, accepted),
        ("complaints routed (assigned to an agency)", routed, accepted),
        ("complaints with one 'submitted' event", events.get("submitted", 0), accepted),
        ("complaints with one 'routed' event", events.get("routed", 0), accepted),
        ("events twice for one complaint", twice, 0),
        ("lost: accepted, not stored", len(accepted_codes - stored_codes), 0),
        ("stored, never acknowledged", len(stored_codes - accepted_codes), 0),
        ("duplicates: same form token stored twice", duplicates_of_tokens(url), 0),
        (
            f"retries (1 in {RETRY_EVERY}) answered with the same complaint",
            run.retries - len(run.retry_mismatch),
            run.retries,
        ),  # fmt: skip
        ("submissions refused or unanswered", sum(run.refused.values()) + run.unanswered, 0),
        ("page reads not answered 200", sum(run.page_errors.values()), 0),
        ("follow-up breaches recorded", breaches, accepted),
        ("complaints breached once (distinct)", breached, accepted),
        ("complaints with one 'breach' event", events.get("breach", 0), accepted),
        ("other breaches (completion, triage)", other_breaches, 0),
        ("breaches in the agencies' digests", digest_agency, breaches),
        ("breaches in the coordinators' digests", digest_region, breaches),
        ("digests that miscount a recipient's breaches", digest_wrong, 0),
        ("outbox rows", sum(notifications.values()), None),
        ("outbox rows not sent", unsent, 0),
        ("emails written (mail files)", len(mails), sum(sent_rows.values())),
        ("emails written twice (same recipient, subject, body)", len(mails) - len(set(mails)), 0),
        (
            "sent rows without exactly one email",
            sum((sent_rows - mailed).values()) + sum((mailed - sent_rows).values()),
            0,
        ),  # fmt: skip
        (
            "complaints with exactly one confirmation email",
            sum(1 for code in stored_codes if confirmations[code] == 1),
            stored,
        ),  # fmt: skip
    ]


def duplicates_of_tokens(url: str) -> int:
    return query(
        url,
        "SELECT count(idempotency_key) - count(DISTINCT idempotency_key) FROM complaints_complaint",
    )[0][0]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# --- the run -----------------------------------------------------------------------------------


def environment(args, url: str, work: Path) -> dict:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith(("redis://", "rediss://")):
        raise SystemExit("Set CELERY_BROKER_URL to a redis:// URL: the workers share the broker.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "lapor.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": os.environ.get("CACHE_URL", "locmemcache://"),
            "EMAIL_URL": f"filemail://{work / 'mail'}",
            "LAPOR_VAR_DIR": str(work / "var"),
            "STATIC_ROOT": str(work / "static"),
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            # One client address sends everything: the per-address and per-contact limits of
            # the form would refuse most of it.
            "LAPOR_SUBMIT_RATE": "1000000/m",
            "LAPOR_SUBMIT_CONTACT_RATE": "1000000/m",
            "LOG_LEVEL": "WARNING",
            "LAPOR_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "LAPOR_MAIL_SECONDS": str(SWEEP_SECONDS),
            "LAPOR_TALLY_SECONDS": "10",
        }
    )
    return env


def manage(python: str, env: dict, *command: str) -> str:
    done = subprocess.run(
        [python, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def wait_for_web(procs: Processes, ports: list[int]) -> None:
    for port in ports:
        for _ in range(600):
            procs.check_alive()
            try:
                if Browser(port).request("GET", "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit(f"gunicorn on port {port} did not answer within 60 s")


def warm_up(ports: list[int]) -> None:
    """Each web worker's first requests load templates and open connections: not measured."""
    client = Browser()
    for port in ports:
        for _ in range(3):
            for path in ("/complaints/new/", *(p for p in READ_PAGES if p.startswith("/"))):
                client.request("GET", path, port=port)


def phase_two_offset(url: str) -> float:
    """Seconds to move the clock: a minute past the last follow-up deadline, and before any
    escalation (three days after the first) or completion target."""
    latest, earliest, completion = query(
        url,
        "SELECT extract(epoch FROM max(follow_up_due_at)),"
        " extract(epoch FROM min(follow_up_due_at)),"
        " extract(epoch FROM min(completion_due_at)) FROM complaints_complaint",
    )[0]
    if latest is None:
        raise SystemExit("no complaint was stored: nothing to sweep")
    target = float(latest) + 60
    if target >= float(earliest) + ESCALATION_AFTER.total_seconds() or target >= float(completion):
        raise SystemExit("the run's deadlines are too far apart for one moved clock")
    return target - time.time()


def main() -> int:
    args = parse_args()
    url = load_database_url(args.database_url)
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="lapor-load-"))
    (work / "mail").mkdir()
    env = environment(args, url, work)
    procs = Processes(work, env)
    where = url.rsplit("@", 1)[-1]
    print(f"database {where}, work files in {work}", flush=True)
    database_recreate(url)
    try:
        manage(python, env, "collectstatic", "--noinput", "--verbosity", "0")
        started = time.perf_counter()
        manage(python, env, "migrate", "--noinput")
        print(f"migrated in {time.perf_counter() - started:.0f} s", flush=True)
        out = manage(python, env, "shell", "-c", SETUP_CODE)
        setup = json.loads(out.split("LOAD-SETUP ", 1)[1])

        # Phase 1: under load.
        ports = [free_port() for _ in range(args.web)]
        gunicorn = str(Path(python).with_name("gunicorn"))
        for n, port in enumerate(ports, start=1):
            procs.start(
                f"web{n}",
                [
                    gunicorn,
                    "lapor.wsgi",
                    "-c",
                    "lapor/gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(args.web_workers),
                    "--timeout",
                    "60",
                ],  # fmt: skip
            )
        start_workers(procs, python, args, "load", 0)
        start_beats(procs, python, 1, "load", 0)
        wait_for_web(procs, ports)
        warm_up(ports)
        print(
            f"phase 1: {args.seconds:.0f} s, {args.rate:g} submissions/s over {args.web} web "
            f"processes ({args.web_workers} workers each), {args.workers} Celery workers, "
            f"1 beat, {args.readers} readers",
            flush=True,
        )
        run = Run(ports, setup["routes"], args.seconds, args.rate)
        wall = under_load(run, args.readers)
        # The machine's load at the end (1-minute average): on a shared machine, the figures
        # say more about the neighbours than about Lapor when it is well above the cores.
        run.load_average = os.getloadavg()[0]
        procs.check_alive()
        procs.stop(*[name for name in procs.running if name.startswith("web")])
        procs.stop_all()

        # Phase 2: days later, two workers and two beats.
        offset = phase_two_offset(url)
        print(
            f"phase 2: the clock moved {offset / 86400:.1f} days on; "
            f"{args.workers} workers, 2 beats",
            flush=True,
        )
        start_workers(procs, python, args, "later", offset)
        start_beats(procs, python, 2, "later", offset)
        deadline = time.monotonic() + args.phase_two_timeout
        phase_two_started = time.monotonic()
        while time.monotonic() < deadline and not phase_two_done(url):
            procs.check_alive()
            time.sleep(1)
        done_after = time.monotonic() - phase_two_started
        time.sleep(4 * SWEEP_SECONDS)  # a few more sweeps from both beats: nothing new may come
        procs.stop_all()
        print(f"phase 2: all breached and mailed after {done_after:.0f} s", flush=True)

        table = counts(url, run, mails_read(work / "mail"), setup)
    finally:
        procs.stop_all()
        if not args.keep_database:
            database_drop(url)
    return report(args, run, wall, table, work)


def report(args, run: Run, wall: float, table: list[tuple], work: Path) -> int:
    cores = os.cpu_count() or 1
    pages = sum(len(v) for v in run.page_ms.values())
    accepted = len(run.accepted)
    all_page_ms = [ms for values in run.page_ms.values() for ms in values]
    figures = {
        "seconds": round(wall, 1),
        "cores": cores,
        "load_average_1min": round(run.load_average, 1),
        "submissions_per_s": round(accepted / wall, 1),
        "submissions_per_s_per_core": round(accepted / wall / cores, 1),
        "submit_p50_ms": round(statistics.median(run.submit_ms), 1) if run.submit_ms else 0,
        "submit_p95_ms": round(percentile(run.submit_ms, 95), 1),
        "late_submissions": run.late,
        "unsent_submissions": run.unsent,
        "target_rate": args.rate,
        "pages_per_s": round(pages / wall, 1),
        "pages_per_s_per_core": round(pages / wall / cores, 1),
        "page_p50_ms": round(statistics.median(all_page_ms), 1) if all_page_ms else 0,
        "page_p95_ms": round(percentile(all_page_ms, 95), 1),
        "pages": {
            name: {
                "reads": len(ms),
                "p50_ms": round(statistics.median(ms), 1),
                "p95_ms": round(percentile(ms, 95), 1),
            }  # fmt: skip
            for name, ms in sorted(run.page_ms.items())
            if ms
        },
    }
    lines = ["| count | found | expected | |", "|---|---|---|---|"]
    failures = 0
    for what, found, expected in table:
        ok = expected is None or found == expected
        failures += not ok
        shown = "" if expected is None else expected
        lines.append(f"| {what} | {found} | {shown} | {'ok' if ok else 'DISAGREES'} |")
    timing = [
        "",
        "| figure | value |",
        "|---|---|",
        f"| run under load | {figures['seconds']} s, {cores} cores, load average "
        f"{figures['load_average_1min']} at the end |",
        f"| submissions accepted | {accepted} ({figures['submissions_per_s']}/s, "
        f"{figures['submissions_per_s_per_core']}/s per core, target {args.rate:g}/s; "
        f"{run.late} sent over 1 s late, {run.unsent} not sent in time) |",
        f"| submission p50 / p95 | {figures['submit_p50_ms']} / {figures['submit_p95_ms']} ms |",
        f"| pages read | {pages} ({figures['pages_per_s']}/s, "
        f"{figures['pages_per_s_per_core']}/s per core) |",
        f"| page p50 / p95 | {figures['page_p50_ms']} / {figures['page_p95_ms']} ms |",
    ]
    if run.refused or run.page_errors:
        timing.append(f"| refused / page errors | {dict(run.refused)} / {dict(run.page_errors)} |")
    text = "\n".join(lines + timing)
    print(text)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "args": {k: v for k, v in vars(args).items() if k != "output"},
        "figures": figures,
        "counts": [
            {"what": what, "found": found, "expected": expected} for what, found, expected in table
        ],
        "disagree": failures,
        "logs": str(work),
    }
    output.write_text(json.dumps(result, indent=2))
    output.with_suffix(".md").write_text(f"{result['when']}\n\n{text}\n")
    print(f"written to {output}; process logs in {work}")
    if failures:
        print(f"{failures} count(s) disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
