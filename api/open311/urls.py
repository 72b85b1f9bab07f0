"""Open311's URLs. None of them uses the session or its cookie (the one write authenticates
with ``api_key``), so none takes part in Django's CSRF check: a wrong method from a client
without a cookie gets the spec's 405 error document, not Django's CSRF page."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import views

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    path("", views.not_found, name="open311-root"),
    re_path(rf"^discovery{FMT}", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]+?){FMT}", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}", views.requests, name="open311-requests"),
    re_path(
        rf"^requests/(?P<request_id>[^/]+?){FMT}", views.request_detail, name="open311-request"
    ),
    re_path(rf"^tokens/(?P<token_id>[^/]+?){FMT}", views.token, name="open311-token"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
for _pattern in urlpatterns:
    _pattern.callback = csrf_exempt(_pattern.callback)
