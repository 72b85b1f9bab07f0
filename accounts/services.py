"""Writes for sign-in: the policy and the user's authenticator device."""

from django.db import transaction
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
