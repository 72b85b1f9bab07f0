from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts.signin import SignInView
from accounts.views import claim_by_private_link

from . import views

handler500 = "lapor.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Pages without our base template (the admin, the API docs) get the icon browsers ask for.
    path(
        "favicon.ico",
        views.FaviconRedirect.as_view(),
        name="favicon",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # The admin signs in through the site's sign-in: the same lock-out and two-factor step.
    path("admin/login/", SignInView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path(
        "complaints/<str:tracking_code>/claim/",
        claim_by_private_link,
        name="complaint-claim",
    ),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Redoc from this site's static files (drf-spectacular-sidecar), no inline script; it sets
    # inline styles, which only this page allows.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-docs",
    ),
    path("open311/v2/", include("api.open311.urls")),
    path("", include("awards.urls")),
    path("", include("workspace.urls")),
    path("", include("portal.urls")),
]

# Pages keep Django's 404 page; paths under /api/ answer in the API's error shape.
handler404 = "api.errors.not_found_view"
