"""Every staff page, action, bulk action and export × every kind of visitor: allowed, or
refused (login, 403, 404, or a form error) with nothing changed. One scope decides it all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint, ComplaintEvent
from tests.factories import agency, complaint_submitted

from .workspace_helpers import PERSONAS, persona, triage_complaint

pytestmark = pytest.mark.django_db

LOGIN = "login"  # anonymous visitors are sent to sign in


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def world():
    handled = complaint_submitted(title="Lampu mati Banjarbaru").complaint  # → Perkim 63.72
    secret = complaint_submitted(title="Pungli rahasia", is_confidential=True).complaint
    waiting = triage_complaint("63.72")
    return {
        "handled": handled,
        "secret": secret,
        "waiting": waiting,
        "perkim": agency("63.72", "perkim"),
        "pupr": agency("63.72", "pupr"),
    }


def intake_data(world):
    return {
        "channel": "social_media",
        "source_url": "https://www.facebook.com/groups/banjarbaru/posts/123",
        "raised_on": timezone.localdate().isoformat(),
        "classification": "pengaduan",
        "category": world["perkim"].pk and "1",
        "region": "63.72",
        "agency": world["perkim"].pk,
        "address": "Jl. Panglima Batur",
        "title": "Lampu jalan padam di Panglima Batur",
        "description": "Warga mengeluh di Facebook: lampu jalan padam seminggu.",
    }


# (name, method, url(world), data(world), {persona: expected status})
ALL_STAFF = {
    "anonymous": LOGIN,
    "citizen": 403,
    "officer": 200,
    "other_officer": 200,
    "coordinator": 200,
    "other_coordinator": 200,
    "province": 200,
}
PERKIM_ONLY = {
    "anonymous": LOGIN,
    "citizen": 403,
    "officer": 200,
    "other_officer": 404,
    "coordinator": 200,
    "other_coordinator": 404,
    "province": 200,
}
COORDINATORS = {
    "anonymous": LOGIN,
    "citizen": 403,
    "officer": 403,
    "other_officer": 403,
    "coordinator": 200,
    "other_coordinator": 200,
    "province": 200,
}
BULK = {
    "anonymous": LOGIN,
    "citizen": 403,
    "officer": 403,
    "other_officer": 403,
    "coordinator": 302,
    "other_coordinator": 404,
    "province": 403,  # provincial staff read triage; the regency's coordinator acts
}
CASES = [
    ("home", "get", lambda w: "/dashboard/", None, ALL_STAFF),
    ("queue", "get", lambda w: "/dashboard/queue/", None, ALL_STAFF),
    (
        "queue of one agency",
        "get",
        lambda w: f"/dashboard/queue/?agency={w['perkim'].pk}&status=all",
        None,
        PERKIM_ONLY,
    ),
    ("export", "get", lambda w: "/dashboard/queue/export.csv", None, ALL_STAFF),
    (
        "export of one agency",
        "get",
        lambda w: f"/dashboard/queue/export.csv?agency={w['perkim'].pk}&status=all",
        None,
        PERKIM_ONLY,
    ),
    (
        "queue of one regency",
        "get",
        lambda w: "/dashboard/queue/?region=63.72",
        None,
        {**PERKIM_ONLY, "officer": 404},  # an officer's scope is their agency, not a region
    ),
    ("triage", "get", lambda w: "/dashboard/triage/", None, COORDINATORS),
    (
        "bulk route",
        "post",
        lambda w: "/dashboard/triage/",
        lambda w: {
            "complaints": [w["waiting"].tracking_code],
            "bulk_action": "route",
            "agency": w["pupr"].pk,
        },
        BULK,
    ),
    (
        "bulk archive as spam",
        "post",
        lambda w: "/dashboard/triage/",
        lambda w: {"complaints": [w["handled"].tracking_code], "bulk_action": "spam"},
        BULK,
    ),
    ("intake page", "get", lambda w: "/dashboard/intake/", None, ALL_STAFF),
    (
        "intake",
        "post",
        lambda w: "/dashboard/intake/",
        intake_data,
        {
            "anonymous": LOGIN,
            "citizen": 403,
            "officer": 302,
            "other_officer": 400,  # Perkim is not their agency: refused, nothing stored
            "coordinator": 302,
            "other_coordinator": 400,  # Banjarbaru is not their region
            "province": 302,
        },
    ),
    (
        "rahasia complaint page",
        "get",
        lambda w: w["secret"].get_absolute_url(),
        None,
        {**PERKIM_ONLY, "anonymous": 404, "citizen": 404},
    ),
    (
        "staff action",
        "post",
        lambda w: f"/complaints/{w['handled'].tracking_code}/act/",
        lambda w: {"action": "follow_up", "note": "Tim ke lokasi."},
        {
            "anonymous": LOGIN,
            "citizen": 404,
            "officer": 302,
            "other_officer": 404,
            "coordinator": 302,
            "other_coordinator": 404,
            "province": 302,
        },
    ),
    ("figures", "get", lambda w: "/dashboard/figures/", None, ALL_STAFF),
    (
        "figures of one agency",
        "get",
        lambda w: f"/dashboard/figures/?agency={w['perkim'].pk}",
        None,
        PERKIM_ONLY,
    ),
    (
        "figures of one regency",
        "get",
        lambda w: "/dashboard/figures/?region=63.72",
        None,
        {**PERKIM_ONLY, "officer": 404},
    ),
]


def _snapshot():
    return (
        Complaint.objects.count(),
        ComplaintEvent.objects.count(),
        sorted(Complaint.objects.values_list("tracking_code", "status", "assigned_agency_id")),
    )


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize(
    ("method", "url", "data", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_access_matrix(client, world, who, method, url, data, expected):
    from agencies.models import Category

    user = persona(who)
    if user is not None:
        client.force_login(user)
    payload = data(world) if data else None
    if payload and "category" in payload:
        payload["category"] = Category.objects.get(code="pju").pk
    before = _snapshot()
    response = getattr(client, method)(url(world), payload or {})
    want = expected[who]
    if want == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == want, response.content[:500]
    if method == "post" and want not in (200, 302):
        assert _snapshot() == before, "a refused request changed something"
    if method == "post" and want == 302 and who != "anonymous":
        assert _snapshot() != before


@pytest.mark.parametrize("who", ["other_officer", "other_coordinator"])
def test_out_of_scope_complaints_never_show_in_queue_or_export(client, world, who):
    client.force_login(persona(who))
    page = client.get("/dashboard/queue/?status=all").content.decode()
    export = b"".join(client.get("/dashboard/queue/export.csv?status=all").streaming_content)
    for complaint in (world["handled"], world["secret"]):
        assert complaint.tracking_code not in page
        assert complaint.tracking_code.encode() not in export


def test_a_bulk_action_with_one_foreign_complaint_changes_nothing(client, world):
    foreign = complaint_submitted(region_code="63.71", now=timezone.now() - timedelta(hours=1))
    client.force_login(persona("coordinator"))
    before = _snapshot()
    response = client.post(
        "/dashboard/triage/",
        {
            "complaints": [world["waiting"].tracking_code, foreign.complaint.tracking_code],
            "bulk_action": "spam",
        },
    )
    assert response.status_code == 404
    assert _snapshot() == before
