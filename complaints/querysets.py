"""Complaint queries in domain words.

The "who may read" filters (``_public``, ``_handled_by``, ``_reported_by``, ``_claimable_by``,
``_visible_to``) are internal: call them through ``complaints.scope.complaints_for``, the one
entry point for every read (``tests/complaints/test_scope.py`` fails when a module reads
``Complaint.objects`` itself). Their leading underscore also keeps them off the manager:
``Complaint.objects.visible_to`` does not exist. The other methods narrow or annotate a scoped
queryset.
"""

from datetime import datetime

from django.db import models
from django.db.models import BooleanField, Case, F, Q, When
from django.utils import timezone

from agencies.selectors import staff_scope_for

from .pagination import Key, ordering
from .workflow import DUE_FIELD, PUBLIC_STATUSES, ComplaintStatus


class ComplaintQuerySet(models.QuerySet):
    def _public(self):
        """Routed, not rahasia, not archived: what anyone may see. Call through complaints_for."""
        return self.filter(is_confidential=False, status__in=PUBLIC_STATUSES)

    def _handled_by(self, user):
        """What ``user`` may see as staff: their agency's, their region's, or all.
        Call through complaints_for."""
        scope = staff_scope_for(user)
        if not scope.is_staff:
            return self.none()
        # An agency handles what it holds now; once re-routed, a complaint is no longer its
        # business (its breaches stay on record in DeadlineBreach, not in this view).
        return self.filter(scope.q(agency_field="assigned_agency", region_field="region"))

    def _reported_by(self, user, *, reporter_codes: frozenset[str] = frozenset()):
        """The reporter's own: by account, or by tracking codes proven with the private link.
        Call through complaints_for."""
        q = Q(pk__in=[])
        if reporter_codes:
            q |= Q(tracking_code__in=reporter_codes)
        if user is not None and user.is_authenticated:
            q |= Q(reporter=user)
        return self.filter(q)

    def _claimable_by(self, user):
        """Guest complaints (no account) sent with ``user``'s address, once the signed-in owner
        has confirmed that address; only their existence is shown, so they can pick theirs.
        Call through complaints_for."""
        profile = getattr(user, "citizen_profile", None)
        if not (
            user is not None
            and user.is_authenticated
            and user.email
            and profile is not None
            and profile.email_verified_at
        ):
            return self.none()
        return self.filter(reporter__isnull=True, reporter_email__iexact=user.email)

    def _visible_to(self, user, *, reporter_codes: frozenset[str] = frozenset()):
        """Every complaint ``user`` may open: public ones, their own, and those they handle.
        Call through complaints_for.

        ``reporter_codes`` are tracking codes whose private link this visitor has opened.
        """
        q = Q(is_confidential=False, status__in=PUBLIC_STATUSES)
        if reporter_codes:
            q |= Q(tracking_code__in=reporter_codes)
        if user is not None and user.is_authenticated:
            q |= Q(reporter=user)
            scope = staff_scope_for(user)
            if scope.is_staff:
                q |= Q(
                    pk__in=ComplaintQuerySet(self.model, using=self.db)
                    ._handled_by(user)
                    .values("pk")
                )
        return self.filter(q)

    def with_next_due(self):
        """Annotate ``next_due`` (``next_due_expression``)."""
        return self.annotate(next_due=next_due_expression())

    def by_urgency(self, now=None):
        """Most urgent first (``URGENCY_ORDER``), annotated with ``is_overdue`` and
        ``next_due``: the one order of every staff queue, on the pages and in the API."""
        return self.with_overdue(now).with_next_due().order_by(*URGENCY_ORDER)

    def with_overdue(self, now=None):
        """Annotate ``is_overdue`` (``overdue_q``), for lists and pages."""
        now = now or timezone.now()
        return self.annotate(
            is_overdue=Case(
                When(overdue_q(now), then=True), default=False, output_field=BooleanField()
            )
        )


def overdue_q(now) -> Q:
    """Due in the past with no follow-up (or no verification): right before any task runs."""
    return Q(status=ComplaintStatus.ASSIGNED, follow_up_due_at__lt=now) | Q(
        status=ComplaintStatus.TRIAGE, triage_due_at__lt=now
    )


def next_due_expression() -> Case:
    """The clock that matters next: verification in triage, the first follow-up until it is
    given, then the completion target; none once resolved, closed or archived."""
    return Case(
        *(When(status=status, then=F(field)) for status, field in DUE_FIELD.items()),
        default=None,
    )


# Overdue first, then by the next clock (none: last), newest first among equals; ``id`` last
# makes the order total, so pages neither repeat nor skip a row. The keys are the pager's
# (``complaints.pagination``); ``URGENCY_ORDER`` is the same order for ``order_by``.
URGENCY = (
    Key("is_overdue", bool, descending=True),
    Key("next_due", datetime, nullable=True),
    Key("created_at", datetime, descending=True),
    Key("id", descending=True),
)
URGENCY_ORDER = ordering(URGENCY)
