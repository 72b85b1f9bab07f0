"""Counts of complaints and breaches kept by the database itself (see docs/figures.md).

Triggers on ``complaints_complaint`` and ``complaints_deadlinebreach`` append signed deltas to
``complaints_tallydelta`` for every insert, delete and update that changes a counted key, in
the same transaction as the change, whoever makes it (a service, a bulk ``update()``, the admin,
a future service nobody told about the figures). ``tally_fold`` (a beat task) moves the deltas
into ``complaints_tally`` atomically; ``complaints_tally_live`` (a view: tally UNION ALL deltas)
is what selectors read, so the figures are exact whether or not the fold has run.

Keys: ``subject`` ("complaint" or "breach"), region, agency (0 for none), ``month`` (the first
day of the local month of ``created_at``, or of the breach's ``recorded_at``), ``status`` (a
breach's kind), ``is_confidential`` and ``followed_up`` (first follow-up given); ``n`` counts.
"""

# Every statement here is built from the constants below, never from input.
# ruff: noqa: S608

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

TALLY = "complaints_tally"
DELTA = "complaints_tallydelta"
LIVE = "complaints_tally_live"
KEY = "subject, region_id, agency_id, month, status, is_confidential, followed_up"


def _month(column: str, vendor: str) -> str:
    """SQL for the first day of the local month of a UTC timestamp column."""
    if vendor == "postgresql":
        zone = settings.TIME_ZONE.replace("'", "")
        return f"date_trunc('month', {column} AT TIME ZONE '{zone}')::date"
    # SQLite keeps UTC text; the zone's offset now (Asia/Makassar has no daylight saving).
    offset = ZoneInfo(settings.TIME_ZONE).utcoffset(datetime.now(UTC).replace(tzinfo=None))
    offset = offset or timedelta(0)  # None only for a zone without an offset: none here
    minutes = int(offset.total_seconds() // 60)
    return f"strftime('%Y-%m-01', {column}, '{minutes:+d} minutes')"


def _complaint_key(row: str, vendor: str) -> str:
    return (
        f"'complaint', {row}region_id, COALESCE({row}assigned_agency_id, 0), "
        f"{_month(row + 'created_at', vendor)}, {row}status, {row}is_confidential, "
        f"{row}first_follow_up_at IS NOT NULL"
    )


def _breach_key(row: str, vendor: str) -> str:
    false = "false" if vendor == "postgresql" else "0"
    return (
        f"'breach', {row}region_id, COALESCE({row}agency_id, 0), "
        f"{_month(row + 'recorded_at', vendor)}, {row}kind, {false}, {false}"
    )


SOURCES = {
    # table: (key builder, columns whose change moves a row between keys)
    "complaints_complaint": (
        _complaint_key,
        (
            "region_id",
            "assigned_agency_id",
            "created_at",
            "status",
            "is_confidential",
            "first_follow_up_at",
        ),
    ),
    "complaints_deadlinebreach": (
        _breach_key,
        ("region_id", "agency_id", "recorded_at", "kind"),
    ),
}


def _postgresql_install(cursor) -> None:
    for table, (key, _columns) in SOURCES.items():
        function = f"{table}_tally"
        new_key, old_key = key("", "postgresql"), key("", "postgresql")
        cursor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO {DELTA} ({KEY}, n)
                SELECT {new_key}, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7;
              ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO {DELTA} ({KEY}, n)
                SELECT {old_key}, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7;
              ELSE
                INSERT INTO {DELTA} ({KEY}, n)
                SELECT {KEY}, sum(n) FROM (
                  SELECT {new_key}, 1 FROM new_rows
                  UNION ALL SELECT {old_key}, -1 FROM old_rows
                ) AS changes ({KEY}, n)
                GROUP BY {KEY} HAVING sum(n) <> 0;
              END IF;
              RETURN NULL;
            END $$;
            """
        )
        for event, referencing in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            cursor.execute(
                f"CREATE TRIGGER {table}_tally_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )


def _sqlite_install(cursor) -> None:
    for table, (key, columns) in SOURCES.items():
        new_key, old_key = key("NEW.", "sqlite"), key("OLD.", "sqlite")
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        cursor.execute(
            f"CREATE TRIGGER {table}_tally_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {DELTA} ({KEY}, n) VALUES ({new_key}, 1); END"
        )
        cursor.execute(
            f"CREATE TRIGGER {table}_tally_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {DELTA} ({KEY}, n) VALUES ({old_key}, -1); END"
        )
        cursor.execute(
            f"CREATE TRIGGER {table}_tally_update AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} WHEN {changed} BEGIN "
            f"INSERT INTO {DELTA} ({KEY}, n) VALUES ({old_key}, -1); "
            f"INSERT INTO {DELTA} ({KEY}, n) VALUES ({new_key}, 1); END"
        )


def _trigger_names() -> set[str]:
    events = ("insert", "update", "delete")
    return {f"{table}_tally_{event}" for table in SOURCES for event in events}


def _existing_triggers(cursor, vendor: str) -> set[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    return {row[0] for row in cursor.fetchall()} & _trigger_names()


def _drop_triggers(cursor, vendor: str) -> None:
    for table in SOURCES:
        for event in ("insert", "update", "delete"):
            on = f" ON {table}" if vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_tally_{event}{on}")


def _create_triggers(cursor, vendor: str) -> None:
    if vendor == "postgresql":
        _postgresql_install(cursor)
    else:
        _sqlite_install(cursor)


def tally_install(schema_editor) -> None:
    """Create the live view and the triggers (from the migration), then count what exists."""
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIEW {LIVE} AS SELECT 0 AS id, {KEY}, n FROM {TALLY} "
            f"UNION ALL SELECT 0, {KEY}, n FROM {DELTA}"
        )
        _create_triggers(cursor, vendor)
    tally_rebuild(using=schema_editor.connection)


def tally_ensure(*, using=None) -> bool:
    """Put the triggers back if a migration lost them, and count again; True when it had to.

    SQLite cannot alter most columns in place: Django copies the table into a new one and drops
    the old one, triggers and all. This runs after every ``migrate`` (``post_migrate``), so a
    later migration of the complaints or breaches table never leaves the figures uncounted.
    """
    conn = using or connection
    if TALLY not in conn.introspection.table_names():
        return False  # the tally's migration has not run (yet)
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if _existing_triggers(cursor, conn.vendor) == _trigger_names():
            return False
        _drop_triggers(cursor, conn.vendor)
        _create_triggers(cursor, conn.vendor)
    tally_rebuild(using=conn)
    return True


def tally_uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        _drop_triggers(cursor, vendor)
        if vendor == "postgresql":
            for table in SOURCES:
                cursor.execute(f"DROP FUNCTION IF EXISTS {table}_tally()")
        cursor.execute(f"DROP VIEW IF EXISTS {LIVE}")


def tally_rebuild(*, using=None) -> None:
    """Count everything again from the rows themselves (after a restore, or a TIME_ZONE change).

    Writers wait for the rebuild (share locks on both tables), so no change is counted twice or
    missed.
    """
    conn = using or connection
    vendor = conn.vendor
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                f"LOCK TABLE {', '.join(SOURCES)} IN SHARE MODE; "
                f"LOCK TABLE {TALLY}, {DELTA} IN EXCLUSIVE MODE"
            )
        cursor.execute(f"DELETE FROM {DELTA}")
        cursor.execute(f"DELETE FROM {TALLY}")
        for table, (key, _columns) in SOURCES.items():
            cursor.execute(
                f"INSERT INTO {TALLY} ({KEY}, n) SELECT {key('', vendor)}, count(*) FROM {table} "
                "GROUP BY 1, 2, 3, 4, 5, 6, 7"
            )


def tally_fold() -> int:
    """Move the pending deltas into the tally; returns how many delta rows were folded.

    One statement on PostgreSQL (``DELETE ... RETURNING`` feeding the upsert), so a reader sees
    each delta exactly once: in the deltas before the fold commits, in the tally after. SQLite
    has one writer at a time, so two statements in one transaction do the same there.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH moved AS (DELETE FROM {DELTA} RETURNING {KEY}, n),
                folded AS (
                  INSERT INTO {TALLY} ({KEY}, n)
                  SELECT {KEY}, sum(n) FROM moved GROUP BY {KEY}
                  ON CONFLICT ({KEY}) DO UPDATE SET n = {TALLY}.n + EXCLUDED.n
                )
                SELECT count(*) FROM moved
                """
            )
            folded = cursor.fetchone()[0]
        else:
            cursor.execute(f"SELECT max(id), count(*) FROM {DELTA}")
            last, folded = cursor.fetchone()
            if not folded:
                return 0
            cursor.execute(
                f"INSERT INTO {TALLY} ({KEY}, n) SELECT {KEY}, sum(n) FROM {DELTA} "
                f"WHERE id <= %s GROUP BY {KEY} "
                f"ON CONFLICT ({KEY}) DO UPDATE SET n = {TALLY}.n + excluded.n",
                [last],
            )
            cursor.execute(f"DELETE FROM {DELTA} WHERE id <= %s", [last])
        if folded:
            cursor.execute(f"DELETE FROM {TALLY} WHERE n = 0")
    return folded
