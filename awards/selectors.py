"""Reads for the ranking pages, CSV and API. Published results are read as stored (frozen)."""

from __future__ import annotations

import statistics

from django.db.models import Prefetch
from django.utils import timezone

from agencies.models import Region, RegionKind

from .indicators import IndicatorSet, indicator_sets, region_months, year_bounds
from .models import (
    ActionPlan,
    ActionPlanVersion,
    Level,
    RankingLog,
    Result,
    ResultRow,
    ResultStatus,
    ResultValue,
)


def result_shown(*, year: int, level: str) -> Result | None:
    """What the public sees for a year: the published result, else the draft (provisional)."""
    results = {
        r.status: r
        for r in Result.objects.filter(
            year=year, level=level, status__in=[ResultStatus.PUBLISHED, ResultStatus.DRAFT]
        )
    }
    return results.get(ResultStatus.PUBLISHED) or results.get(ResultStatus.DRAFT)


def latest_published_year(level: str = Level.REGENCY) -> int | None:
    return (
        Result.objects.filter(level=level, status=ResultStatus.PUBLISHED)
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )


def ranking_years() -> list[int]:
    """Years with something to show (published or provisional), newest first."""
    return list(
        Result.objects.filter(status__in=[ResultStatus.PUBLISHED, ResultStatus.DRAFT])
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


def result_rows(result: Result, *, region: Region | None = None) -> list[ResultRow]:
    """The rows in rank order with their values (three queries whatever the count)."""
    rows = result.rows.select_related("region", "agency").prefetch_related(
        Prefetch("values", queryset=ResultValue.objects.order_by("order", "pk"))
    )
    if region is not None:
        rows = rows.filter(region=region).order_by("region_rank", "name")
    else:
        rows = rows.order_by("rank", "name")
    return list(rows)


def last_published(*, level: str, before_or_in: int) -> Result | None:
    """The latest published result of ``level`` for ``before_or_in`` or an earlier year."""
    return (
        Result.objects.filter(level=level, status=ResultStatus.PUBLISHED, year__lte=before_or_in)
        .order_by("-year")
        .first()
    )


def ranking_log(*, year: int, level: str, limit: int = 20) -> list[RankingLog]:
    return list(RankingLog.objects.filter(year=year, level=level).select_related("actor")[:limit])


def ranked_regions():
    return Region.objects.exclude(kind=RegionKind.PROVINCE).order_by("code")


def region_figures(*, region: Region, year: int, now=None) -> dict:
    """A regency's public figures for a year: month by month and in total, as complaints stand
    now (rahasia ones counted, as in the ranking; none is listed)."""
    now = now or timezone.now()
    start, end = year_bounds(year)
    end = min(end, now)
    months = region_months(region_id=region.pk, start=start, end=end)
    ordered = sorted(months.items())
    total = region_months(region_id=region.pk, start=start, end=end, whole_period=True)
    return {
        "months": ordered,
        "total": total.get("total") or IndicatorSet.empty(),
        "start": start,
        "end": end,
    }


def region_history(region: Region) -> list[ResultRow]:
    """The regency's row in every published regency ranking (imported ones included), oldest
    first: its score and rank over the years."""
    return list(
        ResultRow.objects.filter(
            region=region,
            agency__isnull=True,
            result__level=Level.REGENCY,
            result__status=ResultStatus.PUBLISHED,
        )
        .select_related("result")
        .order_by("result__year")
    )


def criteria_against_median(result: Result, row: ResultRow) -> list[dict]:
    """Each criterion of ``row``: its raw value beside the median of every regency and city of
    the same result that has one (three queries)."""
    values = list(
        ResultValue.objects.filter(row__result=result).values("row_id", "indicator", "raw", "order")
    )
    by_indicator: dict[str, list] = {}
    for v in values:
        if v["raw"] is not None:
            by_indicator.setdefault(v["indicator"], []).append(v["raw"])
    out = []
    for value in row.values.all():
        raws = sorted(by_indicator.get(value.indicator, []))
        out.append({"value": value, "median": statistics.median(raws) if raws else None})
    return out


def region_agencies(*, year: int, region: Region) -> tuple[Result | None, list[ResultRow]]:
    """The agencies of ``region`` in the year's agency ranking (published, else the draft),
    ranked within the region; their figures carry the missed deadlines ("breached")."""
    result = result_shown(year=year, level=Level.AGENCY)
    if result is None:
        return None, []
    rows = list(
        result.rows.filter(region=region).select_related("agency").order_by("region_rank", "name")
    )
    return result, rows


def province_months(*, year: int, end=None) -> list[tuple]:
    """The whole province's indicators per month of submission of ``year`` (up to ``end``), as
    complaints stand now: [(first day of the month, IndicatorSet)], every month present."""
    start, year_end = year_bounds(year)
    end = min(year_end, end or timezone.now())
    sets = indicator_sets(group_by="month", start=start, end=end)
    months = []
    for month in range(1, 13):
        first = start.replace(month=month)
        if first >= end:
            break
        months.append((first.date(), sets.get(first.date()) or IndicatorSet.empty()))
    return months


def action_plans(*, year: int) -> dict[int, ActionPlanVersion]:
    """{region id: the current version of its follow-up plan} for ``year`` (two queries)."""
    latest: dict[int, ActionPlanVersion] = {}
    versions = (
        ActionPlanVersion.objects.filter(plan__year=year)
        .select_related("plan__region", "author")
        .order_by("plan_id", "-number")
    )
    for version in versions:
        latest.setdefault(version.plan.region_id, version)
    return latest


def action_plan_versions(*, year: int, region: Region) -> list[ActionPlanVersion]:
    """Every version of the plan with ``region`` for ``year``, newest first (none: [])."""
    plan = ActionPlan.objects.filter(year=year, region=region).first()
    if plan is None:
        return []
    return list(plan.versions.select_related("author").order_by("-number"))
