"""Figures for an agency, a regency and the province over a period, side by side, with a
trend by month drawn as inline SVG. The indicators are the awards ranking's own
(``awards.indicators.indicator_sets``), computed over the caller's scope; "overdue now" is the
scope's overdue count (``complaints.selectors.overdue_counts``: the rule of ``overdue_q``, read
from the two partial deadline indexes). A fixed number of queries, however many agencies or
months."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Region
from agencies.selectors import agencies_visible_to
from complaints.scope import Purpose, complaints_for
from complaints.selectors import overdue_counts
from lapor.dates import BoundedDateField
from lapor.pagecache import generation_cached_at

from .common import staff_scope_or_403

MONTH, YEAR, RANGE = "month", "year", "range"
MAX_RANGE_DAYS = 3 * 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[(MONTH, _("This month")), (YEAR, _("This year")), (RANGE, _("Dates below"))],
        required=False,
    )
    start = BoundedDateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = BoundedDateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    region = forms.ModelChoiceField(
        label=_("Regency/city"),
        queryset=Region.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("Whole province"),
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), required=False
    )

    def __init__(self, *args, scope, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.order_by("code")
        if not scope.is_province:
            regions = regions.filter(pk__in=scope.region_ids)
        self.fields["region"].queryset = regions
        self.fields["agency"].queryset = agencies_visible_to(user).order_by("region__code", "name")
        if not scope.is_province:
            self.fields["region"].empty_label = None if scope.region_ids else _("—")
        self.fields["agency"].empty_label = (
            _("All agencies") if scope.is_province or scope.region_ids else None
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") == RANGE:
            start, end = cleaned.get("start"), cleaned.get("end")
            if start is None and "start" not in self.errors:
                self.add_error("start", _("Give the first day."))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("Give the last day."))
            if start and end:
                if end < start:
                    self.add_error("end", _("The last day comes before the first."))
                elif (end - start).days > MAX_RANGE_DAYS:
                    self.add_error("end", _("Choose at most three years."))
        return cleaned


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def period_bounds(data, today: date) -> tuple[date, date]:
    """[first day, day after the last) of the chosen period."""
    period = data.get("period") or MONTH
    if period == YEAR:
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    if period == RANGE:
        return data["start"], data["end"] + timedelta(days=1)
    start = _month_start(today)
    return start, _add_months(start, 1)


@dataclass
class Row:
    label: str
    figures: object  # IndicatorSet
    overdue: int


@dataclass
class Bar:
    label: str
    received: int
    on_time: Decimal | None
    x: int
    height: int
    y: int


CHART_HEIGHT, BAR_WIDTH, BAR_GAP = 120, 28, 12


def _trend_bars(months: dict, start: date, end: date) -> list[Bar]:
    from awards.indicators import MonthCount

    empty = MonthCount(received=0, on_time_share=None)
    keys = []
    cursor = _month_start(start)
    while cursor < end:
        keys.append(cursor)
        cursor = _add_months(cursor, 1)
    peak = max((months.get(k, empty).received for k in keys), default=0) or 1
    bars = []
    for index, key in enumerate(keys):
        figures = months.get(key, empty)
        height = round(CHART_HEIGHT * figures.received / peak)
        bars.append(
            Bar(
                label=key.strftime("%m/%y"),
                received=figures.received,
                on_time=figures.on_time_share,
                x=index * (BAR_WIDTH + BAR_GAP),
                height=height,
                y=CHART_HEIGHT - height,
            )
        )
    return bars


def _indicator_sets(
    *, group_by: str, start: datetime, end: datetime, complaints, as_of: list[datetime]
) -> dict:
    """``awards.indicators.indicator_sets`` over ``complaints`` (the caller's scope), through
    ``_cached``."""
    from awards.indicators import indicator_sets

    return _cached(
        ("sets", group_by),
        lambda: indicator_sets(group_by=group_by, start=start, end=end, complaints=complaints),
        start=start,
        end=end,
        complaints=complaints,
        as_of=as_of,
    )


def _monthly_received(*, start: datetime, end: datetime, complaints, as_of: list[datetime]):
    """The trend's bars (``awards.indicators.monthly_received``), through ``_cached``."""
    from awards.indicators import monthly_received

    return _cached(
        ("months",),
        lambda: monthly_received(start=start, end=end, complaints=complaints),
        start=start,
        end=end,
        complaints=complaints,
        as_of=as_of,
    )


def _cached(what: tuple, compute, *, start, end, complaints, as_of: list[datetime]):
    """``compute()`` over ``complaints`` (the caller's scope), kept in the cache under the page
    cache's generation (``lapor.pagecache.generation_cached_at``) and served for up to
    ``FIGURES_STALE_SECONDS`` after a committed change retired it; appends when the counts were
    made to ``as_of``, for the page to say. The key is ``what`` with the period and the scope's
    own SQL and parameters: only someone asking for exactly these rows gets the entry."""
    sql, params = complaints.query.sql_with_params()
    parts = (*what, start.isoformat(), end.isoformat(), sql, tuple(map(repr, params)))
    value, computed_at = generation_cached_at(
        "figures", parts, compute, stale_for=settings.FIGURES_STALE_SECONDS
    )
    as_of.append(computed_at)
    return value


@login_required
def figures(request):
    from awards.indicators import IndicatorSet

    scope = staff_scope_or_403(request)
    user = request.user
    now = timezone.now()
    form = PeriodForm(request.GET or None, scope=scope, user=user)
    if form.is_bound and not form.is_valid():
        if "region" in form.errors or "agency" in form.errors:
            raise Http404  # outside the caller's scope, as for a complaint
        return render(request, "dashboard/figures.html", {"form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    today = timezone.localdate(now)
    start_day, end_day = period_bounds(data, today)
    start, end = _aware(start_day), _aware(end_day)
    work = complaints_for(user, purpose=Purpose.WORK)
    empty = IndicatorSet.empty()

    agency = data.get("agency")
    region = data.get("region")
    if agency is None and not (scope.is_province or scope.region_ids):
        agency = form.fields["agency"].queryset.first()  # an officer: their agency
    if region is None and not scope.is_province and scope.region_ids and agency is None:
        region = form.fields["region"].queryset.first()

    context = {"form": form, "start": start_day, "end": end_day - timedelta(days=1)}
    as_of: list[datetime] = []  # when each set of counts was computed (cached or now)
    if agency is not None:
        subject = work.filter(assigned_agency=agency)
        sets = _indicator_sets(
            group_by="agency", start=start, end=end, complaints=subject, as_of=as_of
        )
        context["subject"] = agency.name
        context["total"] = Row(
            agency.name,
            sets.get(agency.pk, empty),
            overdue_counts(user, purpose=Purpose.WORK, agency_ids=[agency.pk], now=now),
        )
    elif region is not None:
        subject = work.filter(region=region)
        regions = _indicator_sets(
            group_by="region", start=start, end=end, complaints=subject, as_of=as_of
        )
        # One count per agency (None: in triage); the regency's is their sum.
        overdue = overdue_counts(
            user, purpose=Purpose.WORK, by="assigned_agency_id", region_ids=[region.pk], now=now
        )
        context["subject"] = region.name
        context["total"] = Row(region.name, regions.get(region.pk, empty), sum(overdue.values()))
        agencies = _indicator_sets(
            group_by="agency", start=start, end=end, complaints=subject, as_of=as_of
        )
        names = Agency.objects.filter(pk__in=set(agencies) | set(overdue)).order_by("name")
        context["rows_title"] = _("Agencies side by side")
        context["rows"] = [
            Row(a.name, agencies.get(a.pk, empty), overdue.get(a.pk, 0)) for a in names
        ]
    else:  # the province: every regency and city side by side
        subject = work
        regions = _indicator_sets(
            group_by="region", start=start, end=end, complaints=subject, as_of=as_of
        )
        overdue = overdue_counts(user, purpose=Purpose.WORK, by="region_id", now=now)
        rows = [
            Row(r.name, regions.get(r.pk, empty), overdue.get(r.pk, 0))
            for r in Region.objects.order_by("code")
        ]
        context["subject"] = _("Kalimantan Selatan")
        context["total"] = Row(context["subject"], _province_total(rows, IndicatorSet), 0)
        context["total"].overdue = sum(row.overdue for row in rows)
        context["rows_title"] = _("Regencies and cities side by side")
        context["rows"] = rows

    trend_start = start_day
    if (end_day - start_day).days < 60:
        trend_start = _add_months(_month_start(start_day), -11)
    months = _monthly_received(start=_aware(trend_start), end=end, complaints=subject, as_of=as_of)
    bars = _trend_bars(months, trend_start, end_day)
    context.update(
        as_of=min(as_of),
        bars=bars,
        chart_width=max(len(bars) * (BAR_WIDTH + BAR_GAP), 1),
        chart_height=CHART_HEIGHT,
        bar_width=BAR_WIDTH,
    )
    return render(request, "dashboard/figures.html", context)


def _province_total(rows, indicator_set_class):
    """The province from its regions' counts (exact) and their rating means weighted by the
    number of ratings. The median cannot be added up: the province line leaves it out rather
    than show a wrong one."""
    sums = {
        name: sum(getattr(row.figures, name) for row in rows)
        for name in ("received", "followed_up", "followed_up_on_time", "resolved", "breached")
    }
    rated = sum(row.figures.rated for row in rows)
    total = indicator_set_class.build(**sums, rated=rated)
    if not rated:
        return total
    weighted = sum((row.figures.mean_rating or 0) * row.figures.rated for row in rows)
    return replace(total, mean_rating=(weighted / rated).quantize(Decimal("0.01")))
