"""One phone rule for every door (``complaints.contact.validate_phone``): each form and
serializer field that takes a reporter's phone number carries it, so its error shows beside the
field, and the services check it again for callers without a form. Found by walking the
project's forms and serializers, so a new door with a copied or missing rule fails here.

Open311's form is not walked: it hands every field to ``complaint_submit`` unchecked and
answers the service's error under GeoReport's field name (``tests/api/test_open311.py``)."""

import importlib
import inspect

import pytest
from django import forms
from rest_framework import serializers

from complaints.contact import validate_phone

MODULES = ("portal.forms", "workspace.forms", "api.serializers", "accounts.forms")


def phone_fields():
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            if issubclass(cls, forms.BaseForm):
                fields = cls.base_fields
            elif issubclass(cls, serializers.Serializer):
                fields = cls._declared_fields
            else:
                continue
            for field_name, field in fields.items():
                if "phone" in field_name and not getattr(field, "read_only", False):
                    yield f"{cls.__module__}.{cls.__name__}.{field_name}", field


FIELDS = dict(phone_fields())


def test_the_walk_finds_the_known_doors():
    assert {
        "portal.forms.ComplaintForm.reporter_phone",
        "portal.forms.ContactCorrectForm.phone",
        "api.serializers.ComplaintCreateSerializer.reporter_phone",
    } <= set(FIELDS)
    assert any(name.startswith("workspace.forms.") for name in FIELDS)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_phone_field_uses_the_one_rule(name):
    assert validate_phone in FIELDS[name].validators, name
