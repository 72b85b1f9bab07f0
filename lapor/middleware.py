"""Middleware that every response needs, whichever view answers."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseNotAllowed

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
