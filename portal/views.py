import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.demo import demo_accounts_visible
from accounts.reporter_session import new_link_key, new_link_set, reporter_codes, reporter_remember
from agencies.selectors import staff_scope_for
from complaints.codes import tracking_code_normalise
from complaints.filters import ComplaintFilter
from complaints.follows import reporter_unsubscribe_token
from complaints.models import RESPONSE_ACTIONS
from complaints.pagination import NEWEST_FIRST, RELEVANT_FIRST, page_from_query
from complaints.responses import response_fill
from complaints.scope import Purpose, complaints_for, private_link_opens
from complaints.selectors import (
    attachment_visible,
    complaint_figures,
    complaint_for_detail,
    complaints_public_list,
    complaints_recent_public,
    contact_views_of,
    photos_before_after,
    response_templates_for,
)
from complaints.services import (
    actions_for,
    complaint_reply,
    complaint_submit,
    complaint_transition,
    redaction_role,
)
from complaints.workflow import NOTE, REPLY, Action, Role, WorkflowError
from lapor.pagecache import public_page
from lapor.ratelimits import (
    first_limit,
    reporter_action_wait,
    submission_wait,
    too_many_requests,
)

from .forms import (
    ComplaintForm,
    ContactRevealForm,
    FollowForm,
    NoteForm,
    RatingForm,
    ReopenForm,
    StaffActionForm,
    SupportForm,
    TrackForm,
)

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 20


def _no_store(response):
    """Pages with a reporter's details or a private link: kept by no cache, shared or not."""
    patch_cache_control(response, no_store=True, private=True)
    return response


@public_page
@require_safe
def home(request):
    return render(
        request,
        "home.html",
        {
            "figures": complaint_figures(),
            "recent": complaints_recent_public(),
            "demo_accounts": demo_accounts_visible(),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def complaint_new(request):
    if request.method == "POST":
        minutes = submission_wait(request)
        if minutes:
            # The form again with what the person typed (files cannot be kept), and when to send.
            typed = {
                name: request.POST.get(name)
                for name in ComplaintForm.base_fields
                if name not in ("attachments", "website") and name in request.POST
            }
            form = ComplaintForm(user=request.user, initial=typed)
            response = render(
                request, "complaints/form.html", {"form": form, "wait_minutes": minutes}, status=429
            )
            response["Retry-After"] = str(minutes * 60)
            return response
        form = ComplaintForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = complaint_submit(
                    classification=data["classification"],
                    title=data["title"],
                    description=data["description"],
                    category=data["category"],
                    region=data["region"],
                    district=data["district"],
                    address=data["address"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    incident_date=data["incident_date"],
                    is_anonymous=data["is_anonymous"],
                    is_confidential=data["is_confidential"],
                    reporter=request.user,
                    reporter_name=data["reporter_name"],
                    reporter_email=data["reporter_email"],
                    reporter_phone=data["reporter_phone"],
                    notify_by=data["notify_by"] if form.is_guest else "",
                    files=data["attachments"],
                    idempotency_key=data["submission_token"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                code = result.complaint.tracking_code
                if result.created or code in reporter_codes(request):
                    reporter_remember(request, code)
                response = redirect("complaint-created", tracking_code=code)
                if result.access_key:
                    new_link_set(
                        response,
                        code=code,
                        access_key=result.access_key,
                        path=reverse("complaint-created", args=[code]),
                    )
                return response
    else:
        # Coming back from "similar nearby" with "report it anyway": keep what was chosen.
        initial = {
            key: request.GET[key]
            for key in ("category", "region", "district", "latitude", "longitude")
            if request.GET.get(key)
        }
        form = ComplaintForm(user=request.user, initial=initial)
    return render(request, "complaints/form.html", {"form": form})


@never_cache
@require_safe
def complaint_created(request, tracking_code):
    if tracking_code not in reporter_codes(request):
        raise Http404
    complaint = get_object_or_404(
        complaints_for(
            request.user, purpose=Purpose.OWN, reporter_codes=reporter_codes(request)
        ).select_related("assigned_agency", "region", "category"),
        tracking_code=tracking_code,
    )
    access_key = new_link_key(request, tracking_code)
    private_link = None
    if access_key:
        private_link = request.build_absolute_uri(
            f"{complaint.get_absolute_url()}?key={access_key}"
        )
    return render(
        request,
        "complaints/created.html",
        {"complaint": complaint, "private_link": private_link},
    )


@public_page
@require_safe
def complaint_detail(request, tracking_code):
    key = request.GET.get("key")
    # The private link: remember it for this browser, then drop the secret from the URL so it
    # stays out of history, referrers and shared screenshots.
    if key and private_link_opens(tracking_code, key):
        reporter_remember(request, tracking_code)
        response = HttpResponseRedirect(reverse("complaint-detail", args=[tracking_code]))
        response["Referrer-Policy"] = "no-referrer"
        return _no_store(response)
    complaint = complaint_for_detail(
        tracking_code=tracking_code, user=request.user, reporter_codes=reporter_codes(request)
    )
    if complaint is None:
        raise Http404
    context = _detail_context(request, complaint)
    response = render(request, "complaints/detail.html", context)
    if context["is_reporter"] or context["is_staff"] or complaint.is_confidential:
        _no_store(response)
    return response


def _detail_context(request, complaint, **forms):
    allowed = actions_for(
        request.user, complaint, reporter_access=complaint.tracking_code in reporter_codes(request)
    )
    is_reporter, is_staff = allowed.is_reporter, allowed.is_staff
    events = [e for e in complaint.events.all() if is_staff or not e.is_internal]
    can_reply = REPLY in allowed.reporter
    can_rate, can_reopen = Action.RATE in allowed.reporter, Action.REOPEN in allowed.reporter
    staff_actions = allowed.staff - {NOTE}
    duplicate_of = complaint.duplicate_of
    if duplicate_of is not None and not (
        complaints_for(request.user, purpose=Purpose.SEE, reporter_codes=reporter_codes(request))
        .filter(pk=duplicate_of.pk)
        .exists()
    ):
        duplicate_of = None  # e.g. a rahasia original: its code is not this visitor's to know
    return {
        "complaint": complaint,
        "events": events,
        "before_after": photos_before_after(complaint),
        "is_reporter": is_reporter,
        "is_staff": is_staff,
        # The reporter sees their own contact; staff only by asking, with a reason that is
        # recorded (``contact_view_record``); an anonim reporter's only provincial staff.
        "show_reporter": is_reporter,
        "contact_form": forms.get("contact_form")
        or (
            ContactRevealForm()
            if is_staff
            and not is_reporter
            and complaint.personal_data_removed_at is None
            and (not complaint.is_anonymous or staff_scope_for(request.user).is_province)
            else None
        ),
        "contact_views": contact_views_of(complaint) if is_staff else [],
        # The handling agency and the province may hide parts of photos (faces, plates).
        "can_redact": is_staff and redaction_role(request.user, complaint) is not None,
        "reply_form": forms.get("reply_form") or (NoteForm() if can_reply else None),
        "rating_form": forms.get("rating_form") or (RatingForm() if can_rate else None),
        "reopen_form": forms.get("reopen_form") or (ReopenForm() if can_reopen else None),
        "staff_actions": staff_actions,
        **_response_templates_context(request, complaint, staff_actions),
        "duplicate_of": duplicate_of,
        # A guest complaint opened with its private link by someone signed in: offer to join it.
        "can_claim": is_reporter
        and complaint.reporter_id is None
        and request.user.is_authenticated
        and complaint.tracking_code in reporter_codes(request),
        # "Me too" for anyone but the reporter, on a complaint the public may see.
        "support_form": forms.get("support_form")
        or (SupportForm(user=request.user) if complaint.is_public and not is_reporter else None),
        # Following by email, for anyone but the reporter (who is told of every change already).
        "follow_form": forms.get("follow_form")
        or (FollowForm() if complaint.is_public and not is_reporter else None),
        # The reporter who stopped the status emails may turn them on again from here.
        "reporter_updates_path": reverse(
            "reporter-unsubscribe", args=[reporter_unsubscribe_token(complaint)]
        )
        if is_reporter and complaint.reporter_updates_stopped_at is not None
        else "",
        "staff_form": forms.get("staff_form")
        or (StaffActionForm(complaint=complaint, user=request.user) if staff_actions else None),
    }


def _response_templates_context(request, complaint, staff_actions) -> dict:
    """The response templates offered to staff on this complaint, each with its text filled in
    (a click puts it in the note: by script, or without one by reloading with ``?templat=``)."""
    actions = {a.value for a in RESPONSE_ACTIONS} & set(staff_actions)
    if not actions:
        return {"response_templates": {}, "picked_response": None}
    offered = [
        {
            "pk": template.pk,
            "title": template.title,
            "action": template.action,
            "text": response_fill(template.body, complaint),
        }
        for template in response_templates_for(complaint, actions=actions)
    ]
    picked = next((t for t in offered if str(t["pk"]) == request.GET.get("templat")), None)
    return {
        # By the form whose note they fill: follow-up/resolve share one.
        "response_templates": {
            form: [t for t in offered if t["action"] in form_actions]
            for form, form_actions in RESPONSE_FORMS.items()
        },
        "picked_response": picked
        and {"form": _response_form_of(picked["action"]), "text": picked["text"]},
    }


# The staff action forms on a complaint's page, by the actions their note is for.
RESPONSE_FORMS = {
    "handle": {Action.FOLLOW_UP, Action.RESOLVE},
    "not_ours": {Action.NOT_OURS},
    "reroute": {Action.REROUTE},
}


def _response_form_of(action: str) -> str:
    return next(form for form, actions in RESPONSE_FORMS.items() if action in actions)


def _complaint_for_reporter(request, tracking_code):
    complaint = complaint_for_detail(
        tracking_code=tracking_code, user=request.user, reporter_codes=reporter_codes(request)
    )
    if complaint is None:
        raise Http404
    allowed = actions_for(
        request.user, complaint, reporter_access=tracking_code in reporter_codes(request)
    )
    if not allowed.is_reporter:
        raise Http404
    return complaint


def _reporter_actor(request, complaint):
    """The account acting as reporter, or None for a guest holding the private link."""
    if request.user.is_authenticated and complaint.reporter_id == request.user.pk:
        return request.user
    return None


def _reporter_action(request, tracking_code, *, form_class, form_key, apply, success):
    """A reporter's POST: check who asks, validate, call the service, answer like a form."""
    complaint = _complaint_for_reporter(request, tracking_code)
    minutes = reporter_action_wait(request, complaint)
    if minutes:
        return too_many_requests(request, minutes)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            apply(complaint, _reporter_actor(request, complaint), form.cleaned_data)
        except (WorkflowError, ValidationError) as exc:
            _form_error(form, exc)
        else:
            messages.success(request, success)
            return redirect(complaint)
    context = _detail_context(request, complaint, **{form_key: form})
    return render(request, "complaints/detail.html", context, status=400)


@require_POST
def complaint_reply_view(request, tracking_code):
    return _reporter_action(
        request,
        tracking_code,
        form_class=NoteForm,
        form_key="reply_form",
        apply=lambda complaint, actor, data: complaint_reply(
            complaint=complaint, actor=actor, note=data["note"], files=data["attachments"]
        ),
        success=_("Your reply has been sent to the agency."),
    )


@require_POST
def complaint_rate_view(request, tracking_code):
    return _reporter_action(
        request,
        tracking_code,
        form_class=RatingForm,
        form_key="rating_form",
        apply=lambda complaint, actor, data: complaint_transition(
            complaint=complaint,
            action=Action.RATE,
            role=Role.REPORTER,
            actor=actor,
            rating=data["rating"],
            note=data["note"],
        ),
        success=_("Thank you for your rating. The complaint is closed."),
    )


@require_POST
def complaint_reopen_view(request, tracking_code):
    return _reporter_action(
        request,
        tracking_code,
        form_class=ReopenForm,
        form_key="reopen_form",
        apply=lambda complaint, actor, data: complaint_transition(
            complaint=complaint,
            action=Action.REOPEN,
            role=Role.REPORTER,
            actor=actor,
            note=data["note"],
        ),
        success=_("The complaint has been reopened and sent back to the agency."),
    )


def _form_error(form, exc) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, getattr(exc, "message", None) or exc.messages)


@require_safe
def track(request):
    form = TrackForm(request.GET or None)
    not_found = False
    if form.is_bound:
        minutes = first_limit(request, ("track-ip", settings.LAPOR_TRACK_RATE, "ip"))
        if minutes:
            return too_many_requests(request, minutes)
    if form.is_valid():
        code = tracking_code_normalise(form.cleaned_data["code"])
        visible = complaints_for(
            request.user, purpose=Purpose.SEE, reporter_codes=reporter_codes(request)
        ).filter(tracking_code=code)
        if visible.exists():
            return redirect("complaint-detail", tracking_code=code)
        not_found = True
    return render(
        request,
        "complaints/track.html",
        {"form": form, "not_found": not_found},
        status=404 if not_found else 200,
    )


@public_page
@require_safe
def complaint_list(request):
    """Public complaints, newest (or, when searching, most relevant) first, a page at a time.

    Keyset pagination (``?after=``/``?before=``): no page counts the matches or skips rows.
    """
    filterset = ComplaintFilter(request.GET or None, queryset=complaints_public_list())
    qs = filterset.qs
    searching = "search_rank" in qs.query.annotations
    page = page_from_query(
        qs, request.GET, keys=RELEVANT_FIRST if searching else NEWEST_FIRST, size=LIST_PAGE_SIZE
    )
    feeds, alert_query = _list_feeds(filterset)
    return render(
        request,
        "complaints/list.html",
        {
            "filter": filterset,
            "page": page,
            "query": page.first_query,
            "searching": searching,
            "feeds": feeds,
            "alert_query": alert_query,
        },
    )


def _list_feeds(filterset) -> tuple[list[dict], str]:
    """The Atom feeds of the regency and category the list is filtered by (linked with
    ``<link rel="alternate">``), and the area alert form's query for them."""
    if not filterset.is_bound or not filterset.is_valid():
        return [], ""
    region, category = (filterset.form.cleaned_data.get(k) for k in ("region", "category"))
    feeds, query = [], {}
    if region is not None:
        title = _("New complaints in %(region)s") % {"region": region.name}
        feeds.append({"title": title, "url": reverse("feed-region", args=[region.code])})
        query["region"] = region.code
    if category is not None:
        title = _("New complaints: %(category)s") % {"category": category.name}
        feeds.append({"title": title, "url": reverse("feed-category", args=[category.code])})
        if region is not None:
            query["category"] = category.code
    return feeds, urlencode(query)


@require_safe
def attachment_download(request, pk):
    """Every attachment goes through here: it is served only to who may see its complaint."""
    attachment = attachment_visible(
        pk=pk, user=request.user, reporter_codes=reporter_codes(request)
    )
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.is_image,
        filename=attachment.download_name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'none'"
    return response


@require_safe
def privacy(request):
    """The citizens' privacy page: what is kept, how long (from the settings), who sees it."""
    return render(
        request,
        "privacy.html",
        {
            "reporter_days": settings.LAPOR_RETENTION_REPORTER_DAYS,
            "spam_days": settings.LAPOR_RETENTION_SPAM_ATTACHMENT_DAYS,
            "mail_days": settings.LAPOR_RETENTION_NOTIFICATION_DAYS,
            "signin_days": settings.LAPOR_RETENTION_SIGNIN_DAYS,
            "follow_days": settings.LAPOR_FOLLOW_CONFIRM_DAYS,
        },
    )
