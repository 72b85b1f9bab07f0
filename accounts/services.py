"""Writes for sign-in: the policy, the user's authenticator device, the emailed link that
opens a staff member's first enrolment while two-factor sign-in is mandatory, and the retention
of sign-in records."""

import secrets
from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.services import notification_queue

from .models import SignInPolicy

DEVICE_NAME = "Authenticator"
ENROL_SALT = "lapor.totp-enrol"
# How long the emailed enrolment link works.
ENROL_LINK_SECONDS = 60 * 60


def sign_in_policy_set(*, staff_two_factor_required: bool, by) -> SignInPolicy:
    policy, _ = SignInPolicy.objects.update_or_create(
        pk=SignInPolicy.SINGLETON_ID,
        defaults={"staff_two_factor_required": staff_two_factor_required, "updated_by": by},
    )
    return policy


def totp_device_pending(*, user) -> TOTPDevice:
    """The device being set up: an unconfirmed one, created on first visit, same secret after."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm the device when ``token`` is the code it shows now; drop other pending ones."""
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True


def totp_devices_remove(*, user) -> int:
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted


def signin_records_prune(*, now: datetime | None = None) -> int:
    """Delete sign-in records and lock-out logs (django-axes) older than
    ``LAPOR_RETENTION_SIGNIN_DAYS``: they hold usernames, addresses and browsers. Idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LAPOR_RETENTION_SIGNIN_DAYS)
    deleted = 0
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        count, _ = model.objects.filter(attempt_time__lte=cutoff).delete()
        deleted += count
    return deleted


def account_delete(*, user) -> None:
    """The citizen's erasure: the account goes (its complaints were anonymised first by
    ``complaints_personal_data_erase``, so none points at it). Staff accounts are never deleted
    this way."""
    if user.is_staff or user.is_superuser or user.staff_memberships.exists():
        raise PermissionError("staff accounts are not erased by their holder")
    user.delete()


def totp_enrolment_link_send(*, user) -> bool:
    """Email ``user`` a signed link (valid ``ENROL_LINK_SECONDS``) that opens the set-up of an
    authenticator in a session signed in as them. The link is the email's secret: it is kept
    out of the outbox's stored body and dropped once sent. False when there is no address."""
    if not user.email:
        return False
    token = signing.dumps({"user": user.pk, "email": user.email.lower()}, salt=ENROL_SALT)
    notification_queue(
        dedupe_key=f"totp-enrol:{user.pk}:{secrets.token_hex(8)}",
        recipient=user.email,
        template="totp_enrol",
        context={
            "user": user,
            "link_base": settings.LAPOR_SITE_URL + reverse("two-factor-enrol") + "?token=",
            "hours": ENROL_LINK_SECONDS // 3600,
        },
        secret=token,
    )
    return True


def totp_enrolment_link_user(token: str) -> tuple[int, str] | None:
    """The (user id, email address) a link was made for; None when forged or expired."""
    try:
        payload = signing.loads(token, salt=ENROL_SALT, max_age=ENROL_LINK_SECONDS)
    except signing.BadSignature:  # expired links included (SignatureExpired)
        return None
    if not isinstance(payload, dict):
        return None
    return payload.get("user"), str(payload.get("email", ""))
