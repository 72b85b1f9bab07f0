"""Staff pages: the agency queue, the regency triage and overview, the province overview,
and the staff actions on a complaint. Every read starts from ``complaints_for(user,
purpose=Purpose.WORK)``, the caller's work set; the overviews' counts come from the selectors
over the same scope (the tally, docs/figures.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.reporter_session import reporter_codes
from agencies.models import Agency, Region
from complaints.pagination import TRIAGE_DUE_FIRST, page_from_query
from complaints.querysets import URGENCY
from complaints.scope import Purpose, complaints_for
from complaints.selectors import (
    LIST_RELATED,
    breach_counts,
    complaint_counts,
    overdue_counts,
    year_start,
)
from complaints.services import acting_role, complaint_transition, contact_view_record
from complaints.workflow import Action, ComplaintStatus, WorkflowError
from portal.forms import ContactRevealForm, StaffActionForm
from portal.views import _detail_context, _no_store

from .common import PAGE_SIZE, staff_scope_or_403

S = ComplaintStatus
OPEN = (S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS)


@login_required
def dashboard(request):
    scope = staff_scope_or_403(request)
    now = timezone.now()
    work = complaints_for(request.user, purpose=Purpose.WORK)
    handled = work.with_overdue(now)
    context = {"scope": scope}
    if scope.agency_ids:
        queue = (
            work.filter(
                assigned_agency_id__in=scope.agency_ids, status__in=[S.ASSIGNED, S.IN_PROGRESS]
            )
            .select_related(*LIST_RELATED)
            .by_urgency(now)
        )
        context["queue"] = page_from_query(queue, request.GET, keys=URGENCY, size=PAGE_SIZE)
    if scope.region_ids or scope.is_province:
        triage = handled.filter(status=S.TRIAGE).select_related(*LIST_RELATED)
        if not scope.is_province:
            triage = triage.filter(region_id__in=scope.region_ids)
        # Its own cursor (triage_after/triage_before), beside the queue's.
        context["triage"] = page_from_query(
            triage, request.GET, keys=TRIAGE_DUE_FIRST, size=PAGE_SIZE, prefix="triage_"
        )
        context["agency_rows"] = _agency_overview(scope, request.user, now)
    if scope.is_province:
        context["region_rows"] = _region_overview(request.user, now)
    return render(request, "dashboard/index.html", context)


def _agency_overview(scope, user, now):
    """Per agency of the coordinator's regions: open and overdue complaints, worst first."""
    if scope.is_province:
        return []  # the province starts from the regions; 150 agencies at once are noise
    work = {"purpose": Purpose.WORK}
    open_ = complaint_counts(user, **work, by="agency_id", statuses=[S.ASSIGNED, S.IN_PROGRESS])
    overdue = overdue_counts(user, **work, by="assigned_agency_id", triage=False, now=now)
    rows = list(
        Agency.objects.filter(
            is_active=True, region_id__in=scope.region_ids, pk__in=list(open_)
        ).select_related("region")
    )
    for row in rows:
        row.open, row.overdue = open_[row.pk], overdue.get(row.pk, 0)
    return sorted(rows, key=lambda row: (-row.overdue, -row.open, row.name))


def _region_overview(user, now):
    """Per region: received this year, open, in triage, overdue now, breaches this year."""
    since, work = year_start(now), {"purpose": Purpose.WORK, "by": "region_id"}
    received = complaint_counts(user, **work, since=since)
    open_ = complaint_counts(user, **work, statuses=OPEN)
    triage = complaint_counts(user, **work, statuses=[S.TRIAGE])
    overdue = overdue_counts(user, **work, now=now)
    breaches = breach_counts(user, by="region_id", since=since)
    rows = list(Region.objects.order_by("code"))
    for row in rows:
        row.received, row.open = received.get(row.pk, 0), open_.get(row.pk, 0)
        row.triage, row.overdue = triage.get(row.pk, 0), overdue.get(row.pk, 0)
        row.breach_count = breaches.get(row.pk, 0)
    return rows


@login_required
@require_POST
def complaint_act(request, tracking_code):
    """A staff action on one complaint; the workflow table decides whether it is allowed."""
    complaint = (
        complaints_for(request.user, purpose=Purpose.WORK)
        .select_related("region", "assigned_agency", "category")
        .filter(tracking_code=tracking_code)
        .first()
    )
    if complaint is None:
        raise Http404
    form = StaffActionForm(request.POST, request.FILES, complaint=complaint, user=request.user)
    if form.is_valid():
        action = form.cleaned_data["action"]
        role = acting_role(request.user, complaint, action)
        try:
            if role is None:
                raise WorkflowError(_("You are not allowed to do this."))
            complaint_transition(
                complaint=complaint,
                action=action,
                role=role,
                actor=request.user,
                note=form.cleaned_data["note"],
                agency=form.cleaned_data.get("agency"),
                reason=form.cleaned_data.get("reason") or "",
                duplicate_of=form.cleaned_data.get("duplicate_of"),
                files=form.cleaned_data["attachments"],
            )
        except WorkflowError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("The action “%(action)s” has been saved.") % {"action": Action(action).label},
            )
            return redirect(complaint)
    complaint = (
        complaints_for(request.user, purpose=Purpose.SEE, reporter_codes=reporter_codes(request))
        .with_overdue()
        .get(pk=complaint.pk)
    )
    context = _detail_context(request, complaint)
    context["staff_form"] = form
    return render(request, "complaints/detail.html", context, status=400)


@login_required
@require_POST
def complaint_contact(request, tracking_code):
    """ "Tampilkan kontak pelapor": record who asked and why, then show the contact once, on
    this answer only (never cached); without a reason, or when not allowed, nothing is shown."""
    complaint = (
        complaints_for(request.user, purpose=Purpose.WORK)
        .with_overdue()
        .filter(tracking_code=tracking_code)
        .first()
    )
    if complaint is None:
        raise Http404
    form = ContactRevealForm(request.POST)
    shown = False
    if form.is_valid():
        try:
            contact_view_record(
                complaint=complaint, actor=request.user, reason=form.cleaned_data["reason"]
            )
            shown = True
        except WorkflowError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    context = _detail_context(request, complaint, contact_form=form)
    context["contact_shown"] = shown
    return _no_store(
        render(request, "complaints/detail.html", context, status=200 if shown else 400)
    )
