"""The province's yearly monitoring and evaluation report: what the page and the PDF show.

Everything about the ranking comes from the year's stored result (the same rows, cells and
rules as the ranking page, through ``awards.tables``); the sentences about each regency are
generated from those numbers; the month-by-month trend is counted from the complaints as they
stand now (``selectors.province_months``). Nothing here writes.
"""

from __future__ import annotations

import statistics
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from . import selectors, tables
from .indicators import share
from .models import Level, Result, ResultRow

AGENCIES_SHOWN = 10


def whole(value: int) -> str:
    """A count in the active language's form, with thousands grouped (1.234 / 1,234)."""
    return number_format(value, 0, use_l10n=True, force_grouping=True)


def percent(value) -> str:
    """A share (0 to 1, four decimals) as a percentage with two decimals: 0,5500 → "55,00 %"."""
    if value is None:
        return "–"
    return tables.localised(tables.fixed(Decimal(value) * 100, 2)) + " %"


def points(value) -> str:
    return tables.localised(tables.exact(Decimal(value), 2))


def summary(rows: list[ResultRow]) -> dict:
    """The year's totals over every regency and city, from the figures stored with the result."""
    keys = ("received", "followed_up", "followed_up_on_time", "resolved", "breached")
    totals = {key: sum(int(r.figures.get(key) or 0) for r in rows) for key in keys}
    ranked = [r for r in rows if r.rank is not None and not r.insufficient]
    bands: dict[str, int] = {}
    for row in ranked:
        bands[row.band or "–"] = bands.get(row.band or "–", 0) + 1
    return {
        "groups": len(rows),
        "ranked": len(ranked),
        "thin": sum(1 for r in rows if r.insufficient),
        "received": whole(totals["received"]),
        "followed_up": whole(totals["followed_up"]),
        "on_time": whole(totals["followed_up_on_time"]),
        "resolved": whole(totals["resolved"]),
        "breached": whole(totals["breached"]),
        "followed_up_share": percent(share(totals["followed_up"], totals["received"])),
        "on_time_share": percent(share(totals["followed_up_on_time"], totals["received"])),
        "resolved_share": percent(share(totals["resolved"], totals["received"])),
        "bands": list(bands.items()),
    }


def medians(rows: list[ResultRow]) -> dict[str, Decimal]:
    """{indicator: the median raw value over the rows that have one}."""
    raws: dict[str, list[Decimal]] = {}
    for row in rows:
        for value in row.values.all():
            if value.raw is not None:
                raws.setdefault(value.indicator, []).append(Decimal(value.raw))
    return {indicator: statistics.median(values) for indicator, values in raws.items()}


def strongest(row: ResultRow):
    """The criterion with the highest normalised value; ties: the first in the scheme's order."""
    values = list(row.values.all())
    if not values:
        return None
    return max(values, key=lambda v: (Decimal(v.normalised), -v.order))


def sentences(row: ResultRow, *, ranked: int, median: dict[str, Decimal]) -> list[str]:
    """What the numbers say about one regency or city, in the active language."""
    mark = tables.decimal_mark()
    if row.insufficient or row.rank is None:
        out = [
            _("%(name)s has too little data to be ranked: %(received)s complaints received.")
            % {"name": row.name, "received": whole(int(row.figures.get("received") or 0))}
        ]
    else:
        out = [
            _("%(name)s is ranked %(rank)s of %(count)s with a score of %(score)s (%(band)s).")
            % {
                "name": row.name,
                "rank": row.rank,
                "count": ranked,
                "score": tables.localised(tables.fixed(row.score, 2), mark),
                "band": row.band or "–",
            }
        ]
    best, weak = strongest(row), tables.weakest(row)
    if best is not None and weak is not None and best.pk != weak.pk:
        out.append(
            _("Its strongest criterion is %(criterion)s: %(points)s of %(weight)s points.")
            % {"criterion": best.name, "points": points(best.points), "weight": points(best.weight)}
        )
    if weak is not None:
        middle = median.get(weak.indicator)
        out.append(
            _(
                "Its weakest criterion is %(criterion)s: %(points)s of %(weight)s points, with "
                "%(raw)s against a province median of %(median)s."
            )
            % {
                "criterion": weak.name,
                "points": points(weak.points),
                "weight": points(weak.weight),
                "raw": tables.localised(tables.raw_text(weak.indicator, weak.raw), mark),
                "median": tables.localised(tables.raw_text(weak.indicator, middle), mark),
            }
        )
    return out


def lagging(result: Result, rows: list[ResultRow]) -> set[int]:
    """The regions a follow-up plan is for: too little data to be ranked, a score below the
    median score of the ranked regencies and cities, or the scheme's lowest predicate."""
    ranked = [r.score for r in rows if r.rank is not None and not r.insufficient]
    middle = statistics.median(ranked) if ranked else None
    bands = result.scheme_snapshot.get("bands") or []
    lowest = bands[-1]["name_id"] if len(bands) > 1 else None
    return {
        r.region_id
        for r in rows
        if r.insufficient
        or r.rank is None
        or (middle is not None and r.score < middle)
        or (lowest is not None and r.band_id == lowest)
    }


def missed_deadlines(year: int) -> tuple[Result | None, list[dict]]:
    """The agencies with the most complaints whose deadline they missed, from the year's agency
    ranking (published, else its draft)."""
    result = selectors.result_shown(year=year, level=Level.AGENCY)
    if result is None or result.is_imported:
        return result, []
    rows = [r for r in result.rows.all() if int(r.figures.get("breached") or 0) > 0]
    rows.sort(key=lambda r: (-int(r.figures["breached"]), r.name))
    return result, [
        {
            "name": r.name,
            "region_name": r.region_name,
            "breached": whole(int(r.figures["breached"])),
            "received": whole(int(r.figures.get("received") or 0)),
            "breach_share": percent(r.figures.get("breach_share")),
        }
        for r in rows[:AGENCIES_SHOWN]
    ]


def trend(result: Result) -> list[dict]:
    """Month by month over the result's period: received, followed up on time, and the share."""
    return [
        {
            "month": first,
            "received": whole(figures.received),
            "on_time": whole(figures.followed_up_on_time),
            "on_time_share": percent(figures.on_time_share),
        }
        for first, figures in selectors.province_months(year=result.year, end=result.period_end)
    ]


def plans(result: Result, rows: list[ResultRow]) -> list[dict]:
    """The year's follow-up plans: every lagging regency (with its plan or none yet) and any
    other regency the province wrote one for, in rank order."""
    written = selectors.action_plans(year=result.year)
    behind = lagging(result, rows)
    return [
        {"row": row, "lagging": row.region_id in behind, "version": written.get(row.region_id)}
        for row in rows
        if row.region_id in behind or row.region_id in written
    ]


def earlier_plans(year: int, rows: list[ResultRow]) -> tuple[int, list[dict]]:
    """Last year's plans beside what changed since: the regency's score and rank then (last
    year's ranking) and now (this one)."""
    before = year - 1
    written = selectors.action_plans(year=before)
    if not written:
        return before, []
    then_result = selectors.result_shown(year=before, level=Level.REGENCY)
    then = {r.region_id: r for r in then_result.rows.all()} if then_result else {}
    now = {r.region_id: r for r in rows}
    out = []
    for region_id, version in sorted(written.items(), key=lambda item: item[1].plan.region.code):
        old, new = then.get(region_id), now.get(region_id)
        out.append(
            {
                "region": version.plan.region,
                "version": version,
                "then": old,
                "now": new,
                "then_score": tables.localised(tables.fixed(old.score, 2)) if old else "–",
                "now_score": tables.localised(tables.fixed(new.score, 2)) if new else "–",
                "then_rank": tables.rank_text(old.rank) if old else "–",
                "now_rank": tables.rank_text(new.rank) if new else "–",
                "score_change": _signed(new.score - old.score) if old and new else "–",
            }
        )
    return before, out


def _signed(value: Decimal) -> str:
    text = tables.localised(tables.fixed(value, 2))
    return text if value < 0 else f"+{text}"


def context(result: Result) -> dict:
    """Everything the report shows for ``result`` (a regency ranking)."""
    rows = selectors.result_rows(result)
    has_previous = tables.has_previous_year(rows)
    median = medians(rows)
    ranked = sum(1 for r in rows if r.rank is not None and not r.insufficient)
    agency_result, agencies = missed_deadlines(result.year)
    previous_plan_year, previous_plans = earlier_plans(result.year, rows)
    return {
        "year": result.year,
        "result": result,
        "rows": rows,
        "compact": tables.compact(result, rows, has_previous=has_previous),
        "previous_year": next((r.previous_year for r in rows if r.previous_year), None),
        "summary": None if result.is_imported else summary(rows),
        "regencies": [
            {"row": row, "sentences": sentences(row, ranked=ranked, median=median)} for row in rows
        ]
        if not result.is_imported
        else [],
        "agency_result": agency_result,
        "agencies": agencies,
        "months": [] if result.is_imported else trend(result),
        "plans": plans(result, rows),
        "previous_plan_year": previous_plan_year,
        "previous_plans": previous_plans,
        "criteria": tables.criteria(result),
        "bands": tables.bands(result),
        "thin": tables.thin(result),
    }


def _refuse_fetch(url: str, *args, **kwargs):
    """The PDF is made from our own template only: it fetches nothing (no file, no network)."""
    raise ValueError(f"the report fetches nothing: {url[:40]}")


def pdf_bytes(html: str) -> bytes:
    """The report's HTML (``awards/report_pdf.html``) as an A4 PDF, with WeasyPrint."""
    from weasyprint import HTML  # a heavy import, for this page only

    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
