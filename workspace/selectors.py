"""Reads for the staff workspace. Every one starts from ``complaints_for(user, WORK)``."""

from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.utils.functional import cached_property

from complaints.querysets import URGENCY_ORDER, next_due_expression, overdue_q
from complaints.scope import Purpose, complaints_for
from complaints.selectors import LIST_RELATED, breached_q
from complaints.workflow import ComplaintStatus

S = ComplaintStatus
SOON = timedelta(hours=24)
# Not yet resolved: what a queue shows unless asked for more.
OPEN_STATUSES = (S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS)


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


ORDERINGS = {
    "urgency": URGENCY_ORDER,
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
    "supporters": ("-supporter_count", "-created_at", "-pk"),
}


def queue_rows(queryset, *, sort: str, now):
    """The rows of a filtered queue in a stable order, with what each row shows."""
    return (
        queryset.with_overdue(now)
        .with_next_due()
        .select_related(*LIST_RELATED)
        .order_by(*ORDERINGS.get(sort, ORDERINGS["urgency"]))
    )


def status_counts(queryset) -> dict[str, int]:
    """Complaints per status of a (filtered) queue, in one query."""
    # COUNT(*), not COUNT(id): the (agency, status) and (region, status) indexes answer it
    # without reading the table.
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("*")))
    return {status: counts.get(status, 0) for status in S.values}


def open_statuses() -> list[str]:
    return [str(s) for s in OPEN_STATUSES]


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows: a deep queue does not pay for counting the whole province.
    Pages past the cap are not offered; narrow the filters instead. ``count_queryset`` is the
    same set without the rows' annotations and joins, so the count reads ids only."""

    cap = 10_000

    def __init__(self, object_list, per_page, *, count_queryset=None, known_count=None, **kw):
        super().__init__(object_list, per_page, **kw)
        self.count_queryset = count_queryset if count_queryset is not None else object_list
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:  # e.g. added up from the counts per status
            return min(self.known_count, self.cap)
        return self.count_queryset.order_by().values("pk")[: self.cap].count()

    @property
    def capped(self) -> bool:
        return self.count >= self.cap


__all__ = [
    "CappedPaginator",
    "breached_q",
    "due_soon_q",
    "next_due_expression",
    "open_statuses",
    "overdue_q",
    "queue_rows",
    "queue_work_set",
    "status_counts",
]
