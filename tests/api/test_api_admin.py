"""Tokens and Open311 keys are issued and revoked in the admin, shown once, stored hashed."""

import re

import pytest
from django.contrib.messages import get_messages

from api.models import Open311Client, StaffToken
from tests.factories import UserFactory

from .conftest import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _shown_key(response) -> str:
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    match = re.search(r"(\w{8}\.\w+)", text)
    assert match, text
    return match.group(1)


def with_two_factor(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return user


def test_admin_issues_a_staff_token_once_and_revokes_it(admin_client, people):
    with_two_factor(people["coordinator"])
    response = admin_client.post(
        "/admin/api/stafftoken/add/",
        {"name": "SIMDA Banjarbaru", "user": people["coordinator"].pk},
    )
    assert response.status_code == 302
    key = _shown_key(response)
    token = StaffToken.objects.get()
    assert token.user == people["coordinator"]
    # Stored hashed: the secret part of the key is nowhere in the row.
    secret = key.split(".", 1)[1]
    assert secret not in token.hashed_key and secret not in token.id
    ok = client_as(None, HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/staff/queue/")
    assert ok.status_code == 200
    # Shown once, on the page after saving; never again.
    assert secret in admin_client.get("/admin/api/stafftoken/").content.decode()
    page = admin_client.get(f"/admin/api/stafftoken/{token.pk}/change/")
    assert secret not in page.content.decode()
    admin_client.post(
        "/admin/api/stafftoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked
    refused = client_as(None, HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/staff/queue/")
    assert refused.status_code == 401


def test_tokens_are_only_for_staff_accounts(admin_client, people):
    response = admin_client.post(
        "/admin/api/stafftoken/add/",
        {"name": "Bukan staf", "user": people["citizen"].pk},
    )
    assert response.status_code == 200
    assert "staf" in response.content.decode()
    assert StaffToken.objects.count() == 0


def test_tokens_are_only_issued_to_accounts_with_two_factor_sign_in(admin_client, people):
    """A token skips the code step: an account without a second factor gets none, so that under
    the two-factor policy a token is never the way around it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=people["officer"], name="Authenticator", confirmed=False)
    for user in (people["coordinator"], people["officer"]):  # none, or not yet confirmed
        response = admin_client.post(
            "/admin/api/stafftoken/add/", {"name": "SIMDA", "user": user.pk}
        )
        assert response.status_code == 200
        assert "dua langkah" in response.content.decode()
    assert StaffToken.objects.count() == 0
    with_two_factor(people["officer"])
    response = admin_client.post(
        "/admin/api/stafftoken/add/", {"name": "SIMDA", "user": people["officer"].pk}
    )
    assert response.status_code == 302
    assert StaffToken.objects.get().user == people["officer"]


def test_admin_issues_an_open311_key(admin_client):
    response = admin_client.post(
        "/admin/api/open311client/add/",
        {"name": "Aplikasi 311 kota lain", "contact_email": "dev@example.id"},
    )
    assert response.status_code == 302
    key = _shown_key(response)
    client = Open311Client.objects.get()
    assert key.split(".", 1)[1] not in client.hashed_key
    assert Open311Client.objects.get_from_key(key) == client
