"""Rate limits on what costs the server work or sends email, with django-ratelimit's counters.

Each limit is counted per client address (``"ip"``, which honours ``RATELIMIT_IP_META_KEY``
behind a proxy) and, where a request aims at one thing (an email address, a complaint), per
target too, so that many addresses cannot wear down one target either. A limiter whose cache is
unreachable lets the request through: a lost counter costs less than a refused citizen.
"""

import hashlib
import logging
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def target_key(value: str):
    """A django-ratelimit key for one target (stored hashed, so no address sits in the cache)."""
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return lambda _group, _request: digest


def _usage(request, *, group: str, rate: str, key, increment: bool) -> dict | None:
    try:
        return get_usage(request, group=group, key=key, rate=rate, method=ALL, increment=increment)
    except ImproperlyConfigured:
        raise
    except Exception:  # cache down: fail open, and say so in the log
        logger.warning("Rate limit %s not counted: cache unavailable", group, exc_info=True)
        return None


def _minutes(usage: dict) -> int:
    return max(1, -(-usage["time_left"] // 60))


def wait_minutes(request, *, group: str, rate: str, key="ip") -> int | None:
    """Count this request; the minutes to wait when it is over ``rate``, else None."""
    usage = _usage(request, group=group, rate=rate, key=key, increment=True)
    if usage and usage["should_limit"]:
        return _minutes(usage)
    return None


def failures_wait(request, *, group: str, rate: str, key="ip") -> int | None:
    """For limits on failures only (``failure_record``): the minutes to wait when ``rate`` is
    used up already, else None. Counts nothing, so what succeeds costs nothing."""
    usage = _usage(request, group=group, rate=rate, key=key, increment=False)
    if usage and usage["count"] >= usage["limit"]:
        return _minutes(usage)
    return None


def failure_record(request, *, group: str, rate: str, key="ip") -> None:
    """Count one failure towards ``failures_wait``'s limit."""
    _usage(request, group=group, rate=rate, key=key, increment=True)


def first_limit(request, *limits: tuple[str, str, object]) -> int | None:
    """Count every ``(group, rate, key)``; the longest wait among those exceeded, or None."""
    waits = [wait_minutes(request, group=g, rate=r, key=k) for g, r, k in limits]
    waits = [minutes for minutes in waits if minutes]
    return max(waits) if waits else None


def too_many_requests(request, minutes: int):
    """429 with a page that says how long to wait, and the same in ``Retry-After``."""
    response = render(request, "too_many_requests.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def reporter_action_wait(request, complaint) -> int | None:
    """Count a reporter's reply, rating or reopening of ``complaint``, whichever door it comes
    through (the page's forms or the API): per client address and per complaint. Each writes an
    event and emails the agency; attachments cost decoding time. Minutes to wait, or None."""
    return first_limit(
        request,
        ("reporter-action-ip", settings.LAPOR_REPORTER_ACTION_RATE, "ip"),
        (
            "reporter-action-complaint",
            settings.LAPOR_REPORTER_ACTION_COMPLAINT_RATE,
            target_key(complaint.tracking_code),
        ),
    )


def contact_of(data, user) -> str | None:
    """Who a submission says it is from, to count it by: the account when signed in, else the
    email address (any case) or the phone number (digits only, ``+62``/``62`` read as ``0``)."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    email = (data.get("reporter_email") or "").strip().lower()
    if email:
        return f"email:{email}"
    digits = re.sub(r"\D", "", data.get("reporter_phone") or "")
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return f"phone:{digits}" if len(digits) >= 7 else None


def submission_wait(request) -> int | None:
    """Count a complaint sent from the form: per client address (``LAPOR_SUBMIT_RATE``) and per
    contact (``LAPOR_SUBMIT_CONTACT_RATE``). Minutes to wait, or None."""
    limits = [("complaint-submit-ip", settings.LAPOR_SUBMIT_RATE, "ip")]
    contact = contact_of(request.POST, request.user)
    if contact:
        limits.append(
            ("complaint-submit-contact", settings.LAPOR_SUBMIT_CONTACT_RATE, target_key(contact))
        )
    return first_limit(request, *limits)
