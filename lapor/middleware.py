"""Middleware that every response needs, whichever view answers."""

import json
import logging
import random
import re

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError

from .views import database_unavailable

logger = logging.getLogger(__name__)

# Pages and forms need no more than these; an API under LAPOR_API_PREFIXES may allow others.
PAGE_METHODS = ("GET", "HEAD", "POST")


class HardeningMiddleware:
    """405 for methods no page answers (TRACE, PUT, OPTIONS, ...), and no Python version in
    the ``Server`` header of Django's development server (gunicorn sends only "gunicorn")."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.api_prefixes = tuple(getattr(settings, "LAPOR_API_PREFIXES", ("/api/", "/open311/")))

    def __call__(self, request):
        if request.method not in PAGE_METHODS and not request.path.startswith(self.api_prefixes):
            response = HttpResponseNotAllowed(PAGE_METHODS)
        else:
            response = self.get_response(request)
        if request.META.get("SERVER_SOFTWARE", "").startswith("WSGIServer"):
            # wsgiref adds "WSGIServer/0.2 CPython/3.11.x" only when no Server header is set.
            response["Server"] = "WSGIServer"
        return response


# Longer than any path or query value of the portal. Form values may be longer (a form answers
# an over-long title with its own field error); this only bounds what any view must read.
MAX_PATH_CHARS = 2048
MAX_QUERY_VALUE_CHARS = 2000
MAX_FORM_VALUE_CHARS = 200_000


def _unfit(value: str, limit: int) -> bool:
    return len(value) > limit or "\x00" in value


class InputGuardMiddleware:
    """400 for a request whose path, query or form values hold a NUL character (PostgreSQL
    refuses it in any text) or are longer than any field of the portal, before a view reads
    them. One guard for every page, API and Open311 endpoint."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._refused(request):
            return self._bad_request(request.path)
        return self.get_response(request)

    @staticmethod
    def _bad_request(path: str):
        """A 400 in the shape the endpoint's clients read: Open311's error document, the API's
        error body, or plain text."""
        message = "A value holds a NUL character or is too long."
        if path.startswith("/open311/"):
            if path.endswith(".json"):
                body = json.dumps([{"code": 400, "description": message}])
                return HttpResponseBadRequest(body, content_type="application/json; charset=utf-8")
            body = (
                "<?xml version='1.0' encoding='utf-8'?>\n<errors><error><code>400</code>"
                f"<description>{message}</description></error></errors>"
            )
            return HttpResponseBadRequest(body, content_type="text/xml; charset=utf-8")
        if path.startswith("/api/"):
            body = json.dumps({"type": "parse_error", "detail": message, "errors": {}})
            return HttpResponseBadRequest(body, content_type="application/json")
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _refused(request) -> bool:
        if _unfit(request.path, MAX_PATH_CHARS):
            return True
        for key, values in request.GET.lists():
            if _unfit(key, 200) or any(_unfit(v, MAX_QUERY_VALUE_CHARS) for v in values):
                return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                items = request.POST.lists()
            except (MultiPartParserError, ValueError):
                return True
            for key, values in items:
                if _unfit(key, 200) or any(_unfit(v, MAX_FORM_VALUE_CHARS) for v in values):
                    return True
        return False


def axes_username(request, credentials=None) -> str:
    """The username django-axes records for a sign-in attempt, cut to an account's length."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value)[:150]


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 with a page that says so.

    The complaint was not stored (its transaction never committed), and sending the same form
    again is safe: its idempotency token turns a repeat into the same complaint. Errors raised
    outside views reach ``handler500`` (``lapor.views.server_error``), which answers the same.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("Database unavailable: %s", exception, exc_info=exception)
            return database_unavailable(request)
        return None


PIN_COOKIE = "lapor_primary"


def _read_from(alias, content):
    """A streamed body whose queries run as it is sent, from the replica ``alias``."""
    from .dbrouter import replica_reads

    with replica_reads(alias):
        yield from content


SAFE_METHODS = ("GET", "HEAD")


class ReplicaReadsMiddleware:
    """Public reads from a read replica (lapor/dbrouter.py), read-your-own-writes by a cookie.

    A safe request by an anonymous visitor, without an Authorization header, on a path of
    ``LAPOR_REPLICA_PATHS`` and not pinned runs inside ``replica_reads()``. Any other request
    reads from the primary; an unsafe one pins the browser to the primary for
    ``LAPOR_REPLICA_PIN_SECONDS``. A public read whose replica has not replayed the latest
    privacy change (``replica_fresh``) reads from the primary. Without replicas configured it
    does nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = [re.compile(p) for p in getattr(settings, "LAPOR_REPLICA_PATHS", [])]

    def _public_read(self, request) -> bool:
        return (
            request.method in SAFE_METHODS
            and PIN_COOKIE not in request.COOKIES
            and "HTTP_AUTHORIZATION" not in request.META
            and not request.user.is_authenticated
            and any(p.match(request.path_info) for p in self.paths)
        )

    def __call__(self, request):
        from .dbrouter import replica_aliases, replica_fresh, replica_reads

        replicas = replica_aliases()
        if not replicas:
            return self.get_response(request)
        if self._public_read(request):
            alias = random.choice(replicas)  # noqa: S311 - load spreading, not security
            if replica_fresh(alias):
                with replica_reads(alias):
                    response = self.get_response(request)
                if response.streaming:  # read while it is sent (open data): the same replica
                    response.streaming_content = _read_from(alias, response.streaming_content)
                return response
            return self.get_response(request)  # behind a privacy change: the primary
        response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.LAPOR_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
