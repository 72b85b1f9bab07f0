"""One client-address function for the submission limit and the login lock-out."""

import pytest
from django.test import Client, RequestFactory

from complaints.models import Complaint
from lapor.clientip import client_ip
from tests.factories import UserFactory
from tests.portal.test_views import form_data

PROXY = "10.0.0.2"


@pytest.mark.parametrize(
    ("header", "proxies", "forwarded", "expected"),
    [
        ("", 1, "203.0.113.9", PROXY),  # not configured: a client-sent header is ignored
        ("X-Forwarded-For", 1, "203.0.113.9", "203.0.113.9"),
        ("X-Forwarded-For", 1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # forged left part
        ("X-Forwarded-For", 2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        ("X-Forwarded-For", 2, "203.0.113.9", PROXY),  # fewer hops than our proxies
        ("X-Forwarded-For", 1, "not-an-address", PROXY),
        ("X-Forwarded-For", 1, None, PROXY),  # reached directly, no header
        ("X-Real-IP", 1, "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_ip(settings, header, proxies, forwarded, expected):
    settings.LAPOR_CLIENT_IP_HEADER = header
    settings.LAPOR_TRUSTED_PROXIES = proxies
    meta = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        meta["HTTP_" + (header or "X-Forwarded-For").upper().replace("-", "_")] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def citizen_behind_proxy(address: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


@pytest.mark.django_db
def test_citizens_behind_the_proxy_have_their_own_submission_buckets(settings, media_root):
    settings.LAPOR_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.LAPOR_SUBMIT_RATE = "2/h"
    first = citizen_behind_proxy("203.0.113.1")
    for n in range(2):
        response = first.post("/complaints/new/", form_data(submission_token=f"a{n}" * 4))
        assert response.status_code == 302
    assert first.post("/complaints/new/", form_data(submission_token="a9" * 4)).status_code == 429
    # A forged address in front of the proxy's entry does not give a new bucket ...
    forging = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1")
    assert forging.post("/complaints/new/", form_data(submission_token="f1" * 4)).status_code == 429
    # ... but a neighbour behind the same proxy is not held back by the first citizen.
    second = citizen_behind_proxy("203.0.113.2")
    assert second.post("/complaints/new/", form_data(submission_token="b1" * 4)).status_code == 302
    assert Complaint.objects.count() == 3


@pytest.mark.django_db
def test_without_the_setting_a_spoofed_header_changes_nothing(settings, media_root):
    settings.LAPOR_CLIENT_IP_HEADER = ""
    settings.LAPOR_SUBMIT_RATE = "2/h"
    for n in range(2):
        client = citizen_behind_proxy(f"203.0.113.{n + 1}")
        response = client.post("/complaints/new/", form_data(submission_token=f"c{n}" * 4))
        assert response.status_code == 302
    spoofing = citizen_behind_proxy("203.0.113.99")
    response = spoofing.post("/complaints/new/", form_data(submission_token="c9" * 4))
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_lock_out_follows_the_configured_address(settings):
    settings.LAPOR_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.AXES_FAILURE_LIMIT = 3
    settings.LAPOR_SIGNIN_FAILURE_RATE = "3/h"
    UserFactory(username="siti")
    UserFactory(username="budi")
    guesser = citizen_behind_proxy("203.0.113.66")
    for name in ("a", "b", "c"):
        guesser.post("/accounts/login/", {"username": name, "password": "x"})
    locked = guesser.post("/accounts/login/", {"username": "siti", "password": "s3cret-pass-123"})
    assert locked.status_code == 429
    # The neighbour behind the same proxy signs in.
    neighbour = citizen_behind_proxy("203.0.113.67")
    response = neighbour.post(
        "/accounts/login/", {"username": "budi", "password": "s3cret-pass-123"}
    )
    assert response.status_code == 302
