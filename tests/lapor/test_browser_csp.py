"""The Content-Security-Policy in a real Chromium: the pages, the Leaflet map with its tiles and
the admin work under it, and nothing is refused."""

import base64

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A 1 x 1 PNG, served in place of OpenStreetMap's tiles (the tests do not reach the internet).
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def watch_violations(page) -> list[str]:
    """Every CSP violation the page reports, from the console and the DOM event."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.log('Content Security Policy violation: ' + e.violatedDirective + ' '"
        " + e.blockedURI));"
    )
    return violations


def test_the_form_map_works_under_the_policy(live_server, page):
    tiles: list[str] = []

    def serve_tile(route):
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=TILE)

    page.route("https://tile.openstreetmap.org/**", serve_tile)
    violations = watch_violations(page)
    response = page.goto(live_server.url + "/complaints/new/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator("#map.leaflet-container").wait_for()
    page.locator("img.leaflet-tile-loaded").first.wait_for()
    assert tiles
    page.locator("#map").click()
    assert page.locator("#id_latitude").input_value() != ""
    assert page.locator(".leaflet-marker-icon").count() == 1
    assert violations == []


def test_pages_and_the_admin_load_without_violations(live_server, page):
    violations = watch_violations(page)
    for path in (
        "/",
        "/complaints/",
        "/track/",
        "/accounts/login/",
        "/accounts/register/",
        "/rankings/",
    ):
        page.goto(live_server.url + path)
    # An administrator, signed in (staff land on the two-factor set-up first, QR code included).
    client = Client()
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    for path in ("/admin/", "/admin/complaints/complaint/", "/admin/notifications/notification/"):
        page.goto(live_server.url + path)
        assert page.locator("body").inner_text()
    assert violations == []


def test_the_api_docs_render_from_our_own_files_under_the_policy(live_server, page):
    """Redoc comes from drf-spectacular-sidecar: no CDN, no inline script. Its sidebar asks for
    the Redocly logo from Redocly's CDN; the policy refuses it, so nothing leaves the site."""
    outside: list[str] = []
    page.on(
        "requestfinished",  # a request the policy refuses never finishes
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    violations = watch_violations(page)
    response = page.goto(live_server.url + "/api/docs/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_text("/api/v1/complaints/").first.wait_for()
    assert outside == []
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in v for v in violations), violations
