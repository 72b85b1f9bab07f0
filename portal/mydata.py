"""The reporter's rights (UU 27/2022): see and download everything held about them, correct
their contact, and erase it. For a signed-in citizen (their account's complaints) and for a
guest holding private links opened in this browser. Thin: the reads are
``complaints.selectors.personal_data_of``, the writes the services."""

import json
import uuid

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.reporter_session import SESSION_REPORTER_CODES, reporter_codes
from accounts.services import account_delete
from complaints.follows import follows_erase
from complaints.selectors import personal_data_of
from complaints.services import (
    complaints_contact_correct,
    complaints_personal_data_erase,
    supports_personal_data_erase,
)
from notifications.services import notification_queue

from .forms import ContactCorrectForm, EraseForm
from .views import _no_store


def _held(request) -> dict | None:
    user = request.user if request.user.is_authenticated else None
    codes = reporter_codes(request)
    if user is None and not codes:
        return None
    return personal_data_of(user, reporter_codes=codes)


def _as_json(request, held: dict) -> dict:
    user = held["account"]
    return {
        "account": (
            {"username": user.username, "name": user.get_full_name(), "email": user.email}
            if user is not None and user.is_authenticated
            else None
        ),
        "complaints": [
            {
                "tracking_code": c.tracking_code,
                "submitted_at": c.created_at.isoformat(),
                "title": c.title,
                "description": c.description,
                "category": c.category.name,
                "region": c.region.name,
                "district": c.district,
                "address": c.address,
                "status": c.status,
                "anonymous": c.is_anonymous,
                "confidential": c.is_confidential,
                "contact": {
                    "name": c.reporter_name,
                    "email": c.reporter_email,
                    "phone": c.reporter_phone,
                },
                "rating": c.rating,
                "rating_comment": c.rating_comment,
                "attachments": [
                    {
                        "url": request.build_absolute_uri(reverse("attachment", args=[a.pk])),
                        "type": a.content_type,
                        "size": a.size,
                        "uploaded_at": a.created_at.isoformat(),
                        "uploaded_by": a.uploaded_by_role,
                    }
                    for a in c.held_attachments
                ],
                "events": [
                    {
                        "at": e.created_at.isoformat(),
                        "kind": e.kind,
                        "from_status": e.from_status,
                        "to_status": e.to_status,
                        "note": e.note,
                    }
                    for e in held["events"].get(c.pk, [])
                ],
            }
            for c in held["own"]
        ],
        "supported": [
            {"at": s["at"].isoformat(), "complaint": s["complaint"]} for s in held["supports"]
        ],
        "emails_sent_to_you": [
            {
                "complaint": n.complaint.tracking_code if n.complaint_id else None,
                "to": n.recipient,
                "subject": n.subject,
                "body": n.body,
                "status": n.status,
                "created_at": n.created_at.isoformat(),
            }
            for n in held["notifications"]
        ],
        "email_alerts": [_follow_as_json(f) for f in held["follows"]],
    }


def _follow_as_json(follow) -> dict:
    return {
        "email": follow.email,
        "complaint": follow.complaint.tracking_code if follow.complaint_id else None,
        "region": follow.region.name if follow.region_id else None,
        "category": follow.category.name if follow.category_id else None,
        "asked_at": follow.created_at.isoformat(),
        "confirmed_at": follow.confirmed_at.isoformat() if follow.confirmed_at else None,
    }


@require_safe
def my_data(request):
    held = _held(request)
    return _no_store(
        render(
            request,
            "complaints/my_data.html",
            {
                "held": held,
                "correct_form": ContactCorrectForm(),
                "erase_form": EraseForm(),
            },
        )
    )


@require_safe
def my_data_json(request):
    held = _held(request)
    if held is None:
        return redirect("my-data")
    response = HttpResponse(
        json.dumps(_as_json(request, held), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="data-saya-lapor.json"'
    return _no_store(response)


@require_POST
def my_data_correct(request):
    held = _held(request)
    if held is None:
        return redirect("my-data")
    form = ContactCorrectForm(request.POST)
    if form.is_valid():
        try:
            complaints_contact_correct(
                complaints=held["own"],
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                actor=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(
                    {"reporter_name": "name", "reporter_email": "email"}.get(
                        field, "phone" if field == "reporter_phone" else None
                    ),
                    errors,
                )
        else:
            messages.success(request, _("Your contact has been corrected."))
            return redirect("my-data")
    context = {"held": held, "correct_form": form, "erase_form": EraseForm()}
    return _no_store(render(request, "complaints/my_data.html", context, status=400))


@require_POST
def my_data_erase(request):
    held = _held(request)
    if held is None:
        return redirect("my-data")
    form = EraseForm(request.POST)
    if not form.is_valid():
        context = {"held": held, "correct_form": ContactCorrectForm(), "erase_form": form}
        return _no_store(render(request, "complaints/my_data.html", context, status=400))
    user = request.user if request.user.is_authenticated else None
    addresses = {c.reporter_email for c in held["own"] if c.reporter_email}
    if user is not None and user.email:
        addresses.add(user.email)
    with transaction.atomic():
        complaints_personal_data_erase(complaints=held["own"], actor=user)
        follows_erase(addresses)
        supports_personal_data_erase(user=user, emails=addresses)
        if user is not None and not user.is_staff and not user.staff_memberships.exists():
            account_delete(user=user)
        token = uuid.uuid4().hex
        for address in sorted(addresses, key=str.lower):
            notification_queue(
                dedupe_key=f"erased:{token}:{address.lower()}",
                recipient=address,
                template="erased",
                context={"count": len(held["own"])},
            )
    if user is not None:
        logout(request)
    request.session.pop(SESSION_REPORTER_CODES, None)
    return _no_store(render(request, "complaints/my_data_erased.html", {}))
