"""Manual intake: staff enter a complaint seen on social media, online or in print, or received
by SMS, phone or at the counter. It goes through ``complaint_intake`` → ``complaint_submit``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from complaints.models import LINK_CHANNELS
from complaints.scope import Purpose, complaints_for
from complaints.services import IntakeSource, complaint_intake
from complaints.sources import source_url_normalise
from complaints.workflow import WorkflowError

from .common import staff_scope_or_403
from .forms import IntakeForm


def complaints_with_source(user, url: str):
    """Complaints already entered from this link that ``user`` may open (a rahasia one of
    another regency stays unnamed)."""
    return (
        complaints_for(user, purpose=Purpose.SEE)
        .filter(source_url=url)
        .select_related("region", "assigned_agency")
        .order_by("-created_at")[:5]
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake(request):
    staff_scope_or_403(request)
    duplicates = []
    if request.method != "POST":
        form = IntakeForm(user=request.user)
        return render(request, "dashboard/intake.html", {"form": form})
    form = IntakeForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        url = data["source_url"] if data["channel"] in LINK_CHANNELS else ""
        if url and not data["confirm_duplicate"]:
            duplicates = list(complaints_with_source(request.user, source_url_normalise(url)))
        if not duplicates:
            try:
                result = complaint_intake(
                    actor=request.user,
                    role=form.role,
                    channel=data["channel"],
                    source=IntakeSource(
                        url=url,
                        publication=data["source_name"],
                        published_on=data["source_date"],
                        raised_on=data["raised_on"],
                    ),
                    agency=data.get("agency"),
                    classification=data["classification"],
                    title=data["title"],
                    description=data["description"],
                    category=data["category"],
                    region=data["region"],
                    district=data["district"],
                    address=data["address"],
                    incident_date=data["incident_date"],
                    is_anonymous=data["is_anonymous"],
                    is_confidential=data["is_confidential"],
                    reporter_name=data["reporter_name"],
                    reporter_email=data["reporter_email"],
                    reporter_phone=data["reporter_phone"],
                    files=data["attachments"],
                    idempotency_key=data["submission_token"],
                )
            except WorkflowError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                complaint = result.complaint
                if complaint.assigned_agency_id:
                    text = _("Complaint %(code)s has been entered and sent to %(agency)s.") % {
                        "code": complaint.tracking_code,
                        "agency": complaint.assigned_agency.name,
                    }
                else:
                    text = _(
                        "Complaint %(code)s has been entered; it waits in triage for a coordinator."
                    ) % {"code": complaint.tracking_code}
                messages.success(request, text)
                return redirect(complaint)
    return render(
        request,
        "dashboard/intake.html",
        {"form": form, "duplicates": duplicates},
        status=200 if duplicates else 400,
    )
