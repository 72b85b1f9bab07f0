"""Benchmark of notification delivery: 1,000 emails through a real Celery worker.

Reports figures, asserts nothing. Run it with ``make bench-mail`` or directly::

    .venv/bin/python bench/mail.py [--database postgres://postgres@127.0.0.1:5432/lapor_bench_mail]

For each broker (the embedded file-system broker, and Redis: a private ``redis-server`` on a
free port, or ``--redis-url``), each database (a fresh SQLite file, the embedded default, and
every ``--database`` given, created if missing and emptied of notifications) and each mail
transport (Django's file backend, the embedded default, and a local SMTP server: aiosmtpd in
this process, so every email really crosses an SMTP connection) it starts a worker as
``make run`` does (``celery worker --pool threads --concurrency 2``) and times two scenarios:

- **backlog**: 1,000 notifications already pending in the outbox (e.g. left by an outage), one
  delivery task queued as beat's round queues it; time until the last row is recorded as sent.
- **burst**: 1,000 notifications written one by one, each in its own transaction that asks for
  its delivery after commit, as 1,000 web submissions would; time from the first write until
  the last row is recorded as sent.

Target (issue 11): 1,000 pending notifications delivered in under 10 s on both brokers.
The figures go to stdout (a table) and to ``bench-results/mail.json``.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COUNT = int(os.environ.get("BENCH_MAIL_COUNT") or 1000)  # --count; the runs get it by env
PATIENCE = 300  # seconds before a run is reported as not finished


def set_count(count: int) -> None:
    global COUNT
    COUNT = count
    os.environ["BENCH_MAIL_COUNT"] = str(count)  # the runs are subprocesses


# --- the orchestrator (no Django here: each run is a subprocess with its own settings) ----------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


class SmtpSink:
    """A local SMTP server that accepts and counts every message (aiosmtpd, in a thread)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                sink.messages += 1
                return "250 OK"

            async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
                sink.connections += 1
                session.host_name = hostname
                return responses

        self.messages = 0
        self.connections = 0
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.controller.stop()


def database_label(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


def run_one(*, broker: str, broker_url: str, database: str, mail: str, mail_url: str, work: Path):
    """One configuration, in a subprocess with its own environment; returns its figures."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CELERY_"))}
    env.update(
        DEBUG="1",
        DATABASE_URL=database,
        CELERY_BROKER_URL=broker_url,
        LAPOR_VAR_DIR=str(work / "var"),
        LAPOR_BROKER_DIR=str(work / "broker"),
        EMAIL_URL=mail_url,
        CACHE_URL=f"filecache://{work / 'cache'}",
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    done = subprocess.run(
        [sys.executable, __file__, "--run-one"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE * 3,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        return {"error": f"exit {done.returncode}"}
    return json.loads(lines[-1].removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", action="append", default=[], help="extra DATABASE_URL")
    parser.add_argument("--redis-url", help="use this Redis instead of a private redis-server")
    parser.add_argument("--no-smtp", action="store_true", help="file email backend only")
    parser.add_argument(
        "--brokers", default="filesystem,redis", help="comma-separated: filesystem, redis"
    )
    parser.add_argument("--count", type=int, default=COUNT, help="emails per scenario")
    parser.add_argument("--run-one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        return measure()
    set_count(args.count)

    # Stopped from outside: still stop the redis-server and SMTP server started below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results_dir = ROOT / "bench-results"
    results_dir.mkdir(exist_ok=True)
    redis = None
    wanted = {b.strip() for b in args.brokers.split(",")}
    if "redis" not in wanted:
        redis_url = None
    elif args.redis_url:
        redis_url = args.redis_url
    elif shutil.which("redis-server"):
        redis = RedisServer()
        redis_url = redis.url
    else:
        redis_url = None
    smtp = None if args.no_smtp else SmtpSink()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="lapor-bench-mail-") as tmp:
            tmp = Path(tmp)
            databases = [f"sqlite:///{tmp / 'bench-mail.sqlite3'}", *args.database]
            brokers = [("file system", "filesystem://")] if "filesystem" in wanted else []
            if redis_url:
                brokers.append(("Redis", redis_url))
            mails = [("file", None)] + ([("SMTP", smtp.url)] if smtp else [])
            for n, (broker, broker_url, database, (mail, mail_url)) in enumerate(
                (b, u, d, m) for b, u in brokers for d in databases for m in mails
            ):
                work = tmp / f"run-{n}"
                work.mkdir()
                sent_before = smtp.messages if smtp else 0
                figures = run_one(
                    broker=broker,
                    broker_url=broker_url,
                    database=database,
                    mail=mail,
                    mail_url=mail_url or f"filemail://{work / 'mail'}",
                    work=work,
                )
                row = {
                    "broker": broker,
                    "database": database_label(database),
                    "mail": mail,
                    **figures,
                }
                if mail == "SMTP":
                    row["smtp_messages"] = smtp.messages - sent_before
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    finally:
        if redis:
            redis.stop()
        if smtp:
            smtp.stop()

    header = (
        f"{'broker':<12} {'database':<11} {'mail':<5} | {'backlog s':>9} {'per s':>6} | "
        f"{'burst written s':>15} {'last email after s':>18} {'tasks':>6}"
    )
    print(f"\nNotification delivery, {COUNT:,} emails, worker --pool threads --concurrency 2")
    print(f"({platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})\n")
    print(header)
    print("-" * len(header))
    for row in rows:
        label = f"{row['broker']:<12} {row['database']:<11} {row['mail']:<5}"
        if "error" in row:
            print(f"{label} | {row['error']}")
            continue
        backlog, burst = row["backlog"], row["burst"]
        backlog_s = f"{backlog['seconds']:9.2f}" if backlog["sent"] == COUNT else "  not all"
        lag = burst["seconds"] - burst["written_in"]
        lag_s = f"{lag:18.2f}" if burst["sent"] == COUNT else f"{'not all':>18}"
        print(
            f"{label} | {backlog_s} {backlog['sent'] / backlog['seconds']:6.0f} | "
            f"{burst['written_in']:15.2f} {lag_s} {burst['tasks']:>6}"
        )
    print(
        f"\nbacklog: {COUNT:,} pending rows, one delivery task; seconds until the last is sent."
        f"\nburst: {COUNT:,} rows written one transaction each (each asks for a delivery task);"
        "\n       seconds to write them, then until the last is sent after the last write."
    )
    print("\nTarget: 1,000 pending notifications delivered in under 10 s on both brokers.")
    (results_dir / "mail.json").write_text(json.dumps(rows, indent=2))


# --- one run (a subprocess: Django set up with this configuration) -------------------------------


def measure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from notifications.models import Notification, NotificationStatus
    from notifications.services import notification_queue, notifications_dispatch

    settings.DEBUG = False  # no SQL kept in memory
    url = settings.DATABASES["default"]
    if url["ENGINE"].endswith("postgresql"):
        create_database_if_missing(url)
    call_command("migrate", verbosity=0, interactive=False)
    Notification.objects.all().delete()

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lapor", "worker", "--pool", "threads"]
        + ["--concurrency", "2", "--loglevel", "INFO", "--without-heartbeat"]
        + ["--without-gossip", "--without-mingle", "-n", f"bench-mail-{os.getpid()}@%h"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read():
        for line in worker.stdout:
            lines.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60):
        print("".join(lines[-50:]), file=sys.stderr)
        raise SystemExit("the worker did not start")

    def tasks_done() -> int:
        return sum("deliver_notifications[" in line and "succeeded" in line for line in lines)

    def wait_all_sent(started: float) -> dict:
        sent = 0
        while time.monotonic() - started < PATIENCE:
            sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
            if sent >= COUNT:
                break
            time.sleep(0.05)
        return {"sent": sent, "seconds": round(time.monotonic() - started, 3)}

    try:
        # Backlog: rows already pending, one delivery task (beat's round queues the same).
        Notification.objects.bulk_create(
            Notification(
                dedupe_key=f"bench:backlog:{i}",
                recipient=f"warga{i}@example.id",
                subject=f"Pengaduan LPR-BNCH-{i:04d}",
                body="Terima kasih. Kami telah menerima pengaduan Anda.\n" * 8,
            )
            for i in range(COUNT)
        )
        before = tasks_done()
        started = time.monotonic()
        notifications_dispatch()
        backlog = wait_all_sent(started)
        time.sleep(1)
        backlog["tasks"] = tasks_done() - before
        Notification.objects.all().delete()

        # Burst: each row written in its own transaction, its delivery asked for after commit.
        before = tasks_done()
        started = time.monotonic()
        for i in range(COUNT):
            with transaction.atomic():
                notification_queue(
                    dedupe_key=f"bench:burst:{i}",
                    recipient=f"warga{i}@example.id",
                    template="digest",
                    context={"kind": "reminder_agency", "rows": [], "count": 0},
                )
        written_in = round(time.monotonic() - started, 3)
        burst = wait_all_sent(started)
        burst["written_in"] = written_in
        deadline = time.monotonic() + 60
        while tasks_done() - before < COUNT and time.monotonic() < deadline:
            time.sleep(0.2)  # let the worker drain the (empty-handed) tasks before stopping it
        burst["tasks"] = tasks_done() - before
        twice = Notification.objects.exclude(attempts__lte=1).count()
        Notification.objects.all().delete()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        connection.close()
    print("RESULT " + json.dumps({"backlog": backlog, "burst": burst, "rows_tried_twice": twice}))


def create_database_if_missing(config: dict) -> None:
    import psycopg2

    params = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
    }
    conn = psycopg2.connect(**params)
    conn.autocommit = True  # CREATE DATABASE runs outside a transaction
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    finally:
        conn.close()


if __name__ == "__main__":
    main()
