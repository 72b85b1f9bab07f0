"""Citizen accounts: registration that reveals nothing, confirmation only by the registrant,
guest complaints joined one by one with proof, and limits on everything that sends email."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import CitizenProfile
from complaints.models import Complaint, ComplaintEvent, EventKind
from notifications.models import Notification
from tests.factories import UserFactory, complaint_submitted

pytestmark = pytest.mark.django_db

PASSWORD = "kalsel-maju-2026"
VICTIM = "siti.aminah@example.id"


def register(client, email, *, name="Budi", password=PASSWORD, **extra):
    return client.post(
        "/accounts/register/",
        {"first_name": name, "email": email, "password1": password, "password2": password, **extra},
    )


def sign_in(client, username, password=PASSWORD):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]


def verification_link(email) -> str:
    mail = Notification.objects.filter(recipient=email, dedupe_key__startswith="verify:").last()
    return re.search(r"http://\S+(/accounts/verify/\S+/)", mail.body).group(1)


def victims_guest_complaints():
    """Siti's guest complaints: one rahasia, one anonim, one plain; all with her name and phone."""
    return [
        complaint_submitted(title=title, reporter_phone="081299887766", **flags).complaint
        for title, flags in (
            ("Pungli di kantor kelurahan", {"is_confidential": True}),
            ("Guru sering tidak masuk", {"is_anonymous": True}),
            ("Lampu jalan mati", {}),
        )
    ]


def test_account_takeover_by_registering_the_victims_address_fails():
    """The attack: register with a guest reporter's email; she clicks the confirmation link
    while not signed in; the attacker must get nothing of hers."""
    complaints = victims_guest_complaints()
    attacker = Client()
    # (A username is sent too, as the old form asked for one; the form now ignores it.)
    assert register(attacker, VICTIM, name="Penyerang", username="penyerang").status_code == 302

    # Siti receives the mail and opens the link, not signed in (she has no account).
    victim = Client()
    response = victim.get(verification_link(VICTIM))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not CitizenProfile.objects.filter(email_verified_at__isnull=False).exists()
    assert Complaint.objects.filter(reporter__isnull=False).count() == 0

    # The attacker signs in with the password they chose and looks around.
    sign_in(attacker, VICTIM)
    mine = attacker.get("/accounts/complaints/").content.decode()
    for complaint in complaints:
        assert complaint.title not in mine
        assert complaint.tracking_code not in mine
        assert attacker.get(complaint.get_absolute_url()).status_code in (200, 404)
        page = attacker.get(complaint.get_absolute_url()).content.decode()
        assert "081299887766" not in page
        assert "Siti Aminah" not in page
    rahasia, anonim, _plain = complaints
    assert attacker.get(rahasia.get_absolute_url()).status_code == 404
    # Asking to join them by code does nothing either.
    attacker.post("/accounts/complaints/claim/", {"codes": [c.tracking_code for c in complaints]})
    for complaint in complaints:
        attacker.post(f"{complaint.get_absolute_url()}claim/")
    assert Complaint.objects.filter(reporter__isnull=False).count() == 0
    assert not ComplaintEvent.objects.filter(kind=EventKind.CLAIMED).exists()
    assert "Guru sering tidak masuk" not in attacker.get("/accounts/complaints/").content.decode()


def test_the_registrant_confirms_signed_in_and_picks_their_guest_complaints(client):
    earlier, other = (
        complaint_submitted(reporter_email="budi@example.id", title=title).complaint
        for title in ("Jalan berlubang di Jl. Sukamara", "Drainase tersumbat")
    )
    response = register(client, "Budi@Example.id")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    link = verification_link("budi@example.id")
    sign_in(client, "budi@example.id")
    mine = client.get("/accounts/complaints/").content.decode()
    assert earlier.tracking_code not in mine  # nothing offered before the address is confirmed

    assert client.get(link).status_code == 302
    assert CitizenProfile.objects.get(user__email="budi@example.id").email_verified_at
    response = client.get("/accounts/complaints/")
    assert "no-store" in response["Cache-Control"]
    mine = response.content.decode()
    assert f'value="{earlier.tracking_code}"' in mine  # offered, not yet joined
    assert Complaint.objects.filter(reporter__isnull=False).count() == 0

    client.post("/accounts/complaints/claim/", {"codes": [earlier.tracking_code]})
    earlier.refresh_from_db()
    other.refresh_from_db()
    assert earlier.reporter.email == "budi@example.id"
    assert other.reporter is None
    event = ComplaintEvent.objects.get(complaint=earlier, kind=EventKind.CLAIMED)
    assert event.actor == earlier.reporter
    assert event.data == {"proof": "verified_email"}
    assert event.is_internal


def test_a_confirmation_link_opened_by_another_signed_in_account_confirms_nothing(client):
    register(Client(), VICTIM)
    UserFactory(username="rina", email="rina@example.id")
    sign_in(client, "rina", "s3cret-pass-123")
    client.get(verification_link(VICTIM))
    assert not CitizenProfile.objects.filter(email_verified_at__isnull=False).exists()


def test_a_forged_verification_link_confirms_nothing(client):
    UserFactory(username="budi", email="budi@example.id")
    sign_in(client, "budi", "s3cret-pass-123")
    assert client.get("/accounts/verify/not-a-real-token/").status_code == 302
    assert not CitizenProfile.objects.filter(email_verified_at__isnull=False).exists()


def test_a_signed_in_citizen_joins_a_guest_complaint_with_its_private_link(client):
    result = complaint_submitted(reporter_email="lain@example.id")
    UserFactory(username="rina", email="rina@example.id")
    sign_in(client, "rina", "s3cret-pass-123")
    url = result.complaint.get_absolute_url()
    assert client.post(f"{url}claim/").status_code == 404  # no link opened yet
    client.get(f"{url}?key={result.access_key}")
    assert f'action="{url}claim/"' in client.get(url).content.decode()
    assert client.post(f"{url}claim/").status_code == 302
    result.complaint.refresh_from_db()
    assert result.complaint.reporter.username == "rina"
    event = ComplaintEvent.objects.get(kind=EventKind.CLAIMED)
    assert event.data == {"proof": "private_link"}


def test_registration_answers_the_same_whether_the_address_has_an_account():
    UserFactory(username="siti", email=VICTIM)
    new, taken = Client(), Client()
    fresh = register(new, "orang.baru@example.id")
    existing = register(taken, VICTIM.upper())
    assert (fresh.status_code, fresh["Location"]) == (existing.status_code, existing["Location"])
    new_page = new.get(fresh["Location"]).content.decode().replace("orang.baru@example.id", "@")
    taken_page = taken.get(existing["Location"]).content.decode().replace(VICTIM, "@")
    strip_tokens = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip_tokens.sub("", new_page) == strip_tokens.sub("", taken_page)
    assert get_user_model().objects.filter(email__iexact=VICTIM).count() == 1
    # The owner of the address hears that someone tried; no confirmation link goes out.
    mail = Notification.objects.get(recipient=VICTIM)
    assert mail.dedupe_key.startswith("register-existing:")
    assert "/accounts/password_reset/" in mail.body
    assert "/accounts/verify/" not in mail.body


def test_registration_does_not_reveal_a_taken_username_either(client):
    UserFactory(username="budi@example.id", email="")
    response = register(client, "budi@example.id")
    assert response.status_code == 302
    assert get_user_model().objects.filter(username__iexact="budi@example.id").count() == 1


@pytest.mark.parametrize(
    ("path", "field"),
    [("/accounts/register/", "email"), ("/accounts/password_reset/", "email")],
)
def test_mail_sending_forms_are_limited_per_address(client, path, field):
    UserFactory(username="siti", email=VICTIM)
    data = {"first_name": "X", "password1": PASSWORD, "password2": PASSWORD, field: VICTIM}
    answers = [Client(REMOTE_ADDR=f"10.0.0.{n}").post(path, data).status_code for n in range(1, 6)]
    assert answers[:3] == [302, 302, 302]
    assert answers[3:] == [429, 429]
    assert Notification.objects.filter(recipient=VICTIM).count() <= 3


def test_password_reset_is_limited_per_client_address(settings):
    attacker = Client(HTTP_ACCEPT_LANGUAGE="id")
    answers = [
        attacker.post("/accounts/password_reset/", {"email": f"orang{n}@example.id"})
        for n in range(12)
    ]
    assert [a.status_code for a in answers[:10]] == [302] * 10
    limited = answers[10]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert "menit" in limited.content.decode()
