"""Liveness and readiness: can this process reach its database and its broker?"""

import logging

from django.db import connection

logger = logging.getLogger(__name__)


def database_state() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("healthz: database unreachable: %s", exc)
        return False, exc.__class__.__name__
    return True, "ok"


def broker_state(timeout: float = 2.0) -> tuple[bool, str]:
    from lapor.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
            conn.default_channel  # noqa: B018 - opens the channel: really talks to the broker
    except Exception as exc:
        logger.warning("healthz: broker unreachable: %s", exc)
        return False, exc.__class__.__name__
    return True, "ok"
