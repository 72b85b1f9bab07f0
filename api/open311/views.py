"""Open311 GeoReport v2 at /open311/v2/, XML and JSON, as the specification says.

Reads start from ``complaints_for(..., purpose=PUBLIC)``: rahasia, archived and not yet routed
complaints never appear, and no reporter field is ever part of a request. ``POST requests``
files a complaint through ``complaint_submit`` with channel "open311".
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from agencies.models import Category, Region
from agencies.selectors import categories_active
from complaints.codes import tracking_code_normalise
from complaints.models import Channel, Classification
from complaints.scope import Purpose, complaints_for
from complaints.selectors import complaints_public_with_latest_note
from complaints.services import complaint_submit
from complaints.workflow import ComplaintStatus
from lapor.dates import parse_moment
from lapor.pagecache import public_page

from ..models import Open311Client
from .forms import Open311RequestForm
from .renderers import error, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
CLOSED_STATUSES = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED})
FIELD_NAMES = {
    "title": "description",
    "description": "description",
    "address": "address_string",
    "reporter_name": "first_name",
    "reporter_email": "email",
    "reporter_phone": "phone",
    "latitude": "lat",
    "longitude": "long",
    "category": "service_code",
    "region": "attribute[regency]",
    "classification": "attribute[classification]",
}


def _has_nul(request, *values) -> bool:
    """PostgreSQL refuses NUL in text: such input is a 400, never a database error."""
    params = [*request.GET.values(), *values]
    if request.method == "POST":
        params += list(request.POST.values())
    return any("\x00" in value for value in params)


def _nul_error(fmt):
    return error(fmt, 400, _("Null characters are not allowed."))


def _method_not_allowed(fmt, allow: str = "GET"):
    return error(fmt, 405, _("This method is not allowed here."), headers={"Allow": allow})


def _iso(value) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds")


# --- discovery and services -------------------------------------------------------------------


@public_page
def discovery(request, fmt):
    if request.method != "GET":
        return _method_not_allowed(fmt)
    base = request.build_absolute_uri(reverse("open311-root"))
    body = {
        "changeset": "2026-11-28T00:00:00+08:00",
        "contact": _("Kominfo of the Province of Kalimantan Selatan, through %(url)s")
        % {"url": settings.LAPOR_SITE_URL},
        "key_service": _("api_key is issued by the provincial Kominfo office on request."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.rstrip("/"),
                "changeset": "2026-11-28T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, body, root="discovery")


def _service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _(
            "%(name)s: the regency's or city's agency must follow up within %(days)d days."
        )
        % {"name": category.name, "days": category.follow_up_days},
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(
            dict.fromkeys([category.code, category.name_id.lower(), category.name_en.lower()])
        ),
        "group": category.get_default_agency_kind_display(),
    }


@public_page
def services(request, fmt):
    if request.method != "GET":
        return _method_not_allowed(fmt)
    body = [_service(category) for category in categories_active()]
    return respond(fmt, body, root="services", item="service")


def _attributes() -> list[dict]:
    regions = Region.objects.exclude(kind="province").order_by("code")
    return [
        {
            "variable": True,
            "code": "classification",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("Complaint (default), aspiration or information request."),
            "order": 1,
            "description": _("Type of report"),
            "values": [
                {"key": value, "name": str(label)} for value, label in Classification.choices
            ],
        },
        {
            "variable": True,
            "code": "regency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _(
                "Required when neither lat/long nor an address naming the regency is given; "
                "when given, it wins over the point."
            ),
            "order": 2,
            "description": _("Regency/city"),
            "values": [{"key": region.code, "name": region.name} for region in regions],
        },
    ]


@public_page
def service_definition(request, code, fmt):
    if request.method != "GET":
        return _method_not_allowed(fmt)
    if _has_nul(request, code):
        return _nul_error(fmt)
    category = categories_active().filter(code=code).first()
    if category is None:
        return error(fmt, 404, _("service_code not found"))
    body = {"service_code": category.code, "attributes": _attributes()}
    return respond(fmt, body, root="service_definition")


# --- requests ---------------------------------------------------------------------------------


def _public_requests():
    return complaints_public_with_latest_note()


def _request_body(request, complaint) -> dict:
    media_url = ""
    if complaint.media_id:
        media_url = request.build_absolute_uri(reverse("attachment", args=[complaint.media_id]))
    body = {
        "service_request_id": complaint.tracking_code,
        "status": "closed" if complaint.status in CLOSED_STATUSES else "open",
        "status_notes": complaint.status_note or "",
        "service_name": complaint.category.name,
        "service_code": complaint.category.code,
        "description": complaint.description,
        "agency_responsible": complaint.assigned_agency.name if complaint.assigned_agency else "",
        "service_notice": "",
        "requested_datetime": _iso(complaint.created_at),
        "updated_datetime": _iso(complaint.updated_at),
        "expected_datetime": _iso(complaint.follow_up_due_at),
        "address": complaint.address,
        "address_id": "",
        "zipcode": "",
        "lat": float(complaint.latitude) if complaint.latitude is not None else "",
        "long": float(complaint.longitude) if complaint.longitude is not None else "",
        "media_url": media_url,
    }
    if request.GET.get("extensions") == "true":
        # GeoReport v2's extension point, when asked for: how many people support ("me too")
        # the request.
        body["extended_attributes"] = {"supporters": complaint.supporter_count}
    return body


def _requests_response(request, fmt, complaints):
    body = [_request_body(request, complaint) for complaint in complaints]
    return respond(fmt, body, root="service_requests", item="request")


def _parse_when(raw: str, *, end: bool = False) -> datetime | None:
    """An ISO 8601 datetime (or a date); None when it cannot be read or is out of range."""
    # A "+" of an offset often arrives decoded as a space.
    return parse_moment(raw.strip().replace(" ", "+"), end=end)


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()][:MAX_REQUESTS]


@public_page
def requests(request, fmt):
    if _has_nul(request):
        return _nul_error(fmt)
    if request.method == "POST":
        return _request_create(request, fmt)
    if request.method != "GET":
        return _method_not_allowed(fmt, "GET, POST")
    params = request.GET
    qs = _public_requests()
    ids = _csv(params.get("service_request_id", ""))
    if ids:
        # The spec: a list of ids overrides every other argument.
        codes = [tracking_code_normalise(code) for code in ids]
        return _requests_response(request, fmt, qs.filter(tracking_code__in=codes))
    service_codes = _csv(params.get("service_code", ""))
    if service_codes:
        qs = qs.filter(category__code__in=service_codes)
    statuses = _csv(params.get("status", ""))
    if statuses:
        if not set(statuses) <= {"open", "closed"}:
            return error(fmt, 400, _("status must be open or closed."))
        if statuses == ["open"]:
            qs = qs.exclude(status__in=CLOSED_STATUSES)
        elif statuses == ["closed"]:
            qs = qs.filter(status__in=CLOSED_STATUSES)
    start_raw, end_raw = params.get("start_date", ""), params.get("end_date", "")
    start = _parse_when(start_raw) if start_raw else None
    end = _parse_when(end_raw, end=True) if end_raw else None
    if (start_raw and start is None) or (end_raw and end is None):
        return error(
            fmt, 400, _("start_date and end_date must be ISO 8601, e.g. 2026-11-01T00:00:00+08:00.")
        )
    try:
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS)
        if end is None:
            end = start + timedelta(days=DEFAULT_DAYS)
    except OverflowError:
        return error(fmt, 400, _("start_date and end_date may not span more than 90 days."))
    if end < start:
        return error(fmt, 400, _("end_date is before start_date."))
    if end - start > timedelta(days=DEFAULT_DAYS):
        return error(fmt, 400, _("start_date and end_date may not span more than 90 days."))
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    return _requests_response(request, fmt, qs[:MAX_REQUESTS])


@public_page
def request_detail(request, request_id, fmt):
    if request.method != "GET":
        return _method_not_allowed(fmt)
    if _has_nul(request, request_id):
        return _nul_error(fmt)
    complaint = _public_requests().filter(tracking_code=tracking_code_normalise(request_id)).first()
    if complaint is None:
        return error(fmt, 404, _("service_request_id not found"))
    return _requests_response(request, fmt, [complaint])


def token(request, token_id, fmt):
    """A token names the request it created; Lapor creates requests at once, so the answer
    always carries the service_request_id."""
    if request.method != "GET":
        return _method_not_allowed(fmt)
    try:
        key = uuid.UUID(token_id)
    except ValueError:
        return error(fmt, 404, _("token not found"))
    complaint = (
        complaints_for(None, purpose=Purpose.PUBLIC)
        .filter(idempotency_key=key, channel=Channel.OPEN311)
        .first()
    )
    if complaint is None:
        return error(fmt, 404, _("token not found"))
    body = [{"service_request_id": complaint.tracking_code, "token": str(key)}]
    return respond(fmt, body, root="service_requests", item="request")


# --- POST requests ----------------------------------------------------------------------------


def _client(api_key: str) -> Open311Client | None:
    if not api_key or len(api_key) > 200:
        return None
    try:
        client = Open311Client.objects.get_from_key(api_key)
    except Open311Client.DoesNotExist:
        return None
    return None if client.has_expired else client


def _request_create(request, fmt):
    data = request.POST
    client = _client(data.get("api_key", ""))
    if client is None:
        return error(fmt, 403, _("api_key was not provided or is invalid."))
    usage = get_usage(
        request,
        group="open311-post",
        key=lambda _group, _request: client.prefix,
        rate=settings.LAPOR_API_RATES["open311_write"],
        method="POST",
        increment=True,
    )
    if usage and usage["should_limit"]:
        return error(
            fmt,
            429,
            _("Too many requests from this api_key; try again later."),
            headers={"Retry-After": str(max(1, usage["time_left"]))},
        )
    form = Open311RequestForm(data)
    if not form.is_valid():
        return error(fmt, 400, form.first_error())
    fields = form.cleaned_data
    category = fields["category"]
    key = uuid.uuid4()
    try:
        result = complaint_submit(
            classification=fields["classification"],
            title=fields["title"],
            description=fields["description"],
            category=category,
            region=fields["region"],
            address=fields["address"],
            incident_date=timezone.localdate(),
            latitude=fields["latitude"],
            longitude=fields["longitude"],
            reporter_name=fields["reporter_name"],
            reporter_email=fields["email"],
            reporter_phone=fields["phone"],
            channel=Channel.OPEN311,
            idempotency_key=key,
        )
    except ValidationError as exc:
        first_field, messages = next(iter(exc.message_dict.items()))
        field = FIELD_NAMES.get(first_field, first_field)
        return error(fmt, 400, f"{field}: {messages[0]}")
    body = [
        {
            "service_request_id": result.complaint.tracking_code,
            "token": str(key),
            "service_notice": _(
                "Filed with Lapor Paman. The responsible agency must follow it up within "
                "%(days)d days."
            )
            % {"days": category.follow_up_days},
            "account_id": "",
        }
    ]
    return respond(fmt, body, root="service_requests", item="request")


def not_found(request, path=""):
    fmt = "json" if path.endswith(".json") else "xml"
    return error(fmt, 404, _("Not found: see discovery.xml for what this endpoint offers."))
