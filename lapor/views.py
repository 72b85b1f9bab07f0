import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from .health import broker_state, database_state


@never_cache
@require_safe
def healthz(request):
    db_ok, db_detail = database_state()
    broker_ok, broker_detail = broker_state()
    healthy = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if healthy else 503,
    )


# The error pages below render without the database (no session, no user, no context
# processors): they are shown precisely when something may be broken.
RETRY_AFTER_SECONDS = 30


def database_unavailable(request):
    response = HttpResponse(
        loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}),
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    """handler500: a database that cannot be reached gets the honest 503 page, anything else
    the 500 page, which does not claim to know whether the request was stored."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))


class FaviconRedirect(RedirectView):
    """/favicon.ico → the hashed icon. Resolved per request, not when the URLs load: before
    collectstatic there is no manifest to ask (``check --deploy`` loads the URLs)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")
