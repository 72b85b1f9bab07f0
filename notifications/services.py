"""The notification outbox and its delivery.

Rows are written in the same transaction as the change they tell about. After commit a
delivery task is asked for by name (nothing imports ``notifications.tasks``); it claims pending rows
in batches (``pending`` → ``sending``), sends them through one mail connection outside any
transaction, and records each result at once in its own short statement. Celery beat runs the
same delivery every few seconds, so rows the broker could not take (it was down) go out soon
after it is back. See docs/notifications.md.
"""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Model, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from agencies.models import Agency, StaffMembership, StaffRole
from lapor.celery import app

from .models import MessageChannel, Notification, NotificationStatus
from .providers import Provider, ProviderError, provider_for
from .texts import message_render

logger = logging.getLogger(__name__)

DELIVERY_TASK = "notifications.tasks.deliver_notifications"
BATCH_SIZE = 100  # rows claimed at a time; a task goes on claiming until none is left
TIME_BUDGET = 60  # seconds a task sends before it hands what is left to a fresh task
MAX_ATTEMPTS = 8
# A claim older than this belongs to a worker that died (a task stops sending after its time
# budget plus one message); its rows are handed back, see notifications_release_stale.
STALE_AFTER = timedelta(minutes=10)
# After the broker refused a task, this process does not try it again for these many seconds,
# so that web requests do not each wait for a connection timeout; beat's delivery round
# (every LAPOR_MAIL_SECONDS) picks the rows up in the meantime.
BREAKER_SECONDS = 10
INTERRUPTED = "interrupted while sending; not sent again so that nobody gets it twice"

_suppressed: ContextVar[bool] = ContextVar("lapor_notifications_suppressed", default=False)
_broker_down_until = 0.0  # time.monotonic() until which this process leaves the broker alone


@contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Write no outbox rows inside this block (e.g. the demo's invented history)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def notification_queue(
    *,
    dedupe_key: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    complaint: Model | None = None,
    secret: str = "",
    not_before: datetime | None = None,
    unsubscribe_url: str = "",
    channel: str = MessageChannel.EMAIL,
) -> Notification | None:
    """Write one outbox row (once per ``dedupe_key``) and ask for its delivery after commit.

    ``secret`` (a guest's private-link key) is rendered as ``{{ secret }}`` in the email but
    stored apart from the body, and only until the email is sent. ``not_before``: the row waits
    until then (beat's delivery round sends it when it is due).
    ``unsubscribe_url`` (mail to
    followers, and the reporter's status emails) is sent as the List-Unsubscribe header, with
    one-click unsubscribing (RFC 8058).
    A short message (``channel`` SMS or WhatsApp, ``recipient`` a phone number) is rendered
    from ``messages/<template>.txt`` and never carries a secret (see notifications.texts).
    """
    if not recipient or _suppressed.get():
        return None
    if channel == MessageChannel.EMAIL:
        if secret:
            context = {**context, "secret": Notification.SECRET_PLACEHOLDER}
        subject, body = notification_render(template, context)
    else:
        secret = ""
        subject, body = "", message_render(template, context, channel=channel)
    notification, created = Notification.objects.get_or_create(
        dedupe_key=dedupe_key[:120],
        defaults={
            "channel": channel,
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "secret": secret,
            "unsubscribe_url": unsubscribe_url,
            "complaint_id": complaint.pk if complaint is not None else None,
            "next_attempt_at": not_before,
        },
    )
    if created and not_before is None:
        transaction.on_commit(lambda: notification_dispatch(notification.pk), robust=True)
    return notification if created else None


def notifications_withdraw(*, dedupe_key_prefix: str, complaint: Model) -> int:
    """Delete a complaint's rows that have not been tried yet (pending, no attempt) whose key
    starts with ``dedupe_key_prefix``: an email that waits for its time and is no longer
    needed. A row already claimed for sending is left alone. Returns how many."""
    deleted, _ = Notification.objects.filter(
        complaint_id=complaint.pk,
        dedupe_key__startswith=dedupe_key_prefix,
        status=NotificationStatus.PENDING,
        attempts=0,
    ).delete()
    return deleted


def notification_render(template: str, context: dict) -> tuple[str, str]:
    """Subject and body of an email, in the site's language (Indonesian)."""
    context = {**context, "site_url": settings.LAPOR_SITE_URL}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        body = render_to_string(f"emails/{template}_body.txt", context)
    return " ".join(subject.split())[:200], body


def notifications_queue_many(rows: list[Notification]) -> int:
    """Write many unsaved outbox rows in one statement; each key is written once. The caller
    holds the transaction; one delivery task is asked for after commit. Returns how many."""
    if not rows or _suppressed.get():
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    keys = [row.dedupe_key for row in rows]
    ids = list(
        Notification.objects.filter(
            dedupe_key__in=keys, attempts=0, status=NotificationStatus.PENDING
        ).values_list("pk", flat=True)
    )
    if ids:
        transaction.on_commit(lambda: notifications_dispatch(ids), robust=True)
    return len(ids)


# --- handing work to the broker ------------------------------------------------------------------


def notification_dispatch(notification_id: int) -> bool:
    """Ask for one row's delivery (the task takes other pending rows along)."""
    return notifications_dispatch([notification_id])


def notifications_dispatch(ids: list[int] | None = None) -> bool:
    """Queue a delivery task for ``ids`` first (then whatever else is pending).

    Returns False, and logs, when the broker cannot take it: the rows stay pending and beat's
    next delivery round sends them. Never raises: the change it tells about is committed.
    """
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        app.send_task(DELIVERY_TASK, kwargs={"ids": ids}, retry=False)
    except Exception as exc:  # kombu raises several kinds; the outbox rows stay pending
        logger.warning(
            "broker unavailable, %s notification(s) stay pending for the next delivery round: %s",
            len(ids) if ids else "all",
            exc,
        )
        _broker_down_until = time.monotonic() + BREAKER_SECONDS
        return False
    _broker_down_until = 0.0
    return True


def notifications_breaker_reset() -> None:
    """Let this process try the broker again at once (tests; a worker after reconnecting)."""
    global _broker_down_until
    _broker_down_until = 0.0


# --- delivery ------------------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0  # attempts that failed: retried later with back-off, or given up
    released: int = 0  # claimed but handed back unsent (time budget, interruption)
    stale: int = 0  # rows of dead workers' claims handed back (or given up, one per claim)
    more: bool = False  # the time budget ran out with rows still pending

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "released": self.released,
            "stale": self.stale,
            "more": self.more,
        }


def notifications_deliver(
    *,
    ids: list[int] | None = None,
    batch_size: int = BATCH_SIZE,
    budget: float = TIME_BUDGET,
    sweep: bool = False,
) -> DeliveryResult:
    """Send pending notifications (``ids`` first) through one mail connection. Safe to repeat,
    and to run many at once: each row is claimed by one call only, and a row recorded as sent
    is never claimed again. ``sweep`` (beat's round) first hands back dead workers' claims.

    Runs outside any transaction: it commits each claim and each result on its own.
    """
    result = DeliveryResult()
    if sweep:
        result.stale = notifications_release_stale()
    deadline = time.monotonic() + budget
    transports = _Transports()
    helped = False
    try:
        while True:
            rows = notifications_claim(ids=ids, limit=batch_size)
            ids = None  # later batches take the oldest pending rows
            if not rows:
                break
            if len(rows) == batch_size and not helped and _parallel_writes():
                # A backlog: ask for one more task, so that a free worker slot sends the next
                # batch beside this one (it does the same, one at a time, while batches are full).
                helped = notifications_dispatch()
            if not _send_batch(transports, rows, result, deadline):
                break  # a mail server or gateway is unreachable: the rest waits for a later round
            if time.monotonic() > deadline:
                result.more = _due().exists()
                break
    finally:
        transports.close_all()
    if result.more:
        notifications_dispatch()  # the rest in a fresh task, so other tasks get a turn
    return result


def _parallel_writes() -> bool:
    """Whether a second sender would send beside this one. SQLite writes one transaction at a
    time, so there it would only wait for the write lock between every two emails."""
    return db_connection.features.has_select_for_update_skip_locked


def _due(now: datetime | None = None) -> QuerySet[Notification]:
    now = now or timezone.now()
    return Notification.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=NotificationStatus.PENDING,
    )


def notifications_claim(
    *, ids: list[int] | None = None, limit: int = BATCH_SIZE, now: datetime | None = None
) -> list[Notification]:
    """Claim up to ``limit`` due pending rows (``ids`` first, then the oldest) for one sender.

    One short transaction: on PostgreSQL rows another sender is claiming are skipped
    (``SKIP LOCKED``); SQLite has no row locks but runs write transactions one at a time
    (``BEGIN IMMEDIATE``), and the conditional UPDATE claims only rows still pending.
    """
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        due = _due(now)
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        picked: list[int] = []
        if ids:
            picked = list(due.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
            picked = picked[:limit]
        if len(picked) < limit:
            picked += list(
                due.exclude(pk__in=picked)
                .order_by("pk")
                .values_list("pk", flat=True)[: limit - len(picked)]
            )
        if not picked:
            return []
        Notification.objects.filter(pk__in=picked, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.SENDING, claim=token, claimed_at=now
        )
    return list(
        Notification.objects.filter(claim=token, status=NotificationStatus.SENDING).order_by("pk")
    )


class _MailTransport:
    """Emails, through one mail connection for the whole task."""

    def __init__(self) -> None:
        self.connection: BaseEmailBackend = get_connection()

    def open(self) -> None:
        self.connection.open()

    def send(self, row: Notification) -> None:
        if not self.connection.send_messages([_message(row, self.connection)]):
            raise RuntimeError("the mail server did not accept it")

    def close(self) -> None:
        self.connection.close()


class _ProviderTransport:
    """Short messages, through the channel's provider (notifications.providers)."""

    def __init__(self, channel: str) -> None:
        self.provider: Provider = provider_for(channel)

    def open(self) -> None:
        pass

    def send(self, row: Notification) -> None:
        self.provider.send(to=row.recipient, text=row.body)

    def close(self) -> None:
        pass


class _Transports:
    """One transport per channel for a task, opened when first needed; a channel whose
    transport cannot be opened is down for the rest of the batch."""

    def __init__(self) -> None:
        self.made: dict[str, _MailTransport | _ProviderTransport] = {}
        self.opened: set[str] = set()
        self.down: dict[str, Exception] = {}

    def ready(self, channel: str) -> "_MailTransport | _ProviderTransport":
        """The channel's open transport; raises when it cannot be opened."""
        if channel in self.down:
            raise self.down[channel]
        try:
            transport = self.made.get(channel)
            if transport is None:
                transport = self.made[channel] = (
                    _MailTransport()
                    if channel == MessageChannel.EMAIL
                    else _ProviderTransport(channel)
                )
            if channel not in self.opened:
                transport.open()
                self.opened.add(channel)
        except Exception as exc:
            self.down[channel] = exc
            raise
        return transport

    def reset(self, channel: str) -> None:
        """After a refusal: the connection may be broken, open a fresh one for the next row."""
        transport = self.made.get(channel)
        if transport is not None and channel in self.opened:
            with suppress(Exception):
                transport.close()
        self.opened.discard(channel)

    def close_all(self) -> None:
        for channel in list(self.opened):
            self.reset(channel)
        self.down.clear()


def _send_batch(
    transports: _Transports, rows: list[Notification], result: DeliveryResult, deadline: float
) -> bool:
    """Send claimed rows in id order, each through its channel's transport, recording each
    result before the next is sent; False when a mail server or gateway cannot be reached (its
    rows wait, with a back-off).

    So, whatever stops this, at most one row (the one being sent) has an unknown fate: it is
    given up rather than sent again; rows not yet sent go back to pending.
    """
    done = 0
    in_flight = False
    try:
        for row in rows:
            if time.monotonic() > deadline:
                break
            try:
                transport = transports.ready(row.channel)
            except Exception as exc:  # cannot connect: this row (and its channel's) wait
                result.failed += _record_failed([row], exc)
                done += 1
                continue
            in_flight = True
            try:
                transport.send(row)
                error: Exception | None = None
            except SoftTimeLimitExceeded:
                raise
            except (Exception, ProviderError) as exc:  # SMTP, socket, gateway: try again later
                error = exc
            if error is None:
                _record_sent(row)
                result.sent += 1
            else:
                result.failed += _record_failed([row], error)
                transports.reset(row.channel)
            in_flight = False
            done += 1
        reachable = not transports.down
        transports.down.clear()  # the next batch tries again
        return reachable
    finally:
        rest = rows[done:]
        if in_flight and rest:
            _record_interrupted(rest[0])
            rest = rest[1:]
        if rest:
            result.released += _release(rest)


def _message(row: Notification, mail: BaseEmailBackend) -> EmailMessage:
    body = row.body.replace(Notification.SECRET_PLACEHOLDER, row.secret) if row.secret else row.body
    headers = {}
    if row.unsubscribe_url:
        headers = {
            "List-Unsubscribe": f"<{row.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return EmailMessage(
        subject=row.subject, body=body, to=[row.recipient], connection=mail, headers=headers
    )


def _record_sent(row: Notification) -> None:
    """One UPDATE per email, in its own transaction, before the next email is sent.

    On PostgreSQL the commit does not wait for the WAL to reach the disk (``synchronous_commit
    off``; SQLite's ``synchronous=NORMAL`` in WAL mode is the same trade): the record is visible
    at once, so a worker killed after it never sends the row again, but a crash of the database
    server itself may lose the last fraction of a second of records (docs/notifications.md).
    Waiting for the disk cost 10-20 ms a row, most of a delivery's time (``make bench-mail``).
    Plain SQL: building the ORM query cost more than running it.
    """
    table = Notification._meta.db_table
    sql = (
        f"UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1, "  # noqa: S608 - the table name is the model's; values are bound
        "secret = '', claim = '', last_error = '' WHERE id = %s AND claim = %s"
    )
    if db_connection.vendor == "postgresql":
        # One round trip: both statements run in one implicit transaction.
        sql = "SET LOCAL synchronous_commit TO OFF; " + sql
    with db_connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                NotificationStatus.SENT,
                db_connection.ops.adapt_datetimefield_value(timezone.now()),
                row.pk,
                row.claim,
            ],
        )


def _record_failed(rows: list[Notification], exc: BaseException) -> int:
    """Each row tries again after a back-off (2, 4, 8 ... minutes), or is given up."""
    now = timezone.now()
    for row in rows:
        attempts = row.attempts + 1
        given_up = attempts >= MAX_ATTEMPTS
        fields = {
            "attempts": attempts,
            "last_error": str(exc)[:300],
            "claim": "",
            "status": NotificationStatus.FAILED if given_up else NotificationStatus.PENDING,
            "next_attempt_at": None if given_up else now + timedelta(minutes=2**attempts),
        }
        if given_up:
            fields["secret"] = ""
        Notification.objects.filter(pk=row.pk, claim=row.claim).update(**fields)
        logger.warning("notification %s not sent (attempt %s): %s", row.pk, attempts, exc)
    return len(rows)


def _record_interrupted(row: Notification) -> None:
    Notification.objects.filter(pk=row.pk, claim=row.claim).update(
        status=NotificationStatus.FAILED,
        attempts=F("attempts") + 1,
        last_error=INTERRUPTED,
        secret="",
        claim="",
    )


def _release(rows: list[Notification]) -> int:
    """Hand claimed, unsent rows back to pending."""
    released = 0
    for claim in {row.claim for row in rows}:
        released += Notification.objects.filter(
            pk__in=[row.pk for row in rows if row.claim == claim], claim=claim
        ).update(status=NotificationStatus.PENDING, claim="", claimed_at=None)
    return released


def notifications_release_stale(*, now: datetime | None = None) -> int:
    """Hand back the rows of claims older than ``STALE_AFTER`` (their worker died).

    A sender records each row before it sends the next, in id order: of a dead claim's rows
    still ``sending``, the first may have been sent (it is given up, never sent twice); the
    others were not (they go back to pending).
    """
    now = now or timezone.now()
    stale = Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=now - STALE_AFTER
    )
    with transaction.atomic():
        if db_connection.features.has_select_for_update_skip_locked:
            stale = stale.select_for_update(skip_locked=True)
        rows = list(stale.order_by("claim", "pk").values_list("pk", "claim"))
        if not rows:
            return 0
        first: dict[str, int] = {}
        for pk, claim in rows:
            first.setdefault(claim, pk)
        given_up = list(first.values())
        Notification.objects.filter(pk__in=given_up).update(
            status=NotificationStatus.FAILED,
            attempts=F("attempts") + 1,
            last_error=INTERRUPTED,
            secret="",
            claim="",
        )
        Notification.objects.filter(
            pk__in=[pk for pk, _claim in rows if pk not in set(given_up)]
        ).update(status=NotificationStatus.PENDING, claim="", claimed_at=None)
    logger.warning(
        "%s notification(s) of dead workers handed back, %s given up", len(rows), len(given_up)
    )
    return len(rows)


PROVINCE = ("province", None)


def staff_recipients(audiences: set[tuple]) -> dict[tuple, list[str]]:
    """Email addresses of staff audiences, all in two queries.

    An audience is ``("agency", id)`` (its officers and the agency's own address),
    ``("region", id)`` (its coordinators) or ``PROVINCE`` (provincial staff).
    """
    agency_ids = {value for kind, value in audiences if kind == "agency"}
    region_ids = {value for kind, value in audiences if kind == "region"}
    wanted = Q(role=StaffRole.AGENCY_OFFICER, agency_id__in=agency_ids) | Q(
        role=StaffRole.REGION_COORDINATOR, region_id__in=region_ids
    )
    if PROVINCE in audiences:
        wanted |= Q(role=StaffRole.PROVINCE_STAFF)
    result: dict[tuple, set[str]] = defaultdict(set)
    for role, agency_id, region_id, email in (
        StaffMembership.objects.filter(wanted)
        .exclude(user__email="")
        .values_list("role", "agency_id", "region_id", "user__email")
    ):
        if role == StaffRole.AGENCY_OFFICER:
            result[("agency", agency_id)].add(email)
        elif role == StaffRole.REGION_COORDINATOR:
            result[("region", region_id)].add(email)
        else:
            result[PROVINCE].add(email)
    for agency_id, email in (
        Agency.objects.filter(pk__in=agency_ids).exclude(email="").values_list("pk", "email")
    ):
        result[("agency", agency_id)].add(email)
    return {audience: sorted(emails) for audience, emails in result.items()}


def notification_queue_each(
    audience: tuple[str, int | None],
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    complaint: Model | None = None,
) -> None:
    """One outbox row per address of a staff audience; ``key`` is made unique per address."""
    for recipient in staff_recipients({audience}).get(audience, []):
        notification_queue(
            dedupe_key=f"{key}:{recipient}",
            recipient=recipient,
            template=template,
            context=context,
            complaint=complaint,
        )


def reporter_address(complaint: Any) -> str:
    """Where a complaint's reporter hears from us: their account's address, else the one they
    left (a complaints.Complaint; this app does not import that one, which depends on it)."""
    if complaint.reporter_id and complaint.reporter.email:
        return complaint.reporter.email
    return complaint.reporter_email


# --- retention ---------------------------------------------------------------------------------


def notifications_personal_data_remove(*, complaint_ids: list[int], recipients: set[str]) -> int:
    """A complaint's reporter is anonymised: their emails and short messages about it (to
    one of ``recipients``: addresses in lower case, numbers as ``+62...``) lose recipient, body
    and key (the row stays, so its dedupe key still stops a second send). Returns how many."""
    if not complaint_ids or not recipients:
        return 0
    rows = Notification.objects.filter(complaint_id__in=complaint_ids).only("pk", "recipient")
    ids = [n.pk for n in rows if n.recipient.lower() in recipients]
    return Notification.objects.filter(pk__in=ids).update(recipient="", body="", secret="")


def notifications_prune(*, now: datetime | None = None) -> int:
    """Blank the recipient and body of emails sent (or given up) more than
    ``LAPOR_RETENTION_NOTIFICATION_DAYS`` ago; the row, subject and dates stay for the delivery
    record and the dedupe key. Idempotent. Returns how many rows changed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LAPOR_RETENTION_NOTIFICATION_DAYS)
    done = Q(status=NotificationStatus.SENT, sent_at__lte=cutoff) | Q(
        status=NotificationStatus.FAILED, created_at__lte=cutoff
    )
    return (
        Notification.objects.filter(done)
        .exclude(recipient="", body="")
        .update(recipient="", body="", secret="")
    )
