"""Failed sign-ins lock an account from the address they came from (django-axes, on the site
and /admin/), and an address that fails too often, whichever accounts it tries."""

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
def test_five_wrong_passwords_lock_the_account_from_that_address(url):
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

    # The right password no longer opens the account from here ...
    assert sign_in(attacker, "ratna", PASSWORD, url).status_code == 429
    assert not is_signed_in(attacker)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = sign_in(attacker, "ratna", PASSWORD, url)
        assert response.status_code == 302
        assert user.pk == int(attacker.session["_auth_user_id"])


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_guesses_from_five_addresses_do_not_lock_the_owner_out(url):
    """The attack that kept a staff account locked: 5 wrong passwords from each of 5 addresses,
    every 15 minutes. Each address is locked out of the account; its owner is not."""
    user = province_staff(username="ratna")
    for n in range(5):
        attacker = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        statuses = [sign_in(attacker, "ratna", "wrong-guess", url).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        assert sign_in(attacker, "ratna", PASSWORD, url).status_code == 429
    owner = Client(REMOTE_ADDR="203.0.113.20")  # their usual address
    response = sign_in(owner, "ratna", PASSWORD, url)
    assert response.status_code == 302
    assert user.pk == int(owner.session["_auth_user_id"])


def test_one_address_trying_many_accounts_is_held_back(settings):
    """The per-address limit: guesses spread over accounts, from one address."""
    settings.LAPOR_SIGNIN_FAILURE_RATE = "8/h"
    for name in ("budi", "siti", "ratna"):
        UserFactory(username=name)
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        sign_in(guesser, name, "wrong-guess").status_code
        for name in ("budi", "siti", "ratna", "budi", "siti", "ratna", "budi", "siti")
    ]
    assert statuses == [200] * 8  # no account had five failures from here
    response = sign_in(guesser, "ratna", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert not is_signed_in(guesser)
    # The neighbour at another address signs in.
    neighbour = Client(REMOTE_ADDR="203.0.113.20")
    assert sign_in(neighbour, "ratna", PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_use_up_the_address_limit(settings):
    """An office behind one address: many colleagues sign in, nobody is held back."""
    settings.LAPOR_SIGNIN_FAILURE_RATE = "3/h"
    office = "198.51.100.50"
    for n in range(6):
        UserFactory(username=f"staf{n}")
        colleague = Client(REMOTE_ADDR=office)
        assert sign_in(colleague, f"staf{n}", PASSWORD).status_code == 302


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
