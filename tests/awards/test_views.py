"""The ranking pages, CSV, API and the staff page, through the test client."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from awards.models import Level, RankingLog, Result, ResultStatus
from awards.services import ranking_compute, ranking_publish
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import complaint_new, coordinator, province_staff

from .dataset import WITA

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)
NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(db):
    return province_staff(username="prov.kalsel")


@pytest.fixture
def data(staff):
    """Banjarbaru: one public complaint followed up, one rahasia; Banjarmasin: one."""
    public = complaint_new(now=T0, title="Jalan berlubang di Jl. Panglima Batur")
    complaint_transition(
        complaint=public,
        action=Action.FOLLOW_UP,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        note="Ditinjau",
        now=T0 + timedelta(hours=5),
    )
    secret = complaint_new(now=T0, is_confidential=True, title="Rahasia: pungutan liar di kantor")
    complaint_new(now=T0, region_code="63.71")
    return {"public": public, "secret": secret}


@pytest.fixture
def published(data, staff):
    return ranking_publish(result=ranking_compute(year=2025, level=Level.REGENCY), actor=staff)


def csv_rows(response):
    text = response.content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.django_db
def test_rankings_shows_the_latest_published_year_with_chart_table_and_rules(client, published):
    response = client.get("/rankings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["year"] == 2025
    assert "<svg" in html and 'role="img"' in html and "<title" in html and "<desc" in html
    assert "Kota Banjarbaru" in html
    assert "Diterbitkan" in html  # published, in Indonesian
    assert "Cara pengaduan dihitung" in html  # the counting rules
    assert "/rankings/2025/regions/63.72/" in html
    assert response.context["table_rows"][0][0].name == "Kota Banjarbaru"


@pytest.mark.django_db
def test_without_a_published_year_the_draft_is_shown_as_provisional(client, data):
    ranking_compute(year=2026, level=Level.REGENCY)
    response = client.get("/rankings/")
    assert response.status_code == 200
    assert response.context["year"] == 2026
    assert "Sementara" in response.content.decode()


@pytest.mark.django_db
def test_a_year_without_a_ranking_says_so(client, db):
    response = client.get("/rankings/2024/")
    assert response.status_code == 404
    assert "Belum ada peringkat" in response.content.decode()
    assert client.get("/rankings/1999/").status_code == 404
    assert client.get("/rankings/2031/").status_code == 404


@pytest.mark.django_db
def test_bad_level_or_region_is_a_clear_400(client, published):
    response = client.get("/rankings/2025/?level=kecamatan")
    assert response.status_code == 400
    assert "kecamatan" in response.content.decode()
    assert client.get("/rankings/2025/?level=agency&region=99.99").status_code == 400
    assert client.get("/rankings/2025/csv/?level=nope").status_code == 400
    api = client.get("/api/v1/rankings/2025/?level=nope")
    assert api.status_code == 400 and "level" in api.json()["errors"]
    api = client.get("/api/v1/rankings/2025/?region=63.72")
    assert api.status_code == 400 and "region" in api.json()["errors"]
    assert client.get("/api/v1/rankings/2019/").status_code == 404


@pytest.mark.django_db
def test_csv_matches_the_table(client, published):
    page = client.get("/rankings/2025/")
    table = [[c.text for c in cells] for _, cells in page.context["table_rows"]]
    rows = csv_rows(client.get("/rankings/2025/csv/"))
    assert rows[0] == page.context["header"]
    assert rows[1:] == table
    assert len(rows) == 14


@pytest.mark.django_db
def test_agency_ranking_province_wide_and_within_one_regency(client, data, staff):
    ranking_compute(year=2025, level=Level.AGENCY)
    whole = client.get("/rankings/2025/?level=agency")
    assert whole.status_code == 200
    names = [row.name for row, _ in whole.context["table_rows"]]
    assert len(names) == 2  # Banjarbaru's PUPR and Banjarmasin's PUPR
    one = client.get("/rankings/2025/?level=agency&region=63.71")
    assert [row.region.code for row, _ in one.context["table_rows"]] == ["63.71"]
    assert one.context["table_rows"][0][1][0].text == "1"  # its rank within the regency
    rows = csv_rows(client.get("/rankings/2025/csv/?level=agency&region=63.71"))
    assert rows[1] == [c.text for c in one.context["table_rows"][0][1]]
    api = client.get("/api/v1/rankings/2025/?level=agency&region=63.71").json()
    assert [r["region_code"] for r in api["results"]] == ["63.71"]
    assert api["results"][0]["agency_code"] == "pupr"


@pytest.mark.django_db
def test_the_api_gives_scheme_criteria_and_breakdown(client, published):
    response = client.get("/api/v1/rankings/2025/?level=regency")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "published" and body["year"] == 2025
    assert [c["indicator"] for c in body["scheme"]["criteria"]] == [
        "received",
        "followed_up_share",
        "on_time_share",
    ]
    assert len(body["results"]) == 13
    first = body["results"][0]
    assert first["name"] == "Kota Banjarbaru" and first["rank"] == 1
    assert Decimal(first["score"]) == sum(Decimal(v["points"]) for v in first["breakdown"])
    assert first["predicate_id"]


@pytest.mark.django_db
def test_page_csv_and_api_do_not_move_after_publishing(client, published, staff):
    page = [
        [c.text for c in cells] for _, cells in client.get("/rankings/2025/").context["table_rows"]
    ]
    csv_before = client.get("/rankings/2025/csv/").content
    api_before = client.get("/api/v1/rankings/2025/").json()
    for _ in range(4):
        complaint_new(now=T0 + timedelta(days=30), region_code="63.03")
    complaint_transition(
        complaint=complaint_new(now=T0, region_code="63.71"),
        action=Action.FOLLOW_UP,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        note="Ditinjau",
        now=T0 + timedelta(hours=1),
    )
    draft = ranking_compute(year=2025, level=Level.REGENCY)
    banjar = draft.rows.get(name="Kabupaten Banjar")
    assert (banjar.score, banjar.values.first().raw) == (1, 4)  # the draft moved
    assert published.rows.get(name="Kabupaten Banjar").values.first().raw == 0
    after = client.get("/rankings/2025/")
    assert [[c.text for c in cells] for _, cells in after.context["table_rows"]] == page
    assert client.get("/rankings/2025/csv/").content == csv_before
    assert client.get("/api/v1/rankings/2025/").json() == api_before


@pytest.mark.django_db
def test_region_figures_count_rahasia_but_never_list_it(client, published, data):
    response = client.get("/rankings/2025/regions/63.72/")
    assert response.status_code == 200
    total = response.context["figures"]["total"]
    assert total.received == 2  # the rahasia one counts
    html = response.content.decode()
    assert data["secret"].tracking_code not in html
    assert data["secret"].title not in html
    assert data["public"].tracking_code not in html  # figures, not complaints
    assert "/complaints/?region=63.72" in html
    listed = client.get("/complaints/?region=63.72").content.decode()
    assert data["secret"].tracking_code not in listed
    assert client.get("/rankings/2025/regions/63/").status_code == 404


@pytest.mark.django_db
def test_pages_do_not_query_per_row(client, published, staff):
    ranking_compute(year=2025, level=Level.AGENCY)
    counts = []
    for url in ("/rankings/2025/", "/api/v1/rankings/2025/", "/rankings/2025/csv/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    for _ in range(3):
        complaint_new(now=T0, region_code="63.03", category_code="pju")
        complaint_new(now=T0, region_code="63.05")
    ranking_compute(year=2025, level=Level.AGENCY)
    for url, before in zip(
        ("/rankings/2025/?level=agency", "/api/v1/rankings/2025/?level=agency"),
        counts,
        strict=False,
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) <= before + 1


# --- the staff page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_provincial_staff_open_the_staff_page(client, data):
    assert client.get("/rankings/staff/").status_code == 302  # to sign in
    client.force_login(coordinator("63.72", username="koord.bjb"))
    assert client.get("/rankings/staff/").status_code == 403
    response = client.post("/rankings/staff/", {"action": "compute", "year": 2025})
    assert response.status_code == 403
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_staff_compute_compare_publish_and_withdraw(client, data, staff):
    client.force_login(staff)
    response = client.post(
        "/rankings/staff/", {"action": "compute", "year": 2025, "level": "regency"}
    )
    assert response.status_code == 302
    draft = Result.objects.get(year=2025, status=ResultStatus.DRAFT)
    page = client.get("/rankings/staff/?year=2025&level=regency")
    assert page.status_code == 200
    assert len(page.context["comparison"]) == 13
    assert page.context["compare_with"] is None

    # Publishing asks first: what will be frozen, changes since the last draft.
    response = client.post(
        "/rankings/staff/",
        {"action": "publish", "year": 2025, "level": "regency", "result": draft.pk},
    )
    assert response.status_code == 200
    assert response.templates[0].name == "awards/publish_confirm.html"
    assert response.context["row_count"] == 13 and response.context["year_over"]
    draft.refresh_from_db()
    assert draft.status == ResultStatus.DRAFT
    response = client.post(
        "/rankings/staff/",
        {
            "action": "publish",
            "confirmed": "1",
            "year": 2025,
            "level": "regency",
            "result": draft.pk,
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ResultStatus.PUBLISHED

    # Withdrawing without a reason: a clear 400 naming the field, nothing changed.
    response = client.post(
        "/rankings/staff/",
        {"action": "withdraw", "year": 2025, "level": "regency", "result": draft.pk},
    )
    assert response.status_code == 400
    assert "reason" in response.context["errors"]
    draft.refresh_from_db()
    assert draft.status == ResultStatus.PUBLISHED
    response = client.post(
        "/rankings/staff/",
        {
            "action": "withdraw",
            "year": 2025,
            "level": "regency",
            "result": draft.pk,
            "reason": "Angka Banjarmasin perlu diperiksa ulang",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ResultStatus.WITHDRAWN
    assert RankingLog.objects.filter(action="withdrawn", actor=staff).exists()
    # The next draft is compared with the last published year (none is published now).
    client.post("/rankings/staff/", {"action": "compute", "year": 2025, "level": "regency"})
    page = client.get("/rankings/staff/?year=2025&level=regency")
    assert page.context["draft"] is not None and page.context["published"] is None


@pytest.mark.django_db
def test_staff_page_refuses_bad_input_clearly(client, staff):
    client.force_login(staff)
    response = client.post("/rankings/staff/", {"action": "compute", "year": 1990})
    assert response.status_code == 400
    assert "year" in response.context["errors"]
    response = client.post(
        "/rankings/staff/", {"action": "compute", "year": 2025, "level": "kecamatan"}
    )
    assert response.status_code == 400
    assert "level" in response.context["errors"]
    assert client.get("/rankings/staff/?year=abc").status_code == 200
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_the_ranking_csv_is_spreadsheet_safe(client, data, staff):
    from agencies.models import Agency
    from awards.models import Criterion

    Agency.objects.filter(region__code="63.71", kind="pupr").update(
        name='=HYPERLINK("http://evil.example","klik")'
    )
    Criterion.objects.update(name_id="@SUM(1+1)*cmd|' /C calc'!A0")
    ranking_compute(year=2025, level=Level.AGENCY)
    rows = csv_rows(client.get("/rankings/2025/csv/?level=agency"))
    cells = [cell for row in rows for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert any(cell.startswith("'@SUM") for cell in cells)
    for cell in cells:
        assert not cell.lstrip(" ").startswith(("=", "+", "@", "\t", "\r")), cell
        if cell.startswith("-"):
            float(cell.replace(",", "."))  # only a plain negative number may start with "-"


@pytest.mark.django_db
def test_publishing_before_the_year_ends_needs_a_logged_reason(client, data, staff):
    client.force_login(staff)
    with time_machine.travel(datetime(2025, 11, 20, 9, tzinfo=WITA), tick=False):
        client.post("/rankings/staff/", {"action": "compute", "year": 2025, "level": "regency"})
        for _ in range(2):  # a second draft: the confirmation lists what changed
            complaint_new(now=datetime(2025, 11, 20, 8, tzinfo=WITA), region_code="63.03")
        client.post("/rankings/staff/", {"action": "compute", "year": 2025, "level": "regency"})
        draft = Result.objects.get(year=2025, status=ResultStatus.DRAFT)
        form = {"action": "publish", "year": 2025, "level": "regency", "result": draft.pk}
        page = client.post("/rankings/staff/", form, HTTP_ACCEPT_LANGUAGE="id")
        html = page.content.decode()
        assert "belum berakhir" in html and not page.context["year_over"]
        banjar = [c for c in page.context["changes"] if c["row"].region.code == "63.03"]
        assert banjar and banjar[0]["old"]["rank"] != banjar[0]["row"].rank
        refused = client.post("/rankings/staff/", {**form, "confirmed": "1"})
        assert refused.status_code == 400 and "reason" in refused.context["errors"]
        reason = "Penyerahan penghargaan dimajukan ke Desember"
        done = client.post("/rankings/staff/", {**form, "confirmed": "1", "reason": reason})
    assert done.status_code == 302
    assert RankingLog.objects.get(year=2025, action="published").reason == reason


@pytest.mark.django_db
def test_csv_cells_are_formula_safe(client, published):
    from awards.models import ResultRow

    ResultRow.objects.filter(result=published, region__code="63.72").update(name="=HYPERLINK(1)")
    rows = csv_rows(client.get("/rankings/2025/csv/"))
    assert any(r[2] == "'=HYPERLINK(1)" for r in rows[1:])
