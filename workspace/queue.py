"""The staff queue (every role, from its own scope) and the coordinator's triage with bulk
actions. Rows come from ``complaints_for(user, WORK)`` only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from complaints.codes import tracking_code_normalise
from complaints.pagination import TRIAGE_DUE_FIRST, page_from_query
from complaints.scope import Purpose, complaints_for
from complaints.selectors import LIST_RELATED
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role, WorkflowError

from .common import PAGE_SIZE, query_without_page, staff_scope_or_403
from .filters import StaffQueueFilter
from .forms import BulkTriageForm, TrackingCodesField
from .selectors import queue_keys, queue_rows, queue_status_counts, queue_work_set

S = ComplaintStatus
# Query keys that are not among the folded filters.
UNFOLDED = {"q", "page", "after", "before", "sort"}


def queue_filterset(request, *, now) -> StaffQueueFilter:
    """The caller's queue with the filters of the query string; 404 for an agency or region
    outside the caller's scope, exactly as for a complaint outside it."""
    filterset = StaffQueueFilter(
        request.GET, queryset=queue_work_set(request.user), user=request.user, now=now
    )
    if filterset.scope_errors:
        raise Http404
    return filterset


@login_required
def queue(request):
    scope = staff_scope_or_403(request)
    now = timezone.now()
    filterset = queue_filterset(request, now=now)
    return render_queue(request, filterset, scope=scope, now=now)


def render_queue(request, filterset, *, scope, now):
    valid = filterset.is_valid()
    context = {
        "filter": filterset,
        "now": now,
        "scope": scope,
        "query": query_without_page(request),
        "page": None,
        "total": None,
        "counts": None,
        # Filters past the search box fold away on a phone; open when one of them is in use.
        "filters_used": sum(
            1 for key, value in request.GET.items() if key not in UNFOLDED and value.strip()
        ),
    }
    context["filters_open"] = bool(context["filters_used"]) or not valid
    if valid:
        counts = queue_status_counts(filterset, request.user)
        rows = queue_rows(filterset.qs, sort=filterset.sort_value, now=now)
        # Every match, added up from the counts per status: no second count.
        context["total"] = sum(counts[status] for status in filterset.selected_statuses())
        context["page"] = page_from_query(
            rows, request.GET, keys=queue_keys(filterset.sort_value), size=PAGE_SIZE
        )
        status_query = request.GET.copy()
        for key in ("page", "after", "before", "status"):
            status_query.pop(key, None)
        context["status_query"] = status_query.urlencode()
        context["counts"] = [(status, S(status).label, counts[status]) for status in S.values]
        context["selected_status"] = filterset.form.cleaned_data.get("status") or "open"
    return render(request, "dashboard/queue.html", context, status=200 if valid else 400)


@login_required
@require_http_methods(["GET", "POST"])
def triage(request):
    """Complaints waiting for a coordinator: route or archive, one by one or several at once.
    Provincial staff read the triage of every region; only coordinators act here."""
    scope = staff_scope_or_403(request)
    if not (scope.region_ids or scope.is_province):
        # Only agency officers get here: say what their own desk is.
        raise PermissionDenied(
            _(
                "Triage is the coordinators' desk, for complaints that no routing rule could "
                "place. As an agency officer you handle your agency's complaints in your queue; "
                "nothing else is needed."
            )
        )
    can_act = bool(scope.region_ids)
    form = None
    status = 200
    if can_act:
        form = BulkTriageForm(request.POST or None, region_ids=scope.region_ids)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied(
                _(
                    "Provincial staff read every region's triage; routing and archiving are left "
                    "to the coordinator of the complaint's regency or city."
                )
            )
        # Complaints outside the caller's regions are a 404 before anything else is checked.
        targets = _bulk_targets(request, scope=scope)
        if form.is_valid() and _bulk_apply(request, form, targets):
            return redirect("dashboard-triage")
        status = 400
    now = timezone.now()
    waiting = complaints_for(request.user, purpose=Purpose.WORK).filter(status=S.TRIAGE)
    rows = waiting.with_overdue(now).select_related(*LIST_RELATED)
    page = page_from_query(rows, request.GET, keys=TRIAGE_DUE_FIRST, size=PAGE_SIZE)
    ticked = set(form["complaints"].value() or []) if form is not None and form.is_bound else set()
    return render(
        request,
        "dashboard/triage.html",
        {"page": page, "form": form, "now": now, "ticked": ticked, "query": ""},
        status=status,
    )


class _BulkFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _bulk_targets(request, *, scope) -> list:
    """The ticked complaints, all within the caller's regions, or a 404 (nothing changed)."""
    codes = TrackingCodesField().to_python(request.POST.getlist("complaints"))
    targets = list(
        complaints_for(request.user, purpose=Purpose.WORK)
        .filter(tracking_code__in=codes)
        .select_related("region", "category", "assigned_agency")
        .order_by("pk")  # rows are locked in one order, so two bulk actions cannot deadlock
    )
    if len(targets) != len(codes) or any(not scope.covers_region(c.region_id) for c in targets):
        raise Http404
    return targets


def _bulk_apply(request, form, targets) -> bool:
    """Apply one action to every ticked complaint, all or nothing; a refused move names the
    complaint and nothing is changed."""
    data = form.cleaned_data
    codes = data["complaints"]
    work = complaints_for(request.user, purpose=Purpose.WORK)
    original = None
    if data["bulk_action"] == BulkTriageForm.DUPLICATE:
        code = tracking_code_normalise(data["duplicate_of"])
        original = work.filter(tracking_code=code).first()
        if original is None or original.tracking_code in codes:
            form.add_error(
                "duplicate_of",
                _("Give the code of another complaint of your regency or city."),
            )
            return False
    route = data["bulk_action"] == BulkTriageForm.ROUTE
    try:
        with transaction.atomic():
            for complaint in targets:
                try:
                    complaint_transition(
                        complaint=complaint,
                        action=Action.REROUTE if route else Action.ARCHIVE,
                        role=Role.REGION_COORDINATOR,
                        actor=request.user,
                        agency=data["agency"] if route else None,
                        reason=form.archive_reason,
                        duplicate_of=original,
                    )
                except WorkflowError as exc:
                    raise _BulkFailed(complaint.tracking_code, exc.message) from exc
                except ValidationError as exc:
                    raise _BulkFailed(complaint.tracking_code, " ".join(exc.messages)) from exc
    except _BulkFailed as failure:
        form.add_error(
            None,
            _("Nothing was changed. %(code)s: %(error)s")
            % {"code": failure.code, "error": failure.message},
        )
        return False
    count = len(targets)
    if route:
        message = ngettext(
            "%(count)d complaint sent to %(agency)s.",
            "%(count)d complaints sent to %(agency)s.",
            count,
        ) % {"count": count, "agency": data["agency"].name}
    else:
        message = ngettext(
            "%(count)d complaint archived.", "%(count)d complaints archived.", count
        ) % {"count": count}
    messages.success(request, message)
    return True
