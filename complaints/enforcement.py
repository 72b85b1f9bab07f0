"""Deadline enforcement, run by Celery beat: reminders, breaches, escalation, auto-close.

Every step is set-based: it selects only complaints *newly* past a point in time through a
partial index (the ``*_todo`` indexes of ``Complaint``), marks them in the same transaction,
and writes breach rows under a unique constraint. A second sweep, or two at once, find nothing
left to do. Work grows with the number of new breaches, not with the table.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agencies.models import StaffMembership, StaffRole

from .models import (
    BreachKind,
    Complaint,
    ComplaintEvent,
    DeadlineBreach,
    EventKind,
    Notification,
    NotificationStatus,
)
from .notifications import notification_dispatch, notification_render, notifications_queue_many
from .workflow import Action, ComplaintStatus, Role, transition_for

logger = logging.getLogger(__name__)

S = ComplaintStatus
BATCH = 10000
REMINDER_BEFORE = timedelta(hours=24)
PROVINCE_ESCALATION_AFTER = timedelta(days=3)


@dataclass
class SweepResult:
    reminders: int = 0
    follow_up_breaches: int = 0
    completion_breaches: int = 0
    triage_breaches: int = 0
    province_escalations: int = 0
    notifications: int = 0
    details: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            self.reminders
            + self.follow_up_breaches
            + self.completion_breaches
            + self.triage_breaches
            + self.province_escalations
        )


def deadlines_sweep(*, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """One pass of the deadline enforcement. Safe to run twice, and twice at once."""
    now = now or timezone.now()
    result = SweepResult()
    result.follow_up_breaches = _drain(_breach_follow_up, now, batch, result)
    result.province_escalations = _drain(_escalate_to_province, now, batch, result)
    result.completion_breaches = _drain(_breach_completion, now, batch, result)
    result.triage_breaches = _drain(_breach_triage, now, batch, result)
    result.reminders = _drain(_remind, now, batch, result)
    return result


def _drain(step, now, batch, result: SweepResult) -> int:
    """Run ``step`` in short transactions of at most ``batch`` complaints until none is left.

    The digests are outbox rows written in the same transaction as the breaches they tell
    about: a sweep that dies after a commit cannot leave a breach nobody is told of.
    """
    total = 0
    while True:
        digests = _Digests()
        with transaction.atomic():
            done = step(now, batch, digests)
            result.notifications += digests.send(now)
        total += done
        if done < batch:
            return total


def _claim(queryset, order_field: str, batch: int, fields: list[str]) -> list[dict]:
    """Lock and read up to ``batch`` rows of ``queryset`` that no other sweep holds."""
    return list(
        queryset.order_by(order_field)
        .select_for_update(skip_locked=True, of=("self",))
        .values("pk", *fields)[:batch]
    )


def _breach_follow_up(now, batch, digests) -> int:
    rows = _claim(
        Complaint.objects.filter(
            status=S.ASSIGNED, follow_up_breached_at__isnull=True, follow_up_due_at__lt=now
        ),
        "follow_up_due_at",
        batch,
        ["follow_up_due_at", "assigned_agency_id", "region_id", "tracking_code", "title"],
    )
    if not rows:
        return 0
    ids = [row["pk"] for row in rows]
    # No reminder is due once the deadline has passed.
    Complaint.objects.filter(pk__in=ids).update(
        follow_up_breached_at=now, follow_up_reminded_at=now
    )
    _record(rows, BreachKind.FOLLOW_UP, "follow_up_due_at", now)
    for row in rows:
        digests.add("breach_agency", ("agency", row["assigned_agency_id"]), row)
        digests.add("breach_coordinator", ("region", row["region_id"]), row)
    return len(rows)


def _escalate_to_province(now, batch, digests) -> int:
    rows = _claim(
        Complaint.objects.filter(
            status=S.ASSIGNED,
            follow_up_breached_at__isnull=False,
            province_escalated_at__isnull=True,
            follow_up_due_at__lt=now - PROVINCE_ESCALATION_AFTER,
        ),
        "follow_up_due_at",
        batch,
        ["follow_up_due_at", "assigned_agency_id", "region_id", "tracking_code", "title"],
    )
    if not rows:
        return 0
    ids = [row["pk"] for row in rows]
    Complaint.objects.filter(pk__in=ids).update(province_escalated_at=now)
    DeadlineBreach.objects.filter(
        complaint_id__in=ids,
        kind=BreachKind.FOLLOW_UP,
        due_at=F("complaint__follow_up_due_at"),
        escalated_to_province_at__isnull=True,
    ).update(escalated_to_province_at=now)
    ComplaintEvent.objects.bulk_create(
        ComplaintEvent(
            complaint_id=row["pk"],
            kind=EventKind.ESCALATED,
            actor_role=Role.SYSTEM,
            created_at=now,
            is_internal=True,
            data={"to": "province", "due_at": row["follow_up_due_at"].isoformat()},
        )
        for row in rows
    )
    for row in rows:
        digests.add("escalation_province", ("province", None), row)
    return len(rows)


def _breach_completion(now, batch, digests) -> int:
    rows = _claim(
        Complaint.objects.filter(
            status__in=[S.ASSIGNED, S.IN_PROGRESS],
            completion_breached_at__isnull=True,
            completion_due_at__lt=now,
        ),
        "completion_due_at",
        batch,
        ["completion_due_at", "assigned_agency_id", "region_id", "tracking_code", "title"],
    )
    if not rows:
        return 0
    Complaint.objects.filter(pk__in=[row["pk"] for row in rows]).update(completion_breached_at=now)
    _record(rows, BreachKind.COMPLETION, "completion_due_at", now)
    for row in rows:
        digests.add("completion_agency", ("agency", row["assigned_agency_id"]), row)
    return len(rows)


def _breach_triage(now, batch, digests) -> int:
    rows = _claim(
        Complaint.objects.filter(
            status=S.TRIAGE, triage_breached_at__isnull=True, triage_due_at__lt=now
        ),
        "triage_due_at",
        batch,
        ["triage_due_at", "region_id", "tracking_code", "title"],
    )
    if not rows:
        return 0
    Complaint.objects.filter(pk__in=[row["pk"] for row in rows]).update(triage_breached_at=now)
    for row in rows:
        row["assigned_agency_id"] = None
    _record(rows, BreachKind.TRIAGE, "triage_due_at", now)
    for row in rows:
        digests.add("triage_coordinator", ("region", row["region_id"]), row)
        digests.add("triage_province", ("province", None), row)
    return len(rows)


def _remind(now, batch, digests) -> int:
    rows = _claim(
        Complaint.objects.filter(
            status=S.ASSIGNED,
            follow_up_reminded_at__isnull=True,
            follow_up_due_at__gte=now,
            follow_up_due_at__lte=now + REMINDER_BEFORE,
        ),
        "follow_up_due_at",
        batch,
        ["follow_up_due_at", "assigned_agency_id", "region_id", "tracking_code", "title"],
    )
    if not rows:
        return 0
    Complaint.objects.filter(pk__in=[row["pk"] for row in rows]).update(follow_up_reminded_at=now)
    ComplaintEvent.objects.bulk_create(
        ComplaintEvent(
            complaint_id=row["pk"],
            kind=EventKind.REMINDER,
            actor_role=Role.SYSTEM,
            created_at=now,
            is_internal=True,
            to_agency_id=row["assigned_agency_id"],
            data={"due_at": row["follow_up_due_at"].isoformat()},
        )
        for row in rows
    )
    for row in rows:
        digests.add("reminder_agency", ("agency", row["assigned_agency_id"]), row)
    return len(rows)


def _record(rows: list[dict], kind: str, due_field: str, now: datetime) -> None:
    """Breach rows (once per complaint, kind and deadline) and their timeline events."""
    DeadlineBreach.objects.bulk_create(
        (
            DeadlineBreach(
                complaint_id=row["pk"],
                kind=kind,
                due_at=row[due_field],
                agency_id=row["assigned_agency_id"],
                region_id=row["region_id"],
                recorded_at=now,
            )
            for row in rows
        ),
        ignore_conflicts=True,
        batch_size=1000,
    )
    ComplaintEvent.objects.bulk_create(
        (
            ComplaintEvent(
                complaint_id=row["pk"],
                kind=EventKind.BREACH,
                actor_role=Role.SYSTEM,
                created_at=now,
                is_internal=True,
                from_agency_id=row["assigned_agency_id"],
                data={"deadline": kind, "due_at": row[due_field].isoformat()},
            )
            for row in rows
        ),
        batch_size=1000,
    )


class _Digests:
    """One email per recipient and kind per sweep, listing the complaints concerned."""

    def __init__(self):
        self.items: dict[tuple[str, tuple], list[dict]] = defaultdict(list)

    def add(self, template: str, audience: tuple, row: dict) -> None:
        if audience[1] is None and audience[0] != "province":
            return
        self.items[(template, audience)].append(row)

    def send(self, now: datetime) -> int:
        """Outbox rows for every digest: rendered once per audience, written in one statement."""
        if not self.items:
            return 0
        recipients = self._recipients({audience for _template, audience in self.items})
        rows = []
        for (template, audience), complaints in self.items.items():
            emails = recipients.get(audience, [])
            if not emails:
                continue
            subject, body = notification_render(
                "digest",
                {"kind": template, "rows": complaints[:200], "count": len(complaints)},
            )
            for email in emails:
                # Each complaint is claimed by one sweep only, so the batch's first complaint
                # tells this digest apart from those of another sweep run at the same ``now``.
                key = f"{template}:{now.isoformat()}:{complaints[0]['pk']}:{email}"
                if len(key) > 120:
                    key = f"{key[:56]}:{hashlib.sha256(key.encode()).hexdigest()}"
                rows.append(
                    Notification(dedupe_key=key, recipient=email, subject=subject, body=body)
                )
        return notifications_queue_many(rows)

    @staticmethod
    def _recipients(audiences: set[tuple]) -> dict[tuple, list[str]]:
        """Every recipient of every audience in two queries."""
        agency_ids = {value for kind, value in audiences if kind == "agency"}
        region_ids = {value for kind, value in audiences if kind == "region"}
        result: dict[tuple, set[str]] = defaultdict(set)
        memberships = StaffMembership.objects.exclude(user__email="").filter(
            agency_id__in=agency_ids, role=StaffRole.AGENCY_OFFICER
        ) | StaffMembership.objects.exclude(user__email="").filter(
            region_id__in=region_ids, role=StaffRole.REGION_COORDINATOR
        )
        if ("province", None) in audiences:
            memberships = memberships | StaffMembership.objects.exclude(user__email="").filter(
                role=StaffRole.PROVINCE_STAFF
            )
        for role, agency_id, region_id, email in memberships.values_list(
            "role", "agency_id", "region_id", "user__email"
        ):
            if role == StaffRole.AGENCY_OFFICER:
                result[("agency", agency_id)].add(email)
            elif role == StaffRole.REGION_COORDINATOR:
                result[("region", region_id)].add(email)
            else:
                result[("province", None)].add(email)
        from agencies.models import Agency

        for agency_id, email in (
            Agency.objects.filter(pk__in=agency_ids).exclude(email="").values_list("pk", "email")
        ):
            result[("agency", agency_id)].add(email)
        return {audience: sorted(emails) for audience, emails in result.items()}


def complaints_close_expired(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Close resolved complaints whose ten-day reply window has passed, with an event each."""
    now = now or timezone.now()
    transition = transition_for(Action.CLOSE, status=S.RESOLVED, role=Role.SYSTEM)
    total = 0
    while True:
        with transaction.atomic():
            rows = _claim(
                Complaint.objects.filter(status=S.RESOLVED, reply_due_at__lt=now),
                "reply_due_at",
                batch,
                ["status"],
            )
            ids = [row["pk"] for row in rows]
            Complaint.objects.filter(pk__in=ids).update(
                status=transition.target, closed_at=now, updated_at=now
            )
            ComplaintEvent.objects.bulk_create(
                ComplaintEvent(
                    complaint_id=pk,
                    kind=EventKind.CLOSED,
                    actor_role=Role.SYSTEM,
                    created_at=now,
                    from_status=S.RESOLVED,
                    to_status=transition.target,
                    data={"reason": "reply_window_passed"},
                )
                for pk in ids
            )
        total += len(ids)
        if len(ids) < batch:
            return total


def notifications_requeue(*, now: datetime | None = None, older_than=timedelta(minutes=2)) -> int:
    """Hand pending notifications to the broker again (it was down, or a worker died)."""
    now = now or timezone.now()
    pending = Notification.objects.filter(
        status=NotificationStatus.PENDING, created_at__lt=now - older_than
    ).filter(next_attempt_at__isnull=True) | Notification.objects.filter(
        status=NotificationStatus.PENDING, next_attempt_at__lte=now
    )
    handed = 0
    for notification_id in pending.values_list("pk", flat=True)[:1000]:
        if not notification_dispatch(notification_id, force=True):
            break  # the broker is still down; try again on the next beat
        handed += 1
    return handed
