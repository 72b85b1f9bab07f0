"""Open311 GeoReport v2 conformance: every endpoint in JSON and XML, over raw HTTP, with the
XML read by a real parser; the spec's error bodies and status codes; privacy."""

import json
from datetime import timedelta

import pytest
import time_machine
from defusedxml import ElementTree
from django.test import Client
from django.utils import timezone

from api.models import Open311Client
from complaints.models import Channel, Complaint
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import complaint_submitted, officer

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]


@pytest.fixture
def http():
    return Client()


@pytest.fixture
def api_key():
    _client, key = Open311Client.objects.create_key(name="Aplikasi kota lain")
    return key


def get_json(http, path, **params):
    response = http.get(f"{BASE}/{path}", params)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response, json.loads(response.content)


def get_xml(http, path, **params):
    response = http.get(f"{BASE}/{path}", params)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return response, ElementTree.fromstring(response.content)


def assert_error(response, status, fmt):
    assert response.status_code == status
    if fmt == "json":
        body = json.loads(response.content)
        assert isinstance(body, list) and len(body) == 1
        assert body[0]["code"] == status and body[0]["description"]
    else:
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors"
        error = root.find("error")
        assert error.findtext("code") == str(status) and error.findtext("description")


# --- discovery and services -------------------------------------------------------------------


def test_discovery(http):
    _response, body = get_json(http, "discovery.json")
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    _response, root = get_xml(http, "discovery.xml")
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == [
        "text/xml",
        "application/json",
    ]
    assert {child.tag for child in root} >= {"changeset", "contact", "key_service", "endpoints"}


def test_services_one_per_category(http):
    _response, body = get_json(http, "services.json")
    assert isinstance(body, list)
    pju = next(s for s in body if s["service_code"] == "pju")
    assert list(pju) == SERVICE_FIELDS
    assert pju["metadata"] is True and pju["type"] == "realtime"
    _response, root = get_xml(http, "services.xml")
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(body)
    assert [child.tag for child in services[0]] == SERVICE_FIELDS
    assert services[0].findtext("metadata") == "true"


def test_service_definition(http):
    _response, body = get_json(http, "services/pju.json")
    assert body["service_code"] == "pju"
    codes = {a["code"]: a for a in body["attributes"]}
    assert codes["classification"]["datatype"] == "singlevaluelist"
    assert {v["key"] for v in codes["classification"]["values"]} == {
        "pengaduan",
        "aspirasi",
        "permintaan_informasi",
    }
    assert "63.72" in {v["key"] for v in codes["regency"]["values"]}
    _response, root = get_xml(http, "services/pju.xml")
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert [c.tag for c in attribute] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert attribute.find("values/value/key") is not None
    assert attribute.find("values/value/name") is not None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_and_format_are_404(http, fmt):
    assert_error(http.get(f"{BASE}/services/tidak-ada.{fmt}"), 404, fmt)
    assert_error(http.get(f"{BASE}/requests/LPR-2222-2222.{fmt}"), 404, fmt)
    assert_error(http.get(f"{BASE}/tokens/bukan-token.{fmt}"), 404, fmt)
    assert_error(http.get(f"{BASE}/nothing.{fmt}"), 404, fmt)
    assert_error(http.get(f"{BASE}/services.csv"), 404, "xml")


# --- POST requests ----------------------------------------------------------------------------


def post(http, fmt, **data):
    return http.post(f"{BASE}/requests.{fmt}", data)


def valid(key, **overrides):
    data = {
        "api_key": key,
        "service_code": "pju",
        "lat": "-3.4420",
        "long": "114.8310",
        "address_string": "Jl. Panglima Batur, Banjarbaru",
        "description": "Lampu jalan mati sejak minggu lalu.",
        "first_name": "Siti",
        "last_name": "Aminah",
        "email": "siti@example.id",
        "phone": "081234567890",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_request_files_a_complaint_routed_like_any_other(http, api_key, fmt):
    response = post(http, fmt, **valid(api_key))
    assert response.status_code == 200, response.content
    if fmt == "json":
        body = json.loads(response.content)
        assert isinstance(body, list) and len(body) == 1
        answer = body[0]
    else:
        root = ElementTree.fromstring(response.content)
        assert root.tag == "service_requests"
        item = root.find("request")
        answer = {child.tag: child.text or "" for child in item}
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    complaint = Complaint.objects.get(tracking_code=answer["service_request_id"])
    assert complaint.channel == Channel.OPEN311
    assert complaint.region.code == "63.72"
    assert complaint.status == "assigned" and complaint.follow_up_due_at is not None
    assert complaint.reporter_name == "Siti Aminah"
    assert answer["service_notice"]
    # The token names the request.
    _r, tokens = get_json(http, f"tokens/{answer['token']}.json")
    assert tokens == [{"service_request_id": complaint.tracking_code, "token": answer["token"]}]
    _r, root = get_xml(http, f"tokens/{answer['token']}.xml")
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text == complaint.tracking_code


def test_post_regency_from_attribute_and_from_address(http, api_key):
    by_attribute = post(
        http, "json", **valid(api_key, lat="", long="", **{"attribute[regency]": "63.71"})
    )
    assert by_attribute.status_code == 200, by_attribute.content
    by_address = post(
        http,
        "json",
        **valid(api_key, lat="", long="", address_string="Jl. Pramuka, Kota Banjarmasin"),
    )
    assert by_address.status_code == 200, by_address.content
    codes = [json.loads(r.content)[0]["service_request_id"] for r in (by_attribute, by_address)]
    assert {c.region.code for c in Complaint.objects.filter(tracking_code__in=codes)} == {"63.71"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "salah.kunci"}, 403),
        ({"service_code": ""}, 400),
        ({"service_code": "tidak-ada"}, 400),
        ({"lat": "", "long": "", "address_string": ""}, 400),
        ({"lat": "abc"}, 400),
        ({"lat": "NaN", "long": "Infinity"}, 400),
        ({"lat": "10.5", "long": "114.8"}, 400),
        ({"lat": "", "long": "", "address_string": "Jalan tanpa nama kota"}, 400),
        ({"attribute[regency]": "99.99"}, 400),
        ({"attribute[classification]": "lain"}, 400),
        ({"description": ""}, 400),
        ({"first_name": "", "last_name": ""}, 400),
        ({"email": "", "phone": ""}, 400),
        ({"email": "bukan-email"}, 400),
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"phone": "0" * 40}, 400),
        ({"email": "", "phone": "hubungi saya"}, 400),  # the forms' phone rule, in the service
        ({"phone": "<script>"}, 400),
        ({"description": "Lampu\x00mati"}, 400),
        ({"lat": "1e400", "long": "1e400"}, 400),
    ],
)
def test_post_errors_follow_the_spec_and_store_nothing(http, api_key, fmt, overrides, status):
    assert_error(post(http, fmt, **valid(api_key, **overrides)), status, fmt)
    assert Complaint.objects.count() == 0


def test_revoked_key_is_refused(http, api_key):
    Open311Client.objects.update(revoked=True)
    assert_error(post(http, "json", **valid(api_key)), 403, "json")


def test_post_is_throttled_per_key(http, api_key, settings):
    settings.LAPOR_API_RATES = {**settings.LAPOR_API_RATES, "open311_write": "1/hour"}
    assert post(http, "json", **valid(api_key)).status_code == 200
    limited = post(http, "json", **valid(api_key))
    assert_error(limited, 429, "json")
    assert int(limited["Retry-After"]) > 0
    assert Complaint.objects.count() == 1


# --- GET requests -----------------------------------------------------------------------------


@pytest.fixture
def complaints(db):
    staff = officer("63.72", "perkim")
    public = complaint_submitted(title="Lampu mati", latitude=None).complaint
    resolved = complaint_submitted(
        title="Lampu diganti", is_anonymous=True, reporter_name="Rahasia Pelapor"
    ).complaint
    complaint_transition(
        complaint=resolved,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=staff,
        note="Lampu sudah diganti petugas.",
    )
    rahasia = complaint_submitted(title="Rahasia", is_confidential=True).complaint
    road = complaint_submitted(category_code="jalan", title="Jalan rusak").complaint
    return {"public": public, "resolved": resolved, "rahasia": rahasia, "road": road}


def test_get_requests_json_and_xml(http, complaints):
    _r, body = get_json(http, "requests.json")
    codes = [r["service_request_id"] for r in body]
    assert complaints["rahasia"].tracking_code not in codes
    assert set(codes) == {complaints[k].tracking_code for k in ("public", "resolved", "road")}
    for item in body:
        assert list(item) == REQUEST_FIELDS
    resolved = next(
        r for r in body if r["service_request_id"] == complaints["resolved"].tracking_code
    )
    assert resolved["status"] == "closed"
    assert resolved["status_notes"] == "Lampu sudah diganti petugas."
    public = next(r for r in body if r["service_request_id"] == complaints["public"].tracking_code)
    assert public["status"] == "open" and public["lat"] == "" and public["zipcode"] == ""
    assert public["requested_datetime"].endswith("+08:00")
    assert public["expected_datetime"] == timezone.localtime(
        complaints["public"].follow_up_due_at
    ).isoformat(timespec="seconds")
    text = json.dumps(body)
    assert "Rahasia Pelapor" not in text and "siti.aminah@example.id" not in text
    _r, root = get_xml(http, "requests.xml")
    assert root.tag == "service_requests"
    items = root.findall("request")
    assert len(items) == 3
    assert [child.tag for child in items[0]] == REQUEST_FIELDS
    assert items[0].find("zipcode").text is None  # present and empty
    assert b"Rahasia Pelapor" not in ElementTree.tostring(root)


def test_get_requests_filters(http, complaints):
    def codes(**params):
        return {r["service_request_id"] for r in get_json(http, "requests.json", **params)[1]}

    assert codes(service_code="jalan") == {complaints["road"].tracking_code}
    assert codes(service_code="jalan,pju") == codes()
    assert codes(status="closed") == {complaints["resolved"].tracking_code}
    assert complaints["resolved"].tracking_code not in codes(status="open")
    wanted = f"{complaints['road'].tracking_code},{complaints['rahasia'].tracking_code}"
    # A list of ids overrides every other argument; rahasia stays out.
    assert codes(service_request_id=wanted, service_code="pju") == {
        complaints["road"].tracking_code
    }
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert codes(start_date=tomorrow) == set()
    soon = (timezone.localtime() + timedelta(minutes=1)).isoformat(timespec="seconds")
    assert codes(end_date=soon) == codes()
    assert codes(end_date=soon.replace("+", " ")) == codes()  # "+" decoded as a space


def test_get_requests_defaults_to_the_last_90_days(http):
    with time_machine.travel(timezone.now() - timedelta(days=120), tick=False):
        old = complaint_submitted(title="Lama").complaint
    recent = complaint_submitted(title="Baru").complaint
    body = get_json(http, "requests.json")[1]
    assert [r["service_request_id"] for r in body] == [recent.tracking_code]
    start = (timezone.localdate() - timedelta(days=125)).isoformat()
    end = (timezone.localdate() - timedelta(days=100)).isoformat()
    ranged = get_json(http, "requests.json", start_date=start, end_date=end)[1]
    assert [r["service_request_id"] for r in ranged] == [old.tracking_code]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"start_date": "kemarin"},
        {"end_date": "2026-13-45"},
        {"start_date": "2026-01-01", "end_date": "2025-01-01"},
        {"start_date": "2025-01-01", "end_date": "2026-01-01"},
        {"start_date": "9999-12-31"},
        {"end_date": "0001-01-01T00:00:00+08:00"},
        {"service_code": "pju\x00"},
    ],
)
def test_get_requests_bad_arguments_are_400(http, fmt, params):
    assert_error(http.get(f"{BASE}/requests.{fmt}", params), 400, fmt)


def test_get_one_request_is_a_one_element_array(http, complaints):
    code = complaints["public"].tracking_code
    _r, body = get_json(http, f"requests/{code}.json")
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["service_request_id"] == code
    _r, root = get_xml(http, f"requests/{code}.xml")
    assert root.tag == "service_requests" and len(root.findall("request")) == 1
    for fmt in ("json", "xml"):
        rahasia = http.get(f"{BASE}/requests/{complaints['rahasia'].tracking_code}.{fmt}")
        assert_error(rahasia, 404, fmt)


def test_nul_in_a_path_is_a_400_not_a_database_error(http):
    assert_error(http.get(f"{BASE}/requests/LPR%00.json"), 400, "json")
    assert_error(http.get(f"{BASE}/services/pju%00.xml"), 400, "xml")


def test_wrong_method_is_an_error_body(http):
    assert_error(http.delete(f"{BASE}/requests.json"), 405, "json")
    assert_error(http.post(f"{BASE}/services.xml"), 405, "xml")


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    "path", ["discovery", "services", "services/pju", "requests/LPR-X", "tokens/abc", "requests"]
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_wrong_method_with_csrf_checks_is_open311s_405_not_djangos_csrf_page(fmt, path, method):
    """A client outside the browser sends no CSRF cookie: the answer is still the spec's."""
    if path == "requests" and method == "post":
        return  # the one write Open311 has (api_key, not a cookie)
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(f"{BASE}/{path}.{fmt}")
    assert_error(response, 405, fmt)
    assert "GET" in response["Allow"]


def test_the_one_write_needs_no_csrf_cookie():
    response = Client(enforce_csrf_checks=True).post(f"{BASE}/requests.json", {})
    assert "CSRF" not in response.content.decode()
    assert_error(response, response.status_code, "json")  # Open311's own answer (no api_key)
