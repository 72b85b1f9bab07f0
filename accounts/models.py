from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInPolicy(models.Model):
    """The province's sign-in rules: one row, edited by provincial staff."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    staff_two_factor_required = models.BooleanField(
        _("two-factor sign-in required for staff"),
        default=False,
        help_text=_(
            "When on, officers, coordinators and provincial staff must sign in with a code "
            "from an authenticator app; those without one are asked to set it up first."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sign-in policy")
        verbose_name_plural = _("sign-in policy")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="signin_policy_single_row")
        ]

    def __str__(self):
        return str(_("Sign-in policy"))


class CitizenProfile(models.Model):
    """A citizen account's verified email: guest complaints with that address become theirs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen_profile"
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"profile {self.user_id}"
