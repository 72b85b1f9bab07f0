"""Celery tasks of the API app: thin, safe to repeat; nothing imports this module."""

from celery import shared_task

from lapor.celery import RETRIED

from .inbound_mail import imap_poll


@shared_task(**RETRIED, soft_time_limit=100, time_limit=110)
def poll_inbound_mail() -> dict:
    """Take the mailbox's unseen messages (only scheduled when an IMAP host is configured)."""
    return imap_poll()
