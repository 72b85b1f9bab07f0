"""The REST API under /api/v1/. Reads start from ``complaints.scope.complaints_for``; writes call
``complaints.services``. The API adds no rules: the workflow table and the services decide."""

import hashlib
import hmac
import json
import uuid

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, status
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from accounts.reporter_session import reporter_codes as session_reporter_codes
from agencies.models import Agency
from agencies.selectors import categories_active, regions_public, staff_scope_for
from complaints.attachments import clean_uploads
from complaints.codes import tracking_code_normalise
from complaints.models import Channel
from complaints.pagination import NEWEST_FIRST
from complaints.pagination import ordering as keyset_ordering
from complaints.scope import Purpose, complaints_for, private_link_opens
from complaints.selectors import (
    LIST_RELATED,
    attachments_submitted,
    complaint_timeline,
    queue_page,
)
from complaints.services import (
    acting_role,
    actions_for,
    complaint_enter,
    complaint_note_internal,
    complaint_reply,
    complaint_submit,
    complaint_transition,
)
from complaints.workflow import NOTE, REPLY, Action, Allowed, ComplaintStatus, Role
from lapor.clientip import client_ip
from lapor.parsers import BoundedJSONParser
from lapor.ratelimits import reporter_action_wait

from . import serializers as s
from .errors import Conflict, Unprocessable
from .filters import PublicComplaintFilter, StaffQueueFilter
from .models import StaffToken
from .schema import (
    ACCESS_KEY,
    IDEMPOTENCY_KEY,
    TRACKING_CODE,
    errors,
    request_bodies,
)

S = ComplaintStatus
# Workflow actions by the name of their endpoint.
STAFF_ENDPOINTS = {
    "follow-up": Action.FOLLOW_UP,
    "resolve": Action.RESOLVE,
    "not-ours": Action.NOT_OURS,
    "reroute": Action.REROUTE,
    "archive": Action.ARCHIVE,
}
ENDPOINT_OF_ACTION = {action: name for name, action in STAFF_ENDPOINTS.items()} | {
    Action.REOPEN: "reopen",
    Action.RATE: "rate",
    REPLY: "reply",
    NOTE: "notes",
}
IDEMPOTENCY_TTL = 24 * 3600
PARSERS = [BoundedJSONParser, FormParser, MultiPartParser]


# --- helpers ----------------------------------------------------------------------------------


def _key_reused_message() -> str:
    return _(
        "This Idempotency-Key was already used for another request; "
        "retry the same request in a moment, or send this one with a new key."
    )


def _caller(request) -> str:
    """Who sends a request, for the idempotency fingerprint: the token, the account, or (for a
    guest) the client address."""
    if isinstance(request.auth, StaffToken):
        return f"token:{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{client_ip(request)}"


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{digest.hexdigest()}"


def idempotency_fingerprint(request) -> str:
    """A digest of the caller and of the request's content (fields and files), so that a key
    replays its answer only to the same caller sending the same request."""
    data = request.data
    if hasattr(data, "lists"):
        content = {
            name: [_file_digest(v) if hasattr(v, "chunks") else str(v) for v in values]
            for name, values in data.lists()
        }
    else:
        content = data
    canonical = json.dumps(
        [_caller(request), content], sort_keys=True, default=str, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _reporter_codes(request, tracking_code: str) -> frozenset[str]:
    """Codes whose reporter this caller is proven to be: the browser session's private links,
    plus ``X-Access-Key`` for the complaint in the URL."""
    codes = set(session_reporter_codes(request))
    key = request.headers.get("X-Access-Key", "")
    if key and len(key) <= 200 and private_link_opens(tracking_code, key):
        codes.add(tracking_code)
    return frozenset(codes)


def _detail_queryset(qs):
    return (
        qs.with_overdue().select_related(*LIST_RELATED).prefetch_related(_submitted_attachments())
    )


def _submitted_attachments() -> Prefetch:
    return attachments_submitted()


def _checked_code(tracking_code: str) -> str:
    """A path's tracking code, or a 404 for one no complaint can have (PostgreSQL refuses NUL)."""
    if "\x00" in tracking_code or len(tracking_code) > 40:
        raise exceptions.NotFound()
    return tracking_code


def _visible(request, tracking_code: str):
    """The complaint if this caller may see it (404 otherwise), and what the caller may do on it."""
    tracking_code = _checked_code(tracking_code)
    codes = _reporter_codes(request, tracking_code)
    complaint = (
        _detail_queryset(complaints_for(request.user, purpose=Purpose.SEE, reporter_codes=codes))
        .filter(tracking_code=tracking_code)
        .first()
    )
    if complaint is None:
        raise exceptions.NotFound()
    allowed = actions_for(request.user, complaint, reporter_access=tracking_code in codes)
    return complaint, allowed


def _detail_context(request, complaint, allowed: Allowed) -> dict:
    """``allowed``: ``complaints.services.actions_for`` the caller, named by their endpoints."""
    actions = [ENDPOINT_OF_ACTION[a] for a in allowed.ordered if a in ENDPOINT_OF_ACTION]
    return {
        "request": request,
        # The reporter's contact goes to the reporter only; staff ask for it on the complaint's
        # page, with a reason that is recorded (docs/privacy.md).
        "show_reporter": allowed.is_reporter,
        "allowed_actions": actions,
    }


def _detail_response(request, complaint, status_code=status.HTTP_200_OK):
    """The complaint after an action, as the caller sees it now; an officer who sent it back
    ("not ours") no longer handles it, and gets it once more without the reporter."""
    codes = _reporter_codes(request, complaint.tracking_code)
    fresh = (
        _detail_queryset(complaints_for(request.user, purpose=Purpose.SEE, reporter_codes=codes))
        .filter(pk=complaint.pk)
        .first()
    )
    if fresh is None:
        complaint.refresh_from_db()
        prefetch_related_objects([complaint], _submitted_attachments())
        fresh, allowed = complaint, Allowed()
    else:
        allowed = actions_for(request.user, fresh, reporter_access=fresh.tracking_code in codes)
    data = s.ComplaintDetailSerializer(fresh, context=_detail_context(request, fresh, allowed)).data
    return Response(data, status=status_code)


def _clean_files(files, field: str = "attachments"):
    try:
        return clean_uploads(list(files))
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: exc.messages}) from None


def _django_errors(exc: DjangoValidationError):
    """A service's ValidationError as the API's field errors."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


class IsStaff(BasePermission):
    message = _("This is for agency and Kominfo staff.")

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        self.message = _("This is for agency and Kominfo staff.")
        return staff_scope_for(request.user).is_staff


# --- reference data ---------------------------------------------------------------------------


@extend_schema(tags=["referensi"], summary="Kabupaten/kota dan provinsi")
class RegionList(generics.ListAPIView):
    serializer_class = s.RegionSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return regions_public()


@extend_schema(tags=["referensi"], summary="Kategori pengaduan yang aktif")
class CategoryList(generics.ListAPIView):
    serializer_class = s.CategorySerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return categories_active()


@extend_schema(
    tags=["referensi"],
    summary="Instansi (SKPD)",
    parameters=[
        OpenApiParameter(
            "region", OpenApiTypes.STR, description="Kode Kemendagri, mis. 63.72", required=False
        )
    ],
)
class AgencyList(generics.ListAPIView):
    serializer_class = s.AgencySerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        qs = Agency.objects.select_related("region").order_by("region__code", "name")
        region = self.request.query_params.get("region", "")
        if region:
            if "\x00" in region:
                raise exceptions.ValidationError(
                    {"region": [_("Null characters are not allowed.")]}
                )
            qs = qs.filter(region__code=region[:8])
        return qs


# --- complaints -------------------------------------------------------------------------------


class ComplaintCursor(CursorPagination):
    ordering = keyset_ordering(NEWEST_FIRST)  # the public pages' order
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema_view(
    get=extend_schema(
        tags=["pengaduan"],
        summary="Daftar pengaduan publik",
        description=(
            "Pengaduan yang boleh dilihat publik (sudah diteruskan, bukan rahasia, tidak "
            "diarsipkan), terbaru lebih dulu, dengan filter halaman /complaints/. Identitas "
            "pelapor tidak pernah ada di sini."
        ),
        responses={200: s.ComplaintSerializer(many=True), **errors(400, 404)},
    ),
    post=extend_schema(
        tags=["pengaduan"],
        summary="Kirim pengaduan",
        description=(
            "Siapa saja boleh mengirim (dibatasi per IP untuk tamu). JSON, atau "
            "multipart/form-data dengan `attachments` (foto JPEG/PNG/WebP atau PDF, maks. 5). "
            "Tamu wajib memberi nama dan email atau nomor telepon; jawabannya memuat "
            "`access_key` dan `private_link` sekali saja."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=request_bodies(s.ComplaintCreateSerializer),
        responses={
            201: s.ComplaintCreatedSerializer,
            200: OpenApiResponse(
                s.ComplaintCreatedSerializer,
                description=(
                    "Pengiriman ulang yang sama dengan Idempotency-Key yang sama: hasil pertama."
                ),
            ),
            **errors(400, 401, 403, 409, 415, 422, 429),
        },
        examples=[
            OpenApiExample(
                "Lampu jalan mati",
                request_only=True,
                value={
                    "classification": "pengaduan",
                    "title": "Lampu jalan mati di depan SDN 1",
                    "description": "Sudah seminggu lampu penerangan jalan mati.",
                    "category": "pju",
                    "region": "63.72",
                    "address": "Jl. Ahmad Yani km 33",
                    "incident_date": "2026-11-20",
                    "reporter_name": "Siti Aminah",
                    "reporter_email": "siti@example.id",
                },
            )
        ],
    ),
)
class ComplaintListCreate(generics.ListCreateAPIView):
    pagination_class = ComplaintCursor
    filterset_class = PublicComplaintFilter
    parser_classes = PARSERS

    def get_serializer_class(self):
        if self.request.method == "POST":
            return s.ComplaintCreateSerializer
        return s.ComplaintSerializer

    def get_queryset(self):
        return (
            complaints_for(self.request.user, purpose=Purpose.PUBLIC)
            .with_overdue()
            .select_related(*LIST_RELATED)
        )

    def create(self, request, *args, **kwargs):
        key = self._idempotency_key(request)
        fingerprint = idempotency_fingerprint(request) if key is not None else ""
        if key is not None:
            stored = cache.get(self._cache_key(key))
            if stored is not None:
                # Only the caller who sent this very request gets its answer (with the private
                # link) again; anyone else learns nothing of it.
                if not isinstance(stored, dict) or not hmac.compare_digest(
                    str(stored.get("fingerprint", "")), fingerprint
                ):
                    raise Unprocessable(_key_reused_message())
                return Response(
                    stored["body"],
                    status=status.HTTP_200_OK,
                    headers={"Idempotent-Replayed": "true"},
                )
        serializer = s.ComplaintCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        files = _clean_files(data.pop("attachments", []))
        by_token = isinstance(request.auth, StaffToken)
        try:
            if by_token:
                # Staff entering a complaint: the workspace intake's scope rules and roles.
                result = complaint_enter(
                    **data,
                    actor=request.user,
                    channel=Channel.API,
                    files=files,
                    idempotency_key=key,
                )
            else:
                result = complaint_submit(
                    **data,
                    channel=Channel.API,
                    reporter=request.user,
                    files=files,
                    idempotency_key=key,
                )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None
        complaint = result.complaint
        if not result.created:
            # The key was used by a request still under way, or whose answer has expired.
            # Nothing of that complaint (not even its code) is told: the caller may not be its
            # sender.
            raise Conflict(_key_reused_message())
        # A guest is the reporter of what they just sent; staff entering it for a citizen is not.
        codes = {complaint.tracking_code} if result.access_key and not by_token else set()
        allowed = actions_for(request.user, complaint, reporter_access=bool(codes))
        complaint = _detail_queryset(
            complaints_for(request.user, purpose=Purpose.SEE, reporter_codes=frozenset(codes))
        ).get(pk=complaint.pk)
        body = dict(
            s.ComplaintDetailSerializer(
                complaint, context=_detail_context(request, complaint, allowed)
            ).data
        )
        body["access_key"] = result.access_key
        body["private_link"] = (
            request.build_absolute_uri(f"{complaint.get_absolute_url()}?key={result.access_key}")
            if result.access_key
            else None
        )
        if key is not None:
            cache.set(
                self._cache_key(key), {"fingerprint": fingerprint, "body": body}, IDEMPOTENCY_TTL
            )
        location = request.build_absolute_uri(
            reverse("api-complaint-detail", args=[complaint.tracking_code])
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @staticmethod
    def _cache_key(key: uuid.UUID) -> str:
        return f"lapor:api:idempotency:{key}"

    @staticmethod
    def _idempotency_key(request) -> uuid.UUID | None:
        raw = request.headers.get("Idempotency-Key", "").strip()
        if not raw:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise exceptions.ValidationError(
                {"Idempotency-Key": [_("Give a UUID, e.g. 3f2b8c1e-6a4d-4f7e-9b0a-2c5d8e1f4a6b.")]}
            ) from None


@extend_schema(
    tags=["pengaduan"],
    summary="Satu pengaduan",
    description=(
        "Pengaduan publik untuk siapa saja; pengaduan rahasia atau yang belum publik hanya "
        "untuk pelapor (akun, atau X-Access-Key) dan staf yang menanganinya. `reporter` hanya "
        "untuk pelapor, dan untuk staf bila pengaduan tidak anonim."
    ),
    parameters=[TRACKING_CODE, ACCESS_KEY],
    responses={200: s.ComplaintDetailSerializer, **errors(401, 404)},
)
class ComplaintDetail(APIView):
    def get(self, request, tracking_code):
        complaint, allowed = _visible(request, tracking_code)
        data = s.ComplaintDetailSerializer(
            complaint, context=_detail_context(request, complaint, allowed)
        ).data
        return Response(data)


@extend_schema(
    tags=["pengaduan"],
    summary="Linimasa pengaduan",
    description="Setiap perubahan, terlama lebih dulu. Catatan internal hanya untuk staf.",
    parameters=[TRACKING_CODE, ACCESS_KEY],
    responses={200: s.EventSerializer(many=True), **errors(401, 404)},
)
class ComplaintTimeline(APIView):
    def get(self, request, tracking_code):
        complaint, allowed = _visible(request, tracking_code)
        events = complaint_timeline(complaint, with_internal=allowed.is_staff)
        data = s.EventSerializer(events, many=True, context={"request": request}).data
        return Response(data)


# --- the reporter's actions -------------------------------------------------------------------


class _ReporterAction(APIView):
    parser_classes = PARSERS
    serializer_class = None

    def post(self, request, tracking_code):
        complaint, allowed = _visible(request, tracking_code)
        if not allowed.is_reporter:
            raise exceptions.PermissionDenied(_("Only the reporter can do this."))
        # The same limit as the page's forms: one count per complaint, whichever door.
        minutes = reporter_action_wait(request, complaint)
        if minutes:
            raise exceptions.Throttled(wait=minutes * 60)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = (
            request.user
            if request.user.is_authenticated and complaint.reporter_id == request.user.pk
            else None
        )
        try:
            self.apply(complaint, actor, dict(serializer.validated_data))
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None
        return _detail_response(request, complaint)

    def apply(self, complaint, actor, data):
        """The reporter's service call (reply, rate, reopen): each subclass names its own."""
        raise NotImplementedError


def _reporter_schema(summary, description, serializer):
    return extend_schema(
        tags=["pelapor"],
        summary=summary,
        description=description + " Pelapor dengan akun memakai sesi; tamu mengirim X-Access-Key.",
        parameters=[TRACKING_CODE, ACCESS_KEY],
        request=request_bodies(serializer),
        responses={200: s.ComplaintDetailSerializer, **errors(400, 401, 403, 404, 409, 415, 429)},
    )


@_reporter_schema("Balas tindak lanjut", "Status pengaduan tidak berubah.", s.NoteSerializer)
class ComplaintReply(_ReporterAction):
    serializer_class = s.NoteSerializer

    def apply(self, complaint, actor, data):
        complaint_reply(
            complaint=complaint,
            actor=actor,
            note=data["note"],
            files=_clean_files(data.get("attachments", [])),
        )


@_reporter_schema(
    "Beri nilai dan tutup", "Setelah selesai, nilai 1-5 dengan komentar.", s.RateSerializer
)
class ComplaintRate(_ReporterAction):
    serializer_class = s.RateSerializer

    def apply(self, complaint, actor, data):
        complaint_transition(
            complaint=complaint,
            action=Action.RATE,
            role=Role.REPORTER,
            actor=actor,
            rating=data["rating"],
            note=data["note"],
        )


@_reporter_schema("Buka kembali", "Dalam 10 hari setelah selesai, dengan alasan.", s.NoteSerializer)
class ComplaintReopen(_ReporterAction):
    serializer_class = s.NoteSerializer

    def apply(self, complaint, actor, data):
        complaint_transition(
            complaint=complaint,
            action=Action.REOPEN,
            role=Role.REPORTER,
            actor=actor,
            note=data["note"],
            files=_clean_files(data.get("attachments", [])),
        )


# --- staff ------------------------------------------------------------------------------------


class _StaffAction(APIView):
    """A staff action through ``complaint_transition``; the workflow table decides."""

    parser_classes = PARSERS
    permission_classes = [IsStaff]
    serializer_class = s.NoteSerializer
    action = None

    def post(self, request, tracking_code):
        complaint = (
            complaints_for(request.user, purpose=Purpose.WORK)
            .select_related("region", "assigned_agency", "category")
            .filter(tracking_code=_checked_code(tracking_code))
            .first()
        )
        if complaint is None:
            # Outside the caller's work: a public complaint is refused, any other unknown.
            _visible(request, tracking_code)
            raise exceptions.PermissionDenied(_("You are not allowed to do this."))
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            self.apply(complaint, data)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None
        return _detail_response(request, complaint)

    def role_for(self, complaint, action) -> str:
        role = acting_role(self.request.user, complaint, action)
        if role is None:
            raise exceptions.PermissionDenied(_("You are not allowed to do this."))
        return role

    def apply(self, complaint, data):
        complaint_transition(
            complaint=complaint,
            action=self.action,
            role=self.role_for(complaint, self.action),
            actor=self.request.user,
            note=data.get("note", ""),
            agency=data.get("agency"),
            reason=data.get("reason", ""),
            duplicate_of=self.duplicate_of(complaint, data.get("duplicate_of", "")),
            files=_clean_files(data.get("attachments", [])),
        )

    def duplicate_of(self, complaint, code: str):
        if not code:
            return None
        code = code.replace("\x00", "")
        original = (
            complaints_for(self.request.user, purpose=Purpose.WORK)
            .filter(tracking_code=tracking_code_normalise(code), region_id=complaint.region_id)
            .exclude(pk=complaint.pk)
            .first()
        )
        if original is None:
            raise exceptions.ValidationError(
                {"duplicate_of": [_("No other complaint of this regency or city has this code.")]}
            )
        return original


def _staff_schema(summary, description, serializer):
    return extend_schema(
        tags=["staf"],
        summary=summary,
        description=description
        + " Hanya staf yang cakupannya meliputi pengaduan ini; alur kerja menentukan apakah "
        "langkah ini boleh sekarang (409 dengan alasannya bila tidak).",
        parameters=[TRACKING_CODE],
        request=request_bodies(serializer),
        responses={200: s.ComplaintDetailSerializer, **errors(400, 401, 403, 404, 409, 415, 429)},
    )


@_staff_schema("Tindak lanjut", "Tindak lanjut pertama menghentikan jam tenggat.", s.NoteSerializer)
class StaffFollowUp(_StaffAction):
    action = Action.FOLLOW_UP


@_staff_schema(
    "Selesaikan", "Pelapor punya 10 hari untuk membalas atau membuka kembali.", s.NoteSerializer
)
class StaffResolve(_StaffAction):
    action = Action.RESOLVE


@_staff_schema(
    "Bukan kewenangan kami", "Instansi mengembalikan pengaduan ke koordinator.", s.NoteSerializer
)
class StaffNotOurs(_StaffAction):
    action = Action.NOT_OURS


@_staff_schema(
    "Teruskan ke instansi lain",
    "Koordinator atau staf provinsi; tenggat baru.",
    s.RerouteSerializer,
)
class StaffReroute(_StaffAction):
    action = Action.REROUTE
    serializer_class = s.RerouteSerializer


@_staff_schema(
    "Arsipkan", "Spam, duplikat, di luar kewenangan, atau terlalu umum.", s.ArchiveSerializer
)
class StaffArchive(_StaffAction):
    action = Action.ARCHIVE
    serializer_class = s.ArchiveSerializer


@_staff_schema(
    "Catatan internal", "Hanya terlihat oleh staf; status tidak berubah.", s.NoteSerializer
)
class StaffNote(_StaffAction):
    def apply(self, complaint, data):
        complaint_note_internal(
            complaint=complaint,
            actor=self.request.user,
            role=self.role_for(complaint, None),
            note=data["note"],
            files=_clean_files(data.get("attachments", [])),
        )


class QueuePagination(BasePagination):
    """The staff queue's pages: an adapter over the HTML queue's pager
    (``complaints.selectors.queue_page``: the urgency order, signed ``after``/``before``
    cursors, nothing counted). A cursor that is not ours is the first page, as on the pages;
    ``page_size`` is bounded (an unusable one is the default)."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    sort = "urgency"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = queue_page(
            queryset,
            sort=self.sort,
            now=timezone.now(),
            after=request.query_params.get("after"),
            before=request.query_params.get("before"),
            size=self.get_page_size(request),
        )
        return self.page.object_list

    def get_page_size(self, request) -> int:
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def _link(self, name: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        for param in ("after", "before", "page"):
            url = remove_query_param(url, param)
        return replace_query_param(url, name, cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link("after", self.page.next_cursor),
                "previous": self._link("before", self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "Halaman berikutnya (kursor `after`)."},
                "previous": {**link, "description": "Halaman sebelumnya (kursor `before`)."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        cursor = (
            "Kursor dari tautan `{link}` jawaban sebelumnya (ditandatangani; jangan dibuat "
            "sendiri). Kursor yang tidak dikenal: halaman pertama."
        )
        return [
            {
                "name": "after",
                "required": False,
                "in": "query",
                "description": cursor.format(link="next"),
                "schema": {"type": "string"},
            },
            {
                "name": "before",
                "required": False,
                "in": "query",
                "description": cursor.format(link="previous"),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Jumlah baris per halaman, 1 sampai {self.max_page_size} "
                    f"(bawaan {self.page_size})."
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


@extend_schema(
    tags=["staf"],
    summary="Antrean staf",
    description=(
        "Pengaduan dalam cakupan pemanggil: instansi petugas, seluruh kabupaten/kota "
        "koordinator (termasuk verifikasi), seluruh provinsi untuk staf provinsi. Yang paling "
        "mendesak lebih dulu: terlambat, lalu tenggat terdekat; urutan dan kursor sama dengan "
        "antrean di dasbor. Tanpa `status`: yang belum selesai (diajukan, verifikasi, "
        "diteruskan, diproses), seperti di dasbor. Halaman berikutnya/sebelumnya lewat tautan "
        "`next`/`previous`; jumlah seluruh pengaduan tidak dihitung."
    ),
    responses={200: s.StaffComplaintSerializer(many=True), **errors(400, 401, 403, 404)},
)
class StaffQueue(generics.ListAPIView):
    permission_classes = [IsStaff]
    serializer_class = s.StaffComplaintSerializer
    filterset_class = StaffQueueFilter
    pagination_class = QueuePagination

    def get_queryset(self):
        # Filtered here, ordered and annotated by the pager (``queue_page``).
        return complaints_for(self.request.user, purpose=Purpose.WORK)
