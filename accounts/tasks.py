"""Accounts' tasks: thin and safe to repeat. Queued by name; nothing imports this module."""

from celery import shared_task

from lapor.celery import RETRIED

from .services import signin_records_prune


@shared_task(**RETRIED, soft_time_limit=240, time_limit=300)
def prune_signin_records() -> int:
    """Retention: sign-in records and lock-out logs whose time is up (docs/privacy.md)."""
    return signin_records_prune()
