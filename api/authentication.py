"""``Authorization: Token <key>`` for staff integrations; the key is checked against its hash."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import StaffToken

KEYWORDS = (b"token", b"bearer")


class StaffTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: give “Token” and the token, separated by one space.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token.")) from None
        try:
            token = StaffToken.objects.get_from_key(key)
        except StaffToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token.")) from None
        if token.has_expired or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            StaffToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.StaffTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Token integrasi staf, dibuat oleh admin provinsi di /admin/: "
                "`Authorization: Token <token>`."
            ),
        }
