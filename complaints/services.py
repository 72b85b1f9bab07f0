"""The one way to change a complaint: views and Celery tasks call these, and nothing else writes
a complaint (the admin shows complaints read-only). Each change locks the row and writes a
``ComplaintEvent``; the table in ``workflow.py`` decides which moves are allowed.

``check_*`` functions validate and raise ``ValidationError`` (field errors); ``complaint_*``
functions change data inside a transaction and queue notifications after commit.
"""

import functools
import json
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import MaxLengthValidator, URLValidator, validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Category, Region
from agencies.selectors import routing_rule_for, staff_scope_for
from lapor.dbrouter import privacy_watermark_raise
from notifications.messaging import phone_normalise, reporter_notify
from notifications.services import (
    notification_queue,
    notification_queue_each,
    notifications_personal_data_remove,
    notifications_withdraw,
    reporter_address,
)

from . import deadlines
from .attachments import MAX_FILES, CleanFile, Rectangle, image_size, random_name, redact_image
from .codes import (
    access_key_hash,
    access_key_new,
    fixed_check_read,
    fixed_check_token,
    supporter_email_hash,
    tracking_code_new,
)
from .contact import validate_phone
from .follows import followers_notify, follows_of_complaints_remove, reporter_unsubscribe_url
from .models import (
    KALSEL_LAT,
    KALSEL_LON,
    LINK_CHANNELS,
    RESPONSE_ACTIONS,
    STAFF_CHANNELS,
    Assignment,
    Attachment,
    BreachKind,
    Channel,
    Classification,
    Complaint,
    ComplaintEvent,
    ContactView,
    DeadlineBreach,
    EventKind,
    ResponseTemplate,
    Support,
)
from .responses import response_body_check
from .selectors import FixedCheck, FixedState, fixed_check_state
from .sources import source_url_normalise
from .workflow import (
    HANDLERS,
    REPLY_STATUSES,
    STAFF_OF_REGION,
    Action,
    Allowed,
    ArchiveReason,
    ComplaintStatus,
    Role,
    Transition,
    WorkflowError,
    allowed_for,
    role_preferred,
    system_transition,
    transition_for,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from lapor.types import AnyUser

T = TypeVar("T")

S = ComplaintStatus
TRACKING_CODE_ATTEMPTS = 8
# Complaints are about what happened recently; a date before this is a typing mistake.
EARLIEST_INCIDENT_DATE = date(2000, 1, 1)


@dataclass(frozen=True)
class IntakeSource:
    """Where staff found a complaint they enter by hand: a link, or a publication and its date;
    and the day the citizen raised it (posted, phoned, came to the counter)."""

    url: str = ""
    publication: str = ""
    published_on: date | None = None
    raised_on: date | None = None


@dataclass(frozen=True)
class SubmitResult:
    complaint: Complaint
    access_key: str | None  # the private link's secret, for guests; shown once
    created: bool


def check_complaint_fields(
    *,
    classification: str,
    title: str,
    description: str,
    category: Category | None,
    region: Region | None,
    address: str,
    incident_date: date | None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    reporter: "AnyUser | None" = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    channel: str = Channel.WEB,
    district: str = "",
    today: date | None = None,
) -> None:
    """Raise ValidationError with every field error of a new complaint."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def check(field: str, value: str, validator: Callable[[str], None]) -> None:
        try:
            validator(value)
        except ValidationError as exc:
            for message in exc.messages:
                add(field, message)

    if classification not in Classification.values:
        add("classification", _("Choose complaint, aspiration or information request."))
    if not (title or "").strip():
        add("title", _("Give your complaint a short title."))
    elif len(title) > 150:
        add("title", _("The title can be at most 150 characters long."))
    if not (description or "").strip():
        add("description", _("Describe the problem."))
    elif len(description) > 5000:
        add("description", _("The description can be at most 5000 characters long."))
    if category is None or not category.is_active:
        add("category", _("Choose a category."))
    if region is None:
        add("region", _("Choose your regency or city."))
    if not (address or "").strip():
        add("address", _("Say where the problem is: a street, a landmark or a village."))
    today = today or timezone.localdate()
    if incident_date is None:
        add("incident_date", _("Give the date it happened, or your best guess."))
    elif incident_date > today:  # ``today`` in WITA, the portal's time zone
        add("incident_date", _("The date cannot be in the future."))
    elif incident_date < EARLIEST_INCIDENT_DATE:
        add("incident_date", _("The date cannot be before 1 January 2000."))
    if (latitude is None) != (longitude is None):
        add("latitude", _("Give both latitude and longitude, or neither."))
    elif latitude is not None and longitude is not None:
        if not KALSEL_LAT[0] <= latitude <= KALSEL_LAT[1]:
            add("latitude", _("This latitude is outside Kalimantan Selatan."))
        if not KALSEL_LON[0] <= longitude <= KALSEL_LON[1]:
            add("longitude", _("This longitude is outside Kalimantan Selatan."))
    guest = reporter is None or not reporter.is_authenticated
    if guest and channel in (Channel.WEB, Channel.API, Channel.OPEN311):
        if not (reporter_name or "").strip():
            add("reporter_name", _("Give your name, so the agency can address you."))
        if not (reporter_email or "").strip() and not (reporter_phone or "").strip():
            add("reporter_email", _("Give an email address or a phone number."))
    # The form checks these too; callers without it (the shell, a future API) must get a field
    # error, not a database error (PostgreSQL refuses an over-long value) or an address mail
    # cannot reach.
    for field, value in (
        ("address", address),
        ("district", district),
        ("reporter_name", reporter_name),
        ("reporter_phone", reporter_phone),
        ("reporter_email", reporter_email),
    ):
        check(field, (value or "").strip(), MaxLengthValidator(_max_length(field)))
    if (reporter_email or "").strip():
        check("reporter_email", reporter_email.strip(), validate_email)
    # A number somebody typed; a text message's or WhatsApp's sender is what the gateway says.
    if (reporter_phone or "").strip() and channel not in (Channel.SMS, Channel.WHATSAPP):
        check("reporter_phone", reporter_phone.strip(), validate_phone)
    if errors:
        raise ValidationError(errors)


def complaint_submit(
    *,
    classification: str,
    title: str,
    description: str,
    category: Category,
    region: Region,
    address: str,
    incident_date: date,
    district: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    is_anonymous: bool = False,
    is_confidential: bool = False,
    reporter: "AnyUser | None" = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    channel: str = Channel.WEB,
    entered_by: "User | None" = None,
    entered_as: str = Role.REGION_COORDINATOR,
    source: IntakeSource | None = None,
    agency: Agency | None = None,
    files: Sequence[CleanFile] = (),
    idempotency_key: uuid.UUID | None = None,
    notify_by: str = "",
    to_triage: bool = False,
    now: datetime | None = None,
) -> SubmitResult:
    """Store a new complaint with its first event and attachments, then route it (or, with
    ``to_triage``, send it to its region's triage whatever the routing rule: email intake, and
    text messages, whose regency and category were read from free text).

    ``notify_by`` is the channel the reporter chose to hear from us by (blank: by their contact).

    A second call with the same ``idempotency_key`` returns the first complaint unchanged.
    Staff entering a complaint pass ``entered_by`` and the role they act in (``entered_as``),
    and ``agency`` to give it to that agency instead of the routing rule's (see
    ``complaint_intake``, which checks all of this).
    """
    now = now or timezone.now()
    if reporter is not None and not reporter.is_authenticated:
        reporter = None
    if idempotency_key is not None:
        existing = Complaint.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return SubmitResult(existing, None, created=False)
    check_complaint_fields(
        classification=classification,
        title=title,
        description=description,
        category=category,
        region=region,
        address=address,
        incident_date=incident_date,
        latitude=latitude,
        longitude=longitude,
        reporter=reporter,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        reporter_phone=reporter_phone,
        channel=channel,
        district=district,
        today=timezone.localdate(now),
    )
    if len(files) > MAX_FILES:
        raise ValidationError({"attachments": _("You can attach at most 5 files.")})

    access_key = access_key_new() if reporter is None else None
    complaint = Complaint(
        classification=classification,
        title=title.strip(),
        description=description.strip(),
        category=category,
        region=region,
        district=district.strip(),
        address=address.strip(),
        latitude=latitude,
        longitude=longitude,
        incident_date=incident_date,
        channel=channel,
        is_anonymous=is_anonymous,
        is_confidential=is_confidential,
        reporter=reporter,
        reporter_name=(reporter_name or (reporter.get_full_name() if reporter else "")).strip(),
        reporter_email=(reporter_email or (reporter.email if reporter else "")).strip(),
        reporter_phone=reporter_phone.strip(),
        notify_by=notify_by,
        access_key_hash=access_key_hash(access_key) if access_key else "",
        idempotency_key=idempotency_key,
        entered_by=entered_by,
        source_url=source.url if source else "",
        source_name=source.publication.strip() if source else "",
        source_date=source.published_on if source else None,
        raised_on=source.raised_on if source else None,
        status=S.SUBMITTED,
        created_at=now,
    )
    try:
        with transaction.atomic():
            _save_with_unique_code(complaint)
            event = _event(
                complaint,
                EventKind.SUBMITTED,
                now=now,
                actor=entered_by or reporter,
                role=entered_as if entered_by else Role.REPORTER,
                to_status=S.SUBMITTED,
                data={"channel": channel},
            )
            _attachments_store(
                complaint, files, role=entered_as if entered_by else Role.REPORTER, event=event
            )
            complaint_route(complaint=complaint, now=now, agency=agency, to_triage=to_triage)
            reporter_notify(
                complaint,
                dedupe_key=f"submitted:{complaint.pk}",
                template="submitted",
                context={"complaint": complaint},
                secret=access_key or "",
            )
    except IntegrityError:
        # A concurrent request with the same idempotency key won the race.
        if idempotency_key is not None:
            existing = Complaint.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return SubmitResult(existing, None, created=False)
        raise
    return SubmitResult(complaint, access_key, created=True)


def _save_with_unique_code(complaint: Complaint) -> None:
    """Save with a fresh tracking code, drawing again on the (rare) collision."""
    for attempt in range(TRACKING_CODE_ATTEMPTS):
        complaint.tracking_code = tracking_code_new()
        try:
            with transaction.atomic():
                complaint.save()
            return
        except IntegrityError:
            if attempt == TRACKING_CODE_ATTEMPTS - 1:
                raise
            code_taken = Complaint.objects.filter(tracking_code=complaint.tracking_code).exists()
            if not code_taken:
                raise
            complaint.pk = None
            complaint._state.adding = True


def complaint_intake(
    *,
    actor: "User",
    role: str,
    channel: str,
    source: IntakeSource,
    agency: Agency | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> SubmitResult:
    """Staff enter a complaint found on social media, online or in print, or received by SMS,
    phone or at the counter: check that ``actor`` may enter it in ``role`` (an officer for their
    own agency, a coordinator for their region, provincial staff anywhere) and that its source
    is complete, then submit it like any other. ``fields`` are ``complaint_submit``'s.

    Raises WorkflowError (not allowed) or ValidationError (every field error at once).
    """
    now = now or timezone.now()
    scope = staff_scope_for(actor)
    region = fields.get("region")
    allowed: dict[str, bool] = {
        Role.AGENCY_OFFICER: agency is not None and agency.pk in scope.agency_ids,
        Role.REGION_COORDINATOR: agency is None
        and (region is None or scope.covers_region(region.pk))
        and bool(scope.region_ids),
        Role.PROVINCE_STAFF: agency is None and scope.is_province,
    }
    if not allowed.get(role, False):
        raise WorkflowError(_("You are not allowed to do this."))
    errors = check_intake_source(channel=channel, source=source, today=timezone.localdate(now))
    if (
        role == Role.AGENCY_OFFICER
        and agency is not None
        and region is not None
        and region.pk != agency.region_id
        and not agency.region.is_province
    ):
        errors.setdefault("region", []).append(
            _("Your agency handles complaints of %(region)s only.") % {"region": agency.region}
        )
    not_checked = ("files", "idempotency_key", "is_anonymous", "is_confidential")
    check_fields = {k: v for k, v in fields.items() if k not in not_checked}
    try:
        check_complaint_fields(channel=channel, today=timezone.localdate(now), **check_fields)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    source = IntakeSource(
        url=source_url_normalise(source.url) if channel in LINK_CHANNELS else "",
        publication=source.publication if channel == Channel.PRINT_MEDIA else "",
        published_on=source.published_on if channel == Channel.PRINT_MEDIA else None,
        raised_on=source.raised_on,
    )
    return complaint_submit(
        channel=channel,
        entered_by=actor,
        entered_as=role,
        source=source,
        agency=agency,
        now=now,
        **fields,
    )


def intake_role(actor: "AnyUser", region: Region | None) -> tuple[str, Agency | None] | None:
    """The role in which ``actor`` may enter a complaint of ``region`` by the intake's rules (see
    ``complaint_intake``), the most specific first: an officer for their own agency of that
    region (or a provincial agency, which serves every region), a coordinator of that region,
    provincial staff anywhere; with the officer's agency. None when no role of theirs covers it."""
    if region is None:
        return None
    scope = staff_scope_for(actor)
    if scope.agency_ids:
        agencies = Agency.objects.filter(pk__in=scope.agency_ids, is_active=True).select_related(
            "region"
        )
        for agency in sorted(agencies, key=lambda a: (a.region_id != region.pk, a.pk)):
            if agency.region_id == region.pk or agency.region.is_province:
                return Role.AGENCY_OFFICER, agency
    if region.pk in scope.region_ids:
        return Role.REGION_COORDINATOR, None
    if scope.is_province:
        return Role.PROVINCE_STAFF, None
    return None


def complaint_enter(
    *, actor: "User", channel: str, now: datetime | None = None, **fields: Any
) -> SubmitResult:
    """Staff enter a complaint through an integration (an API token), under the intake's scope
    rules: only for a region their role covers, in a role they hold (which the event records),
    an officer's going to their own agency. ``fields`` are ``complaint_submit``'s."""
    found = intake_role(actor, fields.get("region"))
    if found is None:
        if fields.get("region") is None:
            check_complaint_fields(channel=channel, **_checked(fields))
        raise ValidationError(
            {"region": _("You do not handle complaints of this regency or city.")}
        )
    role, agency = found
    return complaint_submit(
        channel=channel, entered_by=actor, entered_as=role, agency=agency, now=now, **fields
    )


def _checked(fields: dict) -> dict:
    not_checked = ("files", "idempotency_key", "is_anonymous", "is_confidential", "reporter")
    return {k: v for k, v in fields.items() if k not in not_checked}


def check_intake_source(*, channel: str, source: IntakeSource, today: date) -> dict[str, list[str]]:
    """Field errors of a manual intake's channel and source (empty when it is complete)."""
    errors: dict[str, list[str]] = {}
    if channel not in STAFF_CHANNELS:
        errors["channel"] = [_("Choose where the complaint was found or received.")]
    if source.raised_on is None:
        errors["raised_on"] = [_("Give the date the citizen raised it.")]
    elif source.raised_on > today:
        errors["raised_on"] = [_("The date cannot be in the future.")]
    if channel in LINK_CHANNELS:
        url = (source.url or "").strip()
        if not url:
            errors["source_url"] = [_("Paste the link to the post or article.")]
        else:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                errors["source_url"] = [_("Enter a full link starting with https://.")]
            else:
                if len(source_url_normalise(url)) > _max_length("source_url"):
                    errors["source_url"] = [_("This link is too long.")]
    if channel == Channel.PRINT_MEDIA:
        if not (source.publication or "").strip():
            errors["source_name"] = [_("Name the newspaper or magazine.")]
        elif len(source.publication.strip()) > _max_length("source_name"):
            errors["source_name"] = [_("The name can be at most 150 characters long.")]
        if source.published_on is None:
            errors["source_date"] = [_("Give the date of the edition.")]
        elif source.published_on > today:
            errors["source_date"] = [_("The date cannot be in the future.")]
    return errors


def complaint_route(
    *,
    complaint: Complaint,
    now: datetime | None = None,
    agency: Agency | None = None,
    to_triage: bool = False,
) -> None:
    """Route a submitted complaint: to ``agency`` when given (an officer's own intake), else to
    the agency of its routing rule, or to triage (always with ``to_triage``).

    The caller holds the transaction; the complaint is new or locked.
    """
    now = now or timezone.now()
    if agency is None and not to_triage:
        rule = routing_rule_for(region_id=complaint.region_id, category_id=complaint.category_id)
        agency = rule.agency if rule is not None else None
    routed = agency if agency is not None and agency.is_active else None
    action = Action.ROUTE if routed is not None else Action.ROUTE_TO_TRIAGE
    transition = transition_for(action, status=complaint.status, role=Role.SYSTEM)
    if routed is not None:
        _assign(complaint, routed, now=now)
        complaint.status = transition.target_from(complaint.status)
        complaint.save()
        _event(
            complaint,
            EventKind.ROUTED,
            now=now,
            role=Role.SYSTEM,
            from_status=S.SUBMITTED,
            to_status=S.ASSIGNED,
            to_agency=routed,
            data=_deadline_data(complaint),
        )
    else:
        _to_triage(complaint, now=now)
        complaint.status = transition.target_from(complaint.status)
        complaint.save()
        _event(
            complaint,
            EventKind.TRIAGED,
            now=now,
            role=Role.SYSTEM,
            from_status=S.SUBMITTED,
            to_status=S.TRIAGE,
            data={"triage_due_at": _iso(complaint.triage_due_at)},
        )


def complaint_transition(
    *,
    complaint: Complaint,
    action: str,
    role: str,
    actor: "AnyUser | None" = None,
    note: str = "",
    agency: Agency | None = None,
    reason: str = "",
    duplicate_of: Complaint | None = None,
    rating: int | None = None,
    files: Sequence[CleanFile] = (),
    now: datetime | None = None,
    event_data: dict[str, Any] | None = None,
) -> Complaint:
    """Apply one workflow action: lock the row, check the move, write status and event.

    ``role`` is the capacity the actor acts in; staff roles are checked against the actor's
    scope here, the reporter role against the complaint's account (or the caller has checked
    the private link). Raises WorkflowError or ValidationError; on error nothing is written.
    """
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        transition = transition_for(action, status=locked.status, role=role)
        _check_actor(locked, actor=actor, role=role)
        _check_requirements(
            locked, transition.requires, note=note, agency=agency, reason=reason, rating=rating
        )
        if action == Action.RESOLVE:
            _check_after_photo(locked, files)
        old_status, old_agency, was_public = locked.status, locked.assigned_agency, locked.is_public
        kind, data = _apply(
            locked,
            action,
            now=now,
            note=note,
            agency=agency,
            reason=reason,
            duplicate_of=duplicate_of,
            rating=rating,
        )
        if transition.target is not None:
            locked.status = transition.target
        locked.save()
        if was_public and not locked.is_public:
            transaction.on_commit(privacy_watermark_raise)  # replicas behind it: not read
        event = _event(
            locked,
            kind,
            now=now,
            actor=actor,
            role=role,
            from_status=old_status,
            to_status=locked.status,
            from_agency=old_agency,
            to_agency=locked.assigned_agency,
            note=note,
            data={**data, **(event_data or {})},
        )
        _attachments_store(locked, files, role=role, event=event)
        _notify_after(locked, action, event=event, old_agency=old_agency)
    complaint.refresh_from_db()
    return complaint


def complaint_reply(
    *,
    complaint: Complaint,
    actor: "AnyUser | None" = None,
    note: str,
    files: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> ComplaintEvent:
    """The reporter answers a follow-up; the complaint's status does not change."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write your reply.")})
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.status not in REPLY_STATUSES:
            raise WorkflowError(_("You can reply only while the agency handles the complaint."))
        _check_actor(locked, actor=actor, role=Role.REPORTER)
        event = _event(locked, EventKind.REPLY, now=now, actor=actor, role=Role.REPORTER, note=note)
        _attachments_store(locked, files, role=Role.REPORTER, event=event)
        if locked.assigned_agency_id:
            notification_queue_each(
                ("agency", locked.assigned_agency_id),
                key=f"reply:{event.pk}",
                template="reply",
                context={"complaint": locked},
                complaint=locked,
            )
    return event


def complaint_details_answer(
    *,
    complaint: Complaint,
    note: str,
    region: Region | None = None,
    category: Category | None = None,
    files: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> ComplaintEvent:
    """The reporter of a text-message complaint answers the question we asked about it: their
    words are a reply event, and the regency or category they named (if any) is set while the
    complaint still waits in triage. The triage clock does not change."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note and not files:
        raise ValidationError({"note": _("Write your reply.")})
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        data: dict[str, Any] = {}
        if locked.status == S.TRIAGE:
            if region is not None and region.pk != locked.region_id:
                data["region"] = {"from": locked.region_id, "to": region.pk}
                locked.region = region
            if category is not None and category.is_active and category.pk != locked.category_id:
                data["category"] = {"from": locked.category_id, "to": category.pk}
                locked.category = category
            if data:
                locked.save(update_fields=["region", "category", "updated_at"])
        event = _event(
            locked, EventKind.REPLY, now=now, role=Role.REPORTER, note=note[:5000], data=data
        )
        _attachments_store(locked, files, role=Role.REPORTER, event=event)
    return event


def complaint_privacy_change(
    *,
    complaint: Complaint,
    actor: "AnyUser | None",
    role: str,
    is_anonymous: bool,
    is_confidential: bool,
) -> Complaint:
    """The reporter (or a coordinator on their behalf) changes anonim/rahasia."""
    if role not in (Role.REPORTER, Role.REGION_COORDINATOR, Role.PROVINCE_STAFF):
        raise WorkflowError(_("You are not allowed to do this."))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _check_actor(locked, actor=actor, role=role)
        before = {"is_anonymous": locked.is_anonymous, "is_confidential": locked.is_confidential}
        after = {"is_anonymous": is_anonymous, "is_confidential": is_confidential}
        if before == after:
            return locked
        locked.is_anonymous, locked.is_confidential = is_anonymous, is_confidential
        locked.save(update_fields=["is_anonymous", "is_confidential", "updated_at"])
        transaction.on_commit(privacy_watermark_raise)  # replicas behind it: not read
        _event(
            locked,
            EventKind.PRIVACY,
            now=timezone.now(),
            actor=actor,
            role=role,
            data={"from": before, "to": after},
        )
    complaint.refresh_from_db()
    return complaint


def complaint_reporter_updates_set(
    *, complaint: Complaint, stopped: bool, now: datetime | None = None
) -> bool:
    """The reporter stops (or resumes) this complaint's status messages: the one-click link in
    them, which proves the holder is the reporter (the caller has read the signed token). While
    stopped, ``_notify_after`` queues no status message and no "is it fixed?" email to the
    reporter (followers are told as before); stopping also withdraws those still waiting to be
    sent. Records an internal event (the public timeline does not show it). Returns True when
    something changed; asking twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if (locked.reporter_updates_stopped_at is not None) == stopped:
            return False
        locked.reporter_updates_stopped_at = now if stopped else None
        locked.save(update_fields=["reporter_updates_stopped_at", "updated_at"])
        _event(
            locked,
            EventKind.UPDATES,
            now=now,
            role=Role.REPORTER,
            data={"stopped": stopped},
            is_internal=True,
        )
        if stopped:
            for prefix in (STATUS_KEY, FIXED_CHECK_KEY):
                notifications_withdraw(dedupe_key_prefix=prefix, complaint=locked)
    complaint.refresh_from_db()
    return True


NATIONAL_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9./-]{0,31}$"


def check_national_number(number: str) -> str:
    """A national (SP4N-LAPOR!) number as stored, or ValidationError: 1 to 32 letters, digits,
    dots, slashes and dashes, starting with a letter or digit (so never a spreadsheet formula)."""
    number = (number or "").strip()
    if not re.match(NATIONAL_NUMBER_PATTERN, number):
        raise ValidationError(
            {"national_number": _("Give the SP4N-LAPOR! number: letters, digits, . / - only.")}
        )
    return number


def complaint_national_number_set(
    *,
    complaint: Complaint,
    actor: "AnyUser | None",
    role: str,
    number: str,
    now: datetime | None = None,
) -> Complaint:
    """Record the number SP4N-LAPOR! gave ``complaint`` (provincial staff, or a coordinator of
    its region). Once set it does not change: a different number is a ValidationError, the same
    one changes nothing. The event is internal: the number is shown on the page itself."""
    if role not in STAFF_OF_REGION:
        raise WorkflowError(_("You are not allowed to do this."))
    number = check_national_number(number)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _check_actor(locked, actor=actor, role=role)
        if locked.national_number == number:
            return locked
        if locked.national_number:
            raise ValidationError(
                {
                    "national_number": _("This complaint already has SP4N-LAPOR! number %(n)s.")
                    % {"n": locked.national_number}
                }
            )
        taken = Complaint.objects.filter(national_number=number).exclude(pk=locked.pk)
        if taken.exists():
            raise ValidationError(
                {"national_number": _("Another complaint already has this SP4N-LAPOR! number.")}
            )
        locked.national_number = number
        locked.save(update_fields=["national_number", "updated_at"])
        _event(
            locked,
            EventKind.NATIONAL,
            now=now,
            actor=actor,
            role=role,
            data={"national_number": number},
            is_internal=True,
        )
    complaint.refresh_from_db()
    return complaint


class ClaimProof:
    """How a signed-in citizen proved that a guest complaint is theirs."""

    PRIVATE_LINK = "private_link"  # opened its private link in this browser (checked by caller)
    VERIFIED_EMAIL = "verified_email"  # confirmed the address, signed in, and chose it


def complaint_claim(*, complaint: Complaint, user: "User", proof: str) -> bool:
    """Join a guest complaint to ``user``'s account; False when it already has an account.

    Never done on an email confirmation alone: someone may register with another person's
    address. ``VERIFIED_EMAIL`` needs the account's address confirmed (by the person who knows
    the password, signed in) and equal to the one the guest left; ``PRIVATE_LINK`` needs the
    caller to have checked the link's secret.
    """
    if user is None or not user.is_authenticated:
        raise WorkflowError(_("Sign in to add complaints to your account."))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.reporter_id is not None:
            return False
        if proof == ClaimProof.VERIFIED_EMAIL:
            verified = getattr(getattr(user, "citizen_profile", None), "email_verified_at", None)
            if not (
                verified
                and user.email
                and locked.reporter_email
                and locked.reporter_email.lower() == user.email.lower()
            ):
                raise WorkflowError(_("This complaint was not sent with your confirmed address."))
        elif proof != ClaimProof.PRIVATE_LINK:
            raise WorkflowError(_("You are not allowed to do this."))
        locked.reporter = user
        locked.save(update_fields=["reporter", "updated_at"])
        _event(
            locked,
            EventKind.CLAIMED,
            now=timezone.now(),
            actor=user,
            role=Role.REPORTER,
            data={"proof": proof},
            is_internal=True,
        )
    complaint.refresh_from_db()
    return True


def complaint_support(
    *, complaint: Complaint, user: "AnyUser | None" = None, email: str = ""
) -> bool:
    """Add one "me too" to a public complaint, by account or else by email address (kept
    hashed); True when it counted, False when this person had supported it already.

    Rahasia, archived or not yet routed complaints are not the public's to support, and a
    reporter does not support their own complaint.
    """
    user = user if user is not None and user.is_authenticated else None
    email = (email or "").strip()
    if user is None:
        if not email:
            raise ValidationError({"email": _("Give your email address, or sign in.")})
        validate_email(email)
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if not locked.is_public:
            raise WorkflowError(_("This complaint cannot be supported."))
        if user is not None and locked.reporter_id == user.pk:
            raise WorkflowError(_("This is your own complaint."))
        if (
            user is None
            and locked.reporter_email
            and (locked.reporter_email.lower() == email.lower())
        ):
            raise WorkflowError(_("This is your own complaint."))
        support = Support(
            complaint=locked,
            user=user,
            email_hash="" if user is not None else supporter_email_hash(email),
        )
        try:
            with transaction.atomic():
                support.save()
        except IntegrityError:
            return False
        Complaint.objects.filter(pk=locked.pk).update(supporter_count=F("supporter_count") + 1)
    complaint.refresh_from_db(fields=["supporter_count"])
    return True


def complaint_note_internal(
    *,
    complaint: Complaint,
    actor: "AnyUser | None",
    role: str,
    note: str,
    files: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> ComplaintEvent:
    """A staff note on the timeline that only staff see; the complaint does not change."""
    now = now or timezone.now()
    note = (note or "").strip()
    if role not in HANDLERS:
        raise WorkflowError(_("You are not allowed to do this."))
    if not note:
        raise ValidationError({"note": _("Write a note: it is required for this step.")})
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _check_actor(locked, actor=actor, role=role)
        event = _event(
            locked, EventKind.NOTE, now=now, actor=actor, role=role, note=note, is_internal=True
        )
        _attachments_store(locked, files, role=role, event=event)
    return event


CLOSE_BATCH = 5000


def complaints_close_expired(*, now: datetime | None = None, batch: int = CLOSE_BATCH) -> int:
    """Close, as the system, every complaint whose reply window has passed; returns how many.

    The workflow table decides the move (``Action.CLOSE`` by ``Role.SYSTEM``: from which
    statuses, to which). Set-based, in transactions of at most ``batch`` complaints: lock the
    rows (skipping those another caller holds), update them with a status guard, and write one
    ``closed`` event per complaint in bulk; on PostgreSQL all three in one statement
    (``_close_expired_in_sql``). Safe to run twice, and twice at once: a complaint is closed by
    one run only, and a closed one is no longer a source of the move.
    """
    now = now or timezone.now()
    transition = system_transition(Action.CLOSE)
    total = 0
    while True:
        if connection.vendor == "postgresql":
            with transaction.atomic():
                picked, closed = _close_expired_in_sql(transition, now=now, batch=batch)
            if closed != picked:  # the rows are locked: nothing can have moved them
                raise RuntimeError(f"closed {closed} of {picked} locked complaints")
            total += closed
            if picked < batch:
                return total
            continue
        with transaction.atomic():
            rows = list(
                Complaint.objects.filter(status__in=transition.sources, reply_due_at__lt=now)
                .order_by("reply_due_at", "pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", "status")[:batch]
            )
            ids = [pk for pk, _status in rows]
            closed = Complaint.objects.filter(pk__in=ids, status__in=transition.sources).update(
                status=transition.target, updated_at=now, **_closed_fields(now)
            )
            if closed != len(rows):  # the rows are locked: nothing can have moved them
                raise RuntimeError(f"closed {closed} of {len(rows)} locked complaints")
            ComplaintEvent.objects.bulk_create(
                (
                    ComplaintEvent(
                        complaint_id=pk,
                        kind=EventKind.CLOSED,
                        actor_role=Role.SYSTEM,
                        created_at=now,
                        from_status=status,
                        to_status=transition.target_from(status),
                        data={"reason": "reply_window_passed"},
                    )
                    for pk, status in rows
                ),
                batch_size=1000,
            )
        total += len(rows)
        if len(rows) < batch:
            return total


def _close_expired_in_sql(transition: Transition, *, now: datetime, batch: int) -> tuple[int, int]:
    """One batch of ``complaints_close_expired`` on PostgreSQL, in one statement: lock up to
    ``batch`` complaints past their reply window (skipping those another caller holds), close
    them with the status guard, and write their ``closed`` events from the closed rows, without
    a round trip of their ids through Python. Returns (locked, closed)."""
    complaint, event = Complaint._meta.db_table, ComplaintEvent._meta.db_table
    fields = {"status": transition.target, "updated_at": now, **_closed_fields(now)}
    column = {field.attname: field.column for field in Complaint._meta.concrete_fields}
    columns = ", ".join(f"{column[name]} = %(set_{name})s" for name in fields)
    sources = sorted(transition.sources)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH picked AS (
                SELECT id, status FROM {complaint}
                WHERE status = ANY(%(sources)s) AND reply_due_at < %(now)s
                ORDER BY reply_due_at, id LIMIT %(batch)s
                FOR UPDATE SKIP LOCKED
            ), closed AS (
                UPDATE {complaint} AS c SET {columns}
                FROM picked WHERE c.id = picked.id AND c.status = ANY(%(sources)s)
                RETURNING c.id, picked.status AS from_status
            ), events AS (
                INSERT INTO {event} (complaint_id, kind, actor_role, created_at, from_status,
                                     to_status, note, is_internal, data)
                SELECT closed.id, %(kind)s, %(role)s, %(now)s, closed.from_status, move.target,
                       '', false, %(data)s::jsonb
                FROM closed JOIN unnest(%(sources)s::text[], %(targets)s::text[])
                    AS move(source, target) ON move.source = closed.from_status
            )
            SELECT (SELECT count(*) FROM picked), (SELECT count(*) FROM closed)
            """,  # noqa: S608 - table and column names come from the models, values are bound
            {
                **{f"set_{name}": value for name, value in fields.items()},
                "sources": sources,
                "targets": [transition.target_from(source) for source in sources],
                "now": now,
                "batch": batch,
                "kind": EventKind.CLOSED,
                "role": Role.SYSTEM,
                "data": json.dumps({"reason": "reply_window_passed"}),
            },
        )
        picked, closed = cursor.fetchone()
    return picked, closed


CONTACT_REASON_MIN = 10


def contact_view_record(
    *, complaint: Complaint, actor: "User", reason: str, now: datetime | None = None
) -> ContactView:
    """Staff ask to see the reporter's contact: allowed with a reason, and recorded.

    Agency officers and coordinators of the complaint may, with a reason of at least
    ``CONTACT_REASON_MIN`` characters; for an anonim complaint only provincial staff may.
    Raises ValidationError (no reason) or WorkflowError (not allowed); nothing is recorded then.
    """
    roles = actor_roles(complaint, actor) - {Role.REPORTER}
    if not roles:
        raise WorkflowError(_("You are not allowed to do this."))
    if complaint.is_anonymous and Role.PROVINCE_STAFF not in roles:
        raise WorkflowError(
            _("The reporter chose to be anonymous: only provincial staff may see the contact.")
        )
    reason = " ".join((reason or "").split())
    if len(reason) < CONTACT_REASON_MIN:
        raise ValidationError(
            {"reason": _("Say briefly why you need the contact (at least 10 characters).")}
        )
    if len(reason) > 200:
        raise ValidationError({"reason": _("The reason can be at most 200 characters long.")})
    if complaint.personal_data_removed_at is not None:
        raise WorkflowError(_("The reporter's personal data has been removed."))
    role = Role.PROVINCE_STAFF if complaint.is_anonymous else _given(role_preferred(roles), "role")
    return ContactView.objects.create(
        complaint=complaint,
        viewer=actor,
        viewer_role=role,
        reason=reason,
        viewed_at=now or timezone.now(),
    )


# --- response templates ------------------------------------------------------------------------


def response_template_owner_allowed(
    actor: "AnyUser | None", *, agency: Agency | None, region: Region | None
) -> bool:
    """Whether ``actor`` may keep templates for this owner: an agency's its officers (and the
    coordinators of its region), a region's its coordinators, the province's provincial staff
    (who may keep any)."""
    scope = staff_scope_for(actor)
    if scope.is_province:
        return True
    if agency is not None:
        return agency.pk in scope.agency_ids or agency.region_id in scope.region_ids
    if region is not None:
        return region.pk in scope.region_ids
    return False


def response_template_save(
    *,
    actor: "User",
    template: ResponseTemplate | None = None,
    agency: Agency | None,
    region: Region | None,
    category: Category | None,
    action: str,
    title: str,
    body: str,
) -> ResponseTemplate:
    """Create a response template, or change ``template``. The actor must be allowed to keep
    templates for both its old owner and its new one; the text may only name known
    placeholders. Raises WorkflowError (not allowed) or ValidationError (a field)."""
    if agency is not None and region is not None:
        raise ValidationError(
            {"owner": _("A template belongs to an agency or a region, not both.")}
        )
    if action not in {a.value for a in RESPONSE_ACTIONS}:
        raise ValidationError({"action": _("Choose an action.")})
    title, body = " ".join((title or "").split()), (body or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the template a name.")})
    if not body:
        raise ValidationError({"body": _("Write the text of the answer.")})
    response_body_check(body)
    allowed = response_template_owner_allowed(actor, agency=agency, region=region)
    if template is not None:
        allowed = allowed and response_template_owner_allowed(
            actor, agency=template.agency, region=template.region
        )
    if not allowed:
        raise WorkflowError(_("You are not allowed to do this."))
    template = template or ResponseTemplate()
    template.agency, template.region, template.category = agency, region, category
    template.action, template.title, template.body = action, title[:80], body[:2000]
    template.updated_by, template.updated_at = actor, timezone.now()
    template.save()
    return template


def response_template_delete(*, actor: "User", template: ResponseTemplate) -> None:
    if not response_template_owner_allowed(actor, agency=template.agency, region=template.region):
        raise WorkflowError(_("You are not allowed to do this."))
    template.delete()


# --- photo redaction ---------------------------------------------------------------------------

MAX_REDACTIONS = 6
# Who may hide part of a photo and see the photo as uploaded: the agency handling the complaint
# and provincial staff (not the regency coordinator, not the reporter, not the public).
REDACTION_ROLES = (Role.AGENCY_OFFICER, Role.PROVINCE_STAFF)


def redaction_role(user: "AnyUser | None", complaint: Complaint) -> str | None:
    """The role in which ``user`` may redact ``complaint``'s photos and see their originals:
    officer of the assigned agency first, then provincial staff; None when neither."""
    roles = actor_roles(complaint, user)
    return next((role for role in REDACTION_ROLES if role in roles), None)


def attachment_redact(
    *,
    attachment: Attachment,
    actor: "User",
    rectangles: Sequence[Rectangle],
    now: datetime | None = None,
) -> ComplaintEvent:
    """Hide regions of an attached photo: a copy with each rectangle filled black (and no
    metadata) becomes the file everyone is served; the photo as uploaded is kept in
    ``original`` for the handling agency and provincial staff until the reporter's personal
    data is removed (then it is deleted). Redacting again blacks out more of the public copy;
    nothing hidden comes back. One internal ``redacted`` event.

    Raises WorkflowError (not allowed, not a photo) or ValidationError (no usable rectangle)."""
    now = now or timezone.now()
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=attachment.complaint_id)
        role = redaction_role(actor, complaint)
        if role is None:
            raise WorkflowError(_("You are not allowed to do this."))
        locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if not locked.is_image:
            raise WorkflowError(_("Only photos can be redacted."))
        with locked.file.open("rb") as stored:
            data = stored.read()
        size = image_size(data)
        boxes = [box for r in rectangles if (box := r.within(size)) is not None]
        if not boxes:
            raise ValidationError(
                _("Mark at least one area inside the photo (%(width)s × %(height)s pixels).")
                % {"width": size[0], "height": size[1]}
            )
        if len(boxes) > MAX_REDACTIONS:
            raise ValidationError(
                _("Mark at most %(count)s areas at once.") % {"count": MAX_REDACTIONS}
            )
        redacted = redact_image(data, locked.content_type, boxes)
        previous = locked.file.name or ""
        keep_original = not locked.original and complaint.personal_data_removed_at is None
        if keep_original:
            locked.original.name = previous
        locked.file.save(random_name(locked.content_type), ContentFile(redacted), save=False)
        locked.size = len(redacted)
        locked.redacted_at = now
        locked.save(update_fields=["file", "original", "size", "redacted_at"])
        if not keep_original:  # a redacted copy made before: replaced by the new one
            storage = locked.file.storage
            transaction.on_commit(functools.partial(storage.delete, previous))
        event = _event(
            complaint,
            EventKind.REDACTED,
            now=now,
            actor=actor,
            role=role,
            data={"attachment": locked.pk, "rectangles": [box.as_list() for box in boxes]},
            is_internal=True,
        )
    attachment.refresh_from_db()
    return event


# --- personal data: retention and erasure ------------------------------------------------------

ANONYMISE_BATCH = 500
# What stands where a reporter's contact was, in an event's note or data.
REMOVED = "[dihapus]"


class RemovalReason:
    RETENTION = "retention"  # LAPOR_RETENTION_REPORTER_DAYS after closing or archiving
    ERASURE = "erasure"  # the reporter asked for it


def _ended_before(cutoff: datetime, *, kind: str) -> Exists:
    """The complaint's last archiving event is at or before ``cutoff``."""
    return Exists(
        ComplaintEvent.objects.filter(complaint=OuterRef("pk"), kind=kind, created_at__lte=cutoff)
    )


def anonymise_due_q(now: datetime) -> Q:
    """Complaints whose reporter's personal data is due for removal at ``now``."""
    cutoff = now - timedelta(days=settings.LAPOR_RETENTION_REPORTER_DAYS)
    return Q(personal_data_removed_at__isnull=True) & (
        Q(status=S.CLOSED, closed_at__lte=cutoff)
        | Q(status=S.ARCHIVED) & Q(_ended_before(cutoff, kind=EventKind.ARCHIVED))
    )


def complaints_anonymise_due(*, now: datetime | None = None, batch: int = ANONYMISE_BATCH) -> int:
    """Remove the reporter's personal data from every complaint closed or archived more than
    ``LAPOR_RETENTION_REPORTER_DAYS`` ago; returns how many complaints.

    In transactions of at most ``batch`` complaints (rows locked, those another caller holds
    skipped). Idempotent: a complaint done once carries ``personal_data_removed_at`` and is not
    due again. No status, agency, date or rating changes, so no figure or ranking moves.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                Complaint.objects.filter(anonymise_due_q(now))
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[:batch]
            )
            _personal_data_remove(ids, now=now, reason=RemovalReason.RETENTION)
            follows_of_complaints_remove(ids)
        total += len(ids)
        if len(ids) < batch:
            return total


def complaints_personal_data_erase(
    *,
    complaints: "QuerySet[Complaint]",
    actor: "AnyUser | None" = None,
    now: datetime | None = None,
) -> int:
    """The reporter's erasure request: their contact leaves these complaints at once (the
    complaint's text, status and history stay: the agency's handling record must stay).
    ``complaints`` come from the caller's ``Purpose.OWN`` scope. Returns how many changed."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Complaint.objects.filter(
                pk__in=[c.pk for c in complaints], personal_data_removed_at__isnull=True
            )
            .order_by("pk")
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
        _personal_data_remove(ids, now=now, reason=RemovalReason.ERASURE, actor=actor)
    return len(ids)


def complaints_contact_correct(
    *,
    complaints: "QuerySet[Complaint]",
    name: str,
    email: str,
    phone: str,
    actor: "AnyUser | None" = None,
    now: datetime | None = None,
) -> int:
    """The reporter corrects the contact on their own complaints (``Purpose.OWN``); one
    internal ``privacy`` event each, without the values. Returns how many changed."""
    fields = {"reporter_name": name, "reporter_email": email, "reporter_phone": phone}
    errors: dict[str, list[str]] = {}
    for field, value in fields.items():
        if len((value or "").strip()) > _max_length(field):
            errors.setdefault(field, []).append(_("This is too long."))
    for field, value, validator in (
        ("reporter_email", email, validate_email),
        ("reporter_phone", phone, validate_phone),
    ):
        if (value or "").strip():
            try:
                validator(value.strip())
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    fields = {k: (v or "").strip() for k, v in fields.items()}
    now = now or timezone.now()
    changed = 0
    with transaction.atomic():
        for locked in Complaint.objects.filter(
            pk__in=[c.pk for c in complaints], personal_data_removed_at__isnull=True
        ).select_for_update():
            if all(getattr(locked, k) == v for k, v in fields.items()):
                continue
            for k, v in fields.items():
                setattr(locked, k, v)
            locked.save(update_fields=[*fields, "updated_at"])
            _event(
                locked,
                EventKind.PRIVACY,
                now=now,
                actor=actor,
                role=Role.REPORTER,
                data={"contact_corrected": True},
                is_internal=True,
            )
            changed += 1
    return changed


def _contact_values(name: str, email: str, phone: str) -> list[str]:
    values = [v.strip() for v in (email, phone, name) if v and len(v.strip()) >= 3]
    return sorted(set(values), key=len, reverse=True)


def _scrubbed(text: str, values: list[str]) -> str:
    lowered = text.lower()
    for value in values:
        if value.lower() in lowered:
            start = 0
            while (i := text.lower().find(value.lower(), start)) != -1:
                text = text[:i] + REMOVED + text[i + len(value) :]
                start = i + len(REMOVED)
            lowered = text.lower()
    return text


def _personal_data_remove(
    ids: list[int], *, now: datetime, reason: str, actor: "AnyUser | None" = None
) -> None:
    """Inside the caller's transaction, with the rows locked: blank the reporter's name, email,
    phone, account link and private link; scrub them from the events' notes and data and from
    the reporter's notifications; one ``anonymised`` event per complaint."""
    if not ids:
        return
    transaction.on_commit(privacy_watermark_raise)  # replicas behind it: not read
    rows = list(
        Complaint.objects.filter(pk__in=ids).values_list(
            "pk", "reporter_name", "reporter_email", "reporter_phone", "reporter__email"
        )
    )
    contacts = {pk: _contact_values(name, email, phone) for pk, name, email, phone, _a in rows}
    for event in ComplaintEvent.objects.filter(complaint_id__in=ids).only(
        "pk", "complaint_id", "note", "data"
    ):
        values = contacts[event.complaint_id]
        if not values:
            continue
        note = _scrubbed(event.note, values)
        data = json.loads(_scrubbed(json.dumps(event.data, ensure_ascii=False), values))
        if note != event.note or data != event.data:
            ComplaintEvent.objects.filter(pk=event.pk).personal_data_scrub(note=note, data=data)
    notifications_personal_data_remove(
        complaint_ids=ids,
        recipients={a.lower() for _pk, _n, e, _p, acc in rows for a in (e, acc) if a}
        | {phone for *_rest, p, _acc in rows if (phone := phone_normalise(p))},
    )
    _originals_delete(Attachment.objects.filter(complaint_id__in=ids))
    # Staff wrote why they asked for the contact: the record stays, the contact leaves it.
    for view in ContactView.objects.filter(complaint_id__in=ids).only(
        "pk", "complaint_id", "reason"
    ):
        reason = _scrubbed(view.reason, contacts[view.complaint_id])
        if reason != view.reason:
            ContactView.objects.filter(pk=view.pk).update(reason=reason)
    # The supporters of these complaints: who they were goes, their number stays.
    Support.objects.filter(complaint_id__in=ids).exclude(user=None, email_hash="").update(
        user=None, email_hash=""
    )
    Complaint.objects.filter(pk__in=ids).update(
        reporter_name="",
        reporter_email="",
        reporter_phone="",
        reporter=None,
        access_key_hash="",
        personal_data_removed_at=now,
        updated_at=now,
    )
    ComplaintEvent.objects.bulk_create(
        (
            ComplaintEvent(
                complaint_id=pk,
                kind=EventKind.ANONYMISED,
                actor=actor if actor is not None and actor.is_authenticated else None,
                actor_role=Role.SYSTEM if reason == RemovalReason.RETENTION else Role.REPORTER,
                created_at=now,
                data={"reason": reason},
            )
            for pk in ids
        ),
        batch_size=1000,
    )


def _originals_delete(attachments: "QuerySet[Attachment]") -> None:
    """Inside the caller's transaction: forget the unredacted originals of these attachments
    (only their redacted copies stay), and delete the files once it commits."""
    doomed = list(attachments.exclude(original="").only("pk", "original"))
    if not doomed:
        return
    Attachment.objects.filter(pk__in=[a.pk for a in doomed]).update(original="")
    transaction.on_commit(functools.partial(_files_delete, [a.original for a in doomed]))


def supports_personal_data_erase(*, user: "AnyUser | None", emails: Collection[str]) -> int:
    """A supporter's erasure: their "me too"s (by account, or by one of ``emails``, which the
    caller has seen them prove) stay counted but no longer say whose they were. Returns how
    many."""
    who = Q(email_hash__in=[supporter_email_hash(e) for e in emails if e and e.strip()])
    if user is not None and user.is_authenticated:
        who |= Q(user=user)
    with transaction.atomic():
        return Support.objects.filter(who).update(user=None, email_hash="")


def attachments_prune_spam(*, now: datetime | None = None, batch: int = ANONYMISE_BATCH) -> int:
    """Delete the files of complaints archived as spam more than
    ``LAPOR_RETENTION_SPAM_ATTACHMENT_DAYS`` ago; returns how many attachments."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LAPOR_RETENTION_SPAM_ATTACHMENT_DAYS)
    total = 0
    while True:
        with transaction.atomic():
            doomed = list(
                Attachment.objects.filter(
                    complaint__status=S.ARCHIVED, complaint__archive_reason=ArchiveReason.SPAM
                )
                .filter(
                    Exists(
                        ComplaintEvent.objects.filter(
                            complaint=OuterRef("complaint"),
                            kind=EventKind.ARCHIVED,
                            created_at__lte=cutoff,
                        )
                    )
                )
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))[:batch]
            )
            files = [a.file for a in doomed] + [a.original for a in doomed if a.original]
            Attachment.objects.filter(pk__in=[a.pk for a in doomed]).delete()
            transaction.on_commit(functools.partial(_files_delete, files))
        total += len(doomed)
        if len(doomed) < batch:
            return total


# --- internals ---------------------------------------------------------------------------------


def _check_actor(complaint: Complaint, *, actor: "AnyUser | None", role: str) -> None:
    if role == Role.SYSTEM:
        return
    if role == Role.REPORTER:
        # A guest proves ownership with the private link (checked by the caller, actor None).
        if actor is not None and actor.is_authenticated and complaint.reporter_id != actor.pk:
            raise WorkflowError(_("Only the reporter can do this."))
        return
    scope = staff_scope_for(actor)
    allowed: dict[str, bool] = {
        Role.PROVINCE_STAFF: scope.is_province,
        Role.REGION_COORDINATOR: scope.covers_region(complaint.region_id),
        Role.AGENCY_OFFICER: complaint.assigned_agency_id in scope.agency_ids,
    }
    if not allowed.get(role, False):
        raise WorkflowError(_("You are not allowed to do this."))


def _check_requirements(
    complaint: Complaint,
    requires: Collection[str],
    *,
    note: str,
    agency: Agency | None,
    reason: str,
    rating: int | None,
) -> None:
    if "note" in requires and not note:
        raise ValidationError({"note": _("Write a note: it is required for this step.")})
    if "agency" in requires:
        if agency is None or not agency.is_active:
            raise ValidationError({"agency": _("Choose an active agency.")})
        if agency.region_id != complaint.region_id and not agency.region.is_province:
            raise ValidationError(
                {"agency": _("Choose an agency of this regency or city, or of the province.")}
            )
        if agency.pk == complaint.assigned_agency_id:
            raise ValidationError({"agency": _("The complaint is already with this agency.")})
    if "reason" in requires and reason not in ArchiveReason.values:
        raise ValidationError({"reason": _("Choose why the complaint is archived.")})
    if "rating" in requires:
        try:
            valid = rating is not None and 1 <= int(rating) <= 5
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValidationError({"rating": _("Choose a rating from 1 to 5.")})


def _check_after_photo(complaint: Complaint, files: Sequence[CleanFile]) -> None:
    """A category the admin marks needs a photo of the result to be resolved."""
    if complaint.category.requires_after_photo and not any(
        clean.content_type.startswith("image/") for clean in files
    ):
        raise ValidationError(
            {
                "attachments": _(
                    "This category needs a photo of the result: attach an “after” photo to "
                    "resolve it."
                )
            }
        )


def _apply(
    complaint: Complaint,
    action: str,
    *,
    now: datetime,
    note: str,
    agency: Agency | None,
    reason: str,
    duplicate_of: Complaint | None,
    rating: int | None,
) -> tuple[str, dict[str, Any]]:
    """The effects of ``action`` beyond the status; returns (event kind, event data)."""
    if action == Action.REROUTE:
        _assign(complaint, _given(agency, "agency"), now=now)
        return EventKind.REROUTED, _deadline_data(complaint)
    if action == Action.FOLLOW_UP:
        _first_follow_up(complaint, now)
        return EventKind.FOLLOW_UP, {}
    if action == Action.NOT_OURS:
        _end_assignment(complaint, now)
        _to_triage(complaint, now=now)
        return EventKind.NOT_OURS, {"triage_due_at": _iso(complaint.triage_due_at)}
    if action == Action.RESOLVE:
        _first_follow_up(complaint, now)
        complaint.resolved_at = now
        complaint.reply_due_at = deadlines.reply_window_end(now)
        return EventKind.RESOLVED, {"reply_due_at": _iso(complaint.reply_due_at)}
    if action == Action.REOPEN:
        if complaint.reply_due_at and now > complaint.reply_due_at:
            raise WorkflowError(_("The ten days to reopen this complaint have passed."))
        agency = _given(complaint.assigned_agency, "assigned_agency")
        complaint.resolved_at = complaint.reply_due_at = None
        _assign(complaint, agency, now=now)
        return EventKind.REOPENED, _deadline_data(complaint)
    if action == Action.RATE:
        complaint.rating = int(_given(rating, "rating"))
        complaint.rating_comment = note
        complaint.closed_at = now
        return EventKind.RATED, {"rating": complaint.rating}
    if action == Action.CLOSE:
        for field, value in _closed_fields(now).items():
            setattr(complaint, field, value)
        return EventKind.CLOSED, {}
    if action == Action.ARCHIVE:
        if reason == ArchiveReason.DUPLICATE:
            if duplicate_of is None or duplicate_of.pk == complaint.pk:
                raise ValidationError(
                    {"duplicate_of": _("Give the tracking code of the original complaint.")}
                )
            complaint.duplicate_of = duplicate_of
        complaint.archive_reason = reason
        _end_assignment(complaint, now)
        complaint.triage_due_at = None
        data = {"reason": reason}
        if complaint.duplicate_of is not None:
            data["duplicate_of"] = complaint.duplicate_of.tracking_code
        return EventKind.ARCHIVED, data
    raise WorkflowError(_("Unknown action."))


def _closed_fields(now: datetime) -> dict:
    """What closing sets besides the status, by the reporter or (in bulk) by the system."""
    return {"closed_at": now}


def _assign(complaint: Complaint, agency: Agency, *, now: datetime) -> None:
    """Start a fresh assignment with its own clocks; the old one (and its breaches) stays."""
    _end_assignment(complaint, now)
    follow_up_due = deadlines.follow_up_due(now, days=complaint.category.follow_up_days)
    completion_due = deadlines.completion_due(now, classification=complaint.classification)
    Assignment.objects.create(
        complaint=complaint,
        agency=agency,
        assigned_at=now,
        follow_up_due_at=follow_up_due,
        completion_due_at=completion_due,
    )
    complaint.assigned_agency = agency
    complaint.assigned_at = now
    complaint.follow_up_due_at = follow_up_due
    complaint.completion_due_at = completion_due
    complaint.first_follow_up_at = None
    complaint.triage_due_at = None


def _end_assignment(complaint: Complaint, now: datetime) -> None:
    """End the current assignment; a follow-up deadline it already missed goes on record
    against its agency now, before the sweep could see it, so re-routing cannot erase it."""
    if (
        complaint.assigned_agency_id
        and complaint.status == S.ASSIGNED
        and complaint.follow_up_due_at
        and complaint.follow_up_due_at < now
    ):
        due = BreachDue(
            complaint.pk,
            complaint.follow_up_due_at,
            complaint.assigned_agency_id,
            complaint.region_id,
        )
        # Found before the sweep: nobody has been told, so the event names no escalation.
        breaches_record([due], kind=BreachKind.FOLLOW_UP, now=now, escalated_to=None)
    Assignment.objects.filter(complaint=complaint, ended_at__isnull=True).update(ended_at=now)
    complaint.assigned_agency = None


def _to_triage(complaint: Complaint, *, now: datetime) -> None:
    complaint.status = S.TRIAGE
    complaint.assigned_agency = None
    complaint.assigned_at = complaint.follow_up_due_at = complaint.completion_due_at = None
    complaint.first_follow_up_at = None
    complaint.triage_due_at = deadlines.triage_due(now)


def _first_follow_up(complaint: Complaint, now: datetime) -> None:
    if complaint.first_follow_up_at is None:
        complaint.first_follow_up_at = now
        Assignment.objects.filter(
            complaint=complaint, ended_at__isnull=True, first_follow_up_at__isnull=True
        ).update(first_follow_up_at=now)


def _deadline_data(complaint: Complaint) -> dict[str, Any]:
    return {
        "follow_up_due_at": _iso(complaint.follow_up_due_at),
        "completion_due_at": _iso(complaint.completion_due_at),
    }


def _files_delete(files: list[FieldFile]) -> None:
    """Remove stored files, once the transaction that deleted their rows has committed."""
    for file in files:
        file.delete(save=False)


def _iso(deadline: datetime | None) -> str:
    """A deadline just set, for an event's data."""
    return _given(deadline, "deadline").isoformat()


def _given(value: "T | None", what: str) -> T:
    """A value that the checks before (the transition's requirements, the status) guarantee."""
    if value is None:
        raise ValueError(f"{what} is missing")
    return value


def _max_length(field: str) -> int:
    """The length a text column of Complaint holds."""
    max_length = getattr(Complaint._meta.get_field(field), "max_length", None)
    if max_length is None:
        raise ValueError(f"Complaint.{field} has no maximum length")
    return max_length


@dataclass(frozen=True)
class BreachDue:
    """A deadline a complaint missed: what a breach row records."""

    complaint_id: int
    due_at: datetime
    agency_id: int | None
    region_id: int


def breaches_record(
    missed: list[BreachDue], *, kind: str, now: datetime, escalated_to: str | None
) -> set[int]:
    """Record each missed deadline once (per complaint, kind and due time) with its staff-only
    ``breach`` event; returns the ids of the complaints newly breached. One already on record
    (e.g. written at a re-route) is left alone, so no event or email repeats.

    The one writer of breaches, for the sweep and for re-routing, on both databases: the same
    rows and the same fields (``tests/complaints/test_breach_writer.py`` compares them). The
    event's ``data`` is built here once; ``escalated_to`` (who was told besides the agency) is
    left out when None. On PostgreSQL it is one statement that builds no model objects, which
    at 10,000 breaches is most of the sweep's time (``make bench-deadlines``).
    """
    if not missed:
        return set()
    data: dict[tuple[int, datetime], dict[str, Any]] = {}
    for due in missed:
        data[(due.complaint_id, due.due_at)] = {
            "deadline": str(kind),
            "due_at": due.due_at.isoformat(),
            **({"escalated_to": escalated_to} if escalated_to is not None else {}),
        }
    if connection.vendor == "postgresql":
        return _breaches_record_in_sql(missed, kind=kind, now=now, data=data)
    known = set(
        DeadlineBreach.objects.filter(
            complaint_id__in=[due.complaint_id for due in missed], kind=kind
        ).values_list("complaint_id", "due_at")
    )
    new = [due for due in missed if (due.complaint_id, due.due_at) not in known]
    DeadlineBreach.objects.bulk_create(
        (
            DeadlineBreach(
                complaint_id=due.complaint_id,
                kind=kind,
                due_at=due.due_at,
                agency_id=due.agency_id,
                region_id=due.region_id,
                recorded_at=now,
            )
            for due in new
        ),
        ignore_conflicts=True,
        batch_size=1000,
    )
    ComplaintEvent.objects.bulk_create(
        (
            ComplaintEvent(
                complaint_id=due.complaint_id,
                kind=EventKind.BREACH,
                actor_role=Role.SYSTEM,
                created_at=now,
                from_agency_id=due.agency_id,
                is_internal=True,
                data=data[(due.complaint_id, due.due_at)],
            )
            for due in new
        ),
        batch_size=1000,
    )
    return {due.complaint_id for due in new}


def _breaches_record_in_sql(
    missed: list[BreachDue],
    *,
    kind: str,
    now: datetime,
    data: dict[tuple[int, datetime], dict[str, Any]],
) -> set[int]:
    """``breaches_record`` on PostgreSQL: the breach rows ``ON CONFLICT DO NOTHING``, and an
    event for each one inserted, in one statement."""
    breach, event = DeadlineBreach._meta.db_table, ComplaintEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH given AS (
                SELECT * FROM unnest(%(ids)s::bigint[], %(due)s::timestamptz[],
                                     %(agencies)s::bigint[], %(regions)s::bigint[],
                                     %(data)s::text[])
                    AS g(complaint_id, due_at, agency_id, region_id, data)
            ), new AS (
                INSERT INTO {breach}
                    (complaint_id, kind, due_at, agency_id, region_id, recorded_at)
                SELECT complaint_id, %(kind)s, due_at, agency_id, region_id, %(now)s FROM given
                ON CONFLICT (complaint_id, kind, due_at) DO NOTHING
                RETURNING complaint_id, due_at
            )
            INSERT INTO {event} (complaint_id, kind, actor_role, created_at, from_status,
                                 to_status, from_agency_id, note, is_internal, data)
            SELECT given.complaint_id, %(event_kind)s, %(role)s, %(now)s, '', '',
                   given.agency_id, '', true, given.data::jsonb
            FROM new JOIN given USING (complaint_id, due_at)
            RETURNING complaint_id
            """,  # noqa: S608 - table names come from the models, values are bound
            {
                "ids": [due.complaint_id for due in missed],
                "due": [due.due_at for due in missed],
                "agencies": [due.agency_id for due in missed],
                "regions": [due.region_id for due in missed],
                "data": [json.dumps(data[(due.complaint_id, due.due_at)]) for due in missed],
                "kind": kind,
                "now": now,
                "event_kind": EventKind.BREACH,
                "role": Role.SYSTEM,
            },
        )
        return {complaint_id for (complaint_id,) in cursor.fetchall()}


def _event(
    complaint: Complaint,
    kind: str,
    *,
    now: datetime,
    role: str,
    actor: "AnyUser | None" = None,
    from_status: str = "",
    to_status: str = "",
    from_agency: Agency | None = None,
    to_agency: Agency | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    is_internal: bool = False,
) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        complaint=complaint,
        kind=kind,
        created_at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_role=role,
        from_status=from_status if from_status != to_status else "",
        to_status=to_status if from_status != to_status else "",
        from_agency=from_agency if from_agency != to_agency else None,
        to_agency=to_agency if from_agency != to_agency else None,
        note=note,
        data=data or {},
        is_internal=is_internal,
    )


def _attachments_store(
    complaint: Complaint,
    files: Sequence[CleanFile],
    *,
    role: str,
    event: ComplaintEvent | None = None,
) -> list[Attachment]:
    stored = []
    for clean in files:
        attachment = Attachment(
            complaint=complaint,
            event=event,
            content_type=clean.content_type,
            size=clean.size,
            uploaded_by_role=role,
        )
        attachment.file.save(clean.name, ContentFile(clean.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _notify_after(
    complaint: Complaint, action: str, *, event: ComplaintEvent, old_agency: Agency | None
) -> None:
    context = {"complaint": complaint, "event": event}
    if action in (Action.REROUTE, Action.REOPEN) and complaint.assigned_agency_id:
        notification_queue_each(
            ("agency", complaint.assigned_agency_id),
            key=f"assigned:{event.pk}",
            template="assigned",
            context=context,
            complaint=complaint,
        )
    if action == Action.NOT_OURS:
        notification_queue_each(
            ("region", complaint.region_id),
            key=f"triage:{event.pk}",
            template="triage",
            context=context,
            complaint=complaint,
        )
    # The reporter follows their own complaint until they stop it (the link in these messages).
    tell_reporter = complaint.reporter_updates_stopped_at is None
    if action in (Action.FOLLOW_UP, Action.RESOLVE, Action.ARCHIVE) and tell_reporter:
        link = reporter_unsubscribe_url(complaint)
        reporter_notify(
            complaint,
            dedupe_key=f"{STATUS_KEY}{event.pk}",
            template="status",
            context={**context, "unsubscribe_url": link},
            unsubscribe_url=link,
        )
    followers_notify(complaint, event)
    if action == Action.RESOLVE and tell_reporter:
        _fixed_check_queue(complaint, event=event)
    if action in (Action.REOPEN, Action.RATE, Action.CLOSE):
        # Answered on the site (or closed): an "is it fixed?" email still waiting is not sent.
        notifications_withdraw(dedupe_key_prefix=FIXED_CHECK_KEY, complaint=complaint)


STATUS_KEY = "status:"
FIXED_CHECK_KEY = "fixed-check:"


def _fixed_check_queue(complaint: Complaint, *, event: ComplaintEvent) -> None:
    """Ask the reporter "is it fixed?" by email ``LAPOR_FIXED_CHECK_DAYS`` after the
    resolution (at the latest a day before the reply window ends), with two signed one-click
    answers (``complaint_fixed_answer``). The token travels as the row's secret."""
    recipient = reporter_address(complaint)
    if not recipient:
        return
    resolved_at = event.created_at
    send_at = resolved_at + timedelta(days=settings.LAPOR_FIXED_CHECK_DAYS)
    if complaint.reply_due_at is not None:
        send_at = min(send_at, complaint.reply_due_at - timedelta(days=1))
    link = reporter_unsubscribe_url(complaint)
    notification_queue(
        dedupe_key=f"{FIXED_CHECK_KEY}{event.pk}",
        recipient=recipient,
        template="fixed_check",
        context={"complaint": complaint, "event": event, "unsubscribe_url": link},
        complaint=complaint,
        unsubscribe_url=link,
        secret=fixed_check_token(tracking_code=complaint.tracking_code, resolved_event_id=event.pk),
        not_before=send_at if send_at > resolved_at else None,
    )


FIXED = "fixed"
NOT_FIXED = "not_fixed"


def complaint_fixed_answer(
    *,
    token: str,
    answer: str,
    rating: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> FixedCheck:
    """The reporter's answer to "is it fixed?" through the signed link (no sign-in).

    ``fixed`` rates and closes the complaint (the rating counts in the ranking's satisfaction,
    like any rating); ``not_fixed`` reopens it through the workflow, with fresh deadlines. Each
    question counts once: a second answer, or one after the complaint moved on (resolved again,
    reopened, rated, closed), changes nothing and returns the state that explains why. Raises
    ValidationError (a bad rating) or WorkflowError (e.g. the reopening window has passed).
    """
    now = now or timezone.now()
    read = fixed_check_read(token)
    if read is None or answer not in (FIXED, NOT_FIXED):
        return FixedCheck(FixedState.UNKNOWN)
    tracking_code, event_id = read
    with transaction.atomic():
        check = fixed_check_state(
            tracking_code=tracking_code, resolved_event_id=event_id, lock=True
        )
        if check.state != FixedState.OPEN or check.complaint is None:
            return check
        note = (note or "").strip()
        if answer == FIXED:
            complaint_transition(
                complaint=check.complaint,
                action=Action.RATE,
                role=Role.REPORTER,
                rating=rating,
                note=note,
                now=now,
                event_data={"answer_to": event_id},
            )
        else:
            complaint_transition(
                complaint=check.complaint,
                action=Action.REOPEN,
                role=Role.REPORTER,
                note=note or _("Not fixed (the reporter's answer to “is it fixed?”)."),
                now=now,
                event_data={"answer_to": event_id},
            )
    return FixedCheck(
        FixedState.ANSWERED, check.complaint, answer=answer, answered_at=now, done=True
    )


def actor_roles(
    complaint: Complaint, user: "AnyUser | None", *, reporter_access: bool = False
) -> set[str]:
    """The capacities in which ``user`` may act on ``complaint``."""
    roles: set[str] = set()
    if reporter_access or (
        user is not None and user.is_authenticated and complaint.reporter_id == user.pk
    ):
        roles.add(Role.REPORTER)
    scope = staff_scope_for(user)
    if scope.is_province:
        roles.add(Role.PROVINCE_STAFF)
    if complaint.region_id in scope.region_ids:
        roles.add(Role.REGION_COORDINATOR)
    if complaint.assigned_agency_id in scope.agency_ids:
        roles.add(Role.AGENCY_OFFICER)
    return roles


def acting_role(
    user: "AnyUser | None", complaint: Complaint, action: str | None = None
) -> str | None:
    """The staff role in which ``user`` takes ``action`` on ``complaint`` (with no action: writes
    an internal note): of the roles they hold on it, the most specific the table allows. None
    when they may not."""
    return role_preferred(actor_roles(complaint, user) - {Role.REPORTER}, action=action)


def actions_for(
    user: "AnyUser | None", complaint: Complaint, *, reporter_access: bool = False
) -> Allowed:
    """What the workflow lets ``user`` do on ``complaint`` now, as its reporter and as staff.
    ``reporter_access``: the caller has checked the private link (a guest reporter)."""
    roles = actor_roles(complaint, user, reporter_access=reporter_access)
    return allowed_for(status=complaint.status, roles=roles)
