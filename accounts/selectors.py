"""Reads for sign-in: who counts as staff, what the policy asks, where a user lands."""

from django.urls import reverse
from django_otp import user_has_device

from agencies.selectors import staff_scope_for

from .models import SignInPolicy


def user_is_staff(user) -> bool:
    """Anyone who works on complaints or in the admin: the stricter session rules apply."""
    return bool(user.is_authenticated and (user.is_staff or staff_scope_for(user).is_staff))


def staff_two_factor_required() -> bool:
    return SignInPolicy.objects.filter(
        pk=SignInPolicy.SINGLETON_ID, staff_two_factor_required=True
    ).exists()


def sign_in_policy() -> SignInPolicy:
    return SignInPolicy.objects.filter(pk=SignInPolicy.SINGLETON_ID).first() or SignInPolicy(
        pk=SignInPolicy.SINGLETON_ID
    )


def user_has_two_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def landing_url(user) -> str:
    """Where a user goes after signing in when no page was asked for."""
    if user_is_staff(user):
        return reverse("dashboard")
    return reverse("my-complaints")
