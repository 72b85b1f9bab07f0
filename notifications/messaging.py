"""Which way a reporter hears from us, and the phone numbers short messages go to.

``reporter_contact`` picks the channel from the reporter's contact and preference (the
complaint's ``notify_by``): an account's email; else the channel they chose when they left its
address or number; else email when they left an address, SMS when only a number. Everything goes
through the outbox (``notification_queue``) all the same. See docs/channels.md.
"""

import re
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Model

from .models import MessageChannel, Notification
from .services import notification_queue, reporter_address

PHONE_CHANNELS = (MessageChannel.SMS, MessageChannel.WHATSAPP)
_DIGITS = re.compile(r"\D")


def phone_normalise(raw: str) -> str:
    """An Indonesian mobile number as ``+62...`` (from 0812..., 62812..., +62 812-...), or ""
    when it is not one a message can reach."""
    raw = (raw or "").strip()
    digits = _DIGITS.sub("", raw)
    if raw.startswith("+") and not digits.startswith("62"):
        return ""  # another country's number: our gateways send within Indonesia
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not digits.startswith("628") or not 10 <= len(digits) <= 15:
        return ""
    return "+" + digits


def phone_masked(phone: str) -> str:
    """``+62812****7890``: enough for a reporter to recognise their number, not to dial it."""
    return phone[:6] + "****" + phone[-4:] if len(phone) > 10 else "****"


def short_link(tracking_code: str) -> str:
    """The short address of a complaint, for messages: ``<site>/k/<code>``."""
    return f"{settings.LAPOR_SITE_URL}/k/{tracking_code}"


class Contact(NamedTuple):
    channel: str
    recipient: str


def reporter_contact(complaint: Any) -> Contact | None:
    """Where a complaint's reporter hears from us (a complaints.Complaint), or None."""
    email = reporter_address(complaint)
    phone = phone_normalise(complaint.reporter_phone)
    preference = complaint.notify_by
    if complaint.reporter_id and email:
        return Contact(MessageChannel.EMAIL, email)
    if preference in PHONE_CHANNELS and phone:
        return Contact(preference, phone)
    if email:
        return Contact(MessageChannel.EMAIL, email)
    if phone:
        return Contact(MessageChannel.SMS, phone)
    return None


def reporter_notify(
    complaint: Model,
    *,
    dedupe_key: str,
    template: str,
    context: dict[str, Any],
    secret: str = "",
    unsubscribe_url: str = "",
) -> Notification | None:
    """Queue a message to a complaint's reporter, by email (``emails/<template>_*.txt``) or as a
    short message (``messages/<template>.txt``, with the tracking code and the short link).
    ``unsubscribe_url``: an email's one-click link, also sent as List-Unsubscribe (RFC 8058);
    short messages carry no link but the short one."""
    contact = reporter_contact(complaint)
    if contact is None:
        return None
    if contact.channel != MessageChannel.EMAIL:
        context = {**context, "link": short_link(getattr(complaint, "tracking_code", ""))}
    return notification_queue(
        dedupe_key=dedupe_key,
        recipient=contact.recipient,
        template=template,
        context=context,
        complaint=complaint,
        secret=secret if contact.channel == MessageChannel.EMAIL else "",
        unsubscribe_url=unsubscribe_url if contact.channel == MessageChannel.EMAIL else "",
        channel=contact.channel,
    )


def message_send(
    *, channel: str, to: str, dedupe_key: str, template: str, context: dict[str, Any]
) -> Notification | None:
    """Queue a short message to a phone number (a reply to an inbound message, a one-time
    code), through the outbox like every other."""
    return notification_queue(
        dedupe_key=dedupe_key,
        recipient=to,
        template=template,
        context=context,
        complaint=context.get("complaint"),
        channel=channel,
    )
