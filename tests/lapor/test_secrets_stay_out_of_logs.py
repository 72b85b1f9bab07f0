"""The private link's key never reaches a log or the session table.

The real servers are started (gunicorn with lapor/gunicorn.conf.py, as docker-compose.yml and the
Dockerfile run it, and Django's runserver, as `make run` does), asked for a complaint with
``?key=...``, and their logs read afterwards.
"""

import http.cookiejar
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from tests.factories import complaint_submitted

from .helpers import BASE_DIR, clean_env, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


SERVERS = {
    "gunicorn": lambda port: [
        sys.executable,
        "-m",
        "gunicorn",
        "lapor.wsgi",
        "-c",
        "lapor/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
    ],
    "runserver": lambda port: [
        sys.executable,
        "manage.py",
        "runserver",
        "--noreload",
        "--skip-checks",
        f"127.0.0.1:{port}",
    ],
}


def fetch(opener, url):
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture(params=sorted(SERVERS))
def server(request, tmp_path):
    port = free_port()
    log_path = tmp_path / "server.log"
    env = clean_env(
        DATABASE_URL=database_url(),
        DEBUG="1",
        LAPOR_VAR_DIR=str(tmp_path / "var"),
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            SERVERS[request.param](port), cwd=BASE_DIR, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=5).close()
            break
        except urllib.error.HTTPError:
            break  # it answers (503 without a broker is fine here)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)

    def stop_and_read_log() -> str:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if request.param == "gunicorn" else signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return log_path.read_text()

    try:
        yield request.param, base, stop_and_read_log
    finally:
        stop_and_read_log()


def test_the_private_link_key_is_in_no_access_log_and_no_session(server):
    name, base, stop_and_read_log = server
    result = complaint_submitted()
    code, key = result.complaint.tracking_code, result.access_key
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    status, headers, page = fetch(opener, f"{base}/complaints/{code}/?key={key}")
    assert status == 200, page[:2000]  # redirected to the plain URL, as the reporter
    assert "Siti Aminah" in page  # the reporter's own view: the link worked
    fetch(opener, f"{base}/complaints/{code}/?key={key}&lang=id")
    fetch(opener, f"{base}/complaints/LPR-0000-0000/?key={key}")  # a 404 is logged too

    log = stop_and_read_log()
    assert f"/complaints/{code}/" in log, log  # the requests were logged, ...
    assert key not in log, f"{name} logged the private link's key:\n{log}"  # ... without the key

    sessions = list(Session.objects.all())
    assert sessions, "the private link should have been remembered in a session"
    assert any(code in str(session.get_decoded()) for session in sessions)
    for session in sessions:
        assert key not in session.session_data
        assert key not in str(session.get_decoded())


def test_server_header_names_no_python_and_head_works(server):
    name, base, _stop = server
    for path in ("/healthz", "/complaints/new/"):
        request = urllib.request.Request(f"{base}{path}", method="HEAD")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            server_header = response.headers.get("Server", "")
            assert "python" not in server_header.lower(), server_header
            assert "/" not in server_header, server_header  # no version of anything
    request = urllib.request.Request(f"{base}/complaints/", method="TRACE")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
