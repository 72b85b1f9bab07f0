"""Write limits of the API: per address for anonymous callers, per account for sessions, per
token. They are counted by the project's one rate-limit system (``lapor.ratelimits``, with
django-ratelimit's counters and ``lapor.clientip.client_ip`` for the address), like the forms'
limits: the same cache, the same reading of the address behind a proxy, the same fail-open
when the cache is down. These classes only adapt it to DRF, which answers 429 with
``Retry-After``.

Rates come from ``settings.LAPOR_API_RATES`` when a request is checked, so a deployment (or a
test) can change them without a restart.
"""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from lapor.ratelimits import target_key, wait_minutes

from .models import StaffToken


class _WriteThrottle(BaseThrottle):
    scope = ""

    def key_for(self, request):
        """Whom this throttle counts: "ip", or a key function for an account or a token; None
        when the request is not this throttle's to count."""
        raise NotImplementedError

    def allow_request(self, request, view):
        self._wait = None
        if request.method in SAFE_METHODS:
            return True
        key = self.key_for(request)
        if key is None:
            return True
        self._wait = wait_minutes(
            request._request,
            group=f"api-{self.scope}",
            rate=settings.LAPOR_API_RATES[self.scope],
            key=key,
        )
        return self._wait is None

    def wait(self):
        return self._wait * 60 if self._wait else None


class AnonWriteThrottle(_WriteThrottle):
    scope = "anon_write"

    def key_for(self, request):
        if request.user and request.user.is_authenticated:
            return None
        return "ip"


class UserWriteThrottle(_WriteThrottle):
    scope = "user_write"

    def key_for(self, request):
        if isinstance(request.auth, StaffToken) or not request.user.is_authenticated:
            return None
        return target_key(f"user:{request.user.pk}")


class TokenWriteThrottle(_WriteThrottle):
    scope = "token_write"

    def key_for(self, request):
        if isinstance(request.auth, StaffToken):
            return target_key(f"token:{request.auth.prefix}")
        return None
