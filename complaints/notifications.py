"""The notification outbox: rows written in the same transaction as the change they tell about.

Delivery happens in Celery after commit; when the broker is down, the row stays pending and the
periodic ``notifications_requeue`` task hands it over later. Nothing is lost.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from agencies.models import StaffMembership, StaffRole

from .models import Notification

logger = logging.getLogger(__name__)


def notification_queue(
    *, dedupe_key: str, recipient: str, template: str, context: dict, complaint=None
) -> Notification | None:
    """Write one outbox row (once per ``dedupe_key``) and hand it to Celery after commit."""
    if not recipient:
        return None
    subject, body = notification_render(template, context)
    notification, created = Notification.objects.get_or_create(
        dedupe_key=dedupe_key[:120],
        defaults={"recipient": recipient, "subject": subject, "body": body, "complaint": complaint},
    )
    if created:
        transaction.on_commit(lambda: notification_dispatch(notification.pk))
    return notification if created else None


def notification_render(template: str, context: dict) -> tuple[str, str]:
    """Subject and body of an email, in the site's language (Indonesian)."""
    context = {**context, "site_url": settings.LAPOR_SITE_URL}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        body = render_to_string(f"emails/{template}_body.txt", context)
    return " ".join(subject.split())[:200], body


def notifications_queue_many(rows: list[Notification]) -> int:
    """Write many unsaved outbox rows in one statement; each key is written once. The caller
    holds the transaction; the new rows go to Celery after commit. Returns how many."""
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    keys = [row.dedupe_key for row in rows]
    ids = list(
        Notification.objects.filter(
            dedupe_key__in=keys, attempts=0, sent_at__isnull=True
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: [notification_dispatch(pk) for pk in ids])
    return len(ids)


BROKER_DOWN_KEY = "lapor:broker-down"
BROKER_DOWN_SECONDS = 30


def notification_dispatch(notification_id: int, *, force: bool = False) -> bool:
    """Hand a notification to the broker; False (and logged) when the broker cannot take it.

    After a failure the broker is taken for down for half a minute, so that web requests do
    not each wait for a connection timeout; the rows stay pending and the requeue task (which
    passes ``force``) hands them over once the broker answers again.
    """
    from .tasks import deliver_notification

    if not force and cache.get(BROKER_DOWN_KEY):
        return False
    try:
        deliver_notification.apply_async(args=[notification_id], retry=False)
    except Exception as exc:  # kombu raises several kinds; the outbox row stays pending
        logger.warning(
            "broker unavailable, notification %s stays pending: %s", notification_id, exc
        )
        cache.set(BROKER_DOWN_KEY, True, BROKER_DOWN_SECONDS)
        return False
    if force:
        cache.delete(BROKER_DOWN_KEY)
    return True


def agency_recipients(agency) -> list[str]:
    """The agency's own address and those of its officers."""
    emails = set(
        get_user_model()
        .objects.filter(
            staff_memberships__agency=agency, staff_memberships__role=StaffRole.AGENCY_OFFICER
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if agency.email:
        emails.add(agency.email)
    return sorted(emails)


def coordinator_recipients(region) -> list[str]:
    return sorted(
        set(
            StaffMembership.objects.filter(role=StaffRole.REGION_COORDINATOR, region=region)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def province_recipients() -> list[str]:
    return sorted(
        set(
            StaffMembership.objects.filter(role=StaffRole.PROVINCE_STAFF)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def reporter_address(complaint) -> str:
    if complaint.reporter_id and complaint.reporter.email:
        return complaint.reporter.email
    return complaint.reporter_email
