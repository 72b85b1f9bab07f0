"""The public map, "similar nearby", "me too" (dukung) and the open data."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Complaint, Support
from complaints.selectors import complaints_similar_nearby
from complaints.services import complaint_support
from complaints.workflow import WorkflowError
from tests.complaints.test_query_plans import seq_scans
from tests.factories import category, complaint_submitted, region

pytestmark = pytest.mark.django_db

# Banjarbaru, near the town hall; ~0.0027 degrees of latitude is 300 m.
LAT, LON = Decimal("-3.442000"), Decimal("114.830000")
REPORTER_FIELDS = ("reporter", "Siti Aminah", "siti.aminah@example.id", "081234567890")


def filed(**kw):
    kw.setdefault("latitude", LAT)
    kw.setdefault("longitude", LON)
    return complaint_submitted(**kw).complaint


@pytest.fixture
def points(media_root):
    return {
        "near": filed(title="Lampu jalan mati dekat balai kota"),
        "secret": filed(title="Rahasia lampu", is_confidential=True),
        "far": filed(title="Lampu mati di Martapura", latitude=Decimal("-3.410000"), longitude=LON),
        "road": filed(title="Jalan berlubang", category_code="jalan"),
    }


def test_points_are_public_and_routed(points):
    assert points["near"].status == "assigned"
    assert not points["secret"].is_public


# -- the map -------------------------------------------------------------------------------


def test_the_map_counts_cells_without_rahasia_or_reporters(client, points):
    response = client.get("/peta/data/", {"zoom": 10, "bbox": "114.0,-4.0,116.0,-2.0"})
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "cells"
    assert sum(cell["count"] for cell in body["cells"]) == 3  # not the rahasia one
    text = response.content.decode()
    for value in (*REPORTER_FIELDS, "Rahasia", points["secret"].tracking_code):
        assert value not in text


def test_high_zoom_gives_markers_linking_to_pages(client, points):
    response = client.get(
        "/peta/data/", {"zoom": 17, "bbox": "114.82,-3.45,114.84,-3.43", "category": "pju"}
    )
    markers = response.json()["markers"]
    assert {m["code"] for m in markers} == {points["near"].tracking_code}
    assert markers[0]["url"] == points["near"].get_absolute_url()
    assert markers[0]["supporters"] == 0
    assert "reporter" not in json.dumps(markers)


def test_the_map_filters_by_status_region_and_period(client, points):
    base = {"zoom": 10, "bbox": "114.0,-4.0,116.0,-2.0"}
    count = lambda **f: sum(  # noqa: E731
        c["count"] for c in client.get("/peta/data/", {**base, **f}).json()["cells"]
    )
    assert count(status="resolved") == 0
    assert count(region="63.71") == 0
    assert count(region="63.72", period="30") == 3
    assert count(category="jalan") == 1


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"zoom": "x", "bbox": "114,-4,116,-2"},
        {"zoom": 10, "bbox": "nan,-4,116,-2"},
        {"zoom": 10, "bbox": "116,-4,114,-2"},
        {"zoom": 10, "bbox": "1,2,3"},
        {"zoom": 99, "bbox": "114,-4,116,-2"},
        {"zoom": 10, "bbox": "114,-4,116,-2", "status": "triage"},
    ],
)
def test_bad_map_requests_get_field_errors(client, params):
    response = client.get("/peta/data/", params)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_the_page_shows_regencies_and_counts_without_tiles(client, points, settings):
    settings.LAPOR_MAP_TILE_URL = ""
    page = client.get("/peta/").content.decode()
    assert 'data-tiles=""' in page
    assert "Kota Banjarbaru" in page
    assert "<td>3</td>" in page
    assert "Rahasia" not in page
    assert "/peta/" in client.get("/").content.decode()
    assert "/peta/" in client.get("/complaints/").content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
@pytest.mark.parametrize(
    "params",
    [
        {"zoom": 10, "bbox": "114.0,-4.0,116.0,-2.0"},
        {"zoom": 12, "bbox": "114.7,-3.5,114.9,-3.3", "category": "pju", "period": "30"},
        {"zoom": 17, "bbox": "114.82,-3.45,114.84,-3.43", "status": "assigned"},
    ],
)
def test_the_map_query_uses_its_index(client, points, params):
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/peta/data/", params).status_code == 200
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for query in captured.captured_queries:
                if "complaints_complaint" not in query["sql"]:
                    continue
                cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
                plan = cursor.fetchone()[0]
                plans.append(json.loads(plan) if isinstance(plan, str) else plan)
        finally:
            cursor.execute("RESET enable_seqscan")
    assert plans
    for plan in plans:
        assert seq_scans(plan[0]["Plan"]) == []
    if params["zoom"] < 15:  # the grid count: from the map's index (single markers: any index)
        assert any("complaint_map_idx" in json.dumps(plan) for plan in plans)


# -- similar nearby --------------------------------------------------------------------------


def test_similar_nearby_finds_open_public_ones_of_the_category_within_300_m(points):
    old = filed(title="Lampu lama", now=timezone.now() - timedelta(days=61))
    found = complaints_similar_nearby(
        category=category("pju"), latitude=LAT + Decimal("0.001"), longitude=LON
    )
    assert [c.pk for c in found] == [points["near"].pk]
    assert 100 < found[0].distance_m < 120
    assert old.pk not in [c.pk for c in found]


def test_similar_without_a_pin_goes_by_district(points):
    same = filed(title="Lampu di Landasan Ulin", district="Landasan Ulin")
    found = complaints_similar_nearby(
        category=category("pju"), region=region("63.72"), district="landasan ulin"
    )
    assert [c.pk for c in found] == [same.pk]
    assert complaints_similar_nearby(category=category("pju")) == []


def test_the_similar_page_works_without_javascript(client, points):
    pju = category("pju")
    response = client.get(
        "/complaints/similar/", {"category": pju.pk, "latitude": LAT, "longitude": LON}
    )
    page = response.content.decode()
    assert points["near"].title in page
    assert "Rahasia" not in page and points["far"].title not in page
    assert "/complaints/new/?category=" in page
    fragment = client.get(
        "/complaints/similar/",
        {"category": pju.pk, "latitude": LAT, "longitude": LON, "fragment": 1},
    ).content.decode()
    assert points["near"].title in fragment and "<html" not in fragment
    bad = client.get("/complaints/similar/", {"category": pju.pk, "latitude": "1", "longitude": 2})
    assert bad.status_code == 200 and "Kalimantan Selatan" in bad.content.decode()
    assert "/complaints/similar/" in client.get("/complaints/new/").content.decode()


# -- me too ---------------------------------------------------------------------------------


def test_one_support_per_person(points, django_user_model):
    near = points["near"]
    assert complaint_support(complaint=near, email="budi@example.id")
    assert not complaint_support(complaint=near, email=" Budi@Example.id ")
    user = django_user_model.objects.create_user("warga", email="warga@example.id")
    assert complaint_support(complaint=near, user=user)
    assert not complaint_support(complaint=near, user=user)
    near.refresh_from_db()
    assert near.supporter_count == 2 == Support.objects.filter(complaint=near).count()
    assert "budi" not in json.dumps(list(Support.objects.values("email_hash")))


def test_rahasia_and_own_complaints_are_not_supportable(client, points):
    with pytest.raises(WorkflowError):
        complaint_support(complaint=points["secret"], email="budi@example.id")
    with pytest.raises(WorkflowError):
        complaint_support(complaint=points["near"], email="siti.aminah@example.id")
    url = f"/complaints/{points['secret'].tracking_code}/support/"
    assert client.post(url, {"email": "budi@example.id"}).status_code == 404
    assert not Support.objects.exists()


def test_supporting_from_the_page_and_the_count_everywhere(client, points):
    near = points["near"]
    url = f"/complaints/{near.tracking_code}/support/"
    assert client.post(url, {"email": ""}).status_code == 400
    assert client.post(url, {"email": "budi@example.id"}).status_code == 302
    assert client.post(url, {"email": "budi@example.id"}).status_code == 302
    assert Complaint.objects.get(pk=near.pk).supporter_count == 1
    assert 'id="supporter-count">1 ' in client.get(near.get_absolute_url()).content.decode()
    assert "1 pendukung" in client.get("/complaints/").content.decode()
    markers = client.get(
        "/peta/data/", {"zoom": 17, "bbox": "114.82,-3.45,114.84,-3.43", "category": "pju"}
    ).json()["markers"]
    assert markers[0]["supporters"] == 1
    api = client.get(f"/api/v1/complaints/{near.tracking_code}/").json()
    assert api["supporter_count"] == 1
    open311 = client.get("/open311/v2/requests.json", {"extensions": "true"}).json()
    mine = next(r for r in open311 if r["service_request_id"] == near.tracking_code)
    assert mine["extended_attributes"]["supporters"] == 1


def test_supporting_is_rate_limited(client, points, settings):
    settings.LAPOR_SUPPORT_RATE = "2/h"
    url = f"/complaints/{points['near'].tracking_code}/support/"
    for n in range(2):
        assert client.post(url, {"email": f"orang{n}@example.id"}).status_code == 302
    assert client.post(url, {"email": "orang9@example.id"}).status_code == 429


# -- open data ------------------------------------------------------------------------------


def test_open_data_has_no_reporter_and_no_rahasia(client, points):
    response = client.get("/data/complaints.csv")
    assert response.streaming and "license" in response["Link"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["tracking_code"] for r in rows} == {
        points[k].tracking_code for k in ("near", "far", "road")
    }
    geo = client.get("/data/complaints.geojson")
    geo_text = b"".join(geo.streaming_content).decode()
    body = json.loads(geo_text)
    assert body["license"] == "CC BY 4.0" and len(body["features"]) == 3
    for output in (text, geo_text):
        for value in (*REPORTER_FIELDS, "Rahasia", points["secret"].tracking_code):
            assert value not in output
        assert "description" not in output


def test_open_data_links_each_row_as_reverse_would_in_chunks_of_many_rows(
    client, points, monkeypatch
):
    from django.conf import settings
    from django.urls import reverse

    from portal import opendata

    monkeypatch.setattr(opendata, "CHUNK_CHARS", 1)  # every row its own chunk
    text = b"".join(client.get("/data/complaints.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    for row in rows:
        page = reverse("complaint-detail", args=[row["tracking_code"]])
        assert row["url"] == settings.LAPOR_SITE_URL + page
    odd = "LPR-A B?ü%"
    assert opendata._url_maker()(odd) == settings.LAPOR_SITE_URL + reverse(
        "complaint-detail", args=[odd]
    )
    # By default a few hundred rows share a chunk: the header, then one chunk for these three.
    monkeypatch.undo()
    assert len(list(client.get("/data/complaints.csv").streaming_content)) == 2
    geo = list(client.get("/data/complaints.geojson").streaming_content)
    assert len(geo) == 2 and len(json.loads(b"".join(geo))["features"]) == 3


def test_open_data_is_filtered_like_the_list(client, points):
    text = b"".join(client.get("/data/complaints.csv?category=jalan").streaming_content).decode()
    assert [r["tracking_code"] for r in csv.DictReader(io.StringIO(text))] == [
        points["road"].tracking_code
    ]
    assert client.get("/data/complaints.geojson?status=bogus").status_code == 400


def test_staff_see_supporters_in_the_queue_and_sort_by_them(client, points):
    from tests.factories import officer
    from tests.workspace.test_queue import codes

    complaint_support(complaint=points["far"], email="a@example.id")
    complaint_support(complaint=points["far"], email="b@example.id")
    complaint_support(complaint=points["road"], email="a@example.id")
    client.force_login(officer("63.72", "perkim"))
    response = client.get("/dashboard/queue/?sort=supporters")
    assert "Pendukung" in response.content.decode()
    ranked = codes(response)
    assert ranked.index(points["far"].tracking_code) < ranked.index(points["near"].tracking_code)
