import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .selectors import staff_two_factor_required, user_has_two_factor, user_is_staff
from .sessions import (
    SESSION_IDLE_SECONDS,
    SESSION_LAST_SEEN,
    SESSION_STAFF,
    TOUCH_SECONDS,
    session_rules_remember,
)


class IdleSessionMiddleware:
    """Signs a user out after the idle limit of their kind (staff: short, citizens: long)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            session = request.session
            # Checked on every request (the staff scope is cached on the user for the page's
            # own use), so a role given or taken during a session applies at once.
            is_staff = user_is_staff(user)
            if session.get(SESSION_STAFF) != is_staff or SESSION_IDLE_SECONDS not in session:
                session_rules_remember(request, user, is_staff=is_staff)
            now = int(time.time())
            idle = session[SESSION_IDLE_SECONDS]
            last_seen = session.get(SESSION_LAST_SEEN, now)
            if now - last_seen > idle:
                logout(request)
                minutes = max(1, idle // 60)
                messages.info(
                    request,
                    ngettext(
                        "You were signed out after %(minutes)d minute without activity. "
                        "Sign in again to continue.",
                        "You were signed out after %(minutes)d minutes without activity. "
                        "Sign in again to continue.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= TOUCH_SECONDS:
                session[SESSION_LAST_SEEN] = now
                session.set_expiry(idle)
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """When the province requires it, staff reach nothing until they sign in with a code.

    A staff user without an authenticator is sent to set one up; one who has it but signed in
    before (or elsewhere) is asked for a code. Citizens are never asked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def exempt_paths(self) -> frozenset[str]:
        # Exact paths: the policy page below the set-up page is not among them.
        return frozenset(
            reverse(name)
            for name in (
                "login",
                "logout",
                "signin-code",
                "two-factor",
                "two-factor-enrol",
                "healthz",
            )
        )

    @cached_property
    def exempt_prefixes(self) -> tuple[str, ...]:
        return ("/i18n/", "/jsi18n/", "/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and request.session.get(SESSION_STAFF)
            and not user.is_verified()
            and request.path not in self.exempt_paths
            and not request.path.startswith(self.exempt_prefixes)
            and staff_two_factor_required()
        ):
            query = urlencode({"next": request.get_full_path()})
            if user_has_two_factor(user):
                return HttpResponseRedirect(f"{reverse('signin-code')}?{query}")
            messages.warning(
                request,
                _(
                    "Staff must sign in with two-factor authentication. Set up an "
                    "authenticator app on your phone to continue."
                ),
            )
            return HttpResponseRedirect(f"{reverse('two-factor')}?{query}")
        return self.get_response(request)
