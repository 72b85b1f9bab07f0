"""The REST API: reference data, the public list, detail, timeline and create."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from complaints.models import Attachment, Channel, Complaint
from tests.factories import complaint_submitted

from .conftest import client_as, token_for

pytestmark = pytest.mark.django_db


def payload(**overrides):
    data = {
        "classification": "pengaduan",
        "title": "Jalan berlubang di Jl. A. Yani km 30",
        "description": "Lubang besar di tengah jalan, sudah ada pengendara motor yang jatuh.",
        "category": "pju",
        "region": "63.72",
        "address": "Jl. A. Yani km 30, depan pasar",
        "incident_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "reporter_name": "Rahmat Hidayat",
        "reporter_email": "rahmat@example.id",
    }
    data.update(overrides)
    return data


def photo(name="foto.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


# --- reference data ---------------------------------------------------------------------------


def test_regions_categories_agencies(api):
    regions = api.get("/api/v1/regions/").json()
    assert {"code": "63.72", "name": "Kota Banjarbaru", "kind": "city"} in regions
    assert len(regions) == 14
    categories = api.get("/api/v1/categories/").json()
    assert "pju" in {c["code"] for c in categories}
    agencies = api.get("/api/v1/agencies/", {"region": "63.72"}).json()
    assert agencies and {a["region"] for a in agencies} == {"63.72"}


def test_category_names_follow_the_language(api):
    id_names = {c["code"]: c["name"] for c in api.get("/api/v1/categories/").json()}
    en = api.get("/api/v1/categories/", HTTP_ACCEPT_LANGUAGE="en").json()
    en_names = {c["code"]: c["name"] for c in en}
    assert id_names["pju"] != en_names["pju"]


# --- create -----------------------------------------------------------------------------------


def test_guest_creates_a_complaint_routed_like_the_form(api):
    response = api.post("/api/v1/complaints/", payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    complaint = Complaint.objects.get(tracking_code=body["tracking_code"])
    assert complaint.channel == Channel.API
    assert complaint.status == "assigned" and complaint.assigned_agency is not None
    assert body["agency"]["name"] == complaint.assigned_agency.name
    assert body["access_key"] and body["private_link"].endswith(body["access_key"])
    assert response["Location"].endswith(f"/api/v1/complaints/{body['tracking_code']}/")
    # The guest sees their own identity on their complaint, with the key.
    detail = api.get(
        f"/api/v1/complaints/{complaint.tracking_code}/", HTTP_X_ACCESS_KEY=body["access_key"]
    ).json()
    assert detail["reporter"]["name"] == "Rahmat Hidayat"
    assert "reply" in detail["allowed_actions"]


def test_create_multipart_with_attachments(api):
    data = payload()
    data["attachments"] = [photo(), photo("kedua.jpg")]
    response = api.post("/api/v1/complaints/", data, format="multipart")
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get(tracking_code=response.json()["tracking_code"])
    assert complaint.attachments.count() == 2
    assert len(response.json()["attachments"]) == 2
    names = {item["name"] for item in response.json()["attachments"]}
    assert names == {a.download_name for a in complaint.attachments.all()}
    assert "kedua" not in response.content.decode()  # the uploader's file name is not kept


def test_attachment_checked_by_content(api):
    data = payload()
    data["attachments"] = [SimpleUploadedFile("foto.jpg", b"MZ not an image", "image/jpeg")]
    response = api.post("/api/v1/complaints/", data, format="multipart")
    assert response.status_code == 400
    assert "attachments" in response.json()["errors"]
    assert Complaint.objects.count() == 0 and Attachment.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 151}, "title"),
        ({"category": "tidak-ada"}, "category"),
        ({"region": "99.99"}, "region"),
        ({"classification": "lain"}, "classification"),
        ({"incident_date": "2999-01-01"}, "incident_date"),
        ({"incident_date": "kemarin"}, "incident_date"),
        ({"latitude": "-3.4"}, "latitude"),
        ({"latitude": "10.0", "longitude": "115.0"}, "latitude"),
        ({"reporter_name": ""}, "reporter_name"),
        ({"reporter_email": "", "reporter_phone": ""}, "reporter_email"),
        ({"reporter_email": "bukan-email"}, "reporter_email"),
        ({"reporter_phone": "abc"}, "reporter_phone"),
        ({"description": "a\x00b"}, "description"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_nothing_stored(api, overrides, field):
    response = api.post("/api/v1/complaints/", payload(**overrides), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert field in body["errors"], body
    assert Complaint.objects.count() == 0


def test_errors_in_indonesian_by_default_and_english_on_request(api):
    bad = payload(title="")
    id_body = api.post("/api/v1/complaints/", bad, format="json").json()
    en_body = api.post("/api/v1/complaints/", bad, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert id_body["detail"] == "Sebagian data yang dikirim tidak valid."
    assert en_body["detail"] == "Some of the data sent is not valid."
    assert id_body["errors"]["title"] != en_body["errors"]["title"]


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/complaints/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "parse_error"


def test_signed_in_citizen_needs_no_guest_fields(people):
    client = client_as(people["citizen"])
    response = client.post(
        "/api/v1/complaints/", payload(reporter_name="", reporter_email=""), format="json"
    )
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get()
    assert complaint.reporter == people["citizen"]
    assert response.json()["access_key"] is None


def test_staff_token_create_is_entered_on_a_citizens_behalf(people):
    key = token_for(people["coordinator"])
    client = client_as(None, HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post("/api/v1/complaints/", payload(), format="json")
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get()
    assert complaint.reporter is None and complaint.entered_by == people["coordinator"]
    # The private link goes to the citizen by email and to the integration (e.g. to send by SMS).
    assert response.json()["access_key"]


def test_anonim_identity_is_not_echoed_to_staff_entering_it(people):
    key = token_for(people["coordinator"])
    client = client_as(None, HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post("/api/v1/complaints/", payload(is_anonymous=True), format="json")
    assert response.status_code == 201
    assert response.json()["reporter"] is None
    assert "rahmat@example.id" not in response.content.decode()


# --- idempotency ------------------------------------------------------------------------------


def test_same_idempotency_key_twice_is_one_complaint(api):
    key = str(uuid.uuid4())
    first = api.post("/api/v1/complaints/", payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = api.post("/api/v1/complaints/", payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Complaint.objects.count() == 1


def test_idempotency_key_used_after_its_answer_expired(api):
    from django.core.cache import cache

    key = str(uuid.uuid4())
    first = api.post("/api/v1/complaints/", payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    cache.clear()
    again = api.post("/api/v1/complaints/", payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 409
    # Nothing of the first complaint, not even its code: the caller may not be its sender.
    assert first.json()["tracking_code"] not in again.content.decode()
    assert Complaint.objects.count() == 1


SECRET_GUEST = {
    "is_anonymous": True,
    "is_confidential": True,
    "reporter_name": "Nama Rahasia",
    "reporter_email": "rahasia.pelapor@example.id",
    "reporter_phone": "081299990000",
}


def _nothing_of(response, first) -> None:
    text = response.content.decode()
    for secret in (
        first["access_key"],
        first["tracking_code"],
        "Nama Rahasia",
        "rahasia.pelapor@example.id",
        "081299990000",
    ):
        assert secret not in text


@pytest.mark.parametrize(
    "attack",
    [
        # another client (another address), the very same body
        {"body": "same", "client": {"REMOTE_ADDR": "203.0.113.66"}},
        # the same client, an empty body
        {"body": {}, "client": {}},
        # the same client, another body
        {"body": {"title": "Judul lain sama sekali"}, "client": {}},
    ],
    ids=["other-caller", "empty-body", "other-body"],
)
def test_an_idempotency_key_replays_nothing_to_another_caller_or_request(attack, people):
    from rest_framework.test import APIClient

    key = str(uuid.uuid4())
    body = payload(**SECRET_GUEST)
    first = APIClient(REMOTE_ADDR="198.51.100.7").post(
        "/api/v1/complaints/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert first.status_code == 201
    first = first.json()
    attacker = APIClient(**({"REMOTE_ADDR": "198.51.100.7"} | attack["client"]))
    sent = body if attack["body"] == "same" else attack["body"]
    replay = attacker.post("/api/v1/complaints/", sent, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code in (409, 422)
    assert "Idempotent-Replayed" not in replay
    _nothing_of(replay, first)
    # A signed-in citizen with the same key and body gets nothing either.
    signed_in = client_as(people["citizen"], REMOTE_ADDR="198.51.100.7")
    replay = signed_in.post("/api/v1/complaints/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code in (409, 422)
    _nothing_of(replay, first)
    assert Complaint.objects.count() == 1


def test_the_same_caller_with_the_same_multipart_request_gets_its_answer_again(api):
    key = str(uuid.uuid4())
    image = photo().read()

    def send():
        return api.post(
            "/api/v1/complaints/",
            {**payload(), "attachments": SimpleUploadedFile("a.jpg", image, "image/jpeg")},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first, second = send(), send()
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["access_key"] == first.json()["access_key"]


def test_idempotency_key_must_be_a_uuid(api):
    response = api.post("/api/v1/complaints/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Complaint.objects.count() == 0


# --- throttling -------------------------------------------------------------------------------


def test_anonymous_writes_are_throttled_per_ip(api, settings):
    settings.LAPOR_API_RATES = {**settings.LAPOR_API_RATES, "anon_write": "2/hour"}
    for _ in range(2):
        assert api.post("/api/v1/complaints/", payload(), format="json").status_code == 201
    response = api.post("/api/v1/complaints/", payload(), format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["type"] == "throttled"
    assert Complaint.objects.count() == 2
    # Another address is not held back, and reads are never throttled.
    other = api.post("/api/v1/complaints/", payload(), format="json", REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 201
    assert api.get("/api/v1/complaints/").status_code == 200


def test_staff_writes_are_throttled_per_token(people, settings):
    settings.LAPOR_API_RATES = {**settings.LAPOR_API_RATES, "token_write": "1/hour"}
    first = client_as(None, HTTP_AUTHORIZATION=f"Token {token_for(people['coordinator'])}")
    second = client_as(None, HTTP_AUTHORIZATION=f"Token {token_for(people['coordinator'])}")
    assert first.post("/api/v1/complaints/", payload(), format="json").status_code == 201
    limited = first.post("/api/v1/complaints/", payload(), format="json")
    assert limited.status_code == 429 and "Retry-After" in limited
    assert second.post("/api/v1/complaints/", payload(), format="json").status_code == 201


# --- list, detail, timeline, privacy ----------------------------------------------------------


def test_public_list_filters_and_cursor_pagination(api):
    for i in range(5):
        complaint_submitted(title=f"Lampu mati nomor {i}")
    complaint_submitted(title="Jalan rusak parah", category_code="jalan")
    body = api.get("/api/v1/complaints/", {"page_size": 2}).json()
    assert len(body["results"]) == 2 and body["next"]
    seen = [c["tracking_code"] for c in body["results"]]
    while body["next"]:
        body = api.get(body["next"]).json()
        seen += [c["tracking_code"] for c in body["results"]]
    assert len(seen) == len(set(seen)) == 6
    found = api.get("/api/v1/complaints/", {"q": "rusak parah"}).json()["results"]
    assert [c["title"] for c in found] == ["Jalan rusak parah"]
    assert (
        api.get("/api/v1/complaints/", {"category": "jalan"}).json()["results"][0]["category"][
            "code"
        ]
        == "jalan"
    )
    bad = api.get("/api/v1/complaints/", {"region": "99.99"})
    assert bad.status_code == 400 and "region" in bad.json()["errors"]


def test_rahasia_and_anonim_never_public(api, filed):
    listed = api.get("/api/v1/complaints/").json()["results"]
    codes = {c["tracking_code"] for c in listed}
    assert filed["public"].tracking_code in codes
    assert filed["anonim"].tracking_code in codes
    assert filed["rahasia"].tracking_code not in codes
    searched = api.get("/api/v1/complaints/", {"q": "rahasia"}).json()["results"]
    assert searched == []
    assert api.get(f"/api/v1/complaints/{filed['rahasia'].tracking_code}/").status_code == 404
    assert (
        api.get(f"/api/v1/complaints/{filed['rahasia'].tracking_code}/timeline/").status_code == 404
    )
    text = api.get("/api/v1/complaints/").content.decode()
    assert "pelapor@example.id" not in text and "reporter" not in text
    detail = api.get(f"/api/v1/complaints/{filed['anonim'].tracking_code}/").json()
    assert detail["reporter"] is None


def test_timeline_hides_internal_events_from_the_public(api, people, filed):
    from complaints.services import complaint_note_internal
    from complaints.workflow import Role

    complaint = filed["public"]
    complaint_note_internal(
        complaint=complaint, actor=people["officer"], role=Role.AGENCY_OFFICER, note="Cek gudang"
    )
    code = complaint.tracking_code
    public = api.get(f"/api/v1/complaints/{code}/timeline/").json()
    assert [e["kind"] for e in public] == ["submitted", "routed"]
    staff = client_as(people["officer"]).get(f"/api/v1/complaints/{code}/timeline/").json()
    assert [e["kind"] for e in staff][-1] == "note"


def test_unknown_complaint_is_a_json_404(api):
    response = api.get("/api/v1/complaints/LPR-2222-2222/")
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
    # A path no route matches too, while pages keep their HTML 404.
    nowhere = api.get("/api/v1/tidak-ada/")
    assert nowhere.status_code == 404
    assert (
        nowhere.json()
        == response.json()
        == {
            "type": "not_found",
            "detail": "Data tidak ditemukan.",
            "errors": {},
        }
    )
    assert api.get("/tidak-ada/").headers["Content-Type"].startswith("text/html")


def test_nul_characters_are_4xx_not_database_errors(api, people):
    # NUL in a path: refused by the input guard before any view reads it.
    assert api.get("/api/v1/complaints/LPR%00/").status_code == 400
    assert api.get("/api/v1/complaints/LPR%00/timeline/").status_code == 400
    officer = client_as(people["officer"])
    assert officer.post("/api/v1/complaints/LPR%00/resolve/", {"note": "x"}).status_code == 400
    assert api.get("/api/v1/agencies/", {"region": "63\x00"}).status_code == 400
    assert api.get("/api/v1/complaints/", {"q": "a\x00"}).status_code == 400
    assert api.get("/api/v1/complaints/", {"region": "6\x00"}).status_code == 400


def test_drf_messages_are_indonesian_too(api):
    body = api.post("/api/v1/complaints/", {}, format="json").json()
    assert body["errors"]["title"] == ["Bidang ini harus diisi."]
    english = api.post("/api/v1/complaints/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["errors"]["title"] == ["This field is required."]


def test_wrong_method_and_media_type_in_the_error_shape(api):
    deleted = api.delete("/api/v1/complaints/")
    assert deleted.status_code == 405 and deleted.json()["type"] == "method_not_allowed"
    xml = api.post("/api/v1/complaints/", "<a/>", content_type="application/xml")
    assert xml.status_code == 415 and xml.json()["type"] == "unsupported_media_type"


def test_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/complaints/{tracking_code}/follow-up/" in schema.json()["paths"]
    assert api.get("/api/docs/").status_code == 200


@pytest.mark.parametrize(
    "proxy", [{}, {"LAPOR_CLIENT_IP_HEADER": "X-Forwarded-For", "LAPOR_TRUSTED_PROXIES": 1}]
)
def test_a_forged_x_forwarded_for_does_not_escape_the_anonymous_limit(api, settings, proxy):
    for name, value in proxy.items():
        setattr(settings, name, value)
    settings.LAPOR_API_RATES = {**settings.LAPOR_API_RATES, "anon_write": "2/hour"}
    statuses = []
    for n in range(4):
        # The client writes any address it likes to the left; our proxy (if any) appends the
        # address it saw, the same every time.
        forged = f"10.9.{n}.{n}, 198.51.100.20" if proxy else f"10.9.{n}.{n}"
        response = api.post(
            "/api/v1/complaints/", payload(), format="json", HTTP_X_FORWARDED_FOR=forged
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 429, 429]
    assert Complaint.objects.count() == 2


def test_the_api_and_the_form_share_one_limit_per_complaint(people, filed, settings):
    settings.LAPOR_REPORTER_ACTION_COMPLAINT_RATE = "3/h"
    complaint = filed["public"]
    reporter = client_as(people["reporter"])
    api_url = f"/api/v1/complaints/{complaint.tracking_code}/reply/"
    form_url = f"/complaints/{complaint.tracking_code}/reply/"
    assert reporter.post(api_url, {"note": "Balasan 1"}, format="json").status_code == 200
    assert reporter.post(api_url, {"note": "Balasan 2"}, format="json").status_code == 200
    assert reporter.post(form_url, {"note": "Balasan 3"}).status_code == 302
    # The complaint's limit is spent, through either door, and from another address too.
    assert reporter.post(form_url, {"note": "Balasan 4"}).status_code == 429
    over = client_as(people["reporter"], REMOTE_ADDR="203.0.113.99").post(
        api_url, {"note": "Balasan 5"}, format="json"
    )
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert complaint.events.filter(kind="reply").count() == 3


# --- staff tokens enter complaints by the intake's rules ------------------------------------


def _token_client(user):
    return client_as(None, HTTP_AUTHORIZATION=f"Token {token_for(user)}")


@pytest.mark.parametrize("who", ["officer", "coordinator"])
def test_a_staff_token_cannot_file_a_complaint_in_another_regency(people, who):
    # Banjarbaru (63.72) staff, a complaint of Banjarmasin (63.71).
    response = _token_client(people[who]).post(
        "/api/v1/complaints/", payload(region="63.71"), format="json"
    )
    assert response.status_code == 400
    assert "region" in response.json()["errors"]
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("officer", "agency_officer"),
        ("coordinator", "region_coordinator"),
        ("province", "province_staff"),
    ],
)
def test_a_staff_token_complaint_records_a_role_its_user_holds(people, who, role):
    response = _token_client(people[who]).post("/api/v1/complaints/", payload(), format="json")
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get()
    submitted = complaint.events.get(kind="submitted")
    assert submitted.actor_role == role
    assert complaint.entered_by == people[who]
    if who == "officer":
        # Like the workspace's intake: an officer's entry goes to their own agency.
        assert complaint.assigned_agency.code == "perkim"


def test_provincial_staff_token_files_anywhere(people):
    response = _token_client(people["province"]).post(
        "/api/v1/complaints/", payload(region="63.71"), format="json"
    )
    assert response.status_code == 201
