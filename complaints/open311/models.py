"""Open311 clients: one api_key per client app, issued in the admin and stored hashed."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class Open311Client(AbstractAPIKey):
    """An app that files requests through Open311 GeoReport v2 (``api_key``)."""

    contact_email = models.EmailField(_("contact email"), blank=True)

    objects = BaseAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
