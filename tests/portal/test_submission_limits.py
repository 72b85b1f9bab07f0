"""The complaint form's limits: per client address loosely (many people share one behind a
kelurahan office or a carrier's NAT), per contact tightly; over either, the form comes back with
what was typed and says when it can be sent."""

import re
import uuid

import pytest
from django.test import Client

from complaints.models import Complaint
from lapor.ratelimits import contact_of
from tests.factories import UserFactory
from tests.portal.test_views import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings, media_root):
    settings.LAPOR_SUBMIT_RATE = "4/h"
    settings.LAPOR_SUBMIT_CONTACT_RATE = "2/h"


def send(client, **fields):
    return client.post("/complaints/new/", form_data(submission_token=str(uuid.uuid4()), **fields))


def test_many_people_behind_one_address_are_counted_by_the_address_loosely():
    office = Client(REMOTE_ADDR="203.0.113.7")
    answers = [send(office, reporter_email=f"warga{n}@example.id").status_code for n in range(5)]
    assert answers == [302, 302, 302, 302, 429]
    assert Complaint.objects.count() == 4


def test_one_contact_from_many_addresses_is_counted_by_the_contact_tightly():
    answers = [
        send(Client(REMOTE_ADDR=f"198.51.100.{n}"), reporter_email="Siti@Example.id ").status_code
        for n in range(1, 4)
    ]
    assert answers == [302, 302, 429]
    # The same phone number, however it is written, is one contact too.
    phones = ["0812 3456 7890", "+62 812-3456-7890", "6281234567890"]
    answers = [
        send(Client(REMOTE_ADDR=f"192.0.2.{n}"), reporter_email="", reporter_phone=phone)
        for n, phone in enumerate(phones, start=1)
    ]
    assert [a.status_code for a in answers] == [302, 302, 429]


def test_a_signed_in_citizen_is_counted_by_the_account():
    citizen = UserFactory(email="rahmat@example.id")
    answers = []
    for n in range(3):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 10}")
        client.force_login(citizen)
        answers.append(send(client).status_code)
    assert answers == [302, 302, 429]


def test_over_the_limit_the_form_comes_back_with_what_was_typed_and_when():
    client = Client(REMOTE_ADDR="198.51.100.99")
    for _ in range(2):
        send(client)
    response = send(
        client,
        title="Jembatan kayu patah di Desa Sungai Tabuk",
        description="Papan jembatan patah, anak sekolah memutar 3 km.",
        district="Sungai Tabuk",
        is_anonymous="on",
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    html = response.content.decode()
    assert re.search(r"mengirim pengaduan ini \d+ menit lagi", html)
    assert 'value="Jembatan kayu patah di Desa Sungai Tabuk"' in html
    assert "Papan jembatan patah, anak sekolah memutar 3 km.</textarea>" in html
    assert 'value="Sungai Tabuk"' in html
    assert re.search(r'<option value="63\.72" selected>', html)
    assert re.search(r'name="is_anonymous"[^>]*checked', html)
    assert 'value="siti@example.id"' in html
    assert "pilih lagi sebelum mengirim" in html  # photos are not kept: it says so
    assert Complaint.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"reporter_email": " Siti@Example.ID"}, "email:siti@example.id"),
        ({"reporter_phone": "+62 812-3456-7890"}, "phone:081234567890"),
        ({"reporter_phone": "0812 3456 7890"}, "phone:081234567890"),
        ({"reporter_phone": "12"}, None),
        ({}, None),
    ],
)
def test_contact_of(data, expected):
    assert contact_of(data, None) == expected
