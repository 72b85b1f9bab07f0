"""Characters XML cannot carry never reach the store, whichever door they come through, and
the Open311 XML feed stays well-formed even when one is in the database."""

import json

import pytest
from defusedxml import ElementTree
from django.test import Client
from rest_framework.test import APIClient

from api.models import Open311Client
from complaints.models import Complaint
from tests.api.test_api_complaints import payload
from tests.api.test_open311 import valid
from tests.factories import complaint_submitted
from tests.portal.test_views import form_data

pytestmark = pytest.mark.django_db

UNSAFE = "Lampu\x0b jalan\x00 mati\x1f di\ufffe depan\x08 pasar"


def assert_clean(complaint: Complaint) -> None:
    for field in ("title", "description", "address", "reporter_name"):
        value = getattr(complaint, field)
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in value), (field, value)
        assert "\ufffe" not in value
    assert "Lampu jalan mati di depan pasar" in complaint.title


def feed_parses() -> None:
    response = Client().get("/open311/v2/requests.xml")
    assert response.status_code == 200
    ElementTree.fromstring(response.content)  # raises when not well-formed


def test_the_form_stores_no_control_characters(client):
    fields = form_data(title=UNSAFE, address=UNSAFE.replace("\x00", ""), reporter_name="Siti\x0b")
    fields["title"] = fields["title"].replace("\x00", "")  # NUL is refused outright, see below
    response = client.post("/complaints/new/", fields)
    assert response.status_code == 302
    assert_clean(Complaint.objects.get())
    feed_parses()


def test_the_api_stores_no_control_characters_nor_lone_surrogates():
    body = json.dumps(payload(title=UNSAFE, description=UNSAFE + " \ud800 lagi", address=UNSAFE))
    response = APIClient().post("/api/v1/complaints/", body, content_type="application/json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        complaint = Complaint.objects.get()
        assert_clean(complaint)
        assert "\ud800" not in complaint.description
    feed_parses()


def test_open311_stores_no_control_characters():
    _client, key = Open311Client.objects.create_key(name="Kota lain")
    data = valid(key, description=UNSAFE.replace("\x00", ""), first_name="Siti\x0b")
    response = Client().post("/open311/v2/requests.json", data)
    assert response.status_code == 200, response.content
    complaint = Complaint.objects.get()
    assert "\x0b" not in complaint.description and "\x0b" not in complaint.reporter_name
    feed_parses()


def test_the_feed_is_well_formed_even_with_a_control_character_in_the_database():
    complaint = complaint_submitted(title="Lampu jalan mati").complaint
    # Past every input check (an old row, a bulk update): the output is the second line.
    Complaint.objects.filter(pk=complaint.pk).update(
        title="Lampu\x0b jalan", description="Deskripsi\x0c dengan\x1b kontrol"
    )
    feed_parses()
    response = Client().get(f"/open311/v2/requests/{complaint.tracking_code}.xml")
    root = ElementTree.fromstring(response.content)
    assert root.find("request/description").text == "Deskripsi dengan kontrol"
