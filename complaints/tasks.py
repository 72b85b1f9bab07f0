"""Celery tasks: thin, safe to repeat. Each loads by id and calls a service."""

import logging
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMessage
from django.db import OperationalError, transaction
from django.utils import timezone

from .models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

# The periodic tasks are idempotent, so a redelivery after a crash (acks_late) is harmless;
# a lost database connection or a lock timeout is retried with back-off.
PERIODIC = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
    "soft_time_limit": 240,
    "time_limit": 300,
}


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_notification(notification_id: int) -> str:
    """Send one outbox email; a second delivery of the same id does nothing."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=NotificationStatus.PENDING)
            .first()
        )
        if notification is None:
            return "skipped"
        try:
            EmailMessage(
                subject=notification.subject,
                body=notification.body,
                to=[notification.recipient],
            ).send()
        except Exception as exc:  # SMTP and socket errors: try again later, with back-off
            notification.attempts += 1
            notification.last_error = str(exc)[:300]
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = NotificationStatus.FAILED
            else:
                notification.next_attempt_at = timezone.now() + timedelta(
                    minutes=2**notification.attempts
                )
            notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("notification %s not sent: %s", notification_id, exc)
            return "failed"
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        notification.attempts += 1
        notification.save(update_fields=["status", "sent_at", "attempts"])
    return "sent"


@shared_task(**PERIODIC)
def sweep_deadlines() -> dict:
    """Reminders, breaches and escalations. Safe to run twice, and twice at once."""
    from .enforcement import deadlines_sweep

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


@shared_task(**PERIODIC)
def close_expired() -> int:
    """Close resolved complaints whose ten-day reply window has passed."""
    from .enforcement import complaints_close_expired

    return complaints_close_expired()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def requeue_notifications() -> int:
    """Hand notifications left pending (broker down, worker crashed) to the broker again."""
    from .enforcement import notifications_requeue

    return notifications_requeue()


@shared_task(**PERIODIC)
def fold_tallies() -> int:
    """Move the figures' pending deltas into the tally. Safe to run twice, and twice at once."""
    from .tally import tally_fold

    return tally_fold()
