"""The anonymous whole-page cache (lapor/pagecache.py): cached pages are served without the
database, and a committed change of a complaint retires them at once: a complaint made rahasia
is gone from every cached page, list, API answer and the map; nobody gets another person's page.

Transactional tests: the generation moves when a change commits, as in production.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.services import complaint_privacy_change, complaint_support
from complaints.workflow import Role
from lapor import pagecache
from tests.factories import complaint_submitted, province_staff

pytestmark = pytest.mark.django_db(transaction=True)

LAT, LON = Decimal("-3.442000"), Decimal("114.830000")


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 120


@pytest.fixture
def public(media_root):
    return complaint_submitted(
        title="Lampu jalan mati dekat balai kota", latitude=LAT, longitude=LON
    ).complaint


def pages(code: str) -> dict[str, str]:
    """Every public page family that shows this complaint, and where."""
    return {
        "home": "/",
        "list": "/complaints/",
        "search": "/complaints/?q=lampu",
        "detail": f"/complaints/{code}/",
        "api list": "/api/v1/complaints/",
        "api detail": f"/api/v1/complaints/{code}/",
        "open311 list": "/open311/v2/requests.json",
        "open311 xml": "/open311/v2/requests.xml",
        "open311 request": f"/open311/v2/requests/{code}.json",
        "map": "/peta/data/?zoom=17&bbox=114.82,-3.45,114.84,-3.43",
    }


def shown(client: Client, path: str, code: str) -> bool:
    response = client.get(path)
    return response.status_code == 200 and code in response.content.decode()


def test_a_complaint_made_rahasia_leaves_every_cached_page_at_once(public):
    code = public.tracking_code
    anonymous = Client()
    for name, path in pages(code).items():
        assert shown(anonymous, path, code), name
    # Served from the cache now: no database query for the page itself.
    with CaptureQueriesContext(connection) as queries:
        for name, path in pages(code).items():
            assert shown(anonymous, path, code), name
    assert not [q for q in queries if "complaints_" in q["sql"]]

    complaint_privacy_change(
        complaint=public,
        actor=province_staff(),
        role=Role.PROVINCE_STAFF,
        is_anonymous=False,
        is_confidential=True,
    )

    for client in (anonymous, Client()):
        for name, path in pages(code).items():
            assert not shown(client, path, code), name


def test_any_committed_change_retires_the_cached_pages(public):
    anonymous = Client()
    before = anonymous.get(f"/api/v1/complaints/{public.tracking_code}/").json()
    assert anonymous.get(f"/api/v1/complaints/{public.tracking_code}/").json() == before
    complaint_support(complaint=public, email="tetangga@example.id")
    after = anonymous.get(f"/api/v1/complaints/{public.tracking_code}/").json()
    assert after != before


def test_signed_in_and_session_holders_never_get_or_leave_a_cached_page(public, client):
    code = public.tracking_code
    staff = province_staff()
    client.force_login(staff)
    staff_page = client.get(f"/complaints/{code}/").content
    # The staff member's page is not what an anonymous visitor gets ...
    anonymous = Client().get(f"/complaints/{code}/").content
    assert anonymous != staff_page
    # ... and the anonymous page cached now is not what the staff member gets.
    assert client.get(f"/complaints/{code}/").content != anonymous
    Client().get("/")  # the anonymous home page, cached
    assert f'action="{reverse("logout")}"' in client.get("/").content.decode()


def test_the_reporters_own_view_of_a_rahasia_complaint_is_never_cached(media_root):
    result = complaint_submitted(title="Rahasia: pungli di kantor", is_confidential=True)
    code = result.complaint.tracking_code
    reporter = Client()
    private = reporter.get(f"/complaints/{code}/?key={result.access_key}", follow=True)
    assert private.status_code == 200 and "Siti Aminah" in private.content.decode()
    for client in (Client(), Client()):
        assert client.get(f"/complaints/{code}/").status_code == 404
        assert code not in client.get("/complaints/").content.decode()


def test_each_visitor_gets_a_working_csrf_token_of_their_own(public):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for client in (first, second):
        page = client.get("/complaints/").content.decode()
        assert pagecache.CSRF_PLACEHOLDER.decode() not in page
        token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        response = client.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token})
        assert response.status_code == 302


def test_a_lost_generation_starts_afresh_and_old_pages_are_not_taken(public):
    from django.core.cache import cache

    anonymous = Client()
    anonymous.get("/complaints/")
    cache.delete(pagecache.GENERATION_KEY)
    with CaptureQueriesContext(connection) as queries:
        anonymous.get("/complaints/")
    assert [q for q in queries if "complaints_complaint" in q["sql"]]


def download(client: Client, path: str):
    response = client.get(path)
    assert response.status_code == 200 and response.streaming
    return response, b"".join(response.streaming_content).decode()


def test_the_open_data_downloads_stream_from_the_cache_until_a_change(public, monkeypatch):
    code = public.tracking_code
    anonymous = Client()
    paths = ("/data/complaints.csv", "/data/complaints.geojson?period=30")
    first = {path: download(anonymous, path)[1] for path in paths}
    assert all(code in body for body in first.values())
    with CaptureQueriesContext(connection) as queries:
        for path in paths:
            response, body = download(Client(), path)
            assert body == first[path]
            assert "license" in response["Link"] and response["Content-Disposition"]
    assert not [q for q in queries if "complaints_" in q["sql"]]

    complaint_privacy_change(
        complaint=public,
        actor=province_staff(),
        role=Role.PROVINCE_STAFF,
        is_anonymous=False,
        is_confidential=True,
    )
    for path in paths:
        assert code not in download(anonymous, path)[1]


def test_a_download_bigger_than_the_limit_is_streamed_but_not_kept(public, monkeypatch):
    monkeypatch.setattr(pagecache, "MAX_STREAMED_BYTES", 100)
    body = download(Client(), "/data/complaints.csv")[1]
    assert public.tracking_code in body and len(body) > 100
    with CaptureQueriesContext(connection) as queries:
        assert download(Client(), "/data/complaints.csv")[1] == body
    assert [q for q in queries if "complaints_" in q["sql"]]
