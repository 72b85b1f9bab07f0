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
