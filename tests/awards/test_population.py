"""BPS population as reference data, complaints per 10,000 residents, and the ready-made
per-capita scheme a year may use instead of the default."""

from datetime import datetime
from decimal import Decimal

import pytest

from agencies.models import RegionPopulation
from agencies.reference import POPULATION, PROVINCE_POPULATION
from agencies.selectors import populations_for
from awards.models import Criterion, Level, RankingLog, Scheme
from awards.services import (
    RankingError,
    ranking_compute,
    ranking_publish,
    ready_made_schemes,
    scheme_apply_ready_made,
)
from tests.factories import complaint_new, province_staff, region

from .dataset import WITA

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)


@pytest.fixture
def staff(db):
    return province_staff(username="prov.kalsel")


@pytest.mark.django_db
def test_the_bps_figures_are_loaded_with_year_and_source():
    rows = RegionPopulation.objects.all()
    assert rows.count() == 13
    assert sum(r.population for r in rows) == PROVINCE_POPULATION == sum(POPULATION.values())
    assert {r.year for r in rows} == {2020}
    assert all("BPS" in r.source for r in rows)


@pytest.mark.django_db
def test_the_latest_figure_at_or_before_the_year_is_used():
    banjarbaru = region("63.72")
    RegionPopulation.objects.create(region=banjarbaru, year=2024, population=300_000, source="x")
    assert populations_for(2023)[banjarbaru.pk].year == 2020
    assert populations_for(2025)[banjarbaru.pk].population == 300_000
    RegionPopulation.objects.filter(year=2020).delete()
    assert populations_for(2021)[banjarbaru.pk].year == 2024  # none before: the earliest


@pytest.mark.django_db
def test_the_per_capita_scheme_ranks_by_complaints_per_10000_residents(staff):
    default = Scheme.objects.get(year__isnull=True, level=Level.REGENCY, is_default=True)
    assert [c.indicator for c in default.criteria.all()] == [
        "received",
        "followed_up_share",
        "on_time_share",
    ]
    per_capita = ready_made_schemes(Level.REGENCY).exclude(pk=default.pk).get()
    assert per_capita.criteria.first().indicator == "received_per_10k"
    for code, n in (("63.71", 30), ("63.11", 10)):  # Banjarmasin 657,663; Balangan 130,355
        for _ in range(n):
            complaint_new(now=datetime(2025, 4, 1, 9, tzinfo=WITA), region_code=code)
    scheme_apply_ready_made(year=2025, level=Level.REGENCY, template_id=per_capita.pk, actor=staff)
    result = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    rows = {r.name: r for r in result.rows.prefetch_related("values")}
    balangan = rows["Kabupaten Balangan"].values.all()[0]
    banjarmasin = rows["Kota Banjarmasin"].values.all()[0]
    assert balangan.raw == Decimal("0.77")  # 10 × 10,000 ÷ 130,355 = 0.767...
    assert banjarmasin.raw == Decimal("0.46")  # 30 × 10,000 ÷ 657,663 = 0.456...
    assert balangan.normalised == Decimal("1.0000")
    assert banjarmasin.normalised == Decimal("0.5974")  # 0.46 ÷ 0.77
    assert rows["Kabupaten Balangan"].figures["population"] == 130_355
    assert "2020" in result.scheme_snapshot["population_sources"][0]
    assert RankingLog.objects.filter(year=2025, action="scheme").exists()
    # Once published with it, the year's scheme no longer changes.
    ranking_publish(result=result, actor=staff)
    with pytest.raises(RankingError):
        scheme_apply_ready_made(year=2025, level=Level.REGENCY, template_id=default.pk, actor=staff)


@pytest.mark.django_db
def test_per_capita_is_for_regions_only():
    from django.core.exceptions import ValidationError

    agency_scheme = Scheme.objects.get(year__isnull=True, level=Level.AGENCY, is_default=True)
    criterion = Criterion(
        scheme=agency_scheme,
        indicator="received_per_10k",
        weight=Decimal(1),
        normalisation="against_best",
        name_id="x",
        name_en="x",
    )
    with pytest.raises(ValidationError):
        criterion.clean()
