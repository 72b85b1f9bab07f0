"""Complaint queries in domain words. Callers start from ``complaints.scope.complaints_for``."""

from django.db import models
from django.db.models import BooleanField, Case, Q, When
from django.utils import timezone

from agencies.selectors import staff_scope_for

from .workflow import PUBLIC_STATUSES, ComplaintStatus


class ComplaintQuerySet(models.QuerySet):
    def public(self):
        """Routed, not rahasia, not archived: what anyone may see."""
        return self.filter(is_confidential=False, status__in=PUBLIC_STATUSES)

    def handled_by(self, user):
        """What ``user`` may see as staff: their agency's, their region's, or all."""
        scope = staff_scope_for(user)
        if not scope.is_staff:
            return self.none()
        # An agency handles what it holds now; once re-routed, a complaint is no longer its
        # business (its breaches stay on record in DeadlineBreach, not in this view).
        return self.filter(scope.q(agency_field="assigned_agency", region_field="region"))

    def reported_by(self, user, *, reporter_codes: frozenset[str] = frozenset()):
        """The reporter's own: by account, or by tracking codes proven with the private link."""
        q = Q(pk__in=[])
        if reporter_codes:
            q |= Q(tracking_code__in=reporter_codes)
        if user is not None and user.is_authenticated:
            q |= Q(reporter=user)
        return self.filter(q)

    def visible_to(self, user, *, reporter_codes: frozenset[str] = frozenset()):
        """Every complaint ``user`` may open: public ones, their own, and those they handle.

        ``reporter_codes`` are tracking codes whose private link this visitor has opened.
        """
        q = Q(is_confidential=False, status__in=PUBLIC_STATUSES)
        if reporter_codes:
            q |= Q(tracking_code__in=reporter_codes)
        if user is not None and user.is_authenticated:
            q |= Q(reporter=user)
            scope = staff_scope_for(user)
            if scope.is_staff:
                q |= Q(pk__in=self.model.objects.handled_by(user).values("pk"))
        return self.filter(q)

    def open(self):
        return self.filter(
            status__in=[
                ComplaintStatus.SUBMITTED,
                ComplaintStatus.TRIAGE,
                ComplaintStatus.ASSIGNED,
                ComplaintStatus.IN_PROGRESS,
            ]
        )

    def follow_up_overdue(self, now=None):
        """With an agency, past the follow-up deadline, and not followed up yet."""
        now = now or timezone.now()
        return self.filter(status=ComplaintStatus.ASSIGNED, follow_up_due_at__lt=now)

    def triage_overdue(self, now=None):
        now = now or timezone.now()
        return self.filter(status=ComplaintStatus.TRIAGE, triage_due_at__lt=now)

    def completion_overdue(self, now=None):
        now = now or timezone.now()
        return self.filter(
            status__in=[ComplaintStatus.ASSIGNED, ComplaintStatus.IN_PROGRESS],
            completion_due_at__lt=now,
        )

    def overdue(self, now=None):
        """Due in the past with no follow-up (or no verification): right before any task runs."""
        now = now or timezone.now()
        return self.filter(overdue_q(now))

    def with_overdue(self, now=None):
        """Annotate ``is_overdue`` with the same rule as ``overdue()``, for lists and pages."""
        now = now or timezone.now()
        return self.annotate(
            is_overdue=Case(
                When(overdue_q(now), then=True), default=False, output_field=BooleanField()
            )
        )

    def followed_up(self):
        return self.filter(first_follow_up_at__isnull=False)


def overdue_q(now) -> Q:
    return Q(status=ComplaintStatus.ASSIGNED, follow_up_due_at__lt=now) | Q(
        status=ComplaintStatus.TRIAGE, triage_due_at__lt=now
    )
