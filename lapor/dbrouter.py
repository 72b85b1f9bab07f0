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
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

PRIMARY = "default"
_reads_from_replica: ContextVar[bool] = ContextVar("lapor_replica_reads", default=False)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "LAPOR_DATABASE_REPLICAS", ()))


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to a replica (when one is configured); writes still go to the primary."""
    token = _reads_from_replica.set(True)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


def reading_from_replica() -> bool:
    return _reads_from_replica.get() and bool(replica_aliases())


class ReplicaRouter:
    """Django database router: see the module's docstring."""

    def db_for_read(self, model, **hints):
        if _reads_from_replica.get():
            replicas = replica_aliases()
            if replicas:
                return random.choice(replicas)  # noqa: S311 - load spreading, not security
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas are copies of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
