"""Deadline enforcement, run by Celery beat: reminders, breaches, escalation; auto-close is
``complaints.services.complaints_close_expired``, called from here.

Each step of the sweep keeps a watermark (``SweepMark``): every complaint whose due time lies
at or before it has been handled. A step reads only the complaints whose due time falls between
its watermark and now, in (due time, id) order through a partial index, handles them, and moves
the watermark, all in one short transaction that holds the watermark's row lock. The sweep
never writes to the complaints it reads. Its work grows with the number of complaints newly
past a deadline, not with the table; a second sweep, or one running at the same time (it waits
for the lock), finds nothing left. Breach rows are also unique per (complaint, kind, due time).

The reminder step's boundary is a day ahead of now, so a complaint with a one-day follow-up is
due for its reminder the moment it is written. Its watermark therefore trails the boundary by
``REMINDER_TRAIL``: a complaint whose transaction took its time stamp before a sweep and
committed after it is read again by the next sweeps, and a reminder already on record for that
due time (its ``reminder`` event) is not sent twice.
"""

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Notification
from notifications.services import (
    PROVINCE,
    notification_render,
    notifications_queue_many,
    staff_recipients,
)

from . import services
from .models import (
    BreachKind,
    Complaint,
    ComplaintEvent,
    DeadlineBreach,
    EventKind,
    SweepMark,
)
from .workflow import ComplaintStatus, Role

logger = logging.getLogger(__name__)

S = ComplaintStatus
BATCH = 10000
REMINDER_BEFORE = timedelta(hours=24)
# Longer than any transaction that writes a follow-up deadline (a submission, a re-route): such
# a complaint is found by the sweeps that start up to this long after its time stamp.
REMINDER_TRAIL = timedelta(minutes=15)
PROVINCE_ESCALATION_AFTER = timedelta(days=3)
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
ALL_IDS = 2**62  # a watermark's last_id once every complaint due at its time is handled
# Who hears of a breach besides the agency (the digests below); on the breach's event too.
ESCALATED_TO: dict[str, str] = {
    BreachKind.FOLLOW_UP: "region_coordinator",
    BreachKind.COMPLETION: "",
    BreachKind.TRIAGE: "province",
}
Row = dict[str, Any]  # a complaint as ``ROW_FIELDS`` and the deadline in question
ROW_FIELDS = ("pk", "assigned_agency_id", "region_id", "tracking_code", "title")


@dataclass
class SweepResult:
    reminders: int = 0
    follow_up_breaches: int = 0
    completion_breaches: int = 0
    triage_breaches: int = 0
    province_escalations: int = 0
    notifications: int = 0

    @property
    def total(self) -> int:
        return (
            self.reminders
            + self.follow_up_breaches
            + self.completion_breaches
            + self.triage_breaches
            + self.province_escalations
        )


@dataclass(frozen=True)
class Step:
    name: str
    statuses: tuple[str, ...]
    due_field: str
    # The watermark's target for a sweep at ``now``: complaints due up to it are handled.
    boundary: Callable[[datetime], datetime]
    handle: Callable
    # How far the watermark stays behind the boundary. Complaints due in between are read
    # again by later sweeps, so ``handle`` must skip what it has already done.
    trail: timedelta = timedelta(0)


def deadlines_sweep(*, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """One pass of the deadline enforcement. Safe to run twice, and twice at once."""
    now = now or timezone.now()
    result = SweepResult()
    result.follow_up_breaches = _run(STEPS["follow_up"], now, batch, result)
    result.province_escalations = _run(STEPS["escalation"], now, batch, result)
    result.completion_breaches = _run(STEPS["completion"], now, batch, result)
    result.triage_breaches = _run(STEPS["triage"], now, batch, result)
    result.reminders = _run(STEPS["reminder"], now, batch, result)
    return result


def _run(step: Step, now: datetime, batch: int, result: SweepResult) -> int:
    """Handle the complaints newly due for ``step``, in transactions of at most ``batch``.

    The digests are outbox rows written in the same transaction as the breaches they tell of,
    and the watermark moves in that transaction too: a sweep that dies loses nothing.
    """
    boundary = step.boundary(now)
    done = (boundary, ALL_IDS)  # (due time, id): everything due up to the boundary
    settled = (boundary - step.trail, ALL_IDS)  # the furthest the watermark may move
    cursor: tuple[datetime, int] | None = None  # how far this sweep has read
    total = 0
    while True:
        digests = _Digests()
        with transaction.atomic():
            mark = _mark_locked(step.name)
            start = max((mark.until, mark.last_id), cursor or (BEGINNING, 0))
            if start >= done:
                return total
            after = Q(**{f"{step.due_field}__gt": start[0]}) | Q(
                **{step.due_field: start[0], "pk__gt": start[1]}
            )
            rows = list(
                Complaint.objects.filter(
                    after,
                    status__in=step.statuses,
                    **{f"{step.due_field}__lte": boundary},
                )
                .order_by(step.due_field, "pk")
                .values(*ROW_FIELDS, step.due_field)[:batch]
            )
            if rows:
                total += step.handle(rows, now, digests)
                result.notifications += digests.send(now)
            full = len(rows) == batch
            cursor = (rows[-1][step.due_field], rows[-1]["pk"]) if full else done
            moved = min(cursor, settled)
            if moved > (mark.until, mark.last_id):
                mark.until, mark.last_id = moved
                mark.save(update_fields=["until", "last_id"])
        if len(rows) < batch:
            return total


def _mark_locked(name: str) -> SweepMark:
    """The step's watermark, locked until the transaction ends (the first sweep creates it)."""
    mark = SweepMark.objects.select_for_update().filter(step=name).first()
    if mark is None:
        try:
            with transaction.atomic():
                SweepMark.objects.create(step=name, until=BEGINNING, last_id=0)
        except IntegrityError:
            pass  # another sweep created it first
        mark = SweepMark.objects.select_for_update().get(step=name)
    return mark


def _breach_follow_up(rows: list[Row], now: datetime, digests: "_Digests") -> int:
    rows = _record(rows, BreachKind.FOLLOW_UP, "follow_up_due_at", now)
    for row in rows:
        digests.add("breach_agency", ("agency", row["assigned_agency_id"]), row)
        digests.add("breach_coordinator", ("region", row["region_id"]), row)
    return len(rows)


def _escalate_to_province(rows: list[Row], now: datetime, digests: "_Digests") -> int:
    ids = [row["pk"] for row in rows]
    breaches = DeadlineBreach.objects.filter(
        complaint_id__in=ids,
        kind=BreachKind.FOLLOW_UP,
        due_at=F("complaint__follow_up_due_at"),
        escalated_to_province_at__isnull=True,
    )
    escalated = set(breaches.values_list("complaint_id", flat=True))
    breaches.update(escalated_to_province_at=now)
    rows = [row for row in rows if row["pk"] in escalated]
    _internal_events(
        rows,
        EventKind.ESCALATED,
        now,
        lambda row: {"data": {"to": "province", "due_at": row["follow_up_due_at"].isoformat()}},
    )
    for row in rows:
        digests.add("escalation_province", PROVINCE, row)
    return len(rows)


def _breach_completion(rows: list[Row], now: datetime, digests: "_Digests") -> int:
    rows = _record(rows, BreachKind.COMPLETION, "completion_due_at", now)
    for row in rows:
        digests.add("completion_agency", ("agency", row["assigned_agency_id"]), row)
    return len(rows)


def _breach_triage(rows: list[Row], now: datetime, digests: "_Digests") -> int:
    rows = _record(rows, BreachKind.TRIAGE, "triage_due_at", now)
    for row in rows:
        digests.add("triage_coordinator", ("region", row["region_id"]), row)
        digests.add("triage_province", PROVINCE, row)
    return len(rows)


def _remind(rows: list[Row], now: datetime, digests: "_Digests") -> int:
    rows = [row for row in rows if row["follow_up_due_at"] > now]  # past due: a breach instead
    reminded = _reminded([row["pk"] for row in rows])
    rows = [row for row in rows if (row["pk"], row["follow_up_due_at"]) not in reminded]
    _internal_events(
        rows,
        EventKind.REMINDER,
        now,
        lambda row: {
            "to_agency_id": row["assigned_agency_id"],
            "data": {"due_at": row["follow_up_due_at"].isoformat()},
        },
    )
    for row in rows:
        digests.add("reminder_agency", ("agency", row["assigned_agency_id"]), row)
    return len(rows)


STEPS = {
    "follow_up": Step(
        "follow_up", (S.ASSIGNED,), "follow_up_due_at", lambda now: now, _breach_follow_up
    ),
    "escalation": Step(
        "escalation",
        (S.ASSIGNED,),
        "follow_up_due_at",
        lambda now: now - PROVINCE_ESCALATION_AFTER,
        _escalate_to_province,
    ),
    "completion": Step(
        "completion",
        (S.ASSIGNED, S.IN_PROGRESS),
        "completion_due_at",
        lambda now: now,
        _breach_completion,
    ),
    "triage": Step("triage", (S.TRIAGE,), "triage_due_at", lambda now: now, _breach_triage),
    "reminder": Step(
        "reminder",
        (S.ASSIGNED,),
        "follow_up_due_at",
        lambda now: now + REMINDER_BEFORE,
        _remind,
        trail=REMINDER_TRAIL,
    ),
}


def _reminded(ids: list[int]) -> set[tuple[int, datetime]]:
    """(complaint, follow-up due time) of the reminders already on record for ``ids``: the
    trailing watermark reads a complaint again, and a re-route's new due time earns a new one."""
    events = ComplaintEvent.objects.filter(complaint_id__in=ids, kind=EventKind.REMINDER)
    return {
        (complaint_id, datetime.fromisoformat(due_at))
        for complaint_id, due_at in events.values_list("complaint_id", "data__due_at")
        if due_at
    }


def _record(rows: list[dict], kind: str, due_field: str, now: datetime) -> list[dict]:
    """Breaches of ``kind`` for ``rows`` through ``services.breaches_record``; returns the rows
    newly breached (one already on record, e.g. written at a re-route, is left out)."""
    new = services.breaches_record(
        [
            services.BreachDue(
                row["pk"], row[due_field], row["assigned_agency_id"], row["region_id"]
            )
            for row in rows
        ],
        kind=kind,
        now=now,
        escalated_to=ESCALATED_TO[kind],
    )
    return [row for row in rows if row["pk"] in new]


def _internal_events(
    rows: list[Row], kind: str, now: datetime, fields: Callable[[Row], dict[str, Any]]
) -> None:
    """Staff-only timeline events written by the system, one per row, in bulk."""
    ComplaintEvent.objects.bulk_create(
        (
            ComplaintEvent(
                complaint_id=row["pk"],
                kind=kind,
                actor_role=Role.SYSTEM,
                created_at=now,
                is_internal=True,
                **fields(row),
            )
            for row in rows
        ),
        batch_size=1000,
    )


class _Digests:
    """One email per recipient and kind per sweep, listing the complaints concerned."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, tuple], list[dict]] = defaultdict(list)

    def add(self, template: str, audience: tuple, row: dict) -> None:
        if audience[1] is None and audience != PROVINCE:
            return  # e.g. a triage complaint has no agency to tell
        self.items[(template, audience)].append(row)

    def send(self, now: datetime) -> int:
        """Outbox rows for every digest: rendered once per audience, written in one statement."""
        if not self.items:
            return 0
        recipients = staff_recipients({audience for _template, audience in self.items})
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


def complaints_close_expired(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """The beat's auto-close: ``complaints.services.complaints_close_expired`` does the writing."""
    return services.complaints_close_expired(now=now, batch=batch)
