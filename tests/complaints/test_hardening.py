"""The smaller holes an outside attack found, each replayed: dates, a rahasia original's code,
rate limits on lookups and replies, headers, methods, the session, emailed links."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from PIL import Image

from complaints.models import Complaint, ComplaintEvent
from complaints.services import complaint_transition
from complaints.workflow import Action, ArchiveReason, ComplaintStatus, Role
from lapor.management.commands.run_portal import site_url_for
from tests.factories import category, complaint_submitted, coordinator, officer

pytestmark = pytest.mark.django_db
WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def form_data(**overrides):
    data = {
        "classification": "pengaduan",
        "title": "Jalan berlubang di Jl. Mistar Cokrokusumo",
        "description": "Lubang besar, sudah dua motor jatuh.",
        "category": str(category("jalan").pk),
        "region": "63.72",
        "address": "Jl. Mistar Cokrokusumo km 2",
        "incident_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "reporter_name": "Siti Aminah",
        "reporter_email": "siti@example.id",
    }
    data.update(overrides)
    return data


# --- incident date ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("incident_date", "accepted"),
    [("0001-01-01", False), ("1999-12-31", False), ("2000-01-01", True), ("2026-03-10", True)],
)
def test_incident_date_is_bounded(client, incident_date, accepted):
    # 00:30 WITA on 10 March 2026 is still 9 March in UTC: the 10th is today, not the future.
    with time_machine.travel(datetime(2026, 3, 10, 0, 30, tzinfo=WITA), tick=False):
        response = client.post("/complaints/new/", form_data(incident_date=incident_date))
    assert Complaint.objects.exists() == accepted
    if not accepted:
        assert response.status_code == 200
        assert "incident_date" in response.context["form"].errors


def test_incident_date_tomorrow_in_wita_is_refused(client):
    with time_machine.travel(datetime(2026, 3, 10, 23, 30, tzinfo=WITA), tick=False):
        response = client.post("/complaints/new/", form_data(incident_date="2026-03-11"))
    assert "incident_date" in response.context["form"].errors
    assert not Complaint.objects.exists()


# --- a duplicate of a rahasia complaint ---------------------------------------------------------
def test_a_duplicate_of_a_rahasia_complaint_does_not_show_its_code_to_its_reporter():
    original = complaint_submitted(is_confidential=True, title="Pungli parkir").complaint
    duplicate = complaint_submitted(
        reporter_email="orang.lain@example.id", title="Pungli parkir juga"
    )
    complaint_transition(
        complaint=duplicate.complaint,
        action=Action.ARCHIVE,
        role=Role.REGION_COORDINATOR,
        actor=coordinator(),
        reason=ArchiveReason.DUPLICATE,
        duplicate_of=original,
    )
    reporter = Client()
    url = duplicate.complaint.get_absolute_url()
    page = reporter.get(f"{url}?key={duplicate.access_key}", follow=True).content.decode()
    assert duplicate.complaint.title in page  # the reporter's own page ...
    assert original.tracking_code not in page  # ... without the rahasia original's code

    staff = Client()
    staff.force_login(coordinator(username="koordinator2"))
    assert original.tracking_code in staff.get(url).content.decode()


# --- rate limits ------------------------------------------------------------------------------
def test_track_is_limited_per_client(client):
    answers = [client.get("/track/", {"code": f"LPR-2222-{n:04d}"}) for n in range(32)]
    assert {a.status_code for a in answers[:30]} == {404}
    assert answers[30].status_code == 429
    assert "menit" in answers[30].content.decode()
    assert int(answers[30]["Retry-After"]) > 0
    assert Client(REMOTE_ADDR="10.1.1.1").get("/track/").status_code == 200  # others can


def test_the_submission_limit_says_when_to_come_back(client, settings):
    settings.LAPOR_SUBMIT_RATE = "2/h"
    answers = [client.post("/complaints/new/", form_data(title=f"Jalan {n}")) for n in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert 0 < int(answers[2]["Retry-After"]) <= 3600
    assert "menit" in answers[2].content.decode()


def png_upload(name="foto.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "PNG")
    buffer.name = name
    buffer.seek(0)
    return buffer


def test_replies_with_a_private_link_are_limited_per_complaint_and_per_client():
    result = complaint_submitted()
    url = result.complaint.get_absolute_url()
    clients = [Client(REMOTE_ADDR=f"10.0.0.{n}") for n in range(1, 13)]
    answers = []
    for client in clients:
        client.get(f"{url}?key={result.access_key}")
        answers.append(client.post(f"{url}reply/", {"note": "Kapan diperbaiki?"}).status_code)
    # Ten replies an hour to one complaint, from however many addresses.
    assert answers == [302] * 10 + [429, 429]
    assert ComplaintEvent.objects.filter(kind="reply").count() == 10

    other = complaint_submitted(reporter_email="lain@example.id")
    other_url = other.complaint.get_absolute_url()
    one_client = Client(REMOTE_ADDR="10.9.9.9")
    one_client.get(f"{other_url}?key={other.access_key}")
    statuses = [
        one_client.post(
            f"{other_url}reply/", {"note": "Halo", "attachments": [png_upload()]}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[-1] == 429


# --- headers ----------------------------------------------------------------------------------
def test_html_pages_carry_a_content_security_policy(client):
    response = client.get("/complaints/new/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "https://tile.openstreetmap.org" in directives["img-src"]
    assert "<script>" not in response.content.decode()  # no inline script to allow
    assert "onclick=" not in client.get("/").content.decode()


def test_pages_with_a_private_complaint_or_the_private_link_are_not_stored(client):
    submitted = client.post("/complaints/new/", form_data(is_confidential="on"))
    created = client.get(submitted["Location"])
    assert "?key=" in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    complaint = Complaint.objects.get()
    detail = client.get(complaint.get_absolute_url())
    assert detail.status_code == 200
    assert "no-store" in detail["Cache-Control"]
    public = complaint_submitted(title="Drainase tersumbat").complaint
    assert "no-store" not in Client().get(public.get_absolute_url()).get("Cache-Control", "")


def test_the_private_link_redirect_is_not_stored_and_sends_no_referrer():
    result = complaint_submitted()
    response = Client().get(f"{result.complaint.get_absolute_url()}?key={result.access_key}")
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("method", ["put", "options", "trace", "delete", "patch"])
@pytest.mark.parametrize("path", ["/", "/complaints/", "/complaints/new/", "/track/", "/healthz"])
def test_methods_no_page_answers_are_refused(client, method, path):
    response = client.generic(method.upper(), path)
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) <= {"GET", "HEAD", "POST"}


@pytest.mark.parametrize("path", ["/healthz", "/complaints/new/", "/", "/complaints/"])
def test_head_answers_like_get(client, path):
    assert client.head(path).status_code == 200


def test_get_only_pages_refuse_post(client):
    complaint = complaint_submitted().complaint
    for path in ("/", "/complaints/", "/track/", complaint.get_absolute_url()):
        assert client.post(path).status_code == 405


# --- the session --------------------------------------------------------------------------------
def test_the_session_holds_codes_not_the_private_link_key(client):
    response = client.post("/complaints/new/", form_data())
    created = client.get(response["Location"]).content.decode()
    complaint = Complaint.objects.get()
    key = created.split("?key=")[1].split('"')[0]
    assert len(key) > 20
    # The link works, and the session table never saw its key.
    assert Client().get(f"{complaint.get_absolute_url()}?key={key}").status_code == 302
    for session in Session.objects.all():
        assert key not in session.session_data
        assert key not in str(session.get_decoded())
    assert complaint.tracking_code in str(client.session.items())


def test_the_new_private_link_is_shown_only_to_the_browser_that_sent_it(client):
    response = client.post("/complaints/new/", form_data())
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value  # even with the session
    page = other.get(response["Location"])
    assert "?key=" not in page.content.decode()


# --- emailed links ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # noqa: S104
        ("localhost", 8000, "http://localhost:8000"),
        ("::1", 8080, "http://[::1]:8080"),
    ],
)
def test_emailed_links_follow_the_address_make_run_serves(host, port, expected):
    assert site_url_for(host, port) == expected


def test_officer_pages_too_are_not_stored(client):
    complaint = complaint_submitted().complaint
    client.force_login(officer())
    response = client.get(complaint.get_absolute_url())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert complaint.status == ComplaintStatus.ASSIGNED


# --- the admin ----------------------------------------------------------------------------------
def test_the_outbox_in_the_admin_shows_no_key_and_no_anonim_reporters_address(client):
    from tests.factories import UserFactory

    result = complaint_submitted(is_anonymous=True, reporter_email="rahasia.saya@example.id")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = client.get("/admin/notifications/notification/").content.decode()
    notification = result.complaint.notifications.get(recipient="rahasia.saya@example.id")
    detail = client.get(f"/admin/notifications/notification/{notification.pk}/change/")
    assert detail.status_code == 200
    for page in (listing, detail.content.decode()):
        assert "rahasia.saya@example.id" not in page
        assert result.access_key not in page
    searched = client.get("/admin/notifications/notification/", {"q": "rahasia.saya"})
    assert result.complaint.title not in searched.content.decode()
