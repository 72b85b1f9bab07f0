"""Read replicas (lapor/dbrouter.py): public reads from a replica, the rest from the primary.

The router and the middleware are tested in-process; then, on PostgreSQL, a real streaming
replica (one for the module): ``pg_basebackup -R`` of this machine's cluster into a temporary
directory, started with the cluster's own ``pg_ctl`` on a free port (it needs a ``replication``
line in pg_hba.conf: ``.ci/allow-replication``), and the portal served by a subprocess against
the pair. Pausing the replica's replay shows where each read went: names and titles marked on
the primary since are missing from every public read family for an anonymous visitor (replica)
and present for a browser that just wrote (pinned to the primary); a complaint made rahasia
meanwhile is shown by no public read (the replica is behind the privacy change: the primary
answers).
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
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from complaints.services import complaint_privacy_change
from complaints.workflow import Role
from lapor import dbrouter
from lapor.dbrouter import ReplicaRouter, reading_from_replica, replica_fresh, replica_reads
from lapor.middleware import PIN_COOKIE, ReplicaReadsMiddleware
from tests.factories import UserFactory, complaint_submitted, province_staff

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


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="WAL positions: PostgreSQL")
def test_a_privacy_change_records_the_primarys_position_on_commit_and_never_lowers_it(
    django_capture_on_commit_callbacks,
):
    complaint = complaint_submitted().complaint
    cache.delete(dbrouter.WATERMARK_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_privacy_change(
            complaint=complaint,
            actor=province_staff(username="prov.watermark"),
            role=Role.PROVINCE_STAFF,
            is_anonymous=False,
            is_confidential=True,
        )
    recorded = cache.get(dbrouter.WATERMARK_KEY)
    assert recorded and recorded > 0
    # A later position recorded by another process is never lowered.
    cache.set(dbrouter.WATERMARK_KEY, recorded + 2**40)
    dbrouter.privacy_watermark_raise()
    assert cache.get(dbrouter.WATERMARK_KEY) == recorded + 2**40


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


@pytest.fixture(scope="module")
def streaming_replica(django_db_setup, django_db_blocker):
    """A hot standby of this machine's cluster on a free port, one for the module; stopped and
    removed after."""
    with django_db_blocker.unblock():
        yield from _streaming_replica()


def _streaming_replica():
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
        try:
            wait_until(lambda: standby_ready(replica), 600, poke=lambda: primary_checkpoint())
        except AssertionError:
            log = (work / "log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the standby did not open for reads:\n{log}") from None
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
            with self.opener.open(self.base + path, timeout=60) as response:
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


@pytest.fixture(scope="module")
def portal_on_the_pair(streaming_replica, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("portal")
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
        # A browser that wrote reads from the primary for the whole module.
        LAPOR_REPLICA_PIN_SECONDS="3600",
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


def primary_sql(query: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(query, params)


def caught_up(pair: dict) -> None:
    """Wait until the replica has replayed all the primary has written so far (so also past any
    privacy position the portal has recorded)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    query = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
    wait_until(lambda: replica_sql(pair["replica"], pair["name"], query, [target])[0], 300)


@contextlib.contextmanager
def replay_paused(pair: dict):
    """What the primary gets inside is missing on the replica until the block ends; after it
    the replica has caught up again."""
    Browser(pair["base"]).get("/api/v1/categories/")  # a replica read records the privacy position
    caught_up(pair)
    replica_sql(pair["replica"], pair["name"], "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        replica_sql(pair["replica"], pair["name"], "SELECT pg_wal_replay_resume()")
    caught_up(pair)


def pinned_browser(base: str) -> Browser:
    """A browser that has just written: pinned to the primary (read-your-own-writes)."""
    browser = Browser(base)
    browser.opener.addheaders.append(("Cookie", f"{PIN_COOKIE}=1"))
    return browser


MARK = "Zprimarymark"


def public_reads(code: str, year: int) -> list[str]:
    """One request of every public read family that goes to a replica."""
    bbox = "zoom=10&bbox=114.0,-4.0,116.5,-2.0"
    return [
        "/",
        "/complaints/",
        "/complaints/?q=Lampu",
        "/complaints/?category=pju&region=63.72&status=assigned",
        f"/complaints/{code}/",
        "/peta/",
        f"/peta/data/?{bbox}",
        "/data/complaints.csv",
        "/data/complaints.geojson",
        f"/rankings/{year}/",
        f"/rankings/{year}/?level=agency",
        f"/rankings/{year}/regions/63.72/",
        "/api/v1/complaints/",
        f"/api/v1/complaints/{code}/",
        f"/api/v1/complaints/{code}/timeline/",
        "/api/v1/categories/",
        "/api/v1/regions/",
        "/api/v1/agencies/",
        f"/api/v1/rankings/{year}/",
        f"/api/v1/rankings/{year}/?level=agency",
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        f"/open311/v2/requests/{code}.json",
    ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="streaming replication: PostgreSQL")
def test_every_public_read_comes_from_the_replica_and_a_writer_reads_its_own_writes(
    portal_on_the_pair,
):
    pair = portal_on_the_pair
    first = complaint_submitted(latitude=Decimal("-3.44"), longitude=Decimal("114.83")).complaint
    assert first.status == "assigned"  # routed: public
    year = first.created_at.year
    rankings_drafted(year)
    wait_until(lambda: on_replica(pair, first.tracking_code), 300)
    visitor, writer = Browser(pair["base"]), pinned_browser(pair["base"])
    paths = public_reads(first.tracking_code, year)

    with replay_paused(pair):
        # On the primary only: every name and title the public reads gets a mark.
        for table, column in (
            ("agencies_region", "name"),
            ("agencies_agency", "name"),
            ("agencies_category", "name_id"),
            ("agencies_category", "name_en"),
            ("complaints_complaint", "title"),
        ):
            primary_sql(f"UPDATE {table} SET {column} = {column} || ' {MARK}'")  # noqa: S608
        second = complaint_submitted(
            title="Jalan berlubang di depan pasar",
            latitude=Decimal("-3.44"),
            longitude=Decimal("114.83"),
        ).complaint
        assert not on_replica(pair, second.tracking_code)
        # Counted again with it: the ranking's figures (which carry no names) differ too.
        rankings_drafted(year)

        unproven = []
        for path in paths:
            status, body = visitor.get(path)
            assert status == 200, (path, status, body[:300])
            primary_status, primary_body = writer.get(path)
            assert primary_status == 200, path
            # The replica has not replayed the marks: the visitor's answer was read there.
            assert MARK not in body, path
            # Shown by a mark, or else by the newer complaint (a map count, a ranking figure).
            if MARK not in primary_body and primary_body == body:
                unproven.append(path)
        assert not unproven, f"nothing tells the two apart: {unproven}"

        # A complaint written since is missing for the visitor, there for a browser that wrote.
        assert visitor.get(f"/complaints/{second.tracking_code}/")[0] == 404
        assert writer.get(f"/complaints/{second.tracking_code}/")[0] == 200
        # Read-your-own-writes through the form: the POST pins the browser to the primary.
        submitter = Browser(pair["base"])
        status, form = submitter.get("/complaints/new/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        status, page = submitter.post(
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
        assert any(c.name == PIN_COOKIE for c in submitter.jar)
        assert submitter.get(f"/complaints/{second.tracking_code}/")[0] == 200
    # Replayed: the visitor sees what the primary has.
    assert visitor.get(f"/complaints/{second.tracking_code}/")[0] == 200
    assert MARK in visitor.get("/api/v1/categories/")[1]


def rankings_drafted(year: int) -> None:
    """The year's ranking at both levels, as a draft: what the public ranking pages show."""
    from awards.models import Level
    from awards.services import ranking_compute

    for level in Level.values:
        ranking_compute(year=year, level=level)


def is_public_on_replica(pair: dict, code: str) -> bool:
    return not replica_sql(
        pair["replica"],
        pair["name"],
        "SELECT is_confidential FROM complaints_complaint WHERE tracking_code = %s",
        [code],
    )[0]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="streaming replication: PostgreSQL")
def test_a_complaint_made_rahasia_is_never_shown_by_a_replica_that_lags_behind_it(
    portal_on_the_pair,
):
    pair = portal_on_the_pair
    secret = complaint_submitted(latitude=Decimal("-3.44"), longitude=Decimal("114.83")).complaint
    code = secret.tracking_code
    year = secret.created_at.year
    rankings_drafted(year)
    wait_until(lambda: on_replica(pair, code), 300)
    visitor = Browser(pair["base"])
    assert visitor.get(f"/complaints/{code}/")[0] == 200

    with replay_paused(pair):
        complaint_privacy_change(
            complaint=secret,
            actor=province_staff(username="prov.replica"),
            role=Role.PROVINCE_STAFF,
            is_anonymous=False,
            is_confidential=True,
        )
        # The replica still holds it as public: the privacy risk of a lagging replica.
        assert is_public_on_replica(pair, code)
        later = complaint_submitted(title="Jembatan retak di ujung desa").complaint
        # Every public read answers from the primary while the replica is behind the change.
        for path in public_reads(code, year):
            status, body = visitor.get(path)
            if code in path:
                assert status == 404, (path, status)
            else:
                assert status == 200, path
                assert code not in body, path
        # Served by the primary: a complaint written since is there.
        assert visitor.get(f"/complaints/{later.tracking_code}/")[0] == 200
    # Replayed: the replica serves again, and it no longer has the complaint public.
    assert not is_public_on_replica(pair, code)
    assert visitor.get(f"/complaints/{code}/")[0] == 404
    with replay_paused(pair):
        unseen = complaint_submitted(title="Drainase tersumbat di pasar").complaint
        assert visitor.get(f"/complaints/{unseen.tracking_code}/")[0] == 404  # the replica
