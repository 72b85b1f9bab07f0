"""Past years: a ranking published before Lapor, imported from a CSV (dry run first, errors per
row), shown as published and "imported", and the base of movement in the next year."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from awards.imports import check_rows, ranking_import
from awards.models import Level, RankingLog, Result, ResultStatus
from awards.services import RankingError, ranking_compute, ranking_publish
from tests.factories import complaint_new, coordinator, province_staff

from .dataset import WITA

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "awards-2022-example.csv"
NOW = datetime(2024, 2, 1, 9, 0, tzinfo=WITA)
SCHEME = "Penilaian SP4N-LAPOR! 2022 (Diskominfo Kalsel)"


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


@pytest.mark.django_db
def test_the_example_file_checks_clean_and_a_dry_run_saves_nothing():
    check, result = ranking_import(year=2022, text=EXAMPLE.read_text(), scheme_name=SCHEME)
    assert check.ok and result is None
    assert [(r.region.code, str(r.score), r.rank) for r in check.rows] == [
        ("63.72", "2.01000000", 1),
        ("63.06", "1.95000000", 2),
        ("63.71", "1.79000000", 3),
    ]
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_each_row_gets_its_own_errors():
    text = (
        "region;score;rank;predicate\n"
        "Kota Banjarbaru;2,01;1;Sangat baik\n"
        "Kota Atlantis;1,5;2;\n"
        "Kab. Banjar;dua;x;\n"
        "63.72;1,00;3;\n"
        "Kabupaten Tapin;-1;4;" + "x" * 61 + "\n"
    )
    with translation.override("en"):
        check = check_rows(text)
    assert not check.ok and check.row_errors == 4
    errors = {r.line: " ".join(r.errors) for r in check.rows}
    assert errors[2] == ""
    assert "Atlantis" in errors[3]
    assert "score" in errors[4] and "rank" in errors[4]  # "Kab." is Kabupaten: found
    assert "line 2" in errors[5]  # Banjarbaru by its code, twice
    assert "score" in errors[6] and "60" in errors[6]
    assert check_rows("wilayah,nilai\nA,1\n").errors  # the header names its columns
    assert check_rows("").errors


@pytest.mark.django_db
def test_import_then_movement_in_the_first_lapor_year_compares_with_it(staff, client):
    with pytest.raises(RankingError):  # a scheme name is required
        ranking_import(year=2022, text=EXAMPLE.read_text(), scheme_name=" ", dry_run=False)
    check, imported = ranking_import(
        year=2022,
        text=EXAMPLE.read_text(),
        scheme_name=SCHEME,
        source="Rakerda Kominfo, Mei 2023",
        actor=staff,
        dry_run=False,
    )
    assert imported.is_imported and imported.status == ResultStatus.PUBLISHED
    assert imported.scheme_snapshot["name_id"] == SCHEME
    assert RankingLog.objects.get(action="imported").actor == staff
    with pytest.raises(RankingError):  # once only: withdraw it first
        ranking_import(year=2022, text=EXAMPLE.read_text(), scheme_name=SCHEME, dry_run=False)
    with pytest.raises(RankingError):  # a past year only
        ranking_import(year=2024, text=EXAMPLE.read_text(), scheme_name=SCHEME)

    # 2023, the first Lapor year: Banjarmasin receives most and follows up all.
    t0 = datetime(2023, 3, 1, 9, tzinfo=WITA)
    for n in range(3):
        complaint_new(now=t0 + timedelta(days=n), region_code="63.71")
    complaint_new(now=t0, region_code="63.72")
    draft = ranking_compute(year=2023, level=Level.REGENCY)
    banjarmasin = draft.rows.get(region__code="63.71")
    assert (banjarmasin.rank, banjarmasin.previous_year, banjarmasin.previous_rank) == (1, 2022, 3)
    published = ranking_publish(result=draft, actor=staff)
    banjarbaru = published.rows.get(region__code="63.72")
    assert banjarbaru.previous_rank == 1 and banjarbaru.movement == -1
    assert published.rows.get(region__code="63.03").previous_rank is None  # new

    page = client.get("/rankings/2023/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "▲2" in page and "▼1" in page
    old = client.get("/rankings/2022/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Diimpor" in old and "Rakerda Kominfo" in old and "2,01" in old


@pytest.mark.django_db
def test_staff_page_checks_then_imports(client, staff):
    client.force_login(staff)
    assert client.get("/rankings/staff/import/").status_code == 200
    form = {"year": 2022, "scheme_name": SCHEME, "source": "Siaran pers", "action": "check"}
    bad = SimpleUploadedFile("r.csv", b"region,score,rank,predicate\nKota Atlantis,1,1,\n")
    response = client.post("/rankings/staff/import/", {**form, "file": bad})
    assert response.status_code == 400
    assert "Atlantis" in response.content.decode() and not Result.objects.exists()

    good = SimpleUploadedFile("r.csv", EXAMPLE.read_bytes())
    response = client.post("/rankings/staff/import/", {**form, "file": good})
    assert response.status_code == 200 and response.context["check"].ok
    assert not Result.objects.exists()  # checked, not saved
    text = response.context["form"]["text"].value()
    response = client.post("/rankings/staff/import/", {**form, "action": "apply", "text": text})
    assert response.status_code == 302 and response["Location"] == "/rankings/2022/"
    assert Result.objects.get(year=2022).rows.count() == 3

    again = client.post("/rankings/staff/import/", {**form, "action": "apply", "text": text})
    assert again.status_code == 400 and "year" in again.context["form"].errors
    latin = SimpleUploadedFile("r.csv", "region\nKota Banjarbaru é".encode("latin-1"))
    assert client.post("/rankings/staff/import/", {**form, "file": latin}).status_code == 400
    assert client.post("/rankings/staff/import/", {**form, "year": "x"}).status_code == 400


@pytest.mark.django_db
def test_only_provincial_staff_import(client, db):
    client.force_login(coordinator())
    assert client.get("/rankings/staff/import/").status_code == 403
    with pytest.raises(RankingError):
        ranking_import(
            year=2022,
            text=EXAMPLE.read_text(),
            scheme_name=SCHEME,
            actor=coordinator(username="k2"),
        )


@pytest.mark.django_db
def test_the_command_checks_first_and_imports_with_apply(capsys):
    args = [str(EXAMPLE), "--year", "2022", "--scheme", SCHEME]
    call_command("import_ranking", *args)
    assert "--apply" in capsys.readouterr().out and not Result.objects.exists()
    call_command("import_ranking", *args, "--apply")
    assert Result.objects.get(year=2022, is_imported=True).rows.count() == 3
    with pytest.raises(CommandError):
        call_command("import_ranking", *args)  # already published
