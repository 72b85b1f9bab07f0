"""Rank movement as the page shows it (▲, ▼, =, new), and the Celery task calling the service."""

from datetime import datetime

import pytest

from awards.models import Level, Result, ResultStatus
from awards.services import ranking_compute, ranking_publish
from awards.tasks import compute_ranking, refresh_current_rankings
from tests.factories import complaint_new, province_staff

from .dataset import WITA

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def file(region_code, count, year, category_code="jalan"):
    for _ in range(count):
        complaint_new(
            now=datetime(year, 4, 1, 9, tzinfo=WITA),
            region_code=region_code,
            category_code=category_code,
        )


@pytest.mark.django_db
def test_movement_symbols_in_the_table(client):
    staff = province_staff(username="prov.kalsel")
    file("63.71", 3, 2024)
    file("63.72", 2, 2024)
    ranking_publish(result=ranking_compute(year=2024, level=Level.AGENCY, now=NOW), actor=staff)
    ranking_publish(result=ranking_compute(year=2024, level=Level.REGENCY, now=NOW), actor=staff)
    file("63.72", 3, 2025)
    file("63.71", 2, 2025)
    file("63.72", 1, 2025, category_code="pju")  # Banjarbaru's Perkim: new among agencies
    ranking_publish(result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW), actor=staff)
    ranking_compute(year=2025, level=Level.AGENCY, now=NOW)

    page = client.get("/rankings/2025/")
    movement = {row.name: cells[1] for row, cells in page.context["table_rows"]}
    assert movement["Kota Banjarbaru"].text == "▲1"
    assert movement["Kota Banjarbaru"].label == "naik 1 dari 2024"
    assert movement["Kota Banjarmasin"].text == "▼1"
    assert movement["Kabupaten Tapin"].text == "="
    html = page.content.decode()
    assert 'role="img" aria-label="naik 1 dari 2024"' in html

    agencies = client.get("/rankings/2025/?level=agency")
    by_name = {
        (row.region.code, row.agency.code): cells[1].text
        for row, cells in agencies.context["table_rows"]
    }
    assert by_name[("63.72", "perkim")] == "baru"

    first_year = client.get("/rankings/2024/")
    assert {cells[1].text for _, cells in first_year.context["table_rows"]} == {"–"}


@pytest.mark.django_db
def test_the_tasks_call_the_service():
    complaint_new(now=datetime(2025, 4, 1, 9, tzinfo=WITA))
    result_id = compute_ranking.apply(args=[2025, "regency"]).get()
    assert Result.objects.get(pk=result_id).status == ResultStatus.DRAFT
    ids = refresh_current_rankings.apply().get()
    assert len(ids) == 2
    assert set(Result.objects.filter(pk__in=ids).values_list("level", flat=True)) == {
        "regency",
        "agency",
    }
