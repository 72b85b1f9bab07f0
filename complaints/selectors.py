"""Reads for complaints: lists, figures, timelines. Every query starts from
``complaints.scope.complaints_for`` and states its joins."""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from .models import Attachment, ComplaintEvent
from .querysets import overdue_q
from .scope import Purpose, complaints_for

LIST_RELATED = ("category", "region", "assigned_agency")


def complaints_public_list():
    return (
        complaints_for(None, purpose=Purpose.PUBLIC)
        .with_overdue()
        .select_related(*LIST_RELATED)
        .order_by("-created_at")
    )


def complaints_recent_public(limit: int = 5):
    return list(complaints_public_list()[:limit])


def complaint_figures(*, year: int | None = None) -> dict[str, int]:
    """Live figures for the home page: received this year, followed up, overdue now.

    Counted over complaints the public may know exist, so rahasia ones add nothing to any
    drill-down; archived and not yet routed ones are not counted either.
    """
    now = timezone.now()
    year = year or timezone.localdate(now).year
    qs = complaints_for(None, purpose=Purpose.PUBLIC).filter(created_at__year=year)
    return qs.aggregate(
        received=Count("pk"),
        followed_up=Count("pk", filter=Q(first_follow_up_at__isnull=False)),
        overdue=Count("pk", filter=overdue_q(now)),
    )


def complaint_for_detail(*, tracking_code: str, user, reporter_codes: frozenset[str]):
    """The complaint with its timeline, or None when this visitor may not see it."""
    return (
        complaints_for(user, purpose=Purpose.SEE, reporter_codes=reporter_codes)
        .with_overdue()
        .select_related(*LIST_RELATED, "reporter", "duplicate_of")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=ComplaintEvent.objects.select_related(
                    "from_agency", "to_agency"
                ).prefetch_related("attachments"),
            ),
            Prefetch("attachments", queryset=Attachment.objects.filter(event__kind="submitted")),
        )
        .filter(tracking_code=tracking_code)
        .first()
    )


def complaints_of_reporter(user):
    return (
        complaints_for(user, purpose=Purpose.OWN)
        .with_overdue()
        .select_related(*LIST_RELATED)
        .order_by("-created_at")
    )
