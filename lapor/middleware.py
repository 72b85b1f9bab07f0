import logging

from django.db import InterfaceError, OperationalError

from .views import database_unavailable

logger = logging.getLogger(__name__)


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
