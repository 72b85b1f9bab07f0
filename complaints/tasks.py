"""Celery tasks: thin, safe to repeat. Each calls a service; nothing imports this module.

Work is queued by task name (``app.send_task``), so this module is loaded only by the worker.
``acks_late`` is set on every task because each is safe to run twice: delivery claims rows
before sending them (``notifications.tasks``), the sweeps keep watermarks and write each
breach once.
"""

import logging

from celery import shared_task

from lapor.celery import RETRIED

from .enforcement import complaints_close_expired, deadlines_sweep
from .follows import area_digests_send, follows_prune_unconfirmed
from .services import attachments_prune_spam, complaints_anonymise_due
from .tally import tally_fold

logger = logging.getLogger(__name__)


@shared_task(**RETRIED, soft_time_limit=240, time_limit=300)
def sweep_deadlines() -> dict:
    """Reminders, breaches and escalations. Safe to run twice, and twice at once."""
    result = deadlines_sweep()
    if result.total:
        logger.info("deadline sweep: %s", result)
    return {
        "reminders": result.reminders,
        "follow_up_breaches": result.follow_up_breaches,
        "completion_breaches": result.completion_breaches,
        "triage_breaches": result.triage_breaches,
        "province_escalations": result.province_escalations,
        "notifications": result.notifications,
    }


@shared_task(**RETRIED, soft_time_limit=240, time_limit=300)
def close_expired() -> int:
    """Close resolved complaints whose ten-day reply window has passed."""
    return complaints_close_expired()


@shared_task(**RETRIED, soft_time_limit=50, time_limit=60)
def fold_tallies() -> int:
    """Move the figures' pending deltas into the tally. Safe to run twice, and twice at once."""
    return tally_fold()


@shared_task(**RETRIED, soft_time_limit=240, time_limit=300)
def anonymise_due() -> dict:
    """Retention: reporters' personal data and spam attachments whose time is up."""
    return {
        "anonymised": complaints_anonymise_due(),
        "spam_attachments": attachments_prune_spam(),
        "unconfirmed_follows": follows_prune_unconfirmed(),
    }


@shared_task(**RETRIED, soft_time_limit=240, time_limit=300)
def send_area_digests() -> int:
    """Area alerts: each follower's new public complaints since their last digest, if any."""
    return area_digests_send()
