import secrets

import pytest
from django.conf import settings

from .helpers import clean_env, manage


def production_env(tmp_path, **overrides):
    return clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="lapor.kalselprov.go.id",
        LAPOR_VAR_DIR=str(tmp_path),
        **overrides,
    )


def test_site_defaults_are_wita_and_indonesian():
    assert settings.TIME_ZONE == "Asia/Makassar"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "id"
    assert [code for code, _name in settings.LANGUAGES] == ["id", "en"]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_missing_secret_key_in_production_stops_with_one_sentence(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/lapor", "DATABASE_URL must start with sqlite:/// or postgres://"),
        ("not a url at all", "DATABASE_URL must start with sqlite:/// or postgres://"),
        ("postgres://postgres@127.0.0.1:5432", "names no database"),
    ],
)
def test_a_malformed_database_url_stops_with_one_sentence(tmp_path, url, expected):
    result = manage("check", env=production_env(tmp_path, DATABASE_URL=url))
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_an_unreachable_database_stops_with_one_sentence(tmp_path):
    env = production_env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:9/lapor")
    result = manage("migrate", env=env)
    assert result.returncode == 2
    assert "cannot be reached" in result.stderr
    assert "127.0.0.1:9/lapor" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_seed_demo_is_refused_with_debug_off(tmp_path):
    result = manage(
        "seed_demo", env=production_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    )
    assert result.returncode != 0
    assert "only with DEBUG=1" in result.stderr


def test_collectstatic_with_production_settings_hashes_and_compresses(tmp_path):
    static_root = tmp_path / "static"
    env = production_env(tmp_path, STATIC_ROOT=str(static_root))
    result = manage("collectstatic", "--noinput", env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = (static_root / "staticfiles.json").read_text()
    assert "vendor/leaflet/leaflet.js" in manifest
    assert "css/lapor.css" in manifest
    assert list(static_root.glob("vendor/leaflet/leaflet.*.js.gz")), "WhiteNoise compresses"
