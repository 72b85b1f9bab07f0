"""Following by email: a complaint's status changes and area alerts (double opt-in, one-click
unsubscribe), and the Atom feeds. Mail goes through the real outbox and its delivery."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from complaints.follows import (
    area_digests_send,
    confirm_token,
    follow_confirm,
    follow_for_unsubscribe,
    follow_request,
    followers_notify,
    unsubscribe_token,
)
from complaints.models import Complaint, Follow
from complaints.services import (
    complaint_privacy_change,
    complaint_transition,
    complaints_anonymise_due,
    complaints_close_expired,
)
from complaints.workflow import Action, Role, WorkflowError
from notifications.models import Notification
from notifications.services import notifications_deliver
from tests.factories import (
    UserFactory,
    category,
    complaint_new,
    complaint_submitted,
    coordinator,
    officer,
    region,
)

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=WITA)  # a Monday
ATOM = "{http://www.w3.org/2005/Atom}"
REPORTER = ("Siti Aminah", "siti.aminah@example.id", "081234567890")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LAPOR_SITE_URL = "http://testserver"


def deliver() -> list:
    """Send whatever is pending; the messages sent by this call."""
    before = len(mail.outbox)
    notifications_deliver()
    return mail.outbox[before:]


def link_in(body: str, path: str) -> str:
    found = re.search(r"http://testserver(" + re.escape(path) + r"[^\s]+)", body)
    assert found, body
    return found.group(1)


def act(complaint, action, **kw):
    return complaint_transition(
        complaint=complaint,
        action=action,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim", username="perkim"),
        note=kw.pop("note", "Ditangani."),
        **kw,
    )


@pytest.fixture
def public(media_root):
    return complaint_submitted().complaint  # Banjarbaru street light, routed to Perkim


def followed_by(complaint, email: str) -> Follow:
    """A confirmed follower; the confirmation email is sent (and so out of the way)."""
    follow = follow_request(email=email, complaint=complaint)
    assert follow is not None
    follow_confirm(follow)
    deliver()
    return follow


# --- double opt-in -------------------------------------------------------------------------------


def test_nothing_but_the_confirmation_is_sent_before_confirming(client, public):
    deliver()  # the reporter's receipt
    response = client.post(
        f"/complaints/{public.tracking_code}/follow/", {"follow-email": "Ana@X.id"}
    )
    assert response.status_code == 302
    (confirmation,) = deliver()
    assert confirmation.to == ["ana@x.id"]
    assert "/privasi/" in confirmation.body
    act(public, Action.FOLLOW_UP)
    sent = deliver()
    assert [m.to for m in sent] == [[REPORTER[1]]]  # the reporter's status email only

    path = link_in(confirmation.body, "/ikuti/konfirmasi/")
    page = Client().get(path)  # opening the link (or a mail scanner) confirms nothing
    assert page.status_code == 200 and "<form" in page.content.decode()
    assert Follow.objects.get().confirmed_at is None
    assert Client().post(path).status_code == 200
    assert Follow.objects.get().confirmed_at is not None

    act(public, Action.RESOLVE)
    sent = deliver()
    assert sorted(m.to[0] for m in sent) == ["ana@x.id", REPORTER[1]]


def test_asking_again_answers_the_same_and_a_confirmed_follow_gets_no_new_link(client, public):
    deliver()
    followed_by(public, "ana@x.id")
    response = client.post(
        f"/complaints/{public.tracking_code}/follow/", {"follow-email": "ana@x.id"}
    )
    assert response.status_code == 302
    assert deliver() == []
    assert Follow.objects.count() == 1


def test_an_expired_or_tampered_confirmation_link_is_refused(public):
    follow = follow_request(email="ana@x.id", complaint=public, now=T0)
    token = confirm_token(follow)
    with time_machine.travel(datetime.now(tz=WITA) + timedelta(days=8)):
        assert Client().post(f"/ikuti/konfirmasi/{token}/").status_code == 404
    assert Client().post(f"/ikuti/konfirmasi/{token}x/").status_code == 404
    # An unsubscribe token is not a confirmation token.
    assert Client().post(f"/ikuti/konfirmasi/{unsubscribe_token(follow)}/").status_code == 404
    assert Follow.objects.get().confirmed_at is None


def test_bad_input_shows_field_errors(client, public):
    response = client.post(
        f"/complaints/{public.tracking_code}/follow/", {"follow-email": "not-mail"}
    )
    assert response.status_code == 400
    assert 'id="field-follow-email"' in response.content.decode()
    response = client.post("/ikuti/wilayah/", {"email": "a@x.id", "region": "99.99"})
    assert response.status_code == 400
    assert not Follow.objects.exists()


def test_the_follow_form_is_rate_limited(client, public, settings):
    settings.LAPOR_EMAIL_TARGET_RATE = "2/h"
    url = f"/complaints/{public.tracking_code}/follow/"
    assert client.post(url, {"follow-email": "ana@x.id"}).status_code == 302
    assert client.post(url, {"follow-email": "ana@x.id"}).status_code == 302
    response = client.post(url, {"follow-email": "ANA@x.id"})
    assert response.status_code == 429 and response["Retry-After"]


# --- status changes to followers -----------------------------------------------------------------


def test_one_mail_per_change_per_follower_and_none_to_the_reporter_twice(public):
    deliver()
    followed_by(public, "ana@x.id")
    followed_by(public, "budi@x.id")
    follow_request(email="unconfirmed@x.id", complaint=public)
    followed_by(public, REPORTER[1])  # the reporter follows by default already
    deliver()
    act(public, Action.FOLLOW_UP)
    event = public.events.order_by("-pk").first()
    assert followers_notify(public, event) == 0  # asked again: nothing new
    sent = deliver()
    assert deliver() == []  # delivered once
    assert sorted(m.to[0] for m in sent) == ["ana@x.id", "budi@x.id", REPORTER[1]]
    to_reporter = [m for m in sent if m.to == [REPORTER[1]]]
    assert len(to_reporter) == 1 and "/ikuti/berhenti/" not in to_reporter[0].body
    assert Notification.objects.filter(dedupe_key__startswith=f"follow:{event.pk}:").count() == 2


def test_the_email_unsubscribes_in_one_click_without_signing_in(public):
    deliver()
    follow = followed_by(public, "ana@x.id")
    act(public, Action.FOLLOW_UP)
    (message,) = [m for m in deliver() if m.to == ["ana@x.id"]]
    path = link_in(message.body, "/ikuti/berhenti/")
    assert message.extra_headers["List-Unsubscribe"] == f"<http://testserver{path}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://testserver/privasi/" in message.body
    assert public.get_absolute_url() in message.body

    browser = Client(enforce_csrf_checks=True)  # nobody signed in, no CSRF cookie: the mail client
    page = browser.get(path)
    assert page.status_code == 200 and "<form" in page.content.decode()
    assert Follow.objects.filter(pk=follow.pk).exists()  # opening the link ends nothing
    response = browser.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not Follow.objects.filter(pk=follow.pk).exists()
    assert browser.post(path).status_code == 200  # twice: the same answer
    act(public, Action.RESOLVE)
    assert [m.to for m in deliver()] == [[REPORTER[1]]]


def test_rahasia_cannot_be_followed_and_followers_hear_nothing_once_it_is(public, client):
    secret = complaint_submitted(is_confidential=True).complaint
    assert (
        client.post(
            f"/complaints/{secret.tracking_code}/follow/", {"follow-email": "a@x.id"}
        ).status_code
        == 404
    )
    with pytest.raises(WorkflowError):
        follow_request(email="a@x.id", complaint=secret)
    page = client.get(f"/complaints/{public.tracking_code}/").content.decode()
    assert f"/complaints/{public.tracking_code}/follow/" in page

    deliver()
    followed_by(public, "ana@x.id")
    pending = follow_request(email="late@x.id", complaint=public)
    deliver()
    complaint_privacy_change(
        complaint=public,
        actor=coordinator("63.72", username="kominfo-bjb"),
        role=Role.REGION_COORDINATOR,
        is_anonymous=False,
        is_confidential=True,
    )
    act(public, Action.FOLLOW_UP)
    assert [m.to for m in deliver()] == [[REPORTER[1]]]
    with pytest.raises(WorkflowError):
        follow_confirm(pending)


def test_supporting_with_an_email_asks_to_follow(client, public):
    deliver()
    response = client.post(
        f"/complaints/{public.tracking_code}/support/", {"email": "dewi@x.id", "follow": "on"}
    )
    assert response.status_code == 302
    (confirmation,) = deliver()
    assert confirmation.to == ["dewi@x.id"] and "/ikuti/konfirmasi/" in confirmation.body
    assert Follow.objects.get().confirmed_at is None
    client.post(f"/complaints/{public.tracking_code}/support/", {"email": "eko@x.id"})
    assert Follow.objects.count() == 1  # without the box ticked: no follow


# --- area alerts ---------------------------------------------------------------------------------


def test_the_daily_digest_lists_new_public_complaints_only_and_only_when_there_are_some(
    media_root,
):
    with time_machine.travel(T0, tick=False):
        response = Client().post(
            "/ikuti/wilayah/", {"email": "warga@x.id", "region": "63.72", "category": ""}
        )
        assert response.status_code == 302
        (confirmation,) = deliver()
        Client().post(link_in(confirmation.body, "/ikuti/konfirmasi/"))
        lights = follow_request(
            email="lampu@x.id", region=region("63.72"), category=category("pju")
        )
        follow_confirm(lights)
        deliver()
    day1 = T0 + timedelta(hours=2)
    road = complaint_new(now=day1, title="Jalan berlubang di Landasan Ulin")
    light = complaint_new(now=day1, category_code="pju", title="Lampu mati di Cempaka")
    complaint_new(now=day1, title="Rahasia: pungli di jalan", is_confidential=True)
    complaint_new(now=day1, region_code="63.71", title="Banjir di Banjarmasin")
    assert area_digests_send(now=T0 + timedelta(days=1)) == 2
    assert area_digests_send(now=T0 + timedelta(days=1)) == 0  # run twice: sent once
    sent = {m.to[0]: m for m in deliver()}
    assert set(sent) == {"warga@x.id", "lampu@x.id"}
    everything = sent["warga@x.id"]
    assert road.tracking_code in everything.body and light.tracking_code in everything.body
    assert "Rahasia" not in everything.body and "Banjarmasin" not in everything.body
    for value in REPORTER:
        assert value not in everything.body
    assert road.tracking_code not in sent["lampu@x.id"].body
    assert everything.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/privasi/" in everything.body
    # The next day has nothing new: nothing is sent.
    assert area_digests_send(now=T0 + timedelta(days=2)) == 0
    assert deliver() == []
    # One click ends it.
    path = link_in(everything.body, "/ikuti/berhenti/")
    Client().post(path)
    assert not Follow.objects.filter(email="warga@x.id").exists()


def test_the_digest_task_runs_the_service():
    from complaints.tasks import send_area_digests

    assert send_area_digests() == 0


# --- Atom feeds ----------------------------------------------------------------------------------


def atom(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"].startswith("application/atom+xml")
    text = response.content.decode()
    for value in REPORTER:
        assert value not in text
    assert "Rahasia" not in text
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, parsed by the stdlib
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}").text, required
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Lapor Paman"
    rels = {link.get("rel") for link in root.findall(f"{ATOM}link")}
    assert {"alternate", "self"} <= rels
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}").text, required
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/complaints/")
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
    return root


def titles(root: ET.Element) -> set[str]:
    return {e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")}


def test_the_feeds_are_valid_atom_without_rahasia_or_reporters(client, public):
    secret = complaint_submitted(is_confidential=True, title="Rahasia lampu").complaint
    road = complaint_submitted(category_code="jalan", title="Jalan rusak").complaint
    other = complaint_submitted(region_code="63.71", title="Lampu Banjarmasin").complaint
    by_region = titles(atom(client, "/feeds/regency/63.72/"))
    assert f"{public.tracking_code}: {public.title}" in by_region
    assert f"{road.tracking_code}: {road.title}" in by_region
    assert not any(other.tracking_code in t or secret.tracking_code in t for t in by_region)
    by_category = titles(atom(client, "/feeds/category/pju/"))
    assert {t.split(":")[0] for t in by_category} == {public.tracking_code, other.tracking_code}
    perkim = Complaint.objects.get(pk=public.pk).assigned_agency
    by_agency = titles(atom(client, f"/feeds/agency/{perkim.pk}/"))
    assert {t.split(":")[0] for t in by_agency} == {public.tracking_code}
    for path in ("/feeds/regency/99.99/", "/feeds/category/nope/", "/feeds/agency/999999/"):
        assert client.get(path).status_code == 404


def test_the_list_and_regency_pages_link_their_feeds(client, public):
    page = client.get("/complaints/", {"region": "63.72", "category": "pju"}).content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feeds/regency/63.72/"' in page and 'href="/feeds/category/pju/"' in page
    assert "/ikuti/wilayah/?region=63.72&amp;category=pju" in page
    assert "application/atom+xml" not in client.get("/complaints/").content.decode()


# --- personal data -------------------------------------------------------------------------------


def test_my_data_shows_exports_and_erases_the_follows_of_my_address(client, public):
    citizen = UserFactory(username="ana", email="Ana@X.id")
    followed_by(public, "ana@x.id")
    follow_request(email="ana@x.id", region=public.region)
    followed_by(public, "someone@x.id")
    client.force_login(citizen)
    assert "ana@x.id" in client.get("/data-saya/").content.decode()
    alerts = client.get("/data-saya/unduh.json").json()["email_alerts"]
    assert {(a["complaint"], a["region"]) for a in alerts} == {
        (public.tracking_code, None),
        (None, public.region.name),
    }
    response = client.post("/data-saya/hapus/", {"confirm": "on"})
    assert response.status_code == 200
    assert list(Follow.objects.values_list("email", flat=True)) == ["someone@x.id"]


def test_retention_removes_followers_and_unconfirmed_requests(public, settings):
    from complaints.tasks import anonymise_due

    followed_by(public, "ana@x.id")
    with time_machine.travel(datetime.now(tz=WITA) - timedelta(days=30)):
        follow_request(email="old@x.id", region=public.region)
    follow_request(email="fresh@x.id", region=public.region)
    assert anonymise_due()["unconfirmed_follows"] == 1
    assert set(Follow.objects.values_list("email", flat=True)) == {"ana@x.id", "fresh@x.id"}
    settings.LAPOR_RETENTION_REPORTER_DAYS = 0
    act(public, Action.RESOLVE)
    later = datetime.now(tz=WITA) + timedelta(days=30)
    assert complaints_close_expired(now=later) == 1
    assert complaints_anonymise_due(now=later + timedelta(seconds=1)) == 1
    assert not Follow.objects.filter(complaint=public).exists()


def test_a_stale_unsubscribe_token_names_nothing(public):
    follow = followed_by(public, "ana@x.id")
    token = unsubscribe_token(follow)
    assert follow_for_unsubscribe(token) == follow
    Follow.objects.all().delete()
    assert follow_for_unsubscribe(token) is None
    assert follow_for_unsubscribe("garbage") is None


def test_the_admin_hides_a_followers_address(public):
    from django.contrib import admin

    followed_by(public, "ana@x.id")
    act(public, Action.FOLLOW_UP)
    row = Notification.objects.get(recipient="ana@x.id", unsubscribe_url__startswith="http")
    shown = admin.site._registry[Notification].shown_recipient(row)
    assert "ana@x.id" not in str(shown)
