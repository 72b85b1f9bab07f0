"""The OpenAPI document: complete, valid against the OpenAPI 3 specification, and true —
schemathesis sends generated requests to every operation through the WSGI app and checks that
none answers 5xx and every answer matches the document."""

import itertools

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from api.models import StaffToken
from tests.factories import complaint_submitted, province_staff

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/regions/"),
    ("get", "/api/v1/categories/"),
    ("get", "/api/v1/agencies/"),
    ("get", "/api/v1/complaints/"),
    ("post", "/api/v1/complaints/"),
    ("get", "/api/v1/complaints/{tracking_code}/"),
    ("get", "/api/v1/complaints/{tracking_code}/timeline/"),
    ("post", "/api/v1/complaints/{tracking_code}/reply/"),
    ("post", "/api/v1/complaints/{tracking_code}/rate/"),
    ("post", "/api/v1/complaints/{tracking_code}/reopen/"),
    ("post", "/api/v1/complaints/{tracking_code}/follow-up/"),
    ("post", "/api/v1/complaints/{tracking_code}/resolve/"),
    ("post", "/api/v1/complaints/{tracking_code}/not-ours/"),
    ("post", "/api/v1/complaints/{tracking_code}/reroute/"),
    ("post", "/api/v1/complaints/{tracking_code}/archive/"),
    ("post", "/api/v1/complaints/{tracking_code}/notes/"),
    ("get", "/api/v1/staff/queue/"),
}


def _document() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_document_is_valid_openapi_3():
    document = _document()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_document_covers_every_endpoint_with_its_errors():
    document = _document()
    found = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert found >= OPERATIONS
    for method, path in OPERATIONS:
        operation = document["paths"][path][method]
        assert operation.get("summary"), (method, path)
        codes = set(operation["responses"])
        if "{tracking_code}" in path:
            assert "404" in codes, (method, path)
        if method == "post":
            assert {"400", "429"} <= codes, (method, path)
        if path.startswith("/api/v1/complaints/{tracking_code}/") and method == "post":
            assert {"403", "409"} <= codes, (method, path)
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"type", "detail", "errors"}


def test_examples_are_in_indonesian():
    text = str(_document())
    assert "Sebagian data yang dikirim tidak valid." in text
    assert "Lampu jalan mati di depan SDN 1" in text


@pytest.fixture
def callers(settings):
    """Alternately an anonymous caller and provincial staff with a token."""
    settings.LAPOR_API_RATES = dict.fromkeys(settings.LAPOR_API_RATES, "100000/hour")
    complaint_submitted()
    complaint_submitted(is_confidential=True)
    _token, key = StaffToken.objects.create_key(name="schemathesis", user=province_staff())
    return itertools.cycle([{}, {"Authorization": f"Token {key}"}])


def _wsgi_schema():
    """The document as the app serves it (no database needed to build it)."""
    from lapor.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


# Loaded when the module is collected: schemathesis's lazy fixture loader does not run on
# pytest 9, and the document needs no database.
schema = _wsgi_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the app must not close the test's database connection
    (and with it the transaction the test runs in) at the end of each request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_every_answer_as_documented(case, callers, media_root):
    case.call_and_validate(headers=next(callers), checks=CHECKS)
