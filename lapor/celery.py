import functools
import os

from celery import Celery
from celery.worker.consumer import Consumer
from django.db import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")

app = Celery("lapor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Seconds between a worker's attempts to reach a broker that went away.
RECONNECT_EVERY = 2


class QuickReconnectConsumer(Consumer):
    """Celery's consumer, but retrying a lost broker every ``RECONNECT_EVERY`` seconds.

    kombu's default backs off 2, 4, 6 ... up to 30 s between attempts, so after an outage of a
    minute or two the worker alone could come back half a minute after the broker did; mail
    is meant to be on its way within 30 s (docs/notifications.md).
    """

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=RECONNECT_EVERY,
            interval_step=0,
            interval_max=RECONNECT_EVERY,
        )
        return super().ensure_connected(conn)


# A lost database connection or a lock timeout is retried with back-off.
RETRIED: dict = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
}
