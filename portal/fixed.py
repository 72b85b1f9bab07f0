"""The two answers of the "is it fixed?" email: a GET shows what the link would do (mail
scanners open links), a POST does it, through ``complaints.services.complaint_fixed_answer``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from complaints.codes import fixed_check_read
from complaints.selectors import FixedCheck, FixedState, fixed_check_state
from complaints.services import FIXED, NOT_FIXED, complaint_fixed_answer
from complaints.workflow import WorkflowError

from .forms import NotFixedForm, RatingForm
from .views import _form_error, _no_store

ANSWERS = {"fixed": FIXED, "not-fixed": NOT_FIXED}


def _state(token: str) -> FixedCheck:
    read = fixed_check_read(token)
    if read is None:
        return FixedCheck(FixedState.UNKNOWN)
    tracking_code, event_id = read
    return fixed_check_state(tracking_code=tracking_code, resolved_event_id=event_id)


@require_http_methods(["GET", "HEAD", "POST"])
def fixed_check(request, answer):
    kind = ANSWERS.get(answer)
    if kind is None:
        raise Http404
    token = request.GET.get("t", "")
    check = _state(token)
    form_class = RatingForm if kind == FIXED else NotFixedForm
    form = form_class(initial={"rating": 5}) if kind == FIXED else form_class()
    if request.method == "POST" and check.state == FixedState.OPEN:
        form = form_class(request.POST)
        if form.is_valid():
            try:
                result = complaint_fixed_answer(
                    token=token,
                    answer=kind,
                    rating=form.cleaned_data.get("rating"),
                    note=form.cleaned_data["note"],
                )
            except (WorkflowError, ValidationError) as exc:
                _form_error(form, exc)
            else:
                if result.done:
                    messages.success(
                        request,
                        _("Thank you: the complaint is closed.")
                        if kind == FIXED
                        else _("Thank you: the complaint goes back to the agency."),
                    )
                return redirect(request.get_full_path())
    status = 404 if check.state == FixedState.UNKNOWN else 400 if form.errors else 200
    response = render(
        request,
        "complaints/fixed_check.html",
        {"check": check, "kind": kind, "form": form, "states": FixedState},
        status=status,
    )
    return _no_store(response)
