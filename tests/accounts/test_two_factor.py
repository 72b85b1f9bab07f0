"""Two-factor sign-in with a TOTP authenticator: enrol, sign in with a code, and the
province's switch that makes it mandatory for staff."""

import base64
import hashlib
import hmac
import re
import struct
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SignInPolicy
from tests.factories import UserFactory, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-123"
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def totp(secret_b32: str, when: datetime) -> str:
    """RFC 6238 (30-second steps, 6 digits, SHA-1), as an authenticator app computes it."""
    secret = secret_b32.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int(when.timestamp()) // 30)
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def enrol(client) -> str:
    """Open the set-up page, read the key shown, confirm with the current code."""
    page = client.get("/accounts/two-factor/").content.decode()
    assert "<svg" in page  # the QR code
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    response = client.post("/accounts/two-factor/", {"token": totp(secret, datetime.now(UTC))})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def test_enrol_then_sign_in_asks_for_the_code():
    user = officer(username="petugas")
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(user)
        secret = enrol(client)
        assert TOTPDevice.objects.get(user=user).confirmed
        client.post("/accounts/logout/")

        traveller.shift(timedelta(minutes=2))
        browser = Client()
        response = browser.post("/accounts/login/", {"username": "petugas", "password": PASSWORD})
        assert response["Location"] == "/accounts/login/code/"
        assert "_auth_user_id" not in browser.session  # the password alone is not enough
        assert browser.get("/dashboard/").status_code == 302

        response = browser.post("/accounts/login/code/", {"token": "000000"})
        assert response.status_code == 200
        assert "Kode ini salah" in response.content.decode()
        assert "_auth_user_id" not in browser.session

        traveller.shift(timedelta(seconds=40))  # django-otp slows down retries after a failure
        response = browser.post("/accounts/login/code/", {"token": totp(secret, datetime.now(UTC))})
        assert response.status_code == 302
        assert response["Location"] == "/dashboard/"
        assert browser.get("/dashboard/").status_code == 200


def test_the_code_step_keeps_a_safe_next():
    user = UserFactory(username="warga")
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(user)
        secret = enrol(client)
        traveller.shift(timedelta(minutes=1))
        browser = Client()
        browser.post(
            "/accounts/login/?next=/complaints/", {"username": "warga", "password": PASSWORD}
        )
        response = browser.post("/accounts/login/code/", {"token": totp(secret, datetime.now(UTC))})
        assert response["Location"] == "/complaints/"


def test_the_code_step_needs_the_password_first(client):
    response = client.post("/accounts/login/code/", {"token": "123456"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_wrong_codes_count_as_failed_sign_ins(settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = officer(username="petugas")
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(user)
        enrol(client)
        traveller.shift(timedelta(minutes=1))
        browser = Client()
        browser.post("/accounts/login/", {"username": "petugas", "password": PASSWORD})
        statuses = []
        for _guess in range(3):
            traveller.shift(timedelta(minutes=1))
            statuses.append(browser.post("/accounts/login/code/", {"token": "111111"}).status_code)
        assert statuses == [200, 200, 429]
        assert "_auth_user_id" not in browser.session


def test_province_staff_make_it_mandatory_and_staff_without_a_device_must_enrol():
    boss = province_staff(username="provinsi")
    client = Client()
    client.force_login(boss)
    response = client.post("/accounts/two-factor/policy/", {"staff_two_factor_required": "on"})
    assert response.status_code == 302
    policy = SignInPolicy.objects.get()
    assert policy.staff_two_factor_required and policy.updated_by == boss

    # The province's own session is sent to enrol before the admin and the dashboard.
    for url in ("/admin/", "/dashboard/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/two-factor/?next=")

    agency_officer = Client()
    agency_officer.force_login(officer(username="petugas"))
    response = agency_officer.get("/dashboard/")
    assert response["Location"] == "/accounts/two-factor/?next=%2Fdashboard%2F"
    with time_machine.travel(START, tick=False):
        # The first enrolment opens with the link emailed to the account's address.
        agency_officer.post(response["Location"])
        agency_officer.get(path_of(enrolment_link(User.objects.get(username="petugas"))))
        response = agency_officer.get(response["Location"])
        assert response.status_code == 200
        page = response.content.decode()
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
        response = agency_officer.post(
            "/accounts/two-factor/?next=/dashboard/", {"token": totp(secret, datetime.now(UTC))}
        )
        assert response["Location"] == "/dashboard/"
        assert agency_officer.get("/dashboard/").status_code == 200

    # Citizens are never asked.
    citizen = Client()
    citizen.force_login(UserFactory(username="warga"))
    assert citizen.get("/accounts/complaints/").status_code == 200


def test_mandatory_two_factor_asks_a_signed_in_user_with_a_device_for_the_code():
    user = coordinator(username="koordinator")
    with time_machine.travel(START, tick=False) as traveller:
        first = Client()
        first.force_login(user)
        secret = enrol(first)
        SignInPolicy.objects.create(staff_two_factor_required=True)
        other = Client()
        other.force_login(user)  # e.g. a session opened with a password before the rule
        response = other.get("/dashboard/")
        assert response["Location"] == "/accounts/login/code/?next=%2Fdashboard%2F"
        traveller.shift(timedelta(minutes=1))
        response = other.post(response["Location"], {"token": totp(secret, datetime.now(UTC))})
        assert response["Location"] == "/dashboard/"
        assert other.get("/dashboard/").status_code == 200
        # While it is mandatory, it cannot be turned off.
        traveller.shift(timedelta(minutes=1))
        other.post("/accounts/two-factor/", {"token": totp(secret, datetime.now(UTC))})
        assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_only_province_staff_change_the_policy():
    for user in (officer(username="petugas"), UserFactory(username="warga")):
        client = Client()
        client.force_login(user)
        response = client.post("/accounts/two-factor/policy/", {"staff_two_factor_required": "on"})
        assert response.status_code == 403
    assert not SignInPolicy.objects.filter(staff_two_factor_required=True).exists()


def test_turning_it_off_needs_a_current_code():
    user = UserFactory(username="warga")
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(user)
        secret = enrol(client)
        traveller.shift(timedelta(minutes=1))
        client.post("/accounts/two-factor/", {"token": "123456"})
        assert TOTPDevice.objects.filter(user=user).exists()
        traveller.shift(timedelta(minutes=1))
        client.post("/accounts/two-factor/", {"token": totp(secret, datetime.now(UTC))})
        assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_role_given_during_a_session_brings_the_staff_rules_at_once():
    from agencies.models import StaffRole
    from agencies.services import staff_membership_grant
    from tests.factories import agency

    SignInPolicy.objects.create(staff_two_factor_required=True)
    user = UserFactory(username="warga")
    client = Client()
    client.force_login(user)
    assert client.get("/accounts/complaints/").status_code == 200
    staff_membership_grant(
        user=user, role=StaffRole.AGENCY_OFFICER, agency=agency("63.72", "perkim")
    )
    response = client.get("/dashboard/")
    assert response["Location"] == "/accounts/two-factor/?next=%2Fdashboard%2F"


def test_the_policy_cannot_be_switched_off_without_the_second_factor():
    SignInPolicy.objects.create(staff_two_factor_required=True)
    client = Client()
    client.force_login(province_staff(username="provinsi"))  # a stolen password, no code
    response = client.post("/accounts/two-factor/policy/", {})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/?next=")
    assert SignInPolicy.objects.get().staff_two_factor_required


# --- the first enrolment while two-factor sign-in is mandatory ---------------------------------


def enrolment_link(user) -> str:
    """The link in the last enrolment email to ``user`` (as it is sent: the secret put back)."""
    from notifications.models import Notification

    mail = Notification.objects.filter(
        recipient=user.email, dedupe_key__startswith="totp-enrol:"
    ).last()
    assert mail is not None, "no enrolment email"
    assert mail.secret not in mail.body  # the outbox keeps the link out of the stored body
    body = mail.body.replace(Notification.SECRET_PLACEHOLDER, mail.secret)
    return re.search(r"http://\S+/accounts/two-factor/enrol/\?token=\S+", body).group(0)


def path_of(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_knowing_the_password_alone_cannot_enrol_when_two_factor_is_mandatory():
    """The attack: two-factor becomes mandatory; someone who knows an officer's password signs
    in first and would set up their own authenticator. Without the owner's mailbox: nothing."""
    SignInPolicy.objects.create(staff_two_factor_required=True)
    victim = officer(username="petugas")
    attacker = Client()
    response = attacker.post("/accounts/login/", {"username": "petugas", "password": PASSWORD})
    response = attacker.get(response["Location"], follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/")
    assert 'id="totp-secret"' not in page and "<svg" not in page  # no key to scan
    assert "p•••@example.id" in page  # where the link goes, masked
    # Posting a code (e.g. from a key guessed or seen elsewhere) enrols nothing ...
    with time_machine.travel(START, tick=False):
        attacker.post("/accounts/two-factor/", {"token": "123456"})
    assert not TOTPDevice.objects.filter(user=victim).exists()
    # ... asking for the link sends it to the owner, not to the page ...
    response = attacker.post("/accounts/two-factor/", follow=True)
    link = enrolment_link(victim)
    assert link.split("token=")[1] not in response.content.decode()
    assert 'id="totp-secret"' not in response.content.decode()
    # ... a forged or another account's link opens nothing ...
    other = officer(username="lain")
    other_session = Client()
    other_session.force_login(other)
    other_session.post("/accounts/two-factor/")
    for forged in ("/accounts/two-factor/enrol/?token=x", path_of(enrolment_link(other))):
        attacker.get(forged)
        assert 'id="totp-secret"' not in attacker.get("/accounts/two-factor/").content.decode()
    # ... and the staff pages stay shut.
    assert attacker.get("/dashboard/").status_code == 302
    assert not TOTPDevice.objects.filter(user=victim, confirmed=True).exists()


def test_the_owner_enrols_with_the_emailed_link():
    SignInPolicy.objects.create(staff_two_factor_required=True)
    owner = officer(username="petugas")
    with time_machine.travel(START, tick=False):
        browser = Client()
        browser.post("/accounts/login/", {"username": "petugas", "password": PASSWORD})
        browser.post("/accounts/two-factor/")
        response = browser.get(path_of(enrolment_link(owner)))
        assert response["Location"] == "/accounts/two-factor/"
        assert response["Referrer-Policy"] == "no-referrer"
        enrol(browser)
        assert browser.get("/dashboard/").status_code == 200
    assert TOTPDevice.objects.get(user=owner).confirmed


def test_the_link_opened_before_signing_in_leads_through_the_sign_in():
    SignInPolicy.objects.create(staff_two_factor_required=True)
    owner = officer(username="petugas")
    first = Client()
    first.force_login(owner)
    first.post("/accounts/two-factor/")
    link = path_of(enrolment_link(owner))
    with time_machine.travel(START, tick=False):
        browser = Client()  # e.g. the phone's mail app opened a new browser
        response = browser.get(link)
        assert response["Location"].startswith("/accounts/login/?next=")
        response = browser.post(response["Location"], {"username": "petugas", "password": PASSWORD})
        assert browser.get(response["Location"])["Location"] == "/accounts/two-factor/"
        enrol(browser)
    assert TOTPDevice.objects.get(user=owner).confirmed


def test_an_expired_link_opens_nothing():
    SignInPolicy.objects.create(staff_two_factor_required=True)
    owner = officer(username="petugas")
    with time_machine.travel(START, tick=False) as traveller:
        browser = Client()
        browser.force_login(owner)
        browser.post("/accounts/two-factor/")
        link = path_of(enrolment_link(owner))
        traveller.shift(timedelta(hours=1, minutes=1))
        browser.get(link)
        assert 'id="totp-secret"' not in browser.get("/accounts/two-factor/").content.decode()


def test_a_staff_account_without_an_email_address_is_told_whom_to_ask():
    SignInPolicy.objects.create(staff_two_factor_required=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer(username="petugas", email=""))
    page = client.get("/accounts/two-factor/").content.decode()
    assert "Ask an administrator of the province" in page
    assert 'id="totp-secret"' not in page
