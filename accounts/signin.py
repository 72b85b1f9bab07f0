"""Sign-in: password, then (when the user has set it up) a code from an authenticator app."""

import base64
import time

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.selectors import staff_scope_for
from lapor.ratelimits import (
    failure_record,
    failures_wait,
    first_limit,
    target_key,
    too_many_requests,
)

from .forms import CodeForm, SignInForm, SignInPolicyForm
from .selectors import (
    landing_url,
    sign_in_policy,
    staff_two_factor_required,
    user_has_two_factor,
    user_is_staff,
)
from .services import (
    sign_in_policy_set,
    totp_device_confirm,
    totp_device_pending,
    totp_devices_remove,
    totp_enrolment_link_send,
    totp_enrolment_link_user,
)

SESSION_PENDING = "lapor_signin_pending"
# How long the code step waits after a correct password.
PENDING_SECONDS = 5 * 60
# Opening the emailed enrolment link lets this session set up an authenticator for so long.
SESSION_ENROL = "lapor_totp_enrol"
ENROL_GRANT_SECONDS = 30 * 60


def _safe_next(request, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


SIGNIN_FAILURES = "signin-failures-ip"


def address_wait(request) -> int | None:
    """Minutes this address must wait after too many failed sign-ins (any accounts), or None."""
    return failures_wait(request, group=SIGNIN_FAILURES, rate=settings.LAPOR_SIGNIN_FAILURE_RATE)


def address_failed(request) -> None:
    failure_record(request, group=SIGNIN_FAILURES, rate=settings.LAPOR_SIGNIN_FAILURE_RATE)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lock-out answer: what happened and what the person can do."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(
        request,
        "signin/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


class SignInView(LoginView):
    """Django's sign-in, with the code step for users who have an authenticator app."""

    template_name = "registration/login.html"
    form_class = SignInForm

    def post(self, request, *args, **kwargs):
        # The account is locked per address (django-axes); the address, whichever accounts it
        # tries, here.
        minutes = address_wait(request)
        if minutes:
            return too_many_requests(request, minutes)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        address_failed(self.request)
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        if user_has_two_factor(user):
            self.request.session[SESSION_PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "next": self.get_redirect_url(),
                "at": int(time.time()),
            }
            return redirect("signin-code")
        return super().form_valid(form)

    def get_default_redirect_url(self):
        return landing_url(self.request.user)


def _pending_user(request):
    pending = request.session.get(SESSION_PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(SESSION_PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request):
    user, pending = _pending_user(request)
    if user is None:
        if not request.user.is_authenticated:
            messages.info(
                request, _("Sign in with your email address (or username) and password first.")
            )
            return redirect("login")
        if request.user.is_verified() or not user_has_two_factor(request.user):
            return HttpResponseRedirect(
                _safe_next(request, request.GET.get("next")) or landing_url(request.user)
            )
        user = request.user  # signed in, asked for a code again (e.g. 2FA became mandatory)
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return locked_out(request, credentials=credentials)
    if request.method == "POST" and (minutes := address_wait(request)):
        return too_many_requests(request, minutes)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            next_url = (pending or {}).get("next") or request.GET.get("next")
            if pending:
                request.session.pop(SESSION_PENDING, None)
                login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request, next_url) or landing_url(user))
        # A wrong code counts as a failed sign-in, so codes cannot be guessed either.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        address_failed(request)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request, credentials=credentials)
        form.add_error(
            "token",
            _(
                "This code is not right. Check that the time on your phone is correct and "
                "enter the code the app shows now."
            ),
        )
    return render(request, "signin/code.html", {"form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Set up, or turn off, sign-in with an authenticator app."""
    user = request.user
    required = user_is_staff(user) and staff_two_factor_required()
    next_url = _safe_next(request, request.GET.get("next"))
    form = CodeForm(request.POST or None)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        if request.method == "POST" and form.is_valid():
            if required:
                form.add_error(
                    None, _("Two-factor sign-in is required for staff and cannot be turned off.")
                )
            elif match_token(user, form.cleaned_data["token"]) is None:
                form.add_error("token", _("This code is not right."))
            else:
                totp_devices_remove(user=user)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("two-factor")
        return render(
            request,
            "signin/two_factor_on.html",
            {"form": form, "required": required, "is_province": staff_scope_for(user).is_province},
        )
    if required and not _enrolment_granted(request, user):
        return _enrolment_link(request, user)
    device = totp_device_pending(user=user)
    if request.method == "POST" and form.is_valid():
        if totp_device_confirm(device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            request.session.pop(SESSION_ENROL, None)
            messages.success(
                request,
                _("Two-factor sign-in is on: from now on we ask for a code after your password."),
            )
            return HttpResponseRedirect(next_url or landing_url(user))
        form.add_error(
            "token",
            _("This code is not right. Scan the code again or check the time on your phone."),
        )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "signin/two_factor_setup.html",
        {
            "form": form,
            "required": required,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4, border=2),
            "is_province": staff_scope_for(user).is_province,
        },
    )


def _enrolment_granted(request, user) -> bool:
    grant = request.session.get(SESSION_ENROL) or {}
    return grant.get("user") == user.pk and time.time() - grant.get("at", 0) <= (
        ENROL_GRANT_SECONDS
    )


def _masked(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def _enrolment_link(request, user):
    """While two-factor sign-in is mandatory, the password alone does not set up the first
    authenticator (whoever knows it would enrol theirs): the owner's mailbox must agree, by a
    link sent to the account's address and opened in this session."""
    if request.method == "POST":
        minutes = first_limit(
            request,
            ("totp-enrol-ip", settings.LAPOR_EMAIL_TARGET_RATE, "ip"),
            ("totp-enrol-user", settings.LAPOR_EMAIL_TARGET_RATE, target_key(f"u{user.pk}")),
        )
        if minutes:
            return too_many_requests(request, minutes)
        if totp_enrolment_link_send(user=user):
            messages.success(
                request,
                _(
                    "We have sent a link to %(email)s. Open it in this browser, while signed "
                    "in, to set up your authenticator app."
                )
                % {"email": _masked(user.email)},
            )
        return redirect(request.get_full_path())
    return render(
        request,
        "signin/two_factor_link.html",
        {"email": _masked(user.email) if user.email else ""},
    )


@never_cache
@login_required
@require_safe
def two_factor_enrol(request):
    """The emailed link: lets this session (signed in as the link's user) set up a device."""
    found = totp_enrolment_link_user(request.GET.get("token", ""))
    user = request.user
    if found is None:
        messages.error(request, _("This link is not valid or has expired. Ask for a new one."))
    elif found != (user.pk, user.email.lower()):
        messages.error(request, _("This link is not for the account you use."))
    else:
        request.session[SESSION_ENROL] = {"user": user.pk, "at": int(time.time())}
    response = redirect("two-factor")
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def policy(request):
    """Provincial staff decide whether staff must use two-factor sign-in."""
    if not staff_scope_for(request.user).is_province:
        raise PermissionDenied
    current = sign_in_policy()
    form = SignInPolicyForm(
        request.POST or None,
        initial={"staff_two_factor_required": current.staff_two_factor_required},
    )
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["staff_two_factor_required"]
        sign_in_policy_set(staff_two_factor_required=required, by=request.user)
        messages.success(
            request,
            _("Two-factor sign-in is now required for staff.")
            if required
            else _("Two-factor sign-in is now optional for staff."),
        )
        return redirect(reverse("signin-policy"))
    return render(request, "signin/policy.html", {"form": form, "policy": current})
