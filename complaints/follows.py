"""Following by email: a public complaint's status changes, or an area's new complaints.

The one writer of ``Follow`` rows. Double opt-in: ``follow_request`` writes an unconfirmed row
and emails a signed confirmation link; nothing else goes to the address until
``follow_confirm``. Every email to a follower carries a signed one-click unsubscribe link (also
as List-Unsubscribe, RFC 8058). All mail goes through the outbox (``notifications``), with a
dedupe key per change and follower, so each is sent once and retried. See
docs/notifications.md and docs/privacy.md.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Category, Region
from notifications.services import notification_queue, reporter_address

from .models import Complaint, ComplaintEvent, Follow
from .selectors import complaints_new_public
from .workflow import PUBLIC_STATUSES, ComplaintStatus, WorkflowError

CONFIRM_SALT = "lapor.follow.confirm"
UNSUBSCRIBE_SALT = "lapor.follow.unsubscribe"
# The reporter follows their own complaint by default; their status messages' one-click link.
REPORTER_UNSUBSCRIBE_SALT = "lapor.follow.reporter-unsubscribe"
# Status changes a follower hears about: into a status the public sees, or the archive (the end).
FOLLOWED_STATUSES = PUBLIC_STATUSES | {ComplaintStatus.ARCHIVED}
DIGEST_LIMIT = 100  # complaints listed in one digest; the rest are counted


# --- tokens --------------------------------------------------------------------------------------


def _signed(value: Any, *, salt: str, dated: bool = True) -> str:
    """A token naming ``value``, signed with the site's key under ``salt`` (one salt per use, so
    a token made for one link opens no other). ``dated`` tokens carry the moment they were made
    (for ``max_age``); an undated one is the same string every time for the same value."""
    if not dated:
        return signing.Signer(salt=salt).sign_object(value, compress=True)
    return signing.dumps(value, salt=salt, compress=True)


def _unsigned(
    token: str, *, salt: str, max_age: timedelta | None = None, dated: bool = True
) -> Any:
    """What a token made by ``_signed`` with ``salt`` (and the same ``dated``) names, or None
    (changed, made for another use, or older than ``max_age``)."""
    try:
        if not dated:
            return signing.Signer(salt=salt).unsign_object(token)
        return signing.loads(token, salt=salt, max_age=max_age)
    except (signing.BadSignature, ValueError):  # also SignatureExpired; ValueError: not ours
        return None


def confirm_token(follow: Follow) -> str:
    return _signed(follow.pk, salt=CONFIRM_SALT)


def unsubscribe_token(follow: Follow) -> str:
    return _signed(follow.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(follow: Follow) -> str:
    return settings.LAPOR_SITE_URL + reverse("follow-unsubscribe", args=[unsubscribe_token(follow)])


def reporter_unsubscribe_token(complaint: Complaint) -> str:
    """The reporter's own one-click link: it names the complaint by its tracking code (no
    expiry, so undated: every email of the complaint carries the same link; stopping and
    resuming are both harmless to repeat)."""
    return _signed(complaint.tracking_code, salt=REPORTER_UNSUBSCRIBE_SALT, dated=False)


def reporter_unsubscribe_url(complaint: Complaint) -> str:
    token = reporter_unsubscribe_token(complaint)
    return settings.LAPOR_SITE_URL + reverse("reporter-unsubscribe", args=[token])


def reporter_unsubscribe_code(token: str) -> str | None:
    """The tracking code a reporter's unsubscribe link names, or None when it was not made here."""
    code = _unsigned(token, salt=REPORTER_UNSUBSCRIBE_SALT, dated=False)
    return code if isinstance(code, str) and code else None


def _follow_from(token: str, *, salt: str, max_age: timedelta | None = None) -> Follow | None:
    pk = _unsigned(token, salt=salt, max_age=max_age)
    if not isinstance(pk, int):
        return None
    return Follow.objects.select_related("complaint", "region", "category").filter(pk=pk).first()


def follow_for_confirm(token: str) -> Follow | None:
    """The follow a confirmation link names, while the link is valid."""
    max_age = timedelta(days=settings.LAPOR_FOLLOW_CONFIRM_DAYS)
    return _follow_from(token, salt=CONFIRM_SALT, max_age=max_age)


def follow_for_unsubscribe(token: str) -> Follow | None:
    """The follow an unsubscribe link names (None once it has ended)."""
    return _follow_from(token, salt=UNSUBSCRIBE_SALT)


# --- asking, confirming, leaving -----------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": _("Give your email address.")})
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    return email


def follow_request(
    *,
    email: str,
    complaint: Complaint | None = None,
    region: Region | None = None,
    category: Category | None = None,
    now: datetime | None = None,
) -> Follow | None:
    """Ask to follow a public complaint, or a regency (and optionally a category): write an
    unconfirmed follow and email its confirmation link. Returns the follow, or None when this
    address follows it already (nothing is sent; the caller answers the same either way, so the
    form tells nobody who follows what). A rahasia, archived or unrouted complaint cannot be
    followed (WorkflowError)."""
    email = _clean_email(email)
    now = now or timezone.now()
    if (complaint is None) == (region is None):
        raise ValueError("follow a complaint or a region")
    if category is not None and region is None:
        raise ValueError("a category is followed within a region")
    key: dict[str, Any]
    with transaction.atomic():
        if complaint is not None:
            if not complaint.is_public:
                raise WorkflowError(_("This complaint cannot be followed."))
            key = {"complaint": complaint}
        else:
            key = {"region": region, "category": category, "complaint": None}
        follow = Follow.objects.filter(email=email, **key).first()
        if follow is None:
            try:
                with transaction.atomic():
                    follow = Follow.objects.create(email=email, created_at=now, **key)
            except IntegrityError:  # asked twice at once: the other request wrote it
                follow = Follow.objects.get(email=email, **key)
        if follow.confirmed_at is not None:
            return None
        notification_queue(
            dedupe_key=f"follow-confirm:{follow.pk}:{uuid.uuid4().hex}",
            recipient=email,
            template="follow_confirm",
            context={
                "follow": follow,
                "confirm_path": reverse("follow-confirm", args=[confirm_token(follow)]),
                "days": settings.LAPOR_FOLLOW_CONFIRM_DAYS,
            },
            complaint=complaint,
        )
    return follow


def follow_confirm(follow: Follow, *, now: datetime | None = None) -> bool:
    """Confirm a follow (its link was opened and the button pressed); True the first time.
    A complaint that turned rahasia since is not followed (WorkflowError)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Follow.objects.select_for_update().filter(pk=follow.pk).first()
        if locked is None:
            return False
        if locked.complaint is not None and not locked.complaint.is_public:
            raise WorkflowError(_("This complaint cannot be followed."))
        if locked.confirmed_at is not None:
            return False
        locked.confirmed_at = now
        locked.digest_until = now
        locked.save(update_fields=["confirmed_at", "digest_until"])
    follow.refresh_from_db()
    return True


def follow_end(follow: Follow) -> bool:
    """Unsubscribe: the row and its address are deleted. True when there was one."""
    deleted, _by_model = Follow.objects.filter(pk=follow.pk).delete()
    return bool(deleted)


# --- telling followers ---------------------------------------------------------------------------


def followers_notify(complaint: Complaint, event: ComplaintEvent) -> int:
    """Inside the change's transaction: one outbox row per confirmed follower for a status
    change the public sees (the row's dedupe key is the event and the follow, so each follower
    gets it once). Never for a rahasia complaint. The reporter is told by their own status email
    (``complaints.services``), so an address that is the reporter's is skipped here."""
    if complaint.is_confidential or not event.to_status or event.is_internal:
        return 0
    if event.to_status not in FOLLOWED_STATUSES:
        return 0
    reporter = {a.lower() for a in (reporter_address(complaint), complaint.reporter_email) if a}
    queued = 0
    for follow in Follow.objects.filter(complaint=complaint, confirmed_at__isnull=False).order_by(
        "pk"
    ):
        if follow.email in reporter:
            continue
        link = unsubscribe_url(follow)
        if notification_queue(
            dedupe_key=f"follow:{event.pk}:{follow.pk}",
            recipient=follow.email,
            template="follow_status",
            context={"complaint": complaint, "event": event, "unsubscribe_url": link},
            complaint=complaint,
            unsubscribe_url=link,
        ):
            queued += 1
    return queued


def area_digests_send(*, now: datetime | None = None) -> int:
    """The daily area alerts: to each confirmed area follower, the public complaints of their
    regency (and category) filed since their last digest; nothing when there are none. Safe to
    run twice: each digest's dedupe key is the follow and the period's end, and a follow's
    ``digest_until`` moves on in the same transaction. Returns how many digests were queued."""
    now = now or timezone.now()
    sent = 0
    follows = Follow.objects.filter(region__isnull=False, confirmed_at__isnull=False).order_by(
        "region_id", "category_id", "pk"
    )
    for follow_id in follows.values_list("pk", flat=True):
        with transaction.atomic():
            follow = (
                Follow.objects.select_for_update(of=("self",))
                .select_related("region", "category")
                .filter(pk=follow_id, confirmed_at__isnull=False)
                .first()
            )
            if follow is None or follow.region_id is None:
                continue
            since = follow.digest_until or follow.confirmed_at or now
            if since >= now:
                continue
            found = complaints_new_public(
                region_id=follow.region_id,
                category_id=follow.category_id,
                since=since,
                until=now,
            )
            if found and _digest_queue(follow, found, until=now):
                sent += 1
            follow.digest_until = now
            follow.save(update_fields=["digest_until"])
    return sent


def _digest_queue(follow: Follow, found: list[Complaint], *, until: datetime) -> bool:
    link = unsubscribe_url(follow)
    context: dict[str, Any] = {
        "follow": follow,
        "rows": found[:DIGEST_LIMIT],
        "count": len(found),
        "more": max(0, len(found) - DIGEST_LIMIT),
        "unsubscribe_url": link,
    }
    return (
        notification_queue(
            dedupe_key=f"area:{follow.pk}:{until.isoformat()}",
            recipient=follow.email,
            template="follow_digest",
            context=context,
            unsubscribe_url=link,
        )
        is not None
    )


# --- personal data -------------------------------------------------------------------------------


def follows_erase(addresses: set[str]) -> int:
    """An erasure request: every follow of these addresses goes. Returns how many."""
    wanted = {a.strip().lower() for a in addresses if a and a.strip()}
    if not wanted:
        return 0
    deleted, _by_model = Follow.objects.filter(email__in=wanted).delete()
    return deleted


def follows_of_complaints_remove(complaint_ids: list[int]) -> int:
    """Retention: the followers of complaints whose reporter's data is removed go too (a
    complaint closed that long ago has nothing more to tell them)."""
    if not complaint_ids:
        return 0
    deleted, _by_model = Follow.objects.filter(complaint_id__in=complaint_ids).delete()
    return deleted


def follows_prune_unconfirmed(*, now: datetime | None = None) -> int:
    """Requests never confirmed within ``LAPOR_FOLLOW_CONFIRM_DAYS`` are deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LAPOR_FOLLOW_CONFIRM_DAYS)
    deleted, _by_model = Follow.objects.filter(
        confirmed_at__isnull=True, created_at__lt=cutoff
    ).delete()
    return deleted
