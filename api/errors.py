"""One error shape for the whole API: ``{"type", "detail", "errors": {field: [message]}}``.

Messages follow the request's language (Indonesian by default, English with
``Accept-Language: en``). Domain errors become 4xx: a Django ``ValidationError`` from a service
is a 400 with field errors, a ``WorkflowError`` a 409 with the workflow's reason.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from complaints.workflow import WorkflowError

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field": [messages]}`` (nested fields dotted)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                name = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in _flatten(value, name).items():
                    out.setdefault(field, []).extend(messages)
            else:
                out.setdefault(prefix or NON_FIELD, []).append(str(value))
    else:
        out.setdefault(prefix or NON_FIELD, []).append(str(detail))
    return out


def to_api_exception(exc):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    field: get_error_detail(DjangoValidationError(errors))
                    for field, errors in exc.error_dict.items()
                }
            )
        return exceptions.ValidationError({NON_FIELD: get_error_detail(exc)})
    if isinstance(exc, WorkflowError):
        return Conflict(exc.message)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    return exc


def error_body(type_: str, detail: str, errors: dict | None = None) -> dict:
    return {"type": type_, "detail": str(detail), "errors": errors or {}}


def exception_handler(exc, context):
    exc = to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "validation_error", _("Some of the data sent is not valid."), _flatten(exc.detail)
        )
    else:
        detail = exc.detail if isinstance(exc.detail, str) else _flatten(exc.detail)
        if isinstance(detail, dict):
            detail = next(iter(detail.values()))[0] if detail else ""
        code = getattr(exc, "default_code", "error")
        response.data = error_body(code, detail)
    return response


def error_response(type_: str, detail: str, status_code: int, errors=None) -> Response:
    return Response(error_body(type_, detail, errors), status=status_code)


def not_found_view(request, exception=None):
    """Django's 404 for a path under /api/ that no route matches, in the API's shape."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    return JsonResponse(error_body("not_found", exceptions.NotFound.default_detail), status=404)
