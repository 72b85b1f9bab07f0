"""Reads for the staff workspace. Every one starts from ``complaints_for(user, WORK)``."""

from datetime import timedelta

from django.db.models import Count, Q

from complaints.querysets import next_due_expression, overdue_q
from complaints.scope import Purpose, complaints_for
from complaints.selectors import breached_q, complaint_counts, queue_keys, queue_rows
from complaints.workflow import OPEN_STATUSES, ComplaintStatus

S = ComplaintStatus
SOON = timedelta(hours=24)


def due_soon_q(now) -> Q:
    """Not overdue yet, but the clock that matters next runs out within 24 hours."""
    end = now + SOON
    return (
        Q(status=S.TRIAGE, triage_due_at__gte=now, triage_due_at__lt=end)
        | Q(status=S.ASSIGNED, follow_up_due_at__gte=now, follow_up_due_at__lt=end)
        | Q(status=S.IN_PROGRESS, completion_due_at__gte=now, completion_due_at__lt=end)
    )


def queue_work_set(user):
    """The caller's work set, to filter (no annotations, ordering or joins yet: counting it
    stays an index scan)."""
    return complaints_for(user, purpose=Purpose.WORK)


def status_counts(queryset) -> dict[str, int]:
    """Complaints per status of a (filtered) queue, in one query."""
    # COUNT(*), not COUNT(id): the (agency, status) and (region, status) indexes answer it
    # without reading the table.
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("*")))
    return {status: counts.get(status, 0) for status in S.values}


def queue_status_counts(filterset, user) -> dict[str, int]:
    """The counts per status of a queue: from the tally (``complaint_counts``, the same scope)
    while no filter but the status is in use, so the queue's first page counts nothing;
    otherwise over the filtered queue (``status_counts``)."""
    filtered = any(
        value not in (None, "", False)
        for name, value in filterset.form.cleaned_data.items()
        if name not in ("status", "sort")
    )
    if filtered:
        return status_counts(filterset.without_status())
    counts = complaint_counts(user, purpose=Purpose.WORK, by="status")
    assert isinstance(counts, dict)  # with ``by``: per status
    return {status: counts.get(status, 0) for status in S.values}


def open_statuses() -> list[str]:
    return [str(s) for s in OPEN_STATUSES]


__all__ = [
    "breached_q",
    "due_soon_q",
    "next_due_expression",
    "open_statuses",
    "overdue_q",
    "queue_keys",
    "queue_rows",
    "queue_status_counts",
    "queue_work_set",
    "status_counts",
]
