"""Where a complaint stands (``complaint_progress``): one table of statuses, clocks and steps."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from complaints.models import Complaint
from complaints.workflow import STEPS, ComplaintStatus, complaint_progress

S = ComplaintStatus
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Makassar"))
SOON, PAST = NOW + timedelta(days=2), NOW - timedelta(hours=5)
CLOCKS = {
    "triage_due_at": NOW + timedelta(days=1),
    "follow_up_due_at": SOON,
    "completion_due_at": NOW + timedelta(days=9),
    "reply_due_at": NOW + timedelta(days=10),
}

# status, extra fields, states of the five steps (d: done, c: current, t: to do), the clock,
# whether it has run out.
TABLE = [
    (S.SUBMITTED, {}, "dcttt", None, False),
    (S.TRIAGE, {}, "dcttt", "triage_due_at", False),
    (S.TRIAGE, {"triage_due_at": PAST}, "dcttt", "triage_due_at", True),
    (S.ASSIGNED, {}, "ddctt", "follow_up_due_at", False),
    (S.ASSIGNED, {"follow_up_due_at": PAST}, "ddctt", "follow_up_due_at", True),
    (S.IN_PROGRESS, {}, "dddct", "completion_due_at", False),
    (S.IN_PROGRESS, {"completion_due_at": PAST}, "dddct", "completion_due_at", True),
    (S.RESOLVED, {}, "ddddc", "reply_due_at", False),
    (S.CLOSED, {}, "ddddd", None, False),
    (S.ASSIGNED, {"follow_up_due_at": None}, "ddctt", None, False),
]
STATE = {"d": "done", "c": "current", "t": "todo"}


@pytest.mark.parametrize(("status", "fields", "states", "clock", "late"), TABLE)
def test_progress_of_each_status(status, fields, states, clock, late):
    complaint = Complaint(status=status, **{**CLOCKS, **fields})
    progress = complaint_progress(complaint, now=NOW)
    assert [step.key for step in progress.steps] == [key for key, _label in STEPS]
    assert [step.state for step in progress.steps] == [STATE[c] for c in states]
    assert progress.due_at == (getattr(complaint, clock) if clock else None)
    assert bool(progress.due_label) == bool(clock)
    assert progress.overdue is late
    assert progress.as_of == NOW


def test_an_archived_complaint_has_no_steps():
    assert complaint_progress(Complaint(status=S.ARCHIVED, **CLOCKS), now=NOW) is None


def test_every_status_is_in_the_table():
    assert {row[0] for row in TABLE} | {S.ARCHIVED} == set(S.values)
