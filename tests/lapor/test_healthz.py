import json
import subprocess
import sys

import pytest

from .helpers import BASE_DIR, clean_env

UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:9/lapor"  # nothing listens on port 9
UNREACHABLE_BROKER = "redis://127.0.0.1:9/0"


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert "no-cache" in response["Cache-Control"]


def healthz_in_a_fresh_process(tmp_path, **env_overrides) -> tuple[int, dict]:
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = clean_env(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="lapor.settings",
        LAPOR_VAR_DIR=str(tmp_path),
        **env_overrides,
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome["status"], outcome["body"]


def test_healthz_is_503_when_the_broker_is_unreachable(tmp_path):
    status, body = healthz_in_a_fresh_process(tmp_path, CELERY_BROKER_URL=UNREACHABLE_BROKER)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    status, body = healthz_in_a_fresh_process(tmp_path, DATABASE_URL=UNREACHABLE_DATABASE)
    assert status == 503
    assert body["database"]["ok"] is False
    assert body["broker"]["ok"] is True
