"""Every form and serializer that writes a model accepts no more than the model's columns hold:
an over-long value is a field error, never a database error (PostgreSQL refuses it with a 500).
Found by introspection, so a new field is checked without a new test."""

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts.views import RegisterForm
from api.models import Open311Client
from api.serializers import ComplaintCreateSerializer, NoteSerializer, RateSerializer
from complaints.models import Complaint, ComplaintEvent
from portal.forms import ComplaintForm, NoteForm, RatingForm, ReopenForm
from tests.api.test_api_complaints import payload
from tests.api.test_open311 import valid
from tests.portal.test_views import form_data
from workspace.forms import IntakeForm

# (model, form or serializer class, {form field: model field} where the names differ)
WRITERS = [
    (Complaint, ComplaintForm, {}),
    (Complaint, IntakeForm, {}),
    (Complaint, ComplaintCreateSerializer, {}),
    (ComplaintEvent, NoteForm, {}),
    (ComplaintEvent, RatingForm, {}),
    (ComplaintEvent, ReopenForm, {}),
    (ComplaintEvent, NoteSerializer, {}),
    (ComplaintEvent, RateSerializer, {}),
    (get_user_model(), RegisterForm, {}),
]
LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".id"  # 311 characters, valid syntax


def _fields(cls) -> dict:
    if issubclass(cls, serializers.BaseSerializer):
        return cls().fields
    return cls.base_fields


def _limit(field) -> int | None:
    return getattr(field, "max_length", None)


@pytest.mark.parametrize(
    ("model", "cls", "renamed"), WRITERS, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_field_is_no_longer_than_its_column(model, cls, renamed):
    columns = {f.name: f for f in model._meta.concrete_fields}
    checked = 0
    for name, field in _fields(cls).items():
        column = columns.get(renamed.get(name, name))
        if column is None or column.max_length is None:
            continue
        if not isinstance(field, forms.CharField | serializers.CharField):
            continue  # choices, relations, dates: bounded by what they accept
        checked += 1
        assert _limit(field) is not None and _limit(field) <= column.max_length, (
            f"{cls.__name__}.{name} allows {_limit(field)}, the column holds {column.max_length}"
        )
    assert checked or model is ComplaintEvent


def test_email_columns_hold_254():
    assert Complaint._meta.get_field("reporter_email").max_length == 254
    assert len(LONG_EMAIL) > 254


@pytest.mark.django_db
def test_an_over_long_email_is_a_field_error_at_every_door(client):
    response = client.post("/complaints/new/", form_data(reporter_email=LONG_EMAIL))
    assert response.status_code == 400 or "reporter_email" in response.context["form"].errors
    api = APIClient().post("/api/v1/complaints/", payload(reporter_email=LONG_EMAIL), format="json")
    assert api.status_code == 400 and "reporter_email" in api.json()["errors"]
    _c, key = Open311Client.objects.create_key(name="Kota lain")
    open311 = Client().post("/open311/v2/requests.json", valid(key, email=LONG_EMAIL))
    assert open311.status_code == 400
    assert not Complaint.objects.exists()
