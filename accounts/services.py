"""Writes for sign-in: the policy, the user's authenticator device, and the retention of
sign-in records."""

from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import SignInPolicy

DEVICE_NAME = "Authenticator"


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
