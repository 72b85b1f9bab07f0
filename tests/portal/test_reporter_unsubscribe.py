"""The reporter's own status emails: a one-click unsubscribe link (and List-Unsubscribe,
RFC 8058) in each, a confirm page on GET, stopping by POST without signing in, resuming, and the
followers' emails going on. Mail goes through the real outbox and its delivery."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client

from complaints.follows import (
    follow_confirm,
    follow_request,
    reporter_unsubscribe_token,
    unsubscribe_token,
)
from complaints.models import Complaint, EventKind
from complaints.services import complaint_reporter_updates_set, complaint_transition
from complaints.workflow import Action, Role
from notifications.models import Notification
from notifications.services import notifications_deliver
from tests.factories import complaint_submitted, officer

pytestmark = pytest.mark.django_db

REPORTER = "siti.aminah@example.id"
PATH = "/ikuti/pelapor/"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LAPOR_SITE_URL = "http://testserver"


def deliver() -> list:
    before = len(mail.outbox)
    notifications_deliver()
    return mail.outbox[before:]


def act(complaint, action):
    return complaint_transition(
        complaint=complaint,
        action=action,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim", username="perkim"),
        note="Ditangani.",
    )


def link_in(body: str) -> str:
    found = re.search(r"http://testserver(" + re.escape(PATH) + r"[^\s]+)", body)
    assert found, body
    return found.group(1)


def to_reporter(sent) -> list:
    return [m for m in sent if m.to == [REPORTER]]


@pytest.fixture
def public(media_root):
    complaint = complaint_submitted().complaint  # Banjarbaru street light, routed to Perkim
    deliver()  # the receipt
    return complaint


def one_click(path: str):
    """What a mail client does with List-Unsubscribe-Post: no session, no CSRF cookie."""
    return Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )


def test_the_status_email_carries_the_link_and_the_headers(public):
    act(public, Action.FOLLOW_UP)
    (message,) = to_reporter(deliver())
    path = link_in(message.body)
    assert message.extra_headers["List-Unsubscribe"] == f"<http://testserver{path}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/ikuti/berhenti/" not in message.body  # not a follower's link
    assert path == f"{PATH}{reporter_unsubscribe_token(public)}/"


def test_get_shows_a_button_and_stops_nothing_post_stops_without_signing_in(public):
    act(public, Action.FOLLOW_UP)
    path = link_in(to_reporter(deliver())[0].body)
    browser = Client(enforce_csrf_checks=True)
    for _ in range(2):  # a mail scanner opening the link, twice
        page = browser.get(path)
        assert page.status_code == 200 and "<form" in page.content.decode()
        assert "no-store" in page["Cache-Control"]
    public.refresh_from_db()
    assert public.reporter_updates_stopped_at is None

    response = one_click(path)
    assert response.status_code == 200
    public.refresh_from_db()
    assert public.reporter_updates_stopped_at is not None
    assert 'value="resume"' in response.content.decode()
    assert one_click(path).status_code == 200  # twice: the same answer, one event
    events = public.events.filter(kind=EventKind.UPDATES)
    assert [(e.is_internal, e.data) for e in events] == [(True, {"stopped": True})]
    # The public timeline does not show it.
    shown = Client().get(public.get_absolute_url()).context["events"]
    assert shown and EventKind.UPDATES not in {e.kind for e in shown}


def test_stopped_the_reporter_hears_nothing_but_followers_do_and_resume_works(public):
    follow = follow_request(email="ana@x.id", complaint=public)
    assert follow is not None
    follow_confirm(follow)
    deliver()
    act(public, Action.FOLLOW_UP)
    path = link_in(to_reporter(deliver())[0].body)
    assert Client().post(path, {"action": "stop"}).status_code == 200

    act(public, Action.RESOLVE)
    sent = deliver()
    assert [m.to for m in sent] == [["ana@x.id"]]  # the follower only
    assert not Notification.objects.filter(
        complaint_id=public.pk, dedupe_key__startswith="fixed-check:"
    ).exists()  # no "is it fixed?" either

    page = Client().get(path)
    assert 'value="resume"' in page.content.decode()  # it says so, and offers to resume
    resumed = Client(enforce_csrf_checks=True).post(path, {"action": "resume"})
    assert resumed.status_code == 200
    public.refresh_from_db()
    assert public.reporter_updates_stopped_at is None
    assert [e.data for e in public.events.filter(kind=EventKind.UPDATES).order_by("pk")] == [
        {"stopped": True},
        {"stopped": False},
    ]
    complaint_transition(complaint=public, action=Action.REOPEN, role=Role.REPORTER, note="Belum.")
    deliver()
    act(public, Action.RESOLVE)
    assert sorted(m.to[0] for m in deliver()) == ["ana@x.id", REPORTER]


def test_stopping_withdraws_the_is_it_fixed_email_still_waiting(public):
    act(public, Action.RESOLVE)
    deliver()
    waiting = Notification.objects.get(
        complaint_id=public.pk, dedupe_key__startswith="fixed-check:"
    )
    assert waiting.unsubscribe_url.endswith(f"{PATH}{reporter_unsubscribe_token(public)}/")
    assert complaint_reporter_updates_set(complaint=public, stopped=True)
    assert not Notification.objects.filter(pk=waiting.pk).exists()
    assert not complaint_reporter_updates_set(complaint=public, stopped=True)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "LPR-AAAA-BBBB",
        "{good}x",
        "{follower}",  # a follower's unsubscribe token is not the reporter's
        "{unknown}",  # signed here, for a code that names no complaint
    ],
)
def test_a_tampered_or_foreign_token_is_a_clear_404(public, token):
    follow = follow_request(email="ana@x.id", complaint=public)
    assert follow is not None
    unknown = Complaint(tracking_code="LPR-2222-3333")
    token = token.format(
        good=reporter_unsubscribe_token(public),
        follower=unsubscribe_token(follow),
        unknown=reporter_unsubscribe_token(unknown),
    )
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"{PATH}{token}/")
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode() or "tidak berlaku" in (
            response.content.decode()
        )
    public.refresh_from_db()
    assert public.reporter_updates_stopped_at is None


def test_a_token_for_one_complaint_stops_only_that_one(public):
    other = complaint_submitted(title="Jalan berlubang di depan sekolah").complaint
    deliver()
    assert one_click(f"{PATH}{reporter_unsubscribe_token(public)}/").status_code == 200
    public.refresh_from_db()
    other.refresh_from_db()
    assert public.reporter_updates_stopped_at is not None
    assert other.reporter_updates_stopped_at is None
    act(other, Action.FOLLOW_UP)
    assert len(to_reporter(deliver())) == 1  # the other complaint's reporter still hears


@pytest.mark.parametrize("privacy", [{"is_anonymous": True}, {"is_confidential": True}])
def test_anonim_and_rahasia_work_the_same_and_the_pages_show_only_the_code(media_root, privacy):
    complaint = complaint_submitted(**privacy).complaint
    deliver()
    act(complaint, Action.FOLLOW_UP)
    (message,) = to_reporter(deliver())
    path = link_in(message.body)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    pages = [Client().get(path), one_click(path), Client().get(path)]
    complaint.refresh_from_db()
    assert complaint.reporter_updates_stopped_at is not None
    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200 and complaint.tracking_code in text
        for private in (
            complaint.title,
            complaint.description[:40],
            complaint.reporter_name,
            complaint.reporter_email,
            complaint.reporter_phone,
            complaint.region.name,
            complaint.category.name,
        ):
            assert private and private not in text
    act(complaint, Action.RESOLVE)
    assert to_reporter(deliver()) == []


def test_the_reporters_page_offers_to_resume_once_stopped(media_root):
    result = complaint_submitted()
    complaint = result.complaint
    reporter = Client()
    opened = reporter.get(f"{complaint.get_absolute_url()}?key={result.access_key}", follow=True)
    assert reporter_unsubscribe_token(complaint) not in opened.content.decode()
    complaint_reporter_updates_set(complaint=complaint, stopped=True)
    page = reporter.get(complaint.get_absolute_url()).content.decode()
    path = f"{PATH}{reporter_unsubscribe_token(complaint)}/"
    assert f'href="{path}"' in page
    # Nobody else gets the link.
    assert (
        reporter_unsubscribe_token(complaint)
        not in Client().get(complaint.get_absolute_url()).content.decode()
    )
    assert reporter.post(path, {"action": "resume"}).status_code == 200
    complaint.refresh_from_db()
    assert complaint.reporter_updates_stopped_at is None


def test_a_text_message_reporter_gets_no_link_and_a_stop_holds_on_every_channel(media_root):
    complaint = complaint_submitted(reporter_email="", notify_by="sms").complaint
    act(complaint, Action.FOLLOW_UP)
    (row,) = Notification.objects.filter(
        complaint_id=complaint.pk, dedupe_key__startswith="status:"
    )
    assert row.channel == "sms" and row.unsubscribe_url == "" and PATH not in row.body
    complaint_reporter_updates_set(complaint=complaint, stopped=True)
    assert not Notification.objects.filter(pk=row.pk).exists()  # not sent yet: withdrawn
    act(complaint, Action.RESOLVE)
    assert not Notification.objects.filter(
        complaint_id=complaint.pk, dedupe_key__regex=r"^(status|fixed-check):"
    ).exists()


def test_the_link_is_the_same_in_every_email_of_the_complaint(public):
    """The reporter's token is undated: a page rendered a second later (or an email sent a day
    later) carries the same link, and it still stops the emails years on."""
    with time_machine.travel(datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC), tick=False):
        first = reporter_unsubscribe_token(public)
    with time_machine.travel(datetime(2029, 12, 7, 10, 0, 1, tzinfo=UTC), tick=False):
        assert reporter_unsubscribe_token(public) == first
        assert Client().post(f"{PATH}{first}/").status_code == 200
    public.refresh_from_db()
    assert public.reporter_updates_stopped_at is not None
