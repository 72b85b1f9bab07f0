"""Pages and webhooks for reporters who have only a phone: the SMS/WhatsApp webhooks, the short
link messages carry, and following one's complaints by a one-time code sent to the number.
See docs/channels.md."""

import hashlib
import hmac
import logging
import secrets
import uuid

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.reporter_session import reporter_codes, reporter_remember
from complaints.codes import tracking_code_normalise
from complaints.scope import phone_reporter_codes
from complaints.selectors import complaints_of_codes
from lapor import webhooks
from lapor.ratelimits import (
    failure_record,
    failures_wait,
    first_limit,
    target_key,
    too_many_requests,
    wait_minutes,
)
from notifications.messaging import message_send, phone_masked, phone_normalise

from . import inbound

logger = logging.getLogger(__name__)

CODE_TTL = 600  # seconds a one-time code is valid
CODE_TRIES = 5  # wrong guesses of one code before it is void
SESSION_PHONE = "lapor_phone_pending"


# --- webhooks --------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request, channel: str):
    """One inbound message from the channel's provider, signed (docs/channels.md)."""
    if channel not in inbound.CHANNELS:
        raise Http404
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "too large"}, status=413)
    problem = inbound.signature_problem(
        channel,
        body=body,
        timestamp=request.headers.get(webhooks.TIMESTAMP_HEADER, ""),
        signature=request.headers.get(webhooks.SIGNATURE_HEADER, ""),
    )
    if problem:
        logger.warning("inbound %s webhook refused: %s", channel, problem)
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        message = inbound.message_parse(channel, body)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    minutes = wait_minutes(
        request,
        group="inbound-sender",
        rate=settings.LAPOR_INBOUND_SENDER_RATE,
        key=target_key(message.sender),
    )
    if minutes:
        logger.warning("inbound %s message dropped: sender over its rate", channel)
        return JsonResponse({"done": "ignored"})  # 2xx: the provider must not send it again
    try:
        done = inbound.message_handle(message)
    except ValidationError as exc:
        logger.warning("inbound %s message refused: %s", channel, exc.messages)
        return JsonResponse({"error": "refused"}, status=422)
    return JsonResponse({"done": done})


# --- the short link --------------------------------------------------------------------------


@require_safe
def short(request, tracking_code: str):
    """``/k/<code>``, the link in text messages: the complaint's page (which shows what this
    visitor may see, or offers to follow it by phone)."""
    code = tracking_code_normalise(tracking_code)
    if len(code) > 20:
        raise Http404
    return redirect("complaint-detail", tracking_code=code)


# --- following by phone ----------------------------------------------------------------------


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=20,
        help_text=gettext_lazy("The number you sent your complaint from, e.g. 0812 3456 7890."),
    )

    def clean_phone(self) -> str:
        phone = phone_normalise(self.cleaned_data["phone"])
        if not phone:
            raise ValidationError(_("Give an Indonesian mobile number, e.g. 0812 3456 7890."))
        return phone


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from the SMS"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": gettext_lazy("The code has 6 digits.")},
    )


def _code_key(phone: str) -> str:
    return "phone-code:" + hashlib.sha256(phone.encode()).hexdigest()


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), "sha256").hexdigest()


def phone_code_send(phone: str) -> None:
    """A fresh one-time code to ``phone`` by SMS, when that number filed a complaint (the page
    says the same either way, so it tells nobody which numbers did)."""
    if not phone_reporter_codes(phone):
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    cache.set(_code_key(phone), {"hash": _code_hash(phone, code), "tries": 0}, timeout=CODE_TTL)
    message_send(
        channel="sms",
        to=phone,
        dedupe_key=f"phone-code:{uuid.uuid4().hex}",
        template="phone_code",
        context={"code": code, "minutes": CODE_TTL // 60},
    )


def phone_code_check(phone: str, code: str) -> bool:
    """Whether ``code`` is the number's current code; it is used up when right, and void after
    ``CODE_TRIES`` wrong guesses."""
    key = _code_key(phone)
    stored = cache.get(key)
    if not stored:
        return False
    if hmac.compare_digest(stored["hash"], _code_hash(phone, code)):
        cache.delete(key)
        return True
    stored["tries"] += 1
    if stored["tries"] >= CODE_TRIES:
        cache.delete(key)
    else:
        cache.set(key, stored, timeout=CODE_TTL)
    return False


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def phone_follow(request):
    """Enter a number, get a code by SMS, see the complaints sent from that number."""
    phone_form = PhoneForm()
    code_form = CodeForm()
    pending = request.session.get(SESSION_PHONE, "")
    step = request.POST.get("step") if request.method == "POST" else ""
    if step == "send":
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            phone = phone_form.cleaned_data["phone"]
            minutes = first_limit(
                request,
                ("phone-code-ip", settings.LAPOR_PHONE_CODE_RATE, "ip"),
                ("phone-code-number", settings.LAPOR_PHONE_CODE_RATE, target_key(phone)),
            )
            if minutes:
                return too_many_requests(request, minutes)
            phone_code_send(phone)
            request.session[SESSION_PHONE] = phone
            return redirect("phone-follow")
    elif step == "verify" and pending:
        code_form = CodeForm(request.POST)
        wait = failures_wait(request, group="phone-code-check", rate=settings.LAPOR_PHONE_CODE_RATE)
        if wait:
            return too_many_requests(request, wait)
        if code_form.is_valid():
            if phone_code_check(pending, code_form.cleaned_data["code"].strip()):
                for code in sorted(phone_reporter_codes(pending)):
                    reporter_remember(request, code)
                request.session.pop(SESSION_PHONE, None)
                return redirect("phone-follow")
            failure_record(request, group="phone-code-check", rate=settings.LAPOR_PHONE_CODE_RATE)
            code_form.add_error("code", _("This code is wrong or has expired."))
    elif step == "restart":
        request.session.pop(SESSION_PHONE, None)
        return redirect("phone-follow")
    complaints = list(complaints_of_codes(reporter_codes(request))[:50])
    return render(
        request,
        "complaints/phone_follow.html",
        {
            "phone_form": phone_form,
            "code_form": code_form,
            "pending": phone_masked(pending) if pending else "",
            "complaints": complaints,
        },
    )
