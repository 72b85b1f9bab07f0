"""The complaint workflow as data: statuses, actions, who may take them, what they need.

Only ``complaints.services`` applies this table: ``complaint_transition`` one complaint at a
time, ``complaint_route`` at submission, ``complaints_close_expired`` in bulk (through
``system_transition``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, StrPromise


class ComplaintStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    TRIAGE = "triage", _("Awaiting verification")
    ASSIGNED = "assigned", _("With the agency")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class Role(models.TextChoices):
    SYSTEM = "system", _("System")
    REPORTER = "reporter", _("Reporter")
    AGENCY_OFFICER = "agency_officer", _("Agency officer")
    REGION_COORDINATOR = "region_coordinator", _("Regency/city coordinator")
    PROVINCE_STAFF = "province_staff", _("Provincial staff")


class Action(models.TextChoices):
    ROUTE = "route", _("Route")
    ROUTE_TO_TRIAGE = "route_to_triage", _("Send to triage")
    REROUTE = "reroute", _("Re-route")
    FOLLOW_UP = "follow_up", _("Follow up")
    NOT_OURS = "not_ours", _("Not our responsibility")
    RESOLVE = "resolve", _("Resolve")
    REOPEN = "reopen", _("Reopen")
    RATE = "rate", _("Rate")
    CLOSE = "close", _("Close")
    ARCHIVE = "archive", _("Archive")


class ArchiveReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    DUPLICATE = "duplicate", _("Duplicate")
    OUT_OF_SCOPE = "out_of_scope", _("Out of scope")
    TOO_GENERAL = "too_general", _("Too general")


S = ComplaintStatus
STAFF_OF_REGION = frozenset({Role.REGION_COORDINATOR, Role.PROVINCE_STAFF})
HANDLERS = frozenset({Role.AGENCY_OFFICER, Role.REGION_COORDINATOR, Role.PROVINCE_STAFF})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the status stays as it is
    roles: frozenset[str]
    requires: tuple[str, ...] = ()

    def target_from(self, status: str) -> str:
        """The status after this transition from ``status``."""
        return self.target if self.target is not None else status


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.ROUTE, frozenset({S.SUBMITTED}), S.ASSIGNED, frozenset({Role.SYSTEM})),
    Transition(
        Action.ROUTE_TO_TRIAGE, frozenset({S.SUBMITTED}), S.TRIAGE, frozenset({Role.SYSTEM})
    ),
    Transition(
        Action.REROUTE,
        frozenset({S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS}),
        S.ASSIGNED,
        STAFF_OF_REGION,
        ("agency",),
    ),
    Transition(
        Action.FOLLOW_UP,
        frozenset({S.ASSIGNED, S.IN_PROGRESS}),
        S.IN_PROGRESS,
        HANDLERS,
        ("note",),
    ),
    Transition(
        Action.NOT_OURS,
        frozenset({S.ASSIGNED, S.IN_PROGRESS}),
        S.TRIAGE,
        frozenset({Role.AGENCY_OFFICER}),
        ("note",),
    ),
    Transition(
        Action.RESOLVE, frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.RESOLVED, HANDLERS, ("note",)
    ),
    Transition(
        Action.REOPEN, frozenset({S.RESOLVED}), S.ASSIGNED, frozenset({Role.REPORTER}), ("note",)
    ),
    Transition(
        Action.RATE, frozenset({S.RESOLVED}), S.CLOSED, frozenset({Role.REPORTER}), ("rating",)
    ),
    Transition(
        Action.CLOSE, frozenset({S.RESOLVED}), S.CLOSED, frozenset({Role.REPORTER, Role.SYSTEM})
    ),
    Transition(
        Action.ARCHIVE,
        frozenset({S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS}),
        S.ARCHIVED,
        STAFF_OF_REGION,
        ("reason",),
    ),
)

TRANSITIONS_BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}

# Statuses the public may see (besides rahasia and archived, which are never public).
PUBLIC_STATUSES = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED})
# Not yet resolved: what a staff queue (the pages and the API) shows unless asked for more.
OPEN_STATUSES = (S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS)


class WorkflowError(Exception):
    """A move the workflow does not allow, or one missing what it needs. Safe to show."""

    def __init__(self, message: "str | StrPromise", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def transition_for(action: str, *, status: str, role: str) -> Transition:
    """The transition for ``action`` from ``status`` by ``role``, or a WorkflowError."""
    transition = TRANSITIONS_BY_ACTION.get(action)
    if transition is None:
        raise WorkflowError(_("Unknown action."))
    if status not in transition.sources:
        raise WorkflowError(
            _("This cannot be done while the complaint is “%(status)s”.")
            % {"status": ComplaintStatus(status).label}
        )
    if role not in transition.roles:
        raise WorkflowError(_("You are not allowed to do this."))
    return transition


def system_transition(action: str) -> Transition:
    """The move the system makes for ``action``, for writes that apply it to many complaints at
    once (auto-close): its ``sources`` select the rows and guard the update, its ``target`` is
    what they become. Raises WorkflowError when the table does not let the system do it."""
    transition = TRANSITIONS_BY_ACTION.get(action)
    if transition is None or Role.SYSTEM not in transition.roles or transition.target is None:
        raise WorkflowError(_("You are not allowed to do this."))
    return transition


def allowed_actions(*, status: str, roles: set[str]) -> list[str]:
    return [t.action for t in TRANSITIONS if status in t.sources and roles & t.roles]


# Which staff role acts when a user holds several: the most specific first.
ROLE_PREFERENCE = (Role.AGENCY_OFFICER, Role.REGION_COORDINATOR, Role.PROVINCE_STAFF)
# Two steps that are not moves of the table (the status stays): the reporter's reply, while the
# agency handles the complaint or in the reply window, and a staff member's internal note.
REPLY = "reply"
NOTE = "note"
REPLY_STATUSES = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED})


def role_preferred(roles: set[str], *, action: str | None = None) -> str | None:
    """The staff role among ``roles`` that takes ``action`` (by the table), or, with no action
    (an internal note), that acts at all; the most specific first. None: none may."""
    if action is None:
        allowed: frozenset[str] = HANDLERS
    else:
        transition = TRANSITIONS_BY_ACTION.get(action)
        allowed = transition.roles if transition is not None else frozenset()
    return next((role for role in ROLE_PREFERENCE if role in roles and role in allowed), None)


@dataclass(frozen=True)
class Allowed:
    """What one person may do on one complaint now, as reporter and as staff."""

    roles: frozenset[str] = frozenset()
    reporter: frozenset[str] = frozenset()
    staff: frozenset[str] = frozenset()

    @property
    def is_reporter(self) -> bool:
        return Role.REPORTER in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & HANDLERS)

    def __contains__(self, action: str) -> bool:
        return action in self.reporter or action in self.staff

    @property
    def ordered(self) -> list[str]:
        """Every step, in the table's order, then the reply and the note."""
        steps = [t.action for t in TRANSITIONS if t.action in self]
        return steps + [a for a in (REPLY, NOTE) if a in self]


def allowed_for(*, status: str, roles: set[str]) -> Allowed:
    """The steps ``roles`` allow from ``status``: the table's moves (the system's excluded),
    the reporter's reply while the agency handles it, a staff note at any time."""
    reporter = set()
    if Role.REPORTER in roles:
        reporter = set(allowed_actions(status=status, roles={Role.REPORTER}))
        if status in REPLY_STATUSES:
            reporter.add(REPLY)
    staff_roles = set(roles) & HANDLERS
    staff = set()
    if staff_roles:
        staff = set(allowed_actions(status=status, roles=staff_roles)) | {NOTE}
    return Allowed(roles=frozenset(roles), reporter=frozenset(reporter), staff=frozenset(staff))


# Where a complaint stands, as the reporter reads it: five steps, the clock of the current one.
# ``DUE_FIELD`` is the deadline that runs in each status (``querysets.next_due_expression`` builds
# the staff queue's order from the same table; the reply window only matters to the reporter).
STEPS: "tuple[tuple[str, StrOrPromise], ...]" = (
    ("received", _("Received")),
    ("routed", _("Verified / sent to the agency")),
    ("followed_up", _("Followed up")),
    ("resolved", _("Resolved")),
    ("closed", _("Closed")),
)
DUE_FIELD: dict[str, str] = {
    S.TRIAGE: "triage_due_at",
    S.ASSIGNED: "follow_up_due_at",
    S.IN_PROGRESS: "completion_due_at",
}
# The step each status waits for (its index in STEPS): before it, every step is done.
_WAITING_FOR = {
    S.SUBMITTED: 1,
    S.TRIAGE: 1,
    S.ASSIGNED: 2,
    S.IN_PROGRESS: 3,
    S.RESOLVED: 4,
    S.CLOSED: len(STEPS),
}
_DUE_LABEL = {
    S.TRIAGE: _("Verification due"),
    S.ASSIGNED: _("First follow-up due"),
    S.IN_PROGRESS: _("Completion target"),
    S.RESOLVED: _("Closes by itself"),
}


@dataclass(frozen=True)
class Step:
    key: str
    label: "StrOrPromise"
    state: str  # "done", "current" (being waited for) or "todo"


@dataclass(frozen=True)
class Progress:
    steps: tuple[Step, ...]
    as_of: object = None  # the moment the time left is counted from
    due_at: object = None  # the current step's deadline (aware datetime), or None
    due_label: "StrOrPromise" = ""
    overdue: bool = False  # the current clock has run out


def complaint_progress(complaint: Any, *, now: datetime) -> Progress | None:
    """The steps of ``complaint`` (done, current, to do) and the deadline of the current one;
    None for an archived complaint, which left the steps."""
    waiting = _WAITING_FOR.get(complaint.status)
    if waiting is None:
        return None
    steps = tuple(
        Step(key, label, "done" if i < waiting else "current" if i == waiting else "todo")
        for i, (key, label) in enumerate(STEPS)
    )
    field = DUE_FIELD.get(complaint.status)
    if complaint.status == S.RESOLVED:
        field = "reply_due_at"
    due_at = getattr(complaint, field) if field else None
    if due_at is None:
        return Progress(steps, as_of=now)
    return Progress(
        steps,
        as_of=now,
        due_at=due_at,
        due_label=_DUE_LABEL[complaint.status],
        overdue=due_at < now,
    )
