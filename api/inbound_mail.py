"""Complaints by email (docs/email-intake.md): a mail becomes a complaint in triage, or a
reporter's reply threaded onto their complaint.

Two ways in, one parser: the signed webhook ``POST /api/v1/inbound/email`` whose body is the raw
RFC 822 message (``Content-Type: message/rfc822``), and, when configured, a Celery beat task that
polls an IMAP mailbox (``imap_poll``). ``mail_receive`` takes the raw bytes either way.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.http import JsonResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from agencies.models import Category, Region
from complaints.attachments import clean_uploads
from complaints.codes import tracking_code_normalise
from complaints.models import Channel, Classification
from complaints.selectors import complaint_for_mail_reply
from complaints.services import complaint_reply, complaint_submit
from complaints.workflow import WorkflowError
from lapor import webhooks

logger = logging.getLogger(__name__)

MAX_PARTS = 30
MAX_DEPTH = 8
MAX_TITLE = 150
MAX_DESCRIPTION = 5000
CODE_IN_SUBJECT = re.compile(r"\bLPR-?[2-9A-HJKMNP-Z]{4}-?[2-9A-HJKMNP-Z]{4}\b", re.IGNORECASE)
REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|bls|balas|tr)\s*:\s*)+", re.IGNORECASE)
# "Kabupaten/Kota: Banjarbaru", "Kategori: jalan", "Alamat: Jl. A. Yani km 3" in the body.
FIELD_LINE = re.compile(
    r"^\s*(wilayah|kabupaten|kota|kabupaten/kota|kategori|alamat|lokasi)\s*:\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
NO_ADDRESS = "Tidak disebutkan dalam email"
# A mail's own Message-ID, made a UUID: a provider's second delivery gives the same complaint.
MESSAGE_NAMESPACE = uuid.UUID("8f0b7a64-5a43-4c7e-9a54-3f4a2f1e2d10")


class MailRefused(Exception):
    """The mail is not taken; ``status`` is the HTTP status, ``errors`` field errors."""

    def __init__(self, status: int, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or {}


@dataclass
class ParsedMail:
    sender: str
    sender_name: str
    subject: str
    text: str
    message_id: str
    sent_on: date | None
    automatic: bool = False
    files: list[SimpleUploadedFile] = field(default_factory=list)


@dataclass(frozen=True)
class Received:
    kind: str  # "complaint" or "reply"
    tracking_code: str
    created: bool = True


# --- parsing ----------------------------------------------------------------------------------


def _parts(message: Message) -> list[Message]:
    """The leaf parts, breadth first, at most ``MAX_PARTS`` and ``MAX_DEPTH`` deep."""
    leaves: list[Message] = []
    queue: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while queue:
        part, depth = queue.pop(0)
        seen += 1
        if seen > MAX_PARTS or depth > MAX_DEPTH:
            raise MailRefused(400, _("The message has too many parts."))
        if part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                raise MailRefused(400, _("The message cannot be read."))
            queue.extend((child, depth + 1) for child in children)
        else:
            leaves.append(part)
    return leaves


def _decoded(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: Message) -> str:
    data = _decoded(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        text = data.decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        text = strip_tags(text)
    return text.replace("\r\n", "\n").strip()


def _header(message: Message, name: str) -> str:
    value = message.get(name, "")
    return " ".join(str(value).split())


def mail_parse(raw: bytes) -> ParsedMail:
    """The sender, subject, text and attachments of a raw RFC 822 message; MailRefused (400)
    when it cannot be read, (422) when it has no usable sender."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if not isinstance(message, EmailMessage) or not message.keys():
            raise MailRefused(400, _("This is not an email message."))
        sender_name, sender = parseaddr(_header(message, "From"))
        subject = _header(message, "Subject")
        message_id = _header(message, "Message-ID")[:300]
        # RFC 3834: an auto-reply (out of office, a bounce) is never a complaint; answering
        # it would start a loop with the portal's own notifications.
        automatic = _header(message, "Auto-Submitted").lower() not in ("", "no") or bool(
            _header(message, "X-Autoreply") or _header(message, "X-Autorespond")
        )
        try:
            sent = parsedate_to_datetime(_header(message, "Date"))
            sent_on = timezone.localdate(sent) if timezone.is_aware(sent) else sent.date()
        except (TypeError, ValueError, IndexError, OverflowError):
            sent_on = None
        texts: list[str] = []
        html: list[str] = []
        files: list[SimpleUploadedFile] = []
        for part in _parts(message):
            filename = part.get_filename()
            content_type = part.get_content_type()
            if filename or not content_type.startswith("text/"):
                data = _decoded(part)
                if data:
                    files.append(SimpleUploadedFile(filename or "lampiran", data))
            elif content_type == "text/plain":
                texts.append(_text_of(part))
            elif content_type == "text/html":
                html.append(_text_of(part))
    except MailRefused:
        raise
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, RecursionError) as exc:
        logger.info("Inbound mail refused: unreadable (%s)", type(exc).__name__)
        raise MailRefused(400, _("The message cannot be read.")) from exc
    sender = sender.strip().lower()
    try:
        validate_email(sender)
    except ValidationError as exc:
        raise MailRefused(
            422, _("The sender's address is missing or invalid."), {"from": [_("Invalid.")]}
        ) from exc
    text = "\n\n".join(t for t in texts if t) or "\n\n".join(t for t in html if t)
    return ParsedMail(
        sender=sender,
        sender_name=" ".join(sender_name.split())[:100],
        subject=subject,
        text=text,
        message_id=message_id,
        sent_on=sent_on,
        automatic=automatic,
        files=files,
    )


# --- turning a mail into a complaint or a reply -------------------------------------------------


def _fields_in(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in FIELD_LINE.findall(text):
        key = key.lower()
        name = (
            "address"
            if key in ("alamat", "lokasi")
            else "category"
            if key == "kategori"
            else "region"
        )
        found.setdefault(name, value)
    return found


def _region(text: str | None) -> Region | None:
    regions = list(Region.objects.all())
    if text:
        wanted = " ".join(text.lower().split())
        for region in regions:
            name = region.name.lower()
            if wanted in (region.code, name) or (len(wanted) >= 4 and name.endswith(" " + wanted)):
                return region
    return next((r for r in regions if r.code == settings.INBOUND_MAIL_REGION), None)


def _category(text: str | None) -> Category | None:
    categories = list(Category.objects.filter(is_active=True))
    if text:
        wanted = " ".join(text.lower().split())
        for category in categories:
            if wanted in (category.code, category.name_id.lower(), category.name_en.lower()):
                return category
    return next((c for c in categories if c.code == settings.INBOUND_MAIL_CATEGORY), None)


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"attachments": [str(m) for m in exc.messages]}


def _without_quote(text: str) -> str:
    """A reply's own words: without the lines it quotes ("> ...")."""
    return "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith(">")
    ).strip()


def _reply(mail: ParsedMail, code: str) -> Received | None:
    """A reply onto the complaint ``code`` names: None when there is no such complaint (the
    mail is a new complaint then); MailRefused when the sender is not its reporter."""
    complaint = complaint_for_mail_reply(code)
    if complaint is None:
        return None
    if not complaint.reporter_email or complaint.reporter_email.lower() != mail.sender:
        raise MailRefused(
            403, _("Only the reporter can reply to a complaint by email, from their address.")
        )
    try:
        files = clean_uploads(mail.files)
        note = _without_quote(mail.text)[:MAX_DESCRIPTION] or mail.subject
        complaint_reply(complaint=complaint, note=note, files=files)
    except WorkflowError as exc:
        raise MailRefused(409, str(exc.message)) from exc
    except ValidationError as exc:
        raise MailRefused(422, _("The reply cannot be taken."), _errors_of(exc)) from exc
    return Received("reply", complaint.tracking_code)


def _complaint(mail: ParsedMail) -> Received:
    named = _fields_in(mail.text)
    title = REPLY_PREFIX.sub("", mail.subject).strip() or _("Complaint by email")
    description = mail.text or title
    today = timezone.localdate()
    incident = mail.sent_on if mail.sent_on and mail.sent_on <= today else today
    key = uuid.uuid5(MESSAGE_NAMESPACE, mail.message_id) if mail.message_id else None
    try:
        files = clean_uploads(mail.files)
        result = complaint_submit(
            classification=Classification.PENGADUAN,
            title=title[:MAX_TITLE],
            description=description[:MAX_DESCRIPTION],
            category=_category(named.get("category")),
            region=_region(named.get("region")),
            address=named.get("address", NO_ADDRESS)[:255],
            incident_date=incident,
            reporter_name=mail.sender_name or mail.sender.split("@")[0],
            reporter_email=mail.sender,
            channel=Channel.EMAIL,
            files=files,
            idempotency_key=key,
            to_triage=True,
        )
    except ValidationError as exc:
        raise MailRefused(422, _("The complaint cannot be taken."), _errors_of(exc)) from exc
    return Received("complaint", result.complaint.tracking_code, created=result.created)


def mail_receive(raw: bytes) -> Received:
    """A raw message becomes a reply (its subject names a complaint of its sender) or a new
    complaint in triage; MailRefused with a 4xx status otherwise."""
    if len(raw) > settings.INBOUND_MAIL_MAX_BYTES:
        raise MailRefused(413, _("The message is too large."))
    mail = mail_parse(raw)
    own_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if mail.automatic or mail.sender == own_address.lower():
        raise MailRefused(422, _("An automatic reply is not a complaint."))
    found = CODE_IN_SUBJECT.search(mail.subject)
    if found:
        received = _reply(mail, tracking_code_normalise(found.group(0)))
        if received is not None:
            return received
    return _complaint(mail)


# --- the webhook ------------------------------------------------------------------------------


def _answer(status: int, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


@csrf_exempt
@require_POST
def inbound_email(request):
    """``POST /api/v1/inbound/email``: the raw message as the body, signed (lapor.webhooks)."""
    limit = settings.INBOUND_MAIL_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _answer(413, _("The message is too large."))
    body = request.read(limit + 1)
    if len(body) > limit:
        return _answer(413, _("The message is too large."))
    if not webhooks.signature_valid(
        secret=settings.INBOUND_MAIL_SECRET,
        body=body,
        timestamp=request.headers.get(webhooks.TIMESTAMP_HEADER, ""),
        signature=request.headers.get(webhooks.SIGNATURE_HEADER, ""),
    ):
        return _answer(403, _("The signature is missing or wrong."))
    try:
        received = mail_receive(body)
    except MailRefused as refused:
        return _answer(refused.status, refused.detail, errors=refused.errors)
    return _answer(
        201 if received.created else 200,
        _("Received."),
        kind=received.kind,
        tracking_code=received.tracking_code,
    )


# --- the mailbox --------------------------------------------------------------------------------


def imap_poll() -> dict[str, int]:
    """Read the unseen messages of the configured IMAP folder through ``mail_receive``. A taken
    or refused message is marked seen (a refusal is logged, it would be refused again); on any
    other error the message stays unseen for the next round."""
    if not settings.INBOUND_MAIL_IMAP_HOST:
        return {"taken": 0, "refused": 0}
    factory = imaplib.IMAP4_SSL if settings.INBOUND_MAIL_IMAP_SSL else imaplib.IMAP4
    taken = refused = 0
    with factory(settings.INBOUND_MAIL_IMAP_HOST, settings.INBOUND_MAIL_IMAP_PORT) as box:
        box.login(settings.INBOUND_MAIL_IMAP_USER, settings.INBOUND_MAIL_IMAP_PASSWORD)
        box.select(settings.INBOUND_MAIL_IMAP_FOLDER)
        _status, found = box.uid("SEARCH", "UNSEEN")
        for uid in (found[0] or b"").split()[: settings.INBOUND_MAIL_IMAP_BATCH]:
            _status, data = box.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
            try:
                mail_receive(raw)
                taken += 1
            except MailRefused as exc:
                logger.info("Inbound mail %s refused: %s %s", uid, exc.status, exc.detail)
                refused += 1
            box.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    return {"taken": taken, "refused": refused}
