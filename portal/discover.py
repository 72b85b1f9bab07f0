"""Seeing what is already reported: the public map, "similar nearby" while filing, and "me too"
(dukung). Thin adapters: the reads are ``complaints.selectors``, the write
``complaints.services.complaint_support``."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.reporter_session import reporter_codes
from complaints.filters import MapFilter
from complaints.follows import follow_request
from complaints.scope import Purpose, complaints_for
from complaints.selectors import (
    MAP_MARKER_LIMIT,
    MAP_MARKER_ZOOM,
    complaint_for_detail,
    complaints_map,
    complaints_similar_nearby,
    map_cells,
    map_markers,
    map_region_counts,
)
from complaints.services import complaint_support
from complaints.workflow import PUBLIC_STATUSES, ComplaintStatus, WorkflowError
from lapor.pagecache import public_page
from lapor.ratelimits import first_limit, target_key, too_many_requests

from .forms import MapViewForm, SimilarForm, SupportForm
from .views import _detail_context

MAP_STATUSES = [(s.value, s.label) for s in ComplaintStatus if s in PUBLIC_STATUSES]


@public_page
@require_safe
def map_page(request):
    """The map, with its filters and, for a page without tiles or scripts, the counts per
    regency as a table."""
    filterset = MapFilter(request.GET or None, queryset=complaints_map())
    query = request.GET.copy()
    for key in ("zoom", "bbox", "lat", "lon"):
        query.pop(key, None)
    rows = [
        {**row, "counts": [row["by_status"].get(value, 0) for value, _label in MAP_STATUSES]}
        for row in (
            map_region_counts(filterset.qs)
            if filterset.is_valid() or not filterset.is_bound
            else []
        )
    ]
    view = {}
    for key in ("lat", "lon", "zoom"):
        try:
            view[key] = float(request.GET.get(key, ""))
        except ValueError:
            continue
    return render(
        request,
        "complaints/map.html",
        {
            "filter": filterset,
            "rows": rows,
            "statuses": MAP_STATUSES,
            "query": query.urlencode(),
            "tile_url": settings.LAPOR_MAP_TILE_URL,
            "tile_attribution": settings.LAPOR_MAP_TILE_ATTRIBUTION,
            "view": view,
            "status_labels": {value: str(label) for value, label in MAP_STATUSES},
        },
    )


@public_page
@require_safe
def map_data(request):
    """JSON for the box in view: counts per grid cell, or single complaints from
    ``MAP_MARKER_ZOOM`` on (at most ``MAP_MARKER_LIMIT``). 400 with field errors on bad input."""
    view = MapViewForm(request.GET)
    filterset = MapFilter(request.GET, queryset=complaints_map())
    if not view.is_valid() or not filterset.is_valid():
        errors = {**view.errors.get_json_data(), **filterset.errors.get_json_data()}
        return JsonResponse(
            {"errors": {k: [e["message"] for e in v] for k, v in errors.items()}}, status=400
        )
    zoom, box = view.cleaned_data["zoom"], view.cleaned_data["bbox"]
    if zoom >= MAP_MARKER_ZOOM:
        markers = map_markers(filterset.qs, box=box)
        body = {
            "kind": "markers",
            "truncated": len(markers) >= MAP_MARKER_LIMIT,
            "markers": [
                {
                    "code": m["tracking_code"],
                    "title": m["title"],
                    "status": m["status"],
                    "lat": float(m["latitude"]),
                    "lon": float(m["longitude"]),
                    "supporters": m["supporter_count"],
                    "url": reverse("complaint-detail", args=[m["tracking_code"]]),
                }
                for m in markers
            ],
        }
    else:
        body = {
            "kind": "cells",
            "cells": [
                {"lat": c.latitude, "lon": c.longitude, "count": c.count, "by_status": c.by_status}
                for c in map_cells(filterset.qs, box=box, zoom=zoom)
            ],
        }
    response = JsonResponse(body)
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_safe
def similar(request):
    """Open public complaints like the one being filed: a page of its own (the step without
    JavaScript), or with ``?fragment=1`` the part the complaint form shows inline."""
    form = SimilarForm(request.GET or None)
    found = None
    if form.is_valid():
        data = form.cleaned_data
        found = complaints_similar_nearby(
            category=data["category"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            region=data["region"],
            district=data["district"],
        )
    new_query = request.GET.copy()
    new_query.pop("fragment", None)
    context = {"form": form, "found": found, "new_query": new_query.urlencode()}
    if request.GET.get("fragment"):
        return render(request, "complaints/_similar.html", context)
    return render(request, "complaints/similar.html", context)


@require_POST
def complaint_support_view(request, tracking_code):
    complaint = (
        complaints_for(None, purpose=Purpose.PUBLIC).filter(tracking_code=tracking_code).first()
    )
    if complaint is None:
        raise Http404
    form = SupportForm(request.POST, user=request.user)
    limits = [("support-ip", settings.LAPOR_SUPPORT_RATE, "ip")]
    if form.is_valid() and form.cleaned_data["email"]:
        limits.append(
            (
                "support-email",
                settings.LAPOR_EMAIL_TARGET_RATE,
                target_key(form.cleaned_data["email"]),
            )
        )
    minutes = first_limit(request, *limits)
    if minutes:
        return too_many_requests(request, minutes)
    if form.is_valid():
        try:
            counted = complaint_support(
                complaint=complaint, user=request.user, email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            if counted:
                messages.success(request, _("Thank you: your support has been counted."))
            else:
                messages.info(request, _("You have already supported this complaint."))
            if form.cleaned_data["email"] and form.cleaned_data["follow"]:
                # Supporting with an email follows its updates, through the same double opt-in.
                follow_request(email=form.cleaned_data["email"], complaint=complaint)
                messages.info(
                    request,
                    _("To get its updates by email, open the link we have sent to your address."),
                )
            return redirect(complaint)
    # Re-show the complaint's page with the form's errors.
    shown = complaint_for_detail(
        tracking_code=tracking_code, user=request.user, reporter_codes=reporter_codes(request)
    )
    context = _detail_context(request, shown, support_form=form)
    return render(request, "complaints/detail.html", context, status=400)
