"""The notification outbox: rows written in the same transaction as the change they tell about.

Delivery happens in Celery after commit; when the broker is down, the row stays pending and the
periodic ``notifications_requeue`` task hands it over later. Nothing is lost.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from agencies.models import Agency, StaffMembership, StaffRole

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


PROVINCE = ("province", None)


def staff_recipients(audiences: set[tuple]) -> dict[tuple, list[str]]:
    """Email addresses of staff audiences, all in two queries.

    An audience is ``("agency", id)`` (its officers and the agency's own address),
    ``("region", id)`` (its coordinators) or ``PROVINCE`` (provincial staff).
    """
    agency_ids = {value for kind, value in audiences if kind == "agency"}
    region_ids = {value for kind, value in audiences if kind == "region"}
    wanted = Q(role=StaffRole.AGENCY_OFFICER, agency_id__in=agency_ids) | Q(
        role=StaffRole.REGION_COORDINATOR, region_id__in=region_ids
    )
    if PROVINCE in audiences:
        wanted |= Q(role=StaffRole.PROVINCE_STAFF)
    result: dict[tuple, set[str]] = defaultdict(set)
    for role, agency_id, region_id, email in (
        StaffMembership.objects.filter(wanted)
        .exclude(user__email="")
        .values_list("role", "agency_id", "region_id", "user__email")
    ):
        if role == StaffRole.AGENCY_OFFICER:
            result[("agency", agency_id)].add(email)
        elif role == StaffRole.REGION_COORDINATOR:
            result[("region", region_id)].add(email)
        else:
            result[PROVINCE].add(email)
    for agency_id, email in (
        Agency.objects.filter(pk__in=agency_ids).exclude(email="").values_list("pk", "email")
    ):
        result[("agency", agency_id)].add(email)
    return {audience: sorted(emails) for audience, emails in result.items()}


def notification_queue_each(
    audience: tuple, *, key: str, template: str, context: dict, complaint=None
) -> None:
    """One outbox row per address of a staff audience; ``key`` is made unique per address."""
    for recipient in staff_recipients({audience}).get(audience, []):
        notification_queue(
            dedupe_key=f"{key}:{recipient}",
            recipient=recipient,
            template=template,
            context=context,
            complaint=complaint,
        )


def reporter_address(complaint) -> str:
    if complaint.reporter_id and complaint.reporter.email:
        return complaint.reporter.email
    return complaint.reporter_email
