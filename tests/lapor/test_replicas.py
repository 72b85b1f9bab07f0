"""Read replicas (lapor/dbrouter.py): public reads from a replica, the rest from the primary.

The router and the middleware are tested in-process; then, on PostgreSQL, a real streaming
replica: ``pg_basebackup -R`` of this machine's cluster into a temporary directory, started with
the cluster's own ``pg_ctl`` on a free port (it needs a ``replication`` line in pg_hba.conf:
``.ci/allow-replication``), and the portal served by a subprocess against the pair. Pausing the
replica's replay shows where each read went: a complaint written since is missing for an
anonymous visitor (replica) and present for a browser that just wrote (pinned to the primary).
"""

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from lapor import dbrouter
from lapor.dbrouter import ReplicaRouter, reading_from_replica, replica_fresh, replica_reads
from lapor.middleware import PIN_COOKIE, ReplicaReadsMiddleware
from tests.factories import UserFactory, complaint_submitted

ROOT = Path(__file__).resolve().parents[2]


# --- the router and the middleware ---------------------------------------------------------------


def test_without_replicas_every_read_goes_to_the_primary():
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(None) == "default"
        assert not reading_from_replica()


@override_settings(LAPOR_DATABASE_REPLICAS=["replica1", "replica2"])
def test_reads_go_to_a_replica_only_inside_replica_reads_and_writes_never():
    router = ReplicaRouter()
    assert router.db_for_read(None) == "default"
    with replica_reads():
        assert router.db_for_read(None) in {"replica1", "replica2"}
        assert router.db_for_write(None) == "default"
    assert router.db_for_read(None) == "default"
    assert router.allow_migrate("replica1", "complaints") is False
    assert router.allow_migrate("default", "complaints") is True


def _through_middleware(request):
    seen = {}

    def view(request):
        seen["replica"] = reading_from_replica()
        return HttpResponse("ok")

    response = ReplicaReadsMiddleware(view)(request)
    return seen["replica"], response


@override_settings(LAPOR_DATABASE_REPLICAS=["replica1"])
@pytest.mark.django_db
def test_a_replica_that_cannot_be_asked_how_far_it_replayed_is_not_read_from():
    # "replica1" is not a configured database here: replica_fresh cannot ask it.
    assert replica_fresh("replica1") is False
    request = RequestFactory().get("/complaints/")
    request.user = AnonymousUser()
    assert _through_middleware(request)[0] is False


@override_settings(LAPOR_DATABASE_REPLICAS=["replica1"])
@pytest.mark.django_db
def test_only_anonymous_safe_public_unpinned_requests_read_from_the_replica(monkeypatch):
    # The replica's freshness is tested against a real standby below; here only the rules.
    monkeypatch.setattr(dbrouter, "replica_fresh", lambda alias: True)
    factory = RequestFactory()

    def request(method="get", path="/complaints/", user=None, **extra):
        req = getattr(factory, method)(path, **extra)
        req.user = user or AnonymousUser()
        return req

    assert _through_middleware(request())[0] is True
    assert _through_middleware(request(path="/open311/v2/requests.json"))[0] is True
    assert _through_middleware(request(path="/api/v1/complaints/"))[0] is True
    for path in ("/peta/", "/peta/data/", "/data/complaints.csv", "/data/complaints.geojson"):
        assert _through_middleware(request(path=path))[0] is True, path
    # Staff pages, forms, signed-in visitors, API tokens, pinned browsers: the primary.
    assert _through_middleware(request(path="/dashboard/"))[0] is False
    assert _through_middleware(request(path="/complaints/new/"))[0] is False
    assert _through_middleware(request(user=UserFactory()))[0] is False
    assert _through_middleware(request(HTTP_AUTHORIZATION="Token x"))[0] is False
    pinned = request()
    pinned.COOKIES[PIN_COOKIE] = "1"
    assert _through_middleware(pinned)[0] is False
    # A write pins the browser to the primary for a few seconds.
    replica, response = _through_middleware(request(method="post", path="/complaints/new/"))
    assert replica is False
    assert response.cookies[PIN_COOKIE]["max-age"] == 10


# --- a real streaming replica -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def as_postgres(args: list[str], **kwargs):
    """Run a PostgreSQL tool as the postgres OS user (the server refuses to run as root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


@pytest.fixture
def streaming_replica():
    """A hot standby of this machine's cluster on a free port; stopped and removed after."""
    settings_dict = connection.settings_dict
    host, port = settings_dict["HOST"] or "127.0.0.1", str(settings_dict["PORT"] or 5432)
    if not (pg_bin("pg_basebackup") and pg_bin("pg_ctl")):
        pytest.skip("no pg_basebackup/pg_ctl on this machine")
    work = Path(tempfile.mkdtemp(prefix="lapor-replica-"))
    data = work / "data"
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    replica_port = free_port()
    try:
        as_postgres(
            [pg_bin("pg_basebackup"), "-h", host, "-p", port, "-U", "postgres"]
            + ["-D", str(data), "-R", "-X", "stream", "-c", "fast"],
            timeout=300,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(
            f"pg_basebackup refused (replication allowed? .ci/allow-replication): {exc.stderr}"
        )
    # Debian keeps the configuration outside the data directory: give the standby its own.
    (data / "postgresql.conf").write_text("hot_standby = on\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    if os.geteuid() == 0:
        for path in (data / "postgresql.conf", data / "pg_hba.conf"):
            shutil.chown(path, "postgres", "postgres")
    options = f"-p {replica_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={work}"
    ctl = [pg_bin("pg_ctl"), "-D", str(data)]
    try:
        as_postgres([*ctl, "-o", options, "-l", str(work / "log"), "-W", "start"], timeout=60)
        # A hot standby opens for reads once it has seen a snapshot of the primary's running
        # transactions; a checkpoint on the primary writes one (others' long transactions can
        # otherwise keep it waiting for minutes).
        replica = {"host": "127.0.0.1", "port": replica_port}
        wait_until(lambda: standby_ready(replica), 300, poke=lambda: primary_checkpoint())
        yield replica
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            as_postgres([*ctl, "-m", "immediate", "stop"], timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def primary_checkpoint() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def standby_ready(replica: dict) -> bool:
    try:
        return replica_sql(replica, "postgres", "SELECT pg_is_in_recovery()")[0] is True
    except psycopg2.OperationalError:
        return False


def replica_sql(replica: dict, name: str, query: str, params=()):
    conn = psycopg2.connect(
        host=replica["host"], port=replica["port"], user="postgres", dbname=name
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchone() if cursor.description else None
    finally:
        conn.close()


def wait_until(check, seconds: float = 60, poke=None) -> None:
    deadline = time.monotonic() + seconds
    poked = time.monotonic()
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        if poke and time.monotonic() - poked > 5:
            poke()
            poked = time.monotonic()
        time.sleep(0.2)


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@pytest.fixture
def portal_on_the_pair(streaming_replica, tmp_path):
    settings_dict = connection.settings_dict
    name = settings_dict["NAME"]
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    primary = f"postgres://postgres@{host}:{port}/{name}"
    replica = f"postgres://postgres@127.0.0.1:{streaming_replica['port']}/{name}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DEBUG="1",
        DATABASE_URL=primary,
        DATABASE_REPLICA_URLS=replica,
        CELERY_BROKER_URL="filesystem://",
        LAPOR_VAR_DIR=str(tmp_path / "var"),
        LAPOR_BROKER_DIR=str(tmp_path / "broker"),
        CONN_MAX_AGE="0",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), 60)
        yield {"base": base, "replica": streaming_replica, "name": name}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def on_replica(pair: dict, code: str) -> bool:
    return bool(
        replica_sql(
            pair["replica"],
            pair["name"],
            "SELECT count(*) FROM complaints_complaint WHERE tracking_code = %s",
            [code],
        )[0]
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="streaming replication: PostgreSQL")
def test_public_pages_read_the_replica_and_a_writer_reads_its_own_writes(portal_on_the_pair):
    pair = portal_on_the_pair
    first = complaint_submitted().complaint
    assert first.status == "assigned"  # routed: public
    wait_until(lambda: on_replica(pair, first.tracking_code))

    visitor = Browser(pair["base"])
    for path in ("/", "/complaints/", f"/complaints/{first.tracking_code}/",
                 "/open311/v2/requests.json", "/api/v1/complaints/"):  # fmt: skip
        status, body = visitor.get(path)
        assert status == 200, path
    assert first.tracking_code in visitor.get("/complaints/")[1]

    # Replay paused: what the primary gets from now on is missing on the replica.
    replica_sql(pair["replica"], pair["name"], "SELECT pg_wal_replay_pause()")
    try:
        second = complaint_submitted(title="Jalan berlubang di depan pasar").complaint
        assert not on_replica(pair, second.tracking_code)
        # An anonymous visitor reads the replica: not there yet.
        assert visitor.get(f"/complaints/{second.tracking_code}/")[0] == 404
        # A browser that just wrote is pinned to the primary: its own complaint, and others'.
        writer = Browser(pair["base"])
        status, form = writer.get("/complaints/new/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        status, page = writer.post(
            "/complaints/new/",
            {
                "csrfmiddlewaretoken": token,
                "classification": "pengaduan",
                "title": "Lampu jalan padam di depan sekolah",
                "description": "Lampu penerangan jalan sudah tiga malam padam, jalan gelap.",
                "category": first.category_id,
                "region": first.region.code,
                "address": "Jl. A. Yani km 33, depan SDN 2",
                "incident_date": date.today().isoformat(),
                "reporter_name": "Pelapor Uji",
                "reporter_phone": "081234567890",
                "submission_token": str(uuid.uuid4()),
            },
        )
        assert status == 200  # the redirect after the write, followed: read from the primary
        code = re.search(r"LPR-[A-Z0-9-]+", page).group(0)
        assert not on_replica(pair, code)
        assert any(c.name == PIN_COOKIE for c in writer.jar)
        assert writer.get(f"/complaints/{second.tracking_code}/")[0] == 200
    finally:
        replica_sql(pair["replica"], pair["name"], "SELECT pg_wal_replay_resume()")
    # Replay resumed: the replica catches up and the visitor sees it.
    wait_until(lambda: visitor.get(f"/complaints/{second.tracking_code}/")[0] == 200, 60)
