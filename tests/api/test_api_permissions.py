"""The permission matrix of every complaint endpoint, and privacy for each person.

Complaints are filed in Kota Banjarbaru about street lighting, which routing gives to
Banjarbaru's Perkim: "officer" works there, "other_officer" at Banjarbaru's PUPR,
"coordinator" coordinates Banjarbaru, "other_coordinator" Banjarmasin.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Agency
from complaints.models import Complaint, ComplaintEvent
from complaints.services import complaint_transition
from complaints.workflow import Action, Role

from .conftest import client_as, token_for

pytestmark = pytest.mark.django_db

PEOPLE = [
    "anonymous",
    "citizen",
    "reporter",
    "officer",
    "other_officer",
    "coordinator",
    "other_coordinator",
    "province",
]


def _state(complaint):
    complaint.refresh_from_db()
    return (
        complaint.status,
        complaint.assigned_agency_id,
        ComplaintEvent.objects.filter(complaint=complaint).count(),
    )


# Who may see which complaint (200) and who gets a 404.
SEE = {
    "public": dict.fromkeys(PEOPLE, 200),
    "rahasia": {
        "anonymous": 404,
        "citizen": 404,
        "reporter": 200,
        "officer": 200,
        "other_officer": 404,
        "coordinator": 200,
        "other_coordinator": 404,
        "province": 200,
    },
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("kind", ["public", "rahasia"])
@pytest.mark.parametrize("suffix", ["", "timeline/"])
def test_detail_and_timeline_matrix(people, filed, who, kind, suffix):
    code = filed[kind].tracking_code
    response = client_as(people[who]).get(f"/api/v1/complaints/{code}/{suffix}")
    assert response.status_code == SEE[kind][who]


# Who sees the reporter's identity on a complaint they may open: the reporter only; staff ask
# for it on the complaint's page, with a recorded reason (tests/workspace/test_contact_views.py).
SHOWS_REPORTER = {
    "public": {"reporter"},
    "anonim": {"reporter"},
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("kind", ["public", "anonim"])
def test_reporter_identity_matrix(people, filed, who, kind):
    code = filed[kind].tracking_code
    body = client_as(people[who]).get(f"/api/v1/complaints/{code}/").json()
    if who in SHOWS_REPORTER[kind]:
        assert body["reporter"]["email"] == "pelapor@example.id"
    else:
        assert body["reporter"] is None
        assert "pelapor@example.id" not in str(body)


def _agency(code):
    return Agency.objects.get(region__code="63.72", code=code).pk


STAFF_ACTIONS = {
    "follow-up": (lambda: {"note": "Petugas sudah dijadwalkan ke lokasi."}, Role.AGENCY_OFFICER),
    "resolve": (lambda: {"note": "Lampu sudah diganti."}, None),
    "not-ours": (lambda: {"note": "Ini kewenangan PUPR."}, None),
    "reroute": (lambda: {"agency": _agency("pupr"), "note": "Ke PUPR."}, None),
    "archive": (lambda: {"reason": "spam"}, None),
    "notes": (lambda: {"note": "Catatan untuk tim."}, None),
}
ANON = {"anonymous": 401}
OUTSIDERS = {"citizen": 403, "reporter": 403, "other_officer": 403, "other_coordinator": 403}
STAFF_EXPECTED = {
    "follow-up": {**ANON, **OUTSIDERS, "officer": 200, "coordinator": 200, "province": 200},
    "resolve": {**ANON, **OUTSIDERS, "officer": 200, "coordinator": 200, "province": 200},
    "not-ours": {**ANON, **OUTSIDERS, "officer": 200, "coordinator": 403, "province": 403},
    "reroute": {**ANON, **OUTSIDERS, "officer": 403, "coordinator": 200, "province": 200},
    "archive": {**ANON, **OUTSIDERS, "officer": 403, "coordinator": 200, "province": 200},
    "notes": {**ANON, **OUTSIDERS, "officer": 200, "coordinator": 200, "province": 200},
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("endpoint", list(STAFF_ACTIONS))
def test_staff_action_matrix(people, filed, who, endpoint):
    complaint = filed["public"]
    before = _state(complaint)
    body = STAFF_ACTIONS[endpoint][0]()
    response = client_as(people[who]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/{endpoint}/", body, format="json"
    )
    expected = STAFF_EXPECTED[endpoint][who]
    assert response.status_code == expected, response.json()
    if expected == 200:
        assert _state(complaint)[2] > before[2]
    else:
        assert response.json()["type"] in {"not_authenticated", "permission_denied"}
        assert _state(complaint) == before


@pytest.mark.parametrize("endpoint", list(STAFF_ACTIONS))
def test_staff_actions_on_rahasia_are_404_outside_scope(people, filed, endpoint):
    complaint = filed["rahasia"]
    before = _state(complaint)
    for who in ("other_officer", "other_coordinator"):
        response = client_as(people[who]).post(
            f"/api/v1/complaints/{complaint.tracking_code}/{endpoint}/",
            STAFF_ACTIONS[endpoint][0](),
            format="json",
        )
        assert response.status_code == 404
    assert _state(complaint) == before


def test_workflow_refusal_is_a_409_with_its_reason(people, filed):
    complaint = filed["public"]
    officer = client_as(people["officer"])
    code = complaint.tracking_code
    assert (
        officer.post(f"/api/v1/complaints/{code}/resolve/", {"note": "Beres."}).status_code == 200
    )
    before = _state(complaint)
    response = officer.post(f"/api/v1/complaints/{code}/follow-up/", {"note": "Lagi."})
    assert response.status_code == 409
    assert response.json()["type"] == "conflict"
    assert "Selesai" in response.json()["detail"]
    english = officer.post(
        f"/api/v1/complaints/{code}/follow-up/", {"note": "Again."}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Resolved" in english.json()["detail"]
    assert _state(complaint) == before


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("follow-up", {}, "note"),
        ("follow-up", {"note": "   "}, "note"),
        ("reroute", {"agency": 999999}, "agency"),
        ("reroute", {"agency": "x"}, "agency"),
        ("archive", {"reason": "bosan"}, "reason"),
        ("archive", {"reason": "duplicate"}, "duplicate_of"),
        ("archive", {"reason": "duplicate", "duplicate_of": "LPR-2222-2222"}, "duplicate_of"),
    ],
)
def test_staff_bad_input_names_the_field_and_changes_nothing(people, filed, endpoint, body, field):
    complaint = filed["public"]
    before = _state(complaint)
    response = client_as(people["coordinator"]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/{endpoint}/", body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert _state(complaint) == before


def test_reroute_to_an_agency_of_another_regency_is_refused(people, filed):
    complaint = filed["public"]
    before = _state(complaint)
    elsewhere = Agency.objects.get(region__code="63.71", code="pupr").pk
    response = client_as(people["coordinator"]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/reroute/", {"agency": elsewhere}
    )
    assert response.status_code == 400 and "agency" in response.json()["errors"]
    assert _state(complaint) == before


def test_archive_as_duplicate(people, filed):
    complaint, original = filed["public"], filed["anonim"]
    response = client_as(people["coordinator"]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/archive/",
        {"reason": "duplicate", "duplicate_of": original.tracking_code.lower()},
    )
    assert response.status_code == 200, response.json()
    complaint.refresh_from_db()
    assert complaint.status == "archived" and complaint.duplicate_of == original


# --- the reporter's actions -------------------------------------------------------------------


def _resolved(people, complaint):
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=people["officer"],
        note="Lampu sudah diganti.",
    )
    return complaint


REPORTER_ONLY = dict.fromkeys(PEOPLE, 403) | {"reporter": 200}


@pytest.mark.parametrize("who", PEOPLE)
def test_reply_matrix(people, filed, who):
    complaint = filed["public"]
    before = _state(complaint)
    response = client_as(people[who]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/reply/", {"note": "Terima kasih."}
    )
    assert response.status_code == REPORTER_ONLY[who]
    if REPORTER_ONLY[who] != 200:
        assert _state(complaint) == before


@pytest.mark.parametrize("who", PEOPLE)
def test_rate_matrix(people, filed, who):
    complaint = _resolved(people, filed["public"])
    before = _state(complaint)
    response = client_as(people[who]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/rate/", {"rating": 5, "note": "Cepat!"}
    )
    assert response.status_code == REPORTER_ONLY[who]
    if REPORTER_ONLY[who] == 200:
        assert response.json()["status"] == "closed" and response.json()["rating"] == 5
    else:
        assert _state(complaint) == before


@pytest.mark.parametrize("who", PEOPLE)
def test_reopen_matrix(people, filed, who):
    complaint = _resolved(people, filed["public"])
    before = _state(complaint)
    response = client_as(people[who]).post(
        f"/api/v1/complaints/{complaint.tracking_code}/reopen/", {"note": "Masih mati."}
    )
    assert response.status_code == REPORTER_ONLY[who]
    if REPORTER_ONLY[who] == 200:
        assert response.json()["status"] == "assigned"
    else:
        assert _state(complaint) == before


def test_reporter_bad_input_and_wrong_state(people, filed):
    complaint = filed["public"]
    client = client_as(people["reporter"])
    code = complaint.tracking_code
    before = _state(complaint)
    assert client.post(f"/api/v1/complaints/{code}/reply/", {}).json()["errors"].keys() == {"note"}
    bad_rating = client.post(f"/api/v1/complaints/{code}/rate/", {"rating": 9})
    assert bad_rating.status_code == 400 and "rating" in bad_rating.json()["errors"]
    not_yet = client.post(f"/api/v1/complaints/{code}/rate/", {"rating": 4})
    assert not_yet.status_code == 409
    assert _state(complaint) == before


def test_guest_acts_with_the_private_link_key(api):
    created = api.post(
        "/api/v1/complaints/",
        {
            "classification": "pengaduan",
            "title": "Lampu mati",
            "description": "Lampu jalan mati.",
            "category": "pju",
            "region": "63.72",
            "address": "Jl. Mistar Cokrokusumo",
            "incident_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
            "reporter_name": "Tamu",
            "reporter_phone": "081234567890",
            "is_confidential": True,
        },
        format="json",
    ).json()
    code, key = created["tracking_code"], created["access_key"]
    # Without the key a guest is nobody; a wrong key is no key.
    assert api.get(f"/api/v1/complaints/{code}/").status_code == 404
    assert api.get(f"/api/v1/complaints/{code}/", HTTP_X_ACCESS_KEY="salah").status_code == 404
    assert api.post(f"/api/v1/complaints/{code}/reply/", {"note": "Halo"}).status_code == 404
    response = api.post(
        f"/api/v1/complaints/{code}/reply/",
        {"note": "Lampunya di tiang nomor 12."},
        HTTP_X_ACCESS_KEY=key,
    )
    assert response.status_code == 200
    assert ComplaintEvent.objects.filter(complaint__tracking_code=code, kind="reply").count() == 1


# --- the staff queue --------------------------------------------------------------------------


QUEUE = {
    "anonymous": 401,
    "citizen": 403,
    "reporter": 403,
    "officer": {"public", "anonim", "rahasia"},
    "other_officer": set(),
    "coordinator": {"public", "anonim", "rahasia"},
    "other_coordinator": set(),
    "province": {"public", "anonim", "rahasia"},
}


@pytest.mark.parametrize("who", PEOPLE)
def test_staff_queue_matrix(people, filed, who):
    response = client_as(people[who]).get("/api/v1/staff/queue/")
    expected = QUEUE[who]
    if isinstance(expected, int):
        assert response.status_code == expected
        return
    assert response.status_code == 200
    rows = {row["tracking_code"]: row for row in response.json()["results"]}
    assert set(rows) == {filed[kind].tracking_code for kind in expected}
    # No reporter's contact in the queue, anonim or not (staff ask for it with a reason).
    assert all("reporter" not in row for row in rows.values())
    assert "pelapor@example.id" not in response.content.decode()


def test_staff_queue_filters_and_token_auth(people, filed):
    key = token_for(people["coordinator"])
    client = client_as(None, HTTP_AUTHORIZATION=f"Token {key}")
    everything = client.get("/api/v1/staff/queue/").json()
    assert len(everything["results"]) == 3 and everything["next"] is None
    found = client.get("/api/v1/staff/queue/", {"q": filed["rahasia"].tracking_code}).json()
    assert [r["tracking_code"] for r in found["results"]] == [filed["rahasia"].tracking_code]
    assert client.get("/api/v1/staff/queue/", {"status": "triage"}).json()["results"] == []
    assert client.get("/api/v1/staff/queue/", {"overdue": "true"}).json()["results"] == []
    bad = client.get("/api/v1/staff/queue/", {"status": "nope"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_revoked_expired_and_wrong_tokens_are_refused(people):

    from api.models import StaffToken

    key = token_for(people["officer"])
    token = StaffToken.objects.get_from_key(key)
    ok = client_as(None, HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/staff/queue/")
    assert ok.status_code == 200
    assert StaffToken.objects.filter(hashed_key__contains=key.split(".")[1]).count() == 0
    for header in (f"Token {key}x", "Token", "Token a b", "Bearer nope.nope"):
        response = client_as(None, HTTP_AUTHORIZATION=header).get("/api/v1/staff/queue/")
        assert response.status_code == 401, header
        assert response.json()["type"] == "authentication_failed"
    token.expiry_date = timezone.now()
    token.save()
    expired = client_as(None, HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/staff/queue/")
    assert expired.status_code == 401
    token.revoked = True
    token.expiry_date = None
    token.save()
    revoked = client_as(None, HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/staff/queue/")
    assert revoked.status_code == 401
    assert Complaint.objects.count() == 0


@pytest.mark.parametrize("who", PEOPLE)
def test_reference_and_public_list_matrix(people, filed, who):
    client = client_as(people[who])
    for path in ("/api/v1/regions/", "/api/v1/categories/", "/api/v1/agencies/"):
        assert client.get(path).status_code == 200
    listed = client.get("/api/v1/complaints/")
    assert listed.status_code == 200
    codes = {c["tracking_code"] for c in listed.json()["results"]}
    # The public list is public for everyone: staff find rahasia ones in their queue instead.
    assert codes == {filed["public"].tracking_code, filed["anonim"].tracking_code}
    assert "pelapor@example.id" not in listed.content.decode()


@pytest.mark.parametrize("who", PEOPLE)
def test_create_matrix(people, who):
    body = {
        "classification": "aspirasi",
        "title": "Usul taman bermain",
        "description": "Mohon dibangun taman bermain di kompleks kami.",
        "category": "pju",
        "region": "63.72",
        "address": "Kompleks Griya Permata",
        "incident_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "reporter_name": "Warga Griya",
        "reporter_email": "griya@example.id",
    }
    response = client_as(people[who]).post("/api/v1/complaints/", body, format="json")
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get()
    assert complaint.reporter == people[who]
    # A guest gets the private link's secret; an account needs none.
    assert (response.json()["access_key"] is None) == (people[who] is not None)
