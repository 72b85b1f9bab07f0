"""Delivery tasks: thin and safe to repeat (rows are claimed before they are sent).

Queued by name (``notifications.services.DELIVERY_TASK``); nothing imports this module.
"""

from celery import shared_task

from lapor.celery import RETRIED

from .services import notifications_deliver, notifications_prune


@shared_task(**RETRIED, soft_time_limit=150, time_limit=180)
def deliver_notifications(ids: list[int] | None = None) -> dict:
    """Send pending notifications, ``ids`` first, in batches through one mail connection."""
    return notifications_deliver(ids=ids).as_dict()


@shared_task(**RETRIED, soft_time_limit=150, time_limit=180)
def deliver_pending_notifications() -> dict:
    """Beat's delivery round: dead workers' claims back, then everything pending and due."""
    return notifications_deliver(sweep=True).as_dict()


@shared_task(**RETRIED, soft_time_limit=240, time_limit=300)
def prune_notifications() -> int:
    """Retention: old emails lose recipient and body (docs/privacy.md)."""
    return notifications_prune()
