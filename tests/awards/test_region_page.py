"""A regency's page for the year: score and rank over the published years (inline SVG), each
criterion against the province median, its agencies ranked and its missed deadlines by agency."""

import statistics
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from awards.imports import ranking_import
from awards.models import Level, ResultValue
from awards.services import ranking_compute, ranking_publish
from tests.factories import province_staff

from . import dataset
from .dataset import WITA

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "awards-2022-example.csv"
NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def years(db):
    staff = province_staff(username="prov.kalsel")
    ranking_import(year=2022, text=EXAMPLE.read_text(), scheme_name="SP4N 2022", dry_run=False)
    dataset.generate(actor=staff, count=60)
    for level in Level.values:
        ranking_publish(result=ranking_compute(year=2025, level=level), actor=staff)
    return staff


@pytest.mark.django_db
def test_region_page_over_the_years_median_and_agencies(client, years):
    response = client.get("/rankings/2025/regions/63.72/", HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    html = response.content.decode()
    history = response.context["history"]
    assert [h.result.year for h in history] == [2022, 2025]
    chart = response.context["score_chart"]
    assert [p["year"] for p in chart["points"]] == [2022, 2025]
    assert chart["points"][0]["text"] == "2,01"  # the imported score, in Indonesian
    assert 'role="img"' in html and "2022: 2,01" in html  # the text alternative
    assert response.context["rank_chart"]["points"][0]["text"] == "1"

    result = history[-1].result
    for c, value in zip(response.context["against_median"], history[-1].values.all(), strict=True):
        raws = [
            v
            for v in ResultValue.objects.filter(
                row__result=result, indicator=value.indicator
            ).values_list("raw", flat=True)
            if v is not None
        ]
        median = statistics.median(raws)
        assert Decimal(c["median"].replace(",", ".")) == Decimal(median).quantize(
            Decimal(c["median"].replace(",", "."))
        )

    agencies = response.context["agencies"]
    assert agencies and all(a.region.code == "63.72" for a in agencies)
    assert [a.region_rank for a in agencies if a.region_rank] == sorted(
        a.region_rank for a in agencies if a.region_rank
    )
    breached = sorted(
        ((a.figures["breached"], a.name) for a in agencies if a.figures["breached"]),
        key=lambda t: -t[0],
    )
    assert breached  # the dataset misses deadlines
    listed = html.split('id="region-breaches"')[1].split("</ol>")[0]
    assert all(f"{name}: {count}" in listed for count, name in breached)


@pytest.mark.django_db
def test_region_page_of_a_year_with_one_published_year_has_no_line_chart(client, years):
    response = client.get("/rankings/2025/regions/63.03/")
    assert response.status_code == 200
    assert response.context["score_chart"] is None  # Banjar: only 2025 published
