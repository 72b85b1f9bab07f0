"""OpenAPI pieces shared by the API views: the error body, parameters, request bodies and
Indonesian examples."""

import functools

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

TRACKING_CODE_PATTERN = r"^LPR-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$"


class ErrorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text=_("A stable code, e.g. validation_error, not_found."))
    detail = serializers.CharField(help_text=_("A sentence for people, in the request's language."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Per field, its messages; empty unless the data sent was not valid."),
    )


TRACKING_CODE = OpenApiParameter(
    "tracking_code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Kode pelacakan pengaduan, mis. LPR-7K3M-9Q2X.",
    pattern=TRACKING_CODE_PATTERN,
    examples=[OpenApiExample("Kode", value="LPR-7K3M-9Q2X")],
)
ACCESS_KEY = OpenApiParameter(
    "X-Access-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Rahasia tautan pribadi pelapor tamu (diberikan sekali saat pengaduan dibuat). "
        "Membuktikan bahwa pemanggil adalah pelapor."
    ),
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "UUID yang dibuat klien untuk satu pengaduan. Pengiriman ulang dengan kunci dan isi yang "
        "sama oleh pemanggil yang sama mengembalikan hasil pertama (200) dan tidak membuat "
        "pengaduan kedua; kunci yang sama dari pemanggil lain atau dengan isi lain: 422."
    ),
    examples=[OpenApiExample("UUID", value="3f2b8c1e-6a4d-4f7e-9b0a-2c5d8e1f4a6b")],
)

EXAMPLE_VALIDATION = OpenApiExample(
    "Data tidak valid",
    value={
        "type": "validation_error",
        "detail": "Sebagian data yang dikirim tidak valid.",
        "errors": {"title": ["Beri judul singkat untuk pengaduan Anda."]},
    },
    response_only=True,
    status_codes=["400"],
)
EXAMPLE_NOT_FOUND = OpenApiExample(
    "Tidak ditemukan",
    value={"type": "not_found", "detail": "Tidak ditemukan.", "errors": {}},
    response_only=True,
    status_codes=["404"],
)
EXAMPLE_FORBIDDEN = OpenApiExample(
    "Tidak diizinkan",
    value={
        "type": "permission_denied",
        "detail": "Anda tidak diizinkan melakukan ini.",
        "errors": {},
    },
    response_only=True,
    status_codes=["403"],
)
EXAMPLE_CONFLICT = OpenApiExample(
    "Alur kerja menolak",
    value={
        "type": "conflict",
        "detail": "Ini tidak dapat dilakukan selama pengaduan berstatus “Selesai”.",
        "errors": {},
    },
    response_only=True,
    status_codes=["409"],
)
EXAMPLE_THROTTLED = OpenApiExample(
    "Terlalu banyak permintaan",
    value={
        "type": "throttled",
        "detail": "Permintaan dibatasi. Tersedia lagi dalam 3600 detik.",
        "errors": {},
    },
    response_only=True,
    status_codes=["429"],
)
EXAMPLE_UNAUTHENTICATED = OpenApiExample(
    "Belum masuk",
    value={
        "type": "not_authenticated",
        "detail": "Kredensial autentikasi tidak disediakan.",
        "errors": {},
    },
    response_only=True,
    status_codes=["401"],
)


@functools.cache
def request_bodies(serializer_class: type[serializers.Serializer]) -> dict:
    """The request body of a write, by content type, each under a schema of its own.

    A generated client picks the content type by the class of the body it is given, so two
    content types must not share one schema (with one, openapi-python-client sends JSON, form
    and multipart bodies at once and the server sees no field). JSON carries the fields
    (schema ``<Name>Request``); a serializer with ``attachments`` is also declared as
    multipart/form-data with the files (``<Name>MultipartRequest``). The views still parse
    form-encoded bodies, as a browser form sends them, but the contract offers these two.
    """
    if "attachments" not in serializer_class._declared_fields:
        return {"application/json": serializer_class}
    name = serializer_class.__name__.removesuffix("Serializer")
    as_json = type(
        serializer_class.__name__,
        (serializer_class,),
        {"attachments": None, "__module__": serializer_class.__module__},
    )
    as_multipart = type(
        f"{name}MultipartSerializer",
        (serializer_class,),
        {"__module__": serializer_class.__module__},
    )
    return {"application/json": as_json, "multipart/form-data": as_multipart}


def error(description: str, *examples) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description, examples=list(examples))


def errors(*codes: int) -> dict:
    """The documented error responses of an endpoint, by status code."""
    table = {
        400: error(
            "Data tidak valid: `errors` menyebut tiap kolom dan alasannya.", EXAMPLE_VALIDATION
        ),
        401: error(
            "Tidak terautentikasi, atau token tidak valid/dicabut.", EXAMPLE_UNAUTHENTICATED
        ),
        403: error("Tidak diizinkan untuk pemanggil ini.", EXAMPLE_FORBIDDEN),
        404: error("Tidak ada, atau tidak terlihat oleh pemanggil.", EXAMPLE_NOT_FOUND),
        406: error("Format jawaban yang diminta tidak tersedia."),
        409: error("Alur kerja tidak mengizinkan langkah ini sekarang.", EXAMPLE_CONFLICT),
        415: error("Jenis isi permintaan tidak didukung."),
        422: error("Idempotency-Key sudah dipakai pemanggil lain atau untuk isi lain."),
        429: error("Batas laju terlampaui; lihat header Retry-After.", EXAMPLE_THROTTLED),
    }
    return {code: table[code] for code in codes}
