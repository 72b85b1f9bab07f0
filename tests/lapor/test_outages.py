"""Faults: a Redis outage costs no complaint; a database outage gets an honest 503."""

import json
import logging
import shutil
import subprocess
import sys
import time

import pytest
import redis
import time_machine
from django.test import Client

from complaints.models import Complaint
from lapor.cache import RETRY_AFTER_SECONDS, ResilientRedisCache
from lapor.views import server_error
from notifications.models import Notification
from tests.factories import UserFactory
from tests.portal.test_views import form_data

from .helpers import BASE_DIR, clean_env, free_port


def redis_start(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    for _attempt in range(100):
        try:
            if client.ping():
                return server
        except redis.exceptions.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


def redis_stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_redis_outage_costs_no_complaint(settings, media_root, caplog):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = redis_start(port)
    try:
        settings.CACHES = {
            "default": {
                "BACKEND": "lapor.cache.ResilientRedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        settings.LAPOR_SUBMIT_RATE = "3/h"
        ResilientRedisCache._last_warning = ResilientRedisCache._down_until = 0.0
        citizen = Client()

        def submit(token: str):
            return citizen.post("/complaints/new/", form_data(submission_token=token))

        for n in range(2):
            response = submit(f"up{n}" * 3)
            assert response.status_code == 302 and response["Location"].endswith("/created/")

        redis_stop(server)
        with caplog.at_level(logging.WARNING, logger="lapor.cache"):
            for n in range(5):  # more than the limit allows: nothing counts, nothing is refused
                response = submit(f"dn{n}" * 3)
                assert response.status_code == 302, response.content.decode()[:500]
                assert response["Location"].endswith("/created/")
        assert "Cache (Redis) unavailable" in caplog.text
        assert Complaint.objects.count() == 7
        # Each reporter's confirmation waits in the outbox for the worker.
        assert Notification.objects.filter(recipient="siti@example.id").count() == 7

        # Sign-in does not depend on Redis: it works, and the lock-out still counts.
        UserFactory(username="warga")
        signing_in = Client()
        response = signing_in.post(
            "/accounts/login/", {"username": "warga", "password": "s3cret-pass-123"}
        )
        assert response.status_code == 302
        guesser = Client(REMOTE_ADDR="198.51.100.7")
        statuses = [
            guesser.post("/accounts/login/", {"username": "warga", "password": "x"}).status_code
            for _attempt in range(settings.AXES_FAILURE_LIMIT)
        ]
        assert statuses[-1] == 429

        server = redis_start(port)
        # After a failure the cache leaves Redis alone for a few seconds, then tries again.
        with time_machine.travel(time.time() + RETRY_AFTER_SECONDS + 1):
            statuses = [submit(f"ag{n}" * 3).status_code for n in range(4)]
        assert statuses == [302, 302, 302, 429]  # counting again (the restarted Redis is empty)
    finally:
        redis_stop(server)
        ResilientRedisCache._down_until = 0.0  # the back-off is per process: leave none behind


DATABASES_THAT_ARE_DOWN = [
    "postgres://postgres@127.0.0.1:1/lapor",  # nothing listens on port 1
    "sqlite:////nonexistent-directory/lapor.sqlite3",
]

SCRIPT = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost", raise_request_exception=False)
out = {}
def keep(name, response):
    out[name] = [response.status_code, response.get("Retry-After"), response.content.decode()]
form = {"title": "Lampu mati", "description": "Gelap", "category": "1", "region": "63.72",
        "classification": "pengaduan", "address": "Jl. A. Yani", "submission_token": "abcd1234",
        "incident_date": "2026-01-05", "reporter_name": "Siti", "reporter_email": "s@example.id"}
keep("submit", client.post("/complaints/new/", form))
keep("form", client.get("/complaints/new/"))
client.cookies["sessionid"] = "a" * 32  # a signed-in visitor: the session itself needs the database
keep("signed_in", client.get("/"))
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize("database_url", DATABASES_THAT_ARE_DOWN)
def test_a_database_outage_answers_503_and_says_nothing_was_saved(tmp_path, database_url):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="lapor.settings",
        DEBUG="0",  # as in production: errors outside views go to handler500
        PYTEST_VERSION="subprocess",  # plain static files, no manifest to build
        ALLOWED_HOSTS="localhost",
        LAPOR_VAR_DIR=str(tmp_path),
        DATABASE_URL=database_url,
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("submit", "form", "signed_in"):
        status, retry_after, page = outcome[name]
        assert status == 503, (name, page[:500])
        assert retry_after == "30"
        assert "tidak tersimpan" in page  # "was not saved"
        assert "kirim formulir yang sama sekali lagi" in page  # sending it again ...
        assert "hanya disimpan satu kali" in page  # ... is safe
        assert "tidak hilang" not in page


def test_other_errors_get_a_500_that_does_not_claim_anything_was_kept(rf):
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/complaints/new/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "tidak dapat memastikan apakah pengaduan itu tersimpan" in page
    assert "hanya disimpan satu kali" in page
    assert "tidak hilang" not in page
