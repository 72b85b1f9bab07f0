"""Complaints by SMS and WhatsApp: a provider's signed webhook hands us one message at a time.

- ``signature_problem`` checks the HMAC-SHA256 of ``<timestamp>.<body>`` with the channel's
  secret, that the timestamp is recent, and that this signature was not seen before (a replay).
- ``message_parse`` reads the payload (``{"id", "from", "text", "media": [{"url"} | {"data",
  "filename"}]}``) or raises ``ValueError``.
- ``message_handle`` answers it: ``STATUS <code>`` gets the status; the answer to our question
  completes the complaint that asked it; anything else is a new complaint, in triage, through
  ``complaint_submit``, with a reply carrying its tracking code, and one question back when the
  regency or category could not be read from the text. Photos go through the same checks as the
  form's uploads; a refused one gets a message back.

Every reply goes through the outbox. See docs/channels.md.
"""

import base64
import binascii
import hashlib
import json
import logging
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Category, Region
from complaints.attachments import MAX_FILE_BYTES, MAX_FILES, CleanFile, clean_uploads
from complaints.codes import tracking_code_normalise
from complaints.models import Channel, Classification, Complaint
from complaints.scope import phone_reporter_codes
from complaints.selectors import (
    FALLBACK_CATEGORY,
    complaint_awaiting_answer,
    complaint_details_missing,
    complaint_for_detail,
)
from complaints.services import complaint_details_answer, complaint_submit
from lapor import webhooks
from notifications.messaging import message_send, phone_normalise, short_link

logger = logging.getLogger(__name__)

CHANNELS = {"sms": Channel.SMS, "whatsapp": Channel.WHATSAPP}
MAX_TEXT = 5000
TITLE_LENGTH = 80
MEDIA_TIMEOUT = 10
_STATUS = re.compile(r"^\s*STATUS\b\s*(?P<code>.*)$", re.IGNORECASE | re.DOTALL)
_FLAGS = re.compile(r"^\s*(?P<flag>RAHASIA|ANONIM)\b[\s:,.-]*", re.IGNORECASE)
_WORDS = re.compile(r"[^\w]+")

# Short names people text for a regency or city, beside the names themselves (by code).
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "63.01": ("tala",),
    "63.04": ("batola",),
    "63.06": ("hss",),
    "63.07": ("hst",),
    "63.08": ("hsu",),
    "63.10": ("tanbu",),
    "63.71": ("bjm",),
    "63.72": ("bjb",),
}
# Words that name a category in a text message (by category code), Indonesian as people write.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "pju": ("lampu", "pju", "penerangan"),
    "jalan": ("jalan", "jembatan", "aspal", "berlubang", "lubang"),
    "drainase": ("banjir", "drainase", "got", "selokan", "parit", "genangan"),
    "parkir": ("parkir", "jukir"),
    "sampah": ("sampah", "kebersihan", "tps"),
    "air": ("pdam", "air bersih", "air"),
    "kesehatan": ("puskesmas", "rumah sakit", "kesehatan", "bpjs", "dokter"),
    "pendidikan": ("sekolah", "guru", "pendidikan", "murid"),
    "adminduk": ("ktp", "kk", "akta", "disdukcapil", "kependudukan"),
    "ketertiban": ("ketertiban", "pkl", "preman", "satpol"),
}


@dataclass
class Media:
    name: str
    content: bytes | None = None  # None: could not be fetched
    problem: str = ""


@dataclass
class InboundMessage:
    channel: str
    sender: str  # +62...
    text: str
    message_id: str
    media: list[Media] = field(default_factory=list)


# --- signature -------------------------------------------------------------------------------


def webhook_secret(channel: str) -> str:
    config = settings.LAPOR_MESSAGING.get(channel) or {}
    return config.get("webhook_secret", "")


def signature_problem(channel: str, *, body: bytes, timestamp: str, signature: str) -> str:
    """Why this request is not a genuine, fresh message from the channel's provider, or "".

    The signature and its freshness are checked by ``lapor.webhooks`` (as for every signed
    webhook); a signature is also accepted only once, so a captured call cannot be replayed
    even within the time it would still be fresh."""
    secret = webhook_secret(channel)
    if not secret:
        return "no webhook secret configured"
    if not webhooks.signature_valid(
        secret=secret, body=body, timestamp=timestamp, signature=signature.strip()[:100]
    ):
        return "bad or stale signature"
    digest = webhooks.signature_for(secret, body, timestamp)[len("sha256=") :]
    seen = f"webhook-seen:{channel}:{digest}"
    try:
        fresh = cache.add(seen, 1, timeout=2 * webhooks.TOLERANCE_SECONDS + 60)
    except Exception:  # the cache is down: refuse, the provider sends it again later
        logger.warning("webhook replay check unavailable", exc_info=True)
        return "replay check unavailable"
    return "" if fresh else "signature seen before (replay)"


# --- payload ---------------------------------------------------------------------------------


def message_parse(channel: str, body: bytes) -> InboundMessage:
    """The message in a provider's payload; ``ValueError`` with the reason when it is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    sender = data.get("from")
    text = data.get("text", "")
    message_id = data.get("id", "")
    media = data.get("media", [])
    if not isinstance(sender, str) or not phone_normalise(sender):
        raise ValueError("'from' is not an Indonesian mobile number")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ValueError(f"'text' must be a string of at most {MAX_TEXT} characters")
    if not isinstance(message_id, str | int) or len(str(message_id)) > 100:
        raise ValueError("'id' must be a short string")
    if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
        raise ValueError("'media' must be a list of objects")
    if channel != "whatsapp" and media:
        raise ValueError("only WhatsApp messages carry media")
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
    if not message_id:  # without the provider's id, the body itself identifies the message
        message_id = hashlib.sha256(body).hexdigest()[:40]
    return InboundMessage(
        channel=channel,
        sender=phone_normalise(sender),
        text=text,
        message_id=str(message_id),
        media=[_media(item, index) for index, item in enumerate(media[: MAX_FILES + 1])],
    )


def _media(item: dict, index: int) -> Media:
    name = item.get("filename") if isinstance(item.get("filename"), str) else ""
    name = name or f"foto-{index + 1}"
    if isinstance(item.get("data"), str):
        encoded = item["data"]
        if len(encoded) > (MAX_FILE_BYTES + 2) * 4 // 3 + 4:
            return Media(name, problem=_("“%(name)s” is larger than 10 MB.") % {"name": name})
        try:
            return Media(name, base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError("'media.data' is not base64") from None
    if isinstance(item.get("url"), str):
        return _media_fetch(item["url"], name)
    raise ValueError("each 'media' item needs 'url' or 'data'")


def _media_fetch(url: str, name: str) -> Media:
    """Download a photo the provider holds, only from its own hosts (never an address a
    sender chose: that would let anyone make the server fetch internal URLs)."""
    config = settings.LAPOR_MESSAGING.get("whatsapp") or {}
    allowed = set(config.get("media_hosts") or ())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in allowed:
        raise ValueError("'media.url' is not on the provider's media host")
    unavailable = _("We could not fetch “%(name)s”.") % {"name": name}
    try:
        with urllib.request.urlopen(url, timeout=MEDIA_TIMEOUT) as answer:  # noqa: S310
            content = answer.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError):
        logger.warning("inbound media could not be fetched", exc_info=True)
        return Media(name, problem=unavailable)
    return Media(name, content)


# --- answering ---------------------------------------------------------------------------------


def message_handle(message: InboundMessage) -> str:
    """Act on one inbound message; returns what was done ("status", "answer", "complaint",
    "ignored"). Safe to repeat: a message the provider sends again changes nothing twice."""
    status = _STATUS.match(message.text)
    if status:
        _status_answer(message, status.group("code"))
        return "status"
    codes = phone_reporter_codes(message.sender)
    waiting = complaint_awaiting_answer(reporter_codes=codes, channels=[message.channel])
    if waiting is not None:
        _answer(message, waiting)
        return "answer"
    if not message.text:
        _refusals_tell(message, "", _files(message)[1])
        _reply(message, "help", {})
        return "ignored"
    _complaint_new(message)
    return "complaint"


def _reply(message: InboundMessage, template: str, context: dict, *, key: str = "") -> None:
    message_send(
        channel=message.channel,
        to=message.sender,
        dedupe_key=f"in:{message.channel}:{message.message_id}:{key or template}",
        template=template,
        context=context,
    )


def _files(message: InboundMessage) -> tuple[list[CleanFile], list[str]]:
    """The message's photos, checked and cleaned one by one like the form's uploads (so one
    refused photo does not cost the others), and why the others were refused."""
    problems = [m.problem for m in message.media if m.problem]
    cleaned: list[CleanFile] = []
    for item in message.media:
        if item.content is None:
            continue
        try:
            cleaned += clean_uploads([SimpleUploadedFile(item.name, item.content)])
        except ValidationError as refusal:
            problems += refusal.messages
    if len(cleaned) > MAX_FILES:
        problems.append(_("You can attach at most 5 files."))
        cleaned = cleaned[:MAX_FILES]
    return cleaned, problems


def _refusals_tell(message: InboundMessage, code: str, problems: list[str]) -> None:
    if problems:
        _reply(message, "file_refused", {"code": code, "reason": " ".join(problems)})


def _status_answer(message: InboundMessage, raw_code: str) -> None:
    """The status, to the number that filed the complaint (or anyone, when it is public);
    for every other case (rahasia, unknown, not routed yet) the same neutral answer."""
    code = tracking_code_normalise(raw_code)[:20]
    codes = phone_reporter_codes(message.sender)
    complaint = complaint_for_detail(tracking_code=code, user=None, reporter_codes=codes)
    if complaint is None:
        _reply(message, "status_unknown", {"code": code})
        return
    _reply(
        message,
        "status_answer",
        {
            "code": complaint.tracking_code,
            "status": complaint.get_status_display(),
            "link": short_link(complaint.tracking_code),
        },
    )


def _answer(message: InboundMessage, complaint: Complaint) -> None:
    missing = complaint_details_missing(complaint)
    region = region_in(message.text) if "region" in missing else None
    category = category_in(message.text) if "category" in missing else None
    files, problems = _files(message)
    _refusals_tell(message, complaint.tracking_code, problems)
    if not message.text and not files:
        return
    complaint_details_answer(
        complaint=complaint,
        note=message.text or _("(photo)"),
        region=region,
        category=category,
        files=files,
    )
    _reply(message, "answer_thanks", {"code": complaint.tracking_code})


def _complaint_new(message: InboundMessage) -> None:
    text = message.text
    confidential = anonymous = False
    while flag := _FLAGS.match(text):
        confidential |= flag.group("flag").upper() == "RAHASIA"
        anonymous |= flag.group("flag").upper() == "ANONIM"
        text = text[flag.end() :]
    if not text.strip():
        _reply(message, "help", {})
        return
    region = region_in(text)
    category = category_in(text)
    fallback = Category.objects.filter(code=FALLBACK_CATEGORY).first()
    province = Region.objects.filter(kind="province").first()
    files, problems = _files(message)
    result = complaint_submit(
        classification=Classification.PENGADUAN,
        title=_title(text),
        description=text,
        category=category or fallback,  # type: ignore[arg-type]  # reference data
        region=region or province,  # type: ignore[arg-type]
        address=region.name if region else _("Not given (sent by text message)"),
        incident_date=timezone.localdate(),
        is_anonymous=anonymous,
        is_confidential=confidential,
        reporter_phone=message.sender,
        channel=CHANNELS[message.channel],
        notify_by=message.channel,
        to_triage=True,
        files=files,
        idempotency_key=uuid.uuid5(
            uuid.NAMESPACE_URL, f"lapor:{message.channel}:{message.sender}:{message.message_id}"
        ),
    )
    complaint = result.complaint
    _refusals_tell(message, complaint.tracking_code, problems)
    missing = complaint_details_missing(complaint)
    if result.created and missing:
        _reply(
            message,
            "question",
            {"code": complaint.tracking_code, "ask_region": "region" in missing},
        )


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 3].rstrip() + "..."


def _words(text: str) -> str:
    return " " + " ".join(_WORDS.sub(" ", text.lower()).split()) + " "


def region_in(text: str) -> Region | None:
    """The regency or city a message names (its name without "Kabupaten"/"Kota", or a short
    name people use); the longest name found wins ("Banjarbaru" over "Banjar")."""
    words = _words(text)
    found: list[tuple[int, Region]] = []
    for region in Region.objects.exclude(kind="province"):
        name = re.sub(r"^(kabupaten|kota)\s+", "", region.name.lower())
        names = {name, name.replace(" ", ""), *REGION_ALIASES.get(region.code, ())}
        for candidate in names:
            if f" {candidate} " in words:
                found.append((len(candidate), region))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def category_in(text: str) -> Category | None:
    """The category a message's words point to (the first in the table's order), or None."""
    words = _words(text)
    active = {c.code: c for c in Category.objects.filter(is_active=True)}
    for code, keywords in CATEGORY_WORDS.items():
        if code in active and any(f" {keyword} " in words for keyword in keywords):
            return active[code]
    return None
