"""Failed sign-ins lock the account and the address (django-axes), on the site and /admin/."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory, province_staff

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-123"  # tests.factories.UserFactory's


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(client, username, password, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_five_wrong_passwords_lock_the_account_and_the_address(url):
    user = province_staff(username="ratna")
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    for _attempt in range(4):
        response = sign_in(attacker, "ratna", "wrong-guess", url)
        assert response.status_code == 200
    response = sign_in(attacker, "ratna", "wrong-guess", url)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Tunggu 15 menit" in page  # what to do: wait, in Indonesian
    assert "/accounts/password_reset/" in page  # or reset the password

    # The right password no longer opens the account, from here ...
    assert sign_in(attacker, "ratna", PASSWORD, url).status_code == 429
    assert not is_signed_in(attacker)
    # ... nor from another address (the account is locked) ...
    owner = Client(REMOTE_ADDR="203.0.113.20")
    assert sign_in(owner, "ratna", PASSWORD, url).status_code == 429
    assert not is_signed_in(owner)
    # ... and the attacker's address cannot try another account either.
    UserFactory(username="budi")
    assert sign_in(attacker, "budi", PASSWORD, url).status_code == 429

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = sign_in(owner, "ratna", PASSWORD, url)
        assert response.status_code == 302
        assert is_signed_in(owner)
    assert user.pk == int(owner.session["_auth_user_id"])


def test_a_successful_sign_in_clears_the_count(client):
    UserFactory(username="siti")
    for _attempt in range(4):
        assert sign_in(client, "siti", "wrong-guess").status_code == 200
    assert sign_in(client, "siti", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _attempt in range(4):
        assert sign_in(client, "siti", "wrong-guess").status_code == 200
    assert sign_in(client, "siti", PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_the_lock_out_page_speaks_english_when_asked():
    UserFactory(username="siti")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _attempt in range(5):
        response = sign_in(client, "siti", "wrong-guess")
    assert response.status_code == 429
    assert "Wait 15 minutes" in response.content.decode()
