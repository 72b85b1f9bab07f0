"""API credentials, stored hashed (djangorestframework-api-key): staff integration tokens and
Open311 clients' api_keys, both issued in the admin."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class StaffTokenManager(BaseAPIKeyManager):
    def get_usable_keys(self):
        return super().get_usable_keys().select_related("user")


class StaffToken(AbstractAPIKey):
    """A token a provincial admin issues in the admin for one staff account's integration.

    Only a hash of the token is stored; the admin shows the token once, when it is created.
    Requests made with it act as ``user``, with that account's staff scope.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("staff account"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = StaffTokenManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")


class Open311Client(AbstractAPIKey):
    """An app that files requests through Open311 GeoReport v2 (``api_key``)."""

    contact_email = models.EmailField(_("contact email"), blank=True)

    objects = BaseAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
