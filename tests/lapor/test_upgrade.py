"""An existing database upgrades across the split into apps by job, with every row kept.

The last commit before the split (``BEFORE_SPLIT``) is taken from this repository's history,
migrated and filled with its own demo seed on a database of the suite's kind (PostgreSQL in CI,
SQLite on a laptop). Then this tree's migrations run on it. Every row of every table must still
be there afterwards (in the columns it had; later migrations may add columns, and data
migrations rows), the tables of models that changed app under their new names.
"""

import io
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from .helpers import BASE_DIR, clean_env

pytestmark = pytest.mark.slow

BEFORE_SPLIT = "8cc1181"
RENAMED = {
    "complaints_notification": "notifications_notification",
    "complaints_citizenprofile": "accounts_citizenprofile",
    "signin_signinpolicy": "accounts_signinpolicy",
    "complaints_api_stafftoken": "api_stafftoken",
    "complaints_open311_open311client": "api_open311client",
}


# The demo leaves some moved models' tables empty; a row in each proves it moved with its data.
FILL_MOVED_TABLES = """
from django.contrib.auth import get_user_model
from complaints.api.models import StaffToken
from complaints.models import CitizenProfile, Complaint, Notification
from complaints.open311.models import Open311Client
from signin.models import SignInPolicy

staff = get_user_model().objects.get(username="provinsi")
StaffToken.objects.create_key(name="integrasi", user=staff)
Open311Client.objects.create_key(name="aplikasi 311")
SignInPolicy.objects.update_or_create(pk=1, defaults={"staff_two_factor_required": True})
citizen = get_user_model().objects.get(username="warga")
CitizenProfile.objects.get_or_create(user=citizen)
Notification.objects.create(
    dedupe_key="upgrade-test", recipient="warga@example.id", subject="s", body="b",
    complaint=Complaint.objects.first(),
)
"""


def old_tree(into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(BASE_DIR), "archive", "--format=tar", BEFORE_SPLIT],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(tree: Path, *args: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        # The old tree's packages, not the installed ones, come first on the path.
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


@dataclass
class Table:
    columns: list[str]
    rows: set[str]


class Database:
    """A database of the suite's kind, made for this test and dropped after it."""

    def __init__(self, var: Path):
        engine = settings.DATABASES["default"]["ENGINE"]
        self.postgres = "postgresql" in engine
        if self.postgres:
            conf = settings.DATABASES["default"]
            self.name = f"lapor_upgrade_{uuid.uuid4().hex[:8]}"
            self.params = {
                "host": conf.get("HOST") or "127.0.0.1",
                "port": conf.get("PORT") or 5432,
                "user": conf.get("USER") or "postgres",
                "password": conf.get("PASSWORD") or "",
            }
            self._admin(f'CREATE DATABASE "{self.name}"')
            auth = self.params["user"]
            if self.params["password"]:
                auth += f":{self.params['password']}"
            self.url = f"postgres://{auth}@{self.params['host']}:{self.params['port']}/{self.name}"
        else:
            self.path = var / "upgrade.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _admin(self, sql: str) -> None:
        import psycopg2

        connection = psycopg2.connect(dbname="postgres", **self.params)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def connect(self):
        if self.postgres:
            import psycopg2

            return psycopg2.connect(dbname=self.name, **self.params)
        return sqlite3.connect(self.path)

    def tables(self, connection) -> list[str]:
        cursor = connection.cursor()
        if self.postgres:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            )
        return [row[0] for row in cursor.fetchall()]

    def snapshot(self, columns: dict[str, list[str]] | None = None) -> dict[str, Table]:
        """Every table's rows. With ``columns`` (the tables and columns of an earlier
        snapshot, by their old names), only those columns of each table, under its new name:
        later migrations may add columns, and data migrations rows, to a table."""
        connection = self.connect()
        try:
            found = {}
            present = set(self.tables(connection))
            wanted = columns or {table: ["*"] for table in present}
            for table, names in wanted.items():
                name = RENAMED.get(table, table) if columns else table
                if name not in present:
                    continue
                cursor = connection.cursor()
                selected = ", ".join("*" if c == "*" else f'"{c}"' for c in names)
                cursor.execute(f'SELECT {selected} FROM "{name}"')  # noqa: S608 - catalogue names
                found[table] = Table(
                    columns=[d[0] for d in cursor.description],
                    rows={repr(row) for row in cursor.fetchall()},
                )
            return found
        finally:
            connection.close()

    def drop(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def test_a_demo_database_of_the_old_layout_upgrades_with_every_row_kept():
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        database = Database(temp)
        try:
            env = clean_env(
                DEBUG="1",
                DATABASE_URL=database.url,
                LAPOR_VAR_DIR=str(temp / "var"),
                CELERY_BROKER_URL="memory://",
            )
            old = old_tree(temp / "old")
            run(old, "migrate", "--no-input", env=env)
            run(old, "seed_demo", env=env)
            run(old, "shell", "-c", FILL_MOVED_TABLES, env=env)
            before = database.snapshot()
            assert len(before["complaints_complaint"].rows) > 100  # the demo's year of complaints

            run(BASE_DIR, "migrate", "--no-input", env=env)
            after = database.snapshot({name: table.columns for name, table in before.items()})
            tables_after = set(database.snapshot())
        finally:
            database.drop()

    assert set(RENAMED) <= set(before)
    for old_name, new_name in RENAMED.items():
        assert before[old_name].rows, f"{old_name} has no row to carry over"
        assert old_name not in tables_after and new_name in tables_after
    for table, old in before.items():
        assert table in after, f"{table} is gone"
        new = after[table]
        if table == "django_content_type":
            # Moved models keep their content type's id; only the app label changes.
            assert {row.split(",")[0] for row in old.rows} <= {
                row.split(",")[0] for row in new.rows
            }
        else:
            lost = old.rows - new.rows
            assert not lost, f"{table} lost or changed {len(lost)} rows, e.g. {sorted(lost)[:2]}"
