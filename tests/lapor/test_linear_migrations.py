"""Migrations stay linear: django-linear-migrations' system check passes on the real history and
fails on a planted second leaf or a stale max_migration.txt (CI runs `manage.py check`)."""

import uuid

from django_linear_migrations.apps import check_max_migration_files

INITIAL = """
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = []
"""

AFTER_INITIAL = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]
    operations = []
"""


def plant_migrations(tmp_path, monkeypatch, settings, files: dict[str, str], max_migration: str):
    """Point the api app at a migrations package made of `files`."""
    package = f"planted_migrations_{uuid.uuid4().hex}"
    directory = tmp_path / package
    directory.mkdir()
    (directory / "__init__.py").write_text("")
    for name, text in files.items():
        (directory / f"{name}.py").write_text(text)
    (directory / "max_migration.txt").write_text(max_migration + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.MIGRATION_MODULES = {"api": package}


def error_ids(errors) -> set[str]:
    return {error.id for error in errors}


def test_the_real_history_is_linear_and_every_max_migration_is_right():
    assert check_max_migration_files() == []


def test_a_second_leaf_fails_the_check(tmp_path, monkeypatch, settings):
    plant_migrations(
        tmp_path,
        monkeypatch,
        settings,
        {"0001_initial": INITIAL, "0002_one": AFTER_INITIAL, "0002_other": AFTER_INITIAL},
        "0002_one",
    )
    assert "dlm.E005" in error_ids(check_max_migration_files())


def test_a_max_migration_that_is_not_the_latest_fails_the_check(tmp_path, monkeypatch, settings):
    plant_migrations(
        tmp_path,
        monkeypatch,
        settings,
        {"0001_initial": INITIAL, "0002_one": AFTER_INITIAL},
        "0001_initial",
    )
    assert "dlm.E004" in error_ids(check_max_migration_files())
