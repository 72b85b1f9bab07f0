"""The yearly monitoring report (page and PDF) and the follow-up plans it carries: who sees it,
what it says, that every way of reading a year's ranking (page, print, CSV, XLSX, report page,
report PDF) shows the same numbers, and that each plan edit keeps the earlier versions."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from agencies.models import Region
from awards.models import ActionPlan, ActionPlanVersion, Level
from awards.services import RankingError, action_plan_write, ranking_compute, ranking_publish
from complaints.enforcement import deadlines_sweep
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import complaint_new, coordinator, officer, province_staff

from .dataset import WITA
from .test_exports import Tables

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)
NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)
URL = "/rankings/2025/report/"
PDF = "/rankings/2025/report/pdf/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    return province_staff(username="prov.kalsel")


def make_year(staff, year=2025):
    """Banjarbaru 3 received (2 followed up), Banjarmasin 2 (both), Banjar 4 (1): the others
    nothing; the unanswered ones miss their deadline (the sweep records it)."""
    start = T0.replace(year=year)
    for region_code, count, followed in (("63.72", 3, 2), ("63.71", 2, 2), ("63.03", 4, 1)):
        for n in range(count):
            complaint = complaint_new(now=start + timedelta(days=n * 35), region_code=region_code)
            if n < followed:
                complaint_transition(
                    complaint=complaint,
                    action=Action.FOLLOW_UP,
                    role=Role.PROVINCE_STAFF,
                    actor=staff,
                    note="Ditinjau",
                    now=complaint.created_at + timedelta(hours=6 + 40 * n),
                )
    deadlines_sweep(now=datetime(year, 12, 31, tzinfo=WITA))


def compute(year, *, publish, staff):
    results = {}
    for level in Level.values:
        result = ranking_compute(year=year, level=level, now=datetime(year + 1, 1, 5, tzinfo=WITA))
        results[level] = ranking_publish(result=result, actor=staff) if publish else result
    return results[Level.REGENCY]


@pytest.fixture
def draft(staff):
    make_year(staff)
    return compute(2025, publish=False, staff=staff)


@pytest.fixture
def published(staff):
    make_year(staff)
    return compute(2025, publish=True, staff=staff)


def tables_of(response) -> dict:
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def words(text: str) -> str:
    return " ".join(text.split())


# --- who sees it -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_drafts_report_is_for_staff_only(client, draft):
    assert client.get(URL).status_code == 404
    assert client.get(PDF).status_code == 404
    client.force_login(coordinator("63.72", username="kominfo-bjb"))
    page = client.get(URL)
    assert page.status_code == 200 and "Sementara" in page.content.decode()
    assert client.get(PDF)["Content-Disposition"].endswith('-provisional.pdf"')


@pytest.mark.django_db
def test_a_published_years_report_is_public(client, published):
    page = client.get(URL)
    assert page.status_code == 200
    response = client.get(PDF)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="lapor-monitoring-report-2025.pdf"'
    )
    assert client.get("/rankings/2025/").content.decode().count("/rankings/2025/report/") == 1


@pytest.mark.django_db
def test_years_without_a_ranking_have_no_report(client, published):
    assert client.get("/rankings/2024/report/").status_code == 404
    assert client.get("/rankings/2014/report/pdf/").status_code == 404
    assert client.get("/rankings/99999/report/").status_code == 404


# --- what it says ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sentences_summary_agencies_and_months_in_each_language(client, published):
    indonesian = client.get(URL, HTTP_ACCEPT_LANGUAGE="id")
    regencies = {r["row"].name: r["sentences"] for r in indonesian.context["regencies"]}
    assert regencies["Kota Banjarmasin"] == [
        "Kota Banjarmasin berada di peringkat 1 dari 13 dengan nilai 2,50 (Sangat baik).",
        "Kriteria terkuatnya adalah Tindak lanjut pengaduan: 1,00 dari 1,00 poin.",
        "Kriteria terlemahnya adalah Pengaduan melalui LAPOR (partisipasi): 0,50 dari 1,00 "
        "poin, dengan 2 terhadap median provinsi 0.",
    ]
    summary = indonesian.context["summary"]
    assert (summary["received"], summary["followed_up"]) == ("9", "5")
    assert summary["followed_up_share"] == "55,56 %"
    agencies = indonesian.context["agencies"]
    # Banjar's public works: three never answered, one answered but never resolved.
    assert (agencies[0]["region_name"], agencies[0]["breached"]) == ("Kabupaten Banjar", "4")
    months = indonesian.context["months"]
    assert [m["month"].month for m in months] == list(range(1, 13))
    assert months[2]["received"] == "3"  # March: one complaint in each regency

    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    regencies = {r["row"].name: r["sentences"] for r in english.context["regencies"]}
    assert regencies["Kota Banjarmasin"][0] == (
        "Kota Banjarmasin is ranked 1 of 13 with a score of 2.50 (Very good)."
    )
    assert english.context["summary"]["followed_up_share"] == "55.56 %"
    assert "Kabupaten Tanah Laut is ranked 4 of 13 with a score of 0.00" in words(
        english.content.decode()
    )  # no complaints, still there


# --- the same numbers everywhere ---------------------------------------------------------------


def csv_rows(response, delimiter=","):
    body = response.content.decode("utf-8")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))


@pytest.mark.django_db
@pytest.mark.parametrize("language, mark", [("id", ","), ("en", ".")])
def test_every_form_of_the_ranking_shows_the_same_numbers(client, published, language, mark):
    """The ranking page (compact table, and the full table that is printed), the CSV, the
    XLSX, the report page and the report's PDF: rank, name, score and predicate alike."""
    page = tables_of(client.get("/rankings/2025/", HTTP_ACCEPT_LANGUAGE=language))
    compact = [r[:4] for r in page["ranking-compact"][1:] if len(r) == 6]
    printed = [[r[0], r[2], r[3], r[5]] for r in page["ranking-table"][1:]]
    assert compact == printed and len(compact) == 13

    def as_shown(text):  # the downloads write "." ; the page writes the language's mark
        return text.replace(".", mark) if re.fullmatch(r"-?\d+\.\d+", text) else text

    plain = csv_rows(client.get("/rankings/2025/csv/", HTTP_ACCEPT_LANGUAGE=language))[1:]
    assert [[r[0], r[2], as_shown(r[3]), r[5]] for r in plain] == compact
    excel = csv_rows(
        client.get("/rankings/2025/csv/excel/", HTTP_ACCEPT_LANGUAGE=language), delimiter=";"
    )[1:]
    assert [[r[0], r[2], r[3], r[5]] for r in excel] == [
        [r[0], r[1], r[2].replace(".", ","), r[3]] for r in compact
    ]
    sheet = load_workbook(
        io.BytesIO(client.get("/rankings/2025/xlsx/", HTTP_ACCEPT_LANGUAGE=language).content)
    ).active
    xlsx = [list(r) for r in sheet.iter_rows(values_only=True)][1:]
    assert [[str(r[0]), r[2], as_shown(f"{r[3]:.2f}"), r[5]] for r in xlsx] == compact

    report = tables_of(client.get(URL, HTTP_ACCEPT_LANGUAGE=language))["report-ranking"]
    assert [r[:4] for r in report[1:]] == compact

    text = words(pdf_text(client.get(PDF, HTTP_ACCEPT_LANGUAGE=language).content))
    position = 0
    for rank, name, score, band in compact:
        found = text.find(f"{rank} {name} {score} {band}", position)
        assert found >= 0, (rank, name, score, band, text[position : position + 300])
        position = found


# --- the follow-up plans -----------------------------------------------------------------------


@pytest.mark.django_db
def test_each_edit_of_a_plan_keeps_the_earlier_versions(staff):
    banjar = Region.objects.get(code="63.03")
    first = action_plan_write(
        year=2025, region=banjar, text="Pendampingan admin SP4N-LAPOR! tiap bulan.", actor=staff
    )
    again = action_plan_write(
        year=2025, region=banjar, text="Pendampingan admin SP4N-LAPOR! tiap bulan.", actor=staff
    )
    assert again.pk == first.pk  # the same text adds nothing
    other = province_staff(username="prov.dua")
    second = action_plan_write(
        year=2025,
        region=banjar,
        text="Pendampingan tiap dua minggu dan pelatihan operator OPD.",
        actor=other,
        now=NOW + timedelta(hours=2),
    )
    versions = list(ActionPlan.objects.get(year=2025, region=banjar).versions.all())
    assert [(v.number, v.author, v.text[:12]) for v in versions] == [
        (2, other, "Pendampingan"),
        (1, staff, "Pendampingan"),
    ]
    assert second.written_at == NOW + timedelta(hours=2)
    assert versions[1].written_at == NOW


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, text, message",
    [
        ("coordinator", "Rencana yang cukup panjang untuk disimpan.", "Only provincial staff"),
        ("officer", "Rencana yang cukup panjang untuk disimpan.", "Only provincial staff"),
        ("province", "pendek", "20"),
        ("province", "x" * 5001, "5000"),
    ],
)
def test_only_provincial_staff_write_plans_of_fitting_length(staff, who, text, message):
    actor = {
        "coordinator": lambda: coordinator("63.03", username="kominfo-banjar"),
        "officer": lambda: officer("63.72", "perkim", username="perkim"),
        "province": lambda: staff,
    }[who]()
    with pytest.raises(RankingError, match=message):
        action_plan_write(
            year=2025, region=Region.objects.get(code="63.03"), text=text, actor=actor
        )
    assert not ActionPlanVersion.objects.exists()


@pytest.mark.django_db
def test_plan_pages_for_provincial_staff_only(client, staff, draft):
    coordinator("63.03", username="kominfo-banjar")
    client.force_login(coordinator("63.72", username="kominfo-bjb"))
    assert client.get("/rankings/staff/plans/2025/").status_code == 403
    assert client.post("/rankings/staff/plans/2025/63.03/", {"text": "x" * 40}).status_code == 403
    client.logout()
    assert client.get("/rankings/staff/plans/2025/").status_code == 302  # to sign in

    client.force_login(staff)
    listing = client.get("/rankings/staff/plans/2025/")
    lagging = {r["region"].code for r in listing.context["regions"] if r["lagging"]}
    # Ten regencies with no complaint score 0, "Kurang" (the lowest predicate); Banjar "Cukup".
    assert "63.01" in lagging and not {"63.71", "63.72", "63.03"} & lagging
    short = client.post("/rankings/staff/plans/2025/63.03/", {"text": "pendek"})
    assert short.status_code == 400 and short.context["form"].errors["text"]
    assert client.get("/rankings/staff/plans/2025/99.99/").status_code == 404
    assert client.get("/rankings/staff/plans/2014/63.03/").status_code == 404
    saved = client.post(
        "/rankings/staff/plans/2025/63.03/",
        {"text": "Pendampingan admin SP4N-LAPOR! Kabupaten Banjar tiap bulan."},
    )
    assert saved.status_code == 302
    edit = client.get("/rankings/staff/plans/2025/63.03/")
    assert edit.context["form"].initial["text"].startswith("Pendampingan admin")
    report = client.get(URL).content.decode()
    assert "Pendampingan admin SP4N-LAPOR! Kabupaten Banjar tiap bulan." in report
    # Banjar is not lagging, but its plan is shown; the lagging ones have none yet.
    assert "Belum ada rencana." in report


@pytest.mark.django_db
def test_next_years_report_shows_last_years_plans_beside_what_changed(client, staff):
    make_year(staff, 2024)
    compute(2024, publish=True, staff=staff)
    action_plan_write(
        year=2024,
        region=Region.objects.get(code="63.03"),
        text="Pelatihan operator dan pendampingan bulanan di Kabupaten Banjar.",
        actor=staff,
        now=datetime(2025, 2, 1, tzinfo=WITA),
    )
    make_year(staff, 2025)
    compute(2025, publish=True, staff=staff)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["previous_plan_year"] == 2024
    (plan,) = response.context["previous_plans"]
    assert plan["region"].code == "63.03"
    assert (plan["then_rank"], plan["now_rank"]) == (plan["then"].rank and "3", "3")
    assert plan["score_change"] == "+0.00"  # the same counts both years
    assert "2024: rank 3, score 1.50. 2025: rank 3, score 1.50 (+0.00)." in words(
        response.content.decode()
    )
    assert "Pelatihan operator dan pendampingan bulanan" in pdf_text(client.get(PDF).content)
