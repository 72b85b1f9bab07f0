"""Response templates: the staff page where agencies, coordinators and the province keep the
answers they pick on a complaint's page (``complaints.services.response_template_save``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from complaints.selectors import response_templates_managed_by
from complaints.services import response_template_delete, response_template_save
from complaints.workflow import WorkflowError

from .common import staff_scope_or_403
from .forms import ResponseTemplateForm


def _managed(request, pk):
    template = response_templates_managed_by(request.user).filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


def _save(request, form, template=None):
    """Validate and save; True when saved, else the errors are on ``form``."""
    if not form.is_valid():
        return False
    agency, region = form.owner_parts()
    data = form.cleaned_data
    try:
        response_template_save(
            actor=request.user,
            template=template,
            agency=agency,
            region=region,
            category=data["category"],
            action=data["action"],
            title=data["title"],
            body=data["body"],
        )
    except WorkflowError as exc:
        form.add_error(None, exc.message)
        return False
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def response_templates(request):
    """The templates the user keeps, and a form for a new one."""
    staff_scope_or_403(request)
    data = request.POST if request.method == "POST" else None
    form = ResponseTemplateForm(data, user=request.user)
    if data is not None and _save(request, form):
        messages.success(request, _("The template has been saved."))
        return redirect("dashboard-templates")
    templates = response_templates_managed_by(request.user).order_by(
        "agency__name", "region__name", "action", "title", "pk"
    )
    return render(
        request,
        "dashboard/templates.html",
        {"form": form, "templates": templates},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def response_template_edit(request, pk):
    staff_scope_or_403(request)
    template = _managed(request, pk)
    initial = {
        "owner": ResponseTemplateForm.owner_value(template),
        "action": template.action,
        "category": template.category_id,
        "title": template.title,
        "body": template.body,
    }
    data = request.POST if request.method == "POST" else None
    form = ResponseTemplateForm(data, initial=initial, user=request.user)
    if data is not None and _save(request, form, template):
        messages.success(request, _("The template has been saved."))
        return redirect("dashboard-templates")
    return render(
        request,
        "dashboard/template_edit.html",
        {"form": form, "template": template},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def response_template_remove(request, pk):
    staff_scope_or_403(request)
    template = _managed(request, pk)
    try:
        response_template_delete(actor=request.user, template=template)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The template has been deleted."))
    return redirect("dashboard-templates")
