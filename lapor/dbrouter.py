"""Read replicas: public reads go to a replica, everything else to the primary.

``DATABASE_REPLICA_URLS`` (comma-separated PostgreSQL URLs of streaming replicas) adds the
database aliases ``replica1``, ``replica2``, ... . The router sends a read to one of them only
inside ``replica_reads()``, which ``lapor.middleware.ReplicaReadsMiddleware`` opens for safe
requests (GET, HEAD) by anonymous visitors on the public paths of ``LAPOR_REPLICA_PATHS``
(lists, search, complaint pages, rankings, Open311, API reads) that carry no Authorization
header and are not pinned. Every write, every read outside that window (staff pages, forms,
sign-in, the sweeps and the worker) uses the primary.

Read-your-own-writes: any unsafe request (POST, PUT, PATCH, DELETE) sets a short-lived cookie
(``LAPOR_REPLICA_PIN_SECONDS``, 10 s) that pins the browser's next requests to the primary, so a
visitor who just submitted a complaint, or rated one, sees it at once even if the replica is a
moment behind.

Privacy during lag: a complaint made rahasia (or anonim, or hidden by a workflow move, or
stripped of its reporter's data) on the primary is still public on a replica that has not
replayed that commit yet. A lag bound (refusing replicas more than N seconds behind) would only
shorten that window, so the rule is exact instead: every such change records, once committed,
the primary's WAL position in the shared cache (``privacy_watermark_raise``, called by the
services on commit), and a request reads from a replica only when that replica has replayed at
least that far (``replica_fresh``); otherwise it reads from the primary. A replica that cannot be
asked answers "not fresh" too. When the cache holds no position (emptied, or Redis down) the
primary's present position stands in for it, which covers every change committed before.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.utils.connection import ConnectionDoesNotExist

PRIMARY = "default"
WATERMARK_KEY = "lapor:replica:privacy-lsn"
_reads_from_replica: ContextVar[str | None] = ContextVar("lapor_replica_reads", default=None)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "LAPOR_DATABASE_REPLICAS", ()))


@contextmanager
def replica_reads(alias: str | None = None) -> Iterator[None]:
    """Reads inside go to the replica ``alias`` (by default one chosen at random, when any is
    configured); writes still go to the primary."""
    replicas = replica_aliases()
    chosen = alias or (random.choice(replicas) if replicas else "")  # noqa: S311 - load spreading
    token = _reads_from_replica.set(chosen or None)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


def reading_from_replica() -> bool:
    return bool(_reads_from_replica.get()) and bool(replica_aliases())


def _lsn_bytes(text: str) -> int:
    """A pg_lsn such as ``0/3000148`` as a number of bytes."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _primary_position() -> int | None:
    primary = connections[PRIMARY]
    if primary.vendor != "postgresql":
        return None
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return _lsn_bytes(cursor.fetchone()[0])


def privacy_watermark_raise() -> None:
    """Call after a commit that narrows what the public may see of a complaint: replicas that
    have not replayed the primary's present position are not read from until they have."""
    position = _primary_position()
    if position is None:
        return
    for _attempt in range(3):  # never lower a position another process has just recorded
        recorded = cache.get(WATERMARK_KEY)
        if recorded is not None and recorded >= position:
            return
        cache.set(WATERMARK_KEY, position, timeout=None)


def _watermark() -> int | None:
    recorded = cache.get(WATERMARK_KEY)
    if recorded is None:
        recorded = _primary_position()
        if recorded is not None:
            cache.add(WATERMARK_KEY, recorded, timeout=None)
    return recorded


def replica_fresh(alias: str) -> bool:
    """Whether ``alias`` has replayed every privacy-narrowing change committed on the primary
    (see the module's docstring). False when it cannot be asked."""
    try:
        watermark = _watermark()
        if watermark is None:
            return False  # no PostgreSQL primary to compare with: do not trust the replica
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()::text")
            replayed = cursor.fetchone()[0]
    except (DatabaseError, ConnectionDoesNotExist):
        return False
    return replayed is not None and _lsn_bytes(replayed) >= watermark


class ReplicaRouter:
    """Django database router: see the module's docstring."""

    def db_for_read(self, model, **hints):
        alias = _reads_from_replica.get()
        if alias and alias in replica_aliases():
            return alias
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas are copies of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
