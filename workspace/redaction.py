"""Photo redaction: staff of the handling agency (or the province) hide faces, plates or house
numbers on an attached photo. The page shows the photo and numeric fields for each area; a
script lets them draw the areas instead. The service (``attachment_redact``) makes the copy
the public gets and keeps the original for them only."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from complaints.attachments import image_size
from complaints.selectors import attachment_in_work
from complaints.services import MAX_REDACTIONS, attachment_redact, redaction_role
from complaints.workflow import WorkflowError
from portal.views import _no_store

from .forms import RedactForm


def _photo_for_redaction(request, tracking_code, pk):
    """The photo, when the signed-in staff member may redact it; else 404."""
    attachment = attachment_in_work(pk=pk, tracking_code=tracking_code, user=request.user)
    if (
        attachment is None
        or not attachment.is_image
        or redaction_role(request.user, attachment.complaint) is None
    ):
        raise Http404
    return attachment


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def photo_redact(request, tracking_code, pk):
    attachment = _photo_for_redaction(request, tracking_code, pk)
    form = RedactForm(request.POST if request.method == "POST" else None, rows=MAX_REDACTIONS)
    if request.method == "POST" and form.is_valid():
        try:
            attachment_redact(attachment=attachment, actor=request.user, rectangles=form.rectangles)
        except (WorkflowError, ValidationError) as exc:
            form.add_error(None, exc.messages if isinstance(exc, ValidationError) else exc.message)
        else:
            messages.success(request, _("The areas are hidden: the public sees the new copy."))
            return redirect(attachment.complaint)
    with attachment.file.open("rb") as stored:
        width, height = image_size(stored.read())
    context = {
        "complaint": attachment.complaint,
        "attachment": attachment,
        "form": form,
        "width": width,
        "height": height,
        "reporter_days": settings.LAPOR_RETENTION_REPORTER_DAYS,
    }
    status = 400 if form.errors else 200
    return _no_store(render(request, "dashboard/redact.html", context, status=status))


@login_required
@require_safe
def photo_original(request, tracking_code, pk):
    """The photo as uploaded, before redaction: the handling agency and provincial staff only,
    never cached, and only while it is kept."""
    attachment = _photo_for_redaction(request, tracking_code, pk)
    if not attachment.original:
        raise Http404
    response = FileResponse(
        attachment.original.open("rb"),
        content_type=attachment.content_type,
        filename=f"asli-{attachment.download_name}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'none'"
    return _no_store(response)
