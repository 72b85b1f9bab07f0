"""Write limits: per IP for anonymous callers, per account for sessions, per token.

The address is ``lapor.clientip.client_ip``'s, like the forms' limits and the login lock-out.

Rates come from ``settings.LAPOR_API_RATES`` when a request is checked, so a deployment (or a
test) can change them without a restart of the class. DRF answers 429 with ``Retry-After``.
"""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from lapor.clientip import client_ip

from .models import StaffToken


class _WriteThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.LAPOR_API_RATES.get(self.scope)

    def __init__(self):
        # The base class reads the rate in __init__; read ours at request time instead.
        pass

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request):
        """The client's address as every limiter of the project sees it (trusted proxies only;
        DRF's own reading would believe a client-sent X-Forwarded-For)."""
        return client_ip(request)

    def ident_for(self, request):
        """Whom this throttle counts (an IP, a user, a token): each subclass says."""
        raise NotImplementedError

    def get_cache_key(self, request, view):
        if request.method in SAFE_METHODS:
            return None
        ident = self.ident_for(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonWriteThrottle(_WriteThrottle):
    scope = "anon_write"

    def ident_for(self, request):
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class UserWriteThrottle(_WriteThrottle):
    scope = "user_write"

    def ident_for(self, request):
        if isinstance(request.auth, StaffToken) or not request.user.is_authenticated:
            return None
        return request.user.pk


class TokenWriteThrottle(_WriteThrottle):
    scope = "token_write"

    def ident_for(self, request):
        if isinstance(request.auth, StaffToken):
            return request.auth.prefix
        return None
