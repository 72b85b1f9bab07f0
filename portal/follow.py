"""Following by email: a complaint's status changes and area alerts (double opt-in), the
confirmation and unsubscribe links, which work without signing in. Thin adapters: the writes
are ``complaints.follows``."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.reporter_session import reporter_codes
from complaints.follows import (
    follow_confirm,
    follow_end,
    follow_for_confirm,
    follow_for_unsubscribe,
    follow_request,
    reporter_unsubscribe_code,
)
from complaints.scope import Purpose, complaints_for
from complaints.selectors import complaint_for_detail, complaint_of_reporter_link
from complaints.services import complaint_reporter_updates_set
from complaints.workflow import WorkflowError
from lapor.ratelimits import first_limit, target_key, too_many_requests

from .forms import AreaFollowForm, FollowForm
from .views import _detail_context, _no_store


def _sent() -> str:
    return _(
        "We have sent a confirmation link to that address. Nothing more is sent until you open it."
    )


def follow_wait(request, email: str) -> int | None:
    """Count a follow request: per client address and per email address. Minutes to wait."""
    limits = [("follow-ip", settings.LAPOR_FOLLOW_RATE, "ip")]
    if email:
        limits.append(("follow-email", settings.LAPOR_EMAIL_TARGET_RATE, target_key(email)))
    return first_limit(request, *limits)


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_POST
def complaint_follow_view(request, tracking_code):
    complaint = (
        complaints_for(None, purpose=Purpose.PUBLIC).filter(tracking_code=tracking_code).first()
    )
    if complaint is None:  # rahasia, archived, unrouted or unknown: not the public's to follow
        raise Http404
    form = FollowForm(request.POST)
    minutes = follow_wait(request, form.cleaned_data["email"] if form.is_valid() else "")
    if minutes:
        return too_many_requests(request, minutes)
    if form.is_valid():
        try:
            follow_request(email=form.cleaned_data["email"], complaint=complaint)
        except ValidationError as exc:
            _add_errors(form, exc)
        except WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            # The same answer whether or not the address follows it already.
            messages.success(request, _sent())
            return redirect(complaint)
    shown = complaint_for_detail(
        tracking_code=tracking_code, user=request.user, reporter_codes=reporter_codes(request)
    )
    context = _detail_context(request, shown, follow_form=form)
    return render(request, "complaints/detail.html", context, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def area_follow(request):
    """Area alerts: ask for a daily email of a regency's (and a category's) new complaints."""
    if request.method != "POST":
        form = AreaFollowForm(initial=request.GET.dict())
        return render(request, "complaints/follow_area.html", {"form": form})
    form = AreaFollowForm(request.POST)
    minutes = follow_wait(request, form.cleaned_data["email"] if form.is_valid() else "")
    if minutes:
        return too_many_requests(request, minutes)
    if form.is_valid():
        try:
            follow_request(
                email=form.cleaned_data["email"],
                region=form.cleaned_data["region"],
                category=form.cleaned_data["category"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _sent())
            return redirect("follow-area")
    return render(request, "complaints/follow_area.html", {"form": form}, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def follow_confirm_view(request, token):
    """The confirmation link: a page with one button (so that a mail scanner opening the link
    confirms nothing); pressing it starts the emails."""
    follow = follow_for_confirm(token)
    if follow is None:
        return _no_store(render(request, "complaints/follow_invalid.html", {}, status=404))
    context = {"follow": follow, "token": token}
    if request.method == "POST":
        try:
            follow_confirm(follow)
        except WorkflowError as exc:
            context["error"] = str(exc)
            return _no_store(render(request, "complaints/follow_confirm.html", context, status=400))
        context["confirmed"] = True
    return _no_store(render(request, "complaints/follow_confirm.html", context))


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", with no session
@require_http_methods(["GET", "HEAD", "POST"])
def follow_unsubscribe_view(request, token):
    """The unsubscribe link of every email to a follower: a page with one button; a POST (the
    button, or the mail client's one-click) ends the follow. No sign-in; the signed token is the
    proof. Unsubscribing twice answers the same."""
    follow = follow_for_unsubscribe(token)
    if request.method == "POST":
        if follow is not None:
            follow_end(follow)
        return _no_store(render(request, "complaints/follow_unsubscribed.html", {}))
    if follow is None:
        return _no_store(render(request, "complaints/follow_unsubscribed.html", {}))
    return _no_store(
        render(request, "complaints/follow_unsubscribe.html", {"follow": follow, "token": token})
    )


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", with no session
@require_http_methods(["GET", "HEAD", "POST"])
def reporter_unsubscribe_view(request, token):
    """The one-click link of the reporter's own status emails: a GET shows a button (mail
    scanners open links), a POST stops the complaint's status messages (the button, or the mail
    client's one-click POST), or resumes them (``action=resume``, the button offered once they
    are stopped). No sign-in; the signed token is the proof. The page names the complaint by its
    tracking code only. A link not made here: 404."""
    code = reporter_unsubscribe_code(token)
    complaint = complaint_of_reporter_link(code) if code else None
    if complaint is None:
        return _no_store(
            render(request, "complaints/reporter_updates_invalid.html", {}, status=404)
        )
    done = ""
    if request.method == "POST":
        stop = request.POST.get("action") != "resume"
        complaint_reporter_updates_set(complaint=complaint, stopped=stop)
        done = "stopped" if stop else "resumed"
    context = {
        "tracking_code": complaint.tracking_code,
        "token": token,
        "stopped": complaint.reporter_updates_stopped_at is not None,
        "done": done,
    }
    return _no_store(render(request, "complaints/reporter_updates.html", context))
