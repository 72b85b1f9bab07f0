"""Small protections that every response needs, whichever view answers."""

from django.conf import settings
from django.http import HttpResponseNotAllowed

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
