"""Writes for the ranking: compute a year's draft, publish it (frozen), withdraw it.

Only provincial staff publish and withdraw; both need a written reason when they undo or replace
an earlier publication, and every step is logged in ``RankingLog``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Region, RegionKind
from agencies.selectors import populations_for, staff_scope_for

from . import scoring
from .indicators import IndicatorSet, indicator_sets, year_bounds
from .models import (
    ActionPlan,
    ActionPlanVersion,
    Band,
    Criterion,
    Level,
    LogAction,
    RankingLog,
    Result,
    ResultRow,
    ResultStatus,
    ResultValue,
    Scheme,
    ThinData,
)

FIRST_YEAR = 2015  # SP4N-LAPOR! began in 2015; nothing in Lapor is older


class RankingError(Exception):
    """A request the ranking cannot honour; the message is safe to show."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def check_year(year: int, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if not FIRST_YEAR <= year <= timezone.localdate(now).year:
        raise RankingError(
            _("Choose a year from %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": timezone.localdate(now).year},
            field="year",
        )


def check_level(level: str) -> None:
    if level not in Level.values:
        raise RankingError(_("Choose the level: regency or agency."), field="level")


def _check_province_staff(actor) -> None:
    if not staff_scope_for(actor).is_province:
        raise RankingError(_("Only provincial staff may do this."))


# What a year's scheme takes from the scheme it starts from (the default or a ready-made one),
# besides its criteria and bands (``_rules_copy``).
COPIED_FIELDS = ("name_id", "name_en", "min_received", "min_rated", "thin_data")


def scheme_for_year(*, year: int, level: str) -> Scheme:
    """The scheme of ``year``; the first time, a copy of the level's default scheme."""
    check_level(level)
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().filter(year=year, level=level).first()
        if scheme is not None:
            return scheme
        default = (
            Scheme.objects.select_for_update()
            .filter(year__isnull=True, level=level, is_default=True)
            .first()
        )
        if default is None:
            raise RankingError(
                _("There is no scoring scheme for this level; add one in the administration.")
            )
        scheme = Scheme.objects.create(
            year=year, level=level, **{name: getattr(default, name) for name in COPIED_FIELDS}
        )
        _rules_copy(default, scheme)
        return scheme


def criteria_write(scheme: Scheme, criteria) -> None:
    """Criterion rows of ``scheme`` (which has none) from ``criteria``: another scheme's saved
    criteria or ``scoring.CriterionSpec`` (the what-if page's), anything with their fields."""
    Criterion.objects.bulk_create(
        Criterion(
            scheme=scheme,
            order=c.order,
            indicator=c.indicator,
            weight=c.weight,
            normalisation=c.normalisation,
            name_id=c.name_id,
            name_en=c.name_en,
        )
        for c in criteria
    )


def _rules_copy(source: Scheme, target: Scheme) -> None:
    """``source``'s criteria and bands, written again for ``target`` (which has none)."""
    criteria_write(target, source.criteria.all())
    Band.objects.bulk_create(
        Band(scheme=target, name_id=b.name_id, name_en=b.name_en, min_score=b.min_score)
        for b in source.bands.all()
    )


def ready_made_schemes(level: str):
    """Schemes without a year that staff may apply to a year (the default among them)."""
    return Scheme.objects.filter(year__isnull=True, level=level).order_by("-is_default", "pk")


def scheme_apply_ready_made(
    *, year: int, level: str, template_id, actor, now: datetime | None = None
) -> Scheme:
    """Replace ``year``'s scheme (criteria, bands, minimums, names) with a ready-made one;
    refused once a result of the year was published with it."""
    now = now or timezone.now()
    _check_province_staff(actor)
    check_level(level)
    check_year(year, now=now)
    template = ready_made_schemes(level).filter(pk=template_id).first()
    if template is None:
        raise RankingError(_("Choose one of the ready-made schemes."), field="scheme")
    scheme = scheme_for_year(year=year, level=level)
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        if scheme.is_locked:
            raise RankingError(
                _("This year's scheme was used by a published ranking; it can no longer change.")
            )
        for name in COPIED_FIELDS:
            setattr(scheme, name, getattr(template, name))
        scheme.save()
        scheme.criteria.all().delete()
        scheme.bands.all().delete()
        _rules_copy(template, scheme)
        RankingLog.objects.create(
            year=year,
            level=level,
            action=LogAction.SCHEME,
            actor=actor,
            reason=f"{template.name_id} / {template.name_en}",
            at=now,
        )
    return scheme


def _groups(level: str, sets: dict) -> dict[object, tuple]:
    """{key: (region, agency or None, name)} of the groups ranked at ``level``.

    Every regency and city is ranked, with zeros when it received nothing; agencies are ranked
    when they received a complaint or missed a deadline in the year.
    """
    if level == Level.REGENCY:
        regions = Region.objects.exclude(kind=RegionKind.PROVINCE).order_by("code")
        return {r.pk: (r, None, r.name) for r in regions}
    agencies = Agency.objects.filter(pk__in=list(sets)).select_related("region")
    return {a.pk: (a.region, a, a.name) for a in agencies}


def _previous_ranks(*, year: int, level: str) -> tuple[int | None, dict]:
    """The latest published result of an earlier year: (its year, {group key: rank})."""
    previous = (
        Result.objects.filter(level=level, status=ResultStatus.PUBLISHED, year__lt=year)
        .order_by("-year")
        .first()
    )
    if previous is None:
        return None, {}
    field = "region_id" if level == Level.REGENCY else "agency_id"
    return previous.year, dict(previous.rows.filter(rank__isnull=False).values_list(field, "rank"))


def thin_for(*, min_received: int, min_rated: int, thin_data: str) -> scoring.Thin:
    """A scheme's minimums (saved or proposed on the what-if page) as scoring reads them."""
    return scoring.Thin(
        min_received=min_received, min_rated=min_rated, rank_after=thin_data == ThinData.AFTER
    )


def scheme_specs(scheme: Scheme) -> tuple[list[scoring.CriterionSpec], list[scoring.BandSpec]]:
    """A saved scheme's criteria and bands as scoring reads them."""
    criteria = [
        scoring.CriterionSpec(
            indicator=c.indicator,
            weight=c.weight,
            normalisation=c.normalisation,
            name_id=c.name_id,
            name_en=c.name_en,
            order=c.order,
        )
        for c in scheme.criteria.all()
    ]
    bands = [
        scoring.BandSpec(name_id=b.name_id, name_en=b.name_en, min_score=b.min_score)
        for b in scheme.bands.all()
    ]
    return criteria, bands


def year_figures(*, year: int, level: str, now: datetime) -> tuple[dict, dict, dict]:
    """The groups of ``year`` at ``level`` and their indicator sets, counted up to the end of
    the year or ``now``: (groups, {key: IndicatorSet}, {region id: population used})."""
    start, end = year_bounds(year)
    end = min(end, now)
    sets = indicator_sets(
        group_by="region" if level == Level.REGENCY else "agency", start=start, end=end
    )
    groups = _groups(level, sets)
    figures = {key: sets.get(key) or IndicatorSet.empty() for key in groups}
    populations = populations_for(year) if level == Level.REGENCY else {}
    if level == Level.REGENCY:
        figures = {
            key: f.with_population(populations[key].population if key in populations else None)
            for key, f in figures.items()
        }
    return groups, figures, populations


def score_year(groups: dict, figures: dict, criteria, bands, thin: scoring.Thin):
    """The one scoring of a year's groups, for the stored ranking and the what-if alike: ranked
    rows (ties by name) and the best value of each criterion."""
    return scoring.score_groups(
        figures, criteria, bands, tie_order=lambda key: groups[key][2], thin=thin
    )


def ranking_compute(*, year: int, level: str, now: datetime | None = None, actor=None) -> Result:
    """Compute ``year``'s ranking at ``level`` as a draft, replacing the previous draft.

    Counts complaints submitted from 1 January (WITA) up to the end of the year or ``now``,
    whichever is earlier. A published result of the year is left as it is.
    """
    now = now or timezone.now()
    check_level(level)
    check_year(year, now=now)
    start, end = year_bounds(year)
    end = min(end, now)
    scheme = scheme_for_year(year=year, level=level)
    with transaction.atomic():
        # One computation per (year, level) at a time: the scheme row is the lock.
        scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        criteria, bands = scheme_specs(scheme)
        if not criteria:
            raise RankingError(_("The scoring scheme has no criteria."))
        groups, figures, populations = year_figures(year=year, level=level, now=now)
        thin = thin_for(
            min_received=scheme.min_received,
            min_rated=scheme.min_rated,
            thin_data=scheme.thin_data,
        )
        ranked, bests = score_year(groups, figures, criteria, bands, thin)
        previous_year, previous = _previous_ranks(year=year, level=level)
        region_ranks = _region_ranks(ranked, groups, thin) if level == Level.AGENCY else {}

        old_draft = Result.objects.filter(year=year, level=level, status=ResultStatus.DRAFT).first()
        replaced = _draft_summary(old_draft, level) if old_draft else {}
        Result.objects.filter(year=year, level=level, status=ResultStatus.DRAFT).delete()
        result = Result.objects.create(
            replaced_draft=replaced,
            year=year,
            level=level,
            scheme=scheme,
            status=ResultStatus.DRAFT,
            period_start=start,
            period_end=end,
            computed_at=now,
            scheme_snapshot={
                **_snapshot(scheme, criteria, bands, bests, thin),
                "population_sources": sorted(
                    {f"{p.source}, {p.year}" for p in populations.values()}
                ),
            },
        )
        rows = ResultRow.objects.bulk_create(
            ResultRow(
                result=result,
                region=groups[s.key][0],
                agency=groups[s.key][1],
                name=groups[s.key][2],
                region_name=groups[s.key][0].name,
                rank=s.rank,
                insufficient=s.insufficient,
                region_rank=region_ranks.get(s.key),
                score=s.score,
                band_id=s.band.name_id if s.band else "",
                band_en=s.band.name_en if s.band else "",
                previous_year=previous_year if s.key in previous else None,
                previous_rank=previous.get(s.key),
                figures=s.figures.as_dict(),
            )
            for s in ranked
        )
        ResultValue.objects.bulk_create(
            ResultValue(
                row=row,
                order=v.criterion.order,
                indicator=v.criterion.indicator,
                name_id=v.criterion.name_id,
                name_en=v.criterion.name_en,
                weight=v.criterion.weight,
                normalisation=v.criterion.normalisation,
                raw=v.raw,
                normalised=v.normalised,
                points=v.points,
            )
            for row, s in zip(rows, ranked, strict=True)
            for v in s.values
        )
        RankingLog.objects.create(
            year=year, level=level, action=LogAction.COMPUTED, result=result, actor=actor, at=now
        )
    return result


def group_key_field(level: str) -> str:
    return "region_id" if level == Level.REGENCY else "agency_id"


def _draft_summary(draft: Result, level: str) -> dict:
    """What a draft said, kept in the draft that replaces it: for "changes since the last draft"."""
    field = group_key_field(level)
    return {
        "computed_at": draft.computed_at.isoformat(),
        "scheme": draft.scheme_snapshot,
        "rows": {
            str(key): {"rank": rank, "score": str(score)}
            for key, rank, score in draft.rows.values_list(field, "rank", "score")
        },
    }


def year_is_over(year: int, now: datetime | None = None) -> bool:
    return (now or timezone.now()) >= year_bounds(year)[1]


def _region_ranks(ranked: list[scoring.Scored], groups: dict, thin: scoring.Thin) -> dict:
    """Ranks among the agencies of each region; too little data: after them, or none."""
    by_region: dict[int, list[scoring.Scored]] = {}
    for s in ranked:
        by_region.setdefault(groups[s.key][0].pk, []).append(s)
    ranks = {}
    for members in by_region.values():
        enough = [m for m in members if not m.insufficient]
        for s, r in zip(enough, scoring.rank(m.score for m in enough), strict=True):
            ranks[s.key] = r
        if thin.rank_after:
            after = [m for m in members if m.insufficient]
            for s, r in zip(after, scoring.rank(m.score for m in after), strict=True):
                ranks[s.key] = len(enough) + r
    return ranks


def _snapshot(scheme, criteria, bands, bests, thin: scoring.Thin | None = None) -> dict:
    thin = thin or scoring.Thin()

    def text(value: Decimal | None):
        return None if value is None else str(value)

    return {
        "scheme_id": scheme.pk,
        "name_id": scheme.name_id,
        "name_en": scheme.name_en,
        "criteria": [
            {
                "order": c.order,
                "indicator": c.indicator,
                "name_id": c.name_id,
                "name_en": c.name_en,
                "weight": str(c.weight),
                "normalisation": c.normalisation,
                "best": text(bests.get(c.indicator)),
            }
            for c in criteria
        ],
        "bands": [
            {"name_id": b.name_id, "name_en": b.name_en, "min_score": str(b.min_score)}
            for b in sorted(bands, key=lambda b: b.min_score, reverse=True)
        ],
        "max_score": str(sum((c.weight for c in criteria), Decimal(0))),
        "min_received": thin.min_received,
        "min_rated": thin.min_rated,
        "thin_data": ThinData.AFTER if thin.rank_after else ThinData.UNRANKED,
    }


def _reason(reason: str, message: str | None = None) -> str:
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise RankingError(
            message or _("Write the reason (at least 10 characters): it is shown in the log."),
            field="reason",
        )
    return reason


def ranking_publish(
    *, result: Result, actor, reason: str = "", now: datetime | None = None
) -> Result:
    """Publish a draft: from now on its rows are the year's ranking and never move.

    Replacing a published result, or publishing again after a withdrawal, needs a reason.
    """
    now = now or timezone.now()
    _check_province_staff(actor)
    with transaction.atomic():
        siblings = list(
            Result.objects.select_for_update()
            .filter(year=result.year, level=result.level)
            .order_by("pk")
        )
        locked = next((r for r in siblings if r.pk == result.pk), None)
        if locked is None or locked.status != ResultStatus.DRAFT:
            raise RankingError(_("Only a draft can be published; compute a fresh draft first."))
        earlier = [r for r in siblings if r.published_at is not None]
        action = LogAction.REPUBLISHED if earlier else LogAction.PUBLISHED
        if not year_is_over(locked.year, now):
            # Publishing before the year ends freezes a partial year: say why, in the log.
            reason = _reason(
                reason,
                _(
                    "The year is not over: write why it is published now (at least 10 "
                    "characters); the reason is logged."
                ),
            )
        else:
            reason = _reason(reason) if earlier else (reason or "").strip()
        for old in earlier:
            if old.status == ResultStatus.PUBLISHED:
                old.status = ResultStatus.WITHDRAWN
                old.withdrawn_at = now
                old.save(update_fields=["status", "withdrawn_at"])
        # Movement against the latest earlier published year as it stands at publishing.
        previous_year, previous = _previous_ranks(year=locked.year, level=locked.level)
        field = "region_id" if locked.level == Level.REGENCY else "agency_id"
        rows = list(locked.rows.all())
        for row in rows:
            key = getattr(row, field)
            row.previous_rank = previous.get(key)
            row.previous_year = previous_year if key in previous else None
        ResultRow.objects.bulk_update(rows, ["previous_rank", "previous_year"])
        locked.status = ResultStatus.PUBLISHED
        locked.published_at = now
        locked.published_by = actor
        locked.save(update_fields=["status", "published_at", "published_by"])
        RankingLog.objects.create(
            year=locked.year,
            level=locked.level,
            action=action,
            result=locked,
            actor=actor,
            reason=reason,
            at=now,
        )
    return locked


def ranking_withdraw(*, result: Result, actor, reason: str, now: datetime | None = None) -> Result:
    """Withdraw a published result; the year then shows its draft, marked provisional."""
    now = now or timezone.now()
    _check_province_staff(actor)
    reason = _reason(reason)
    with transaction.atomic():
        locked = Result.objects.select_for_update().filter(pk=result.pk).first()
        if locked is None or locked.status != ResultStatus.PUBLISHED:
            raise RankingError(_("Only a published result can be withdrawn."))
        locked.status = ResultStatus.WITHDRAWN
        locked.withdrawn_at = now
        locked.save(update_fields=["status", "withdrawn_at"])
        RankingLog.objects.create(
            year=locked.year,
            level=locked.level,
            action=LogAction.WITHDRAWN,
            result=locked,
            actor=actor,
            reason=reason,
            at=now,
        )
    return locked


def rankings_refresh_current(*, now: datetime | None = None) -> list[Result]:
    """The nightly job: recompute the current year's drafts at both levels."""
    now = now or timezone.now()
    year = timezone.localdate(now).year
    return [ranking_compute(year=year, level=level, now=now) for level in Level.values]


PLAN_MIN_CHARS = 20
PLAN_MAX_CHARS = 5000


def action_plan_write(
    *, year: int, region: Region, text: str, actor, now: datetime | None = None
) -> ActionPlanVersion:
    """Write the follow-up plan with ``region`` for ``year``: a new version on top of the earlier
    ones (kept, with their author and time). Provincial staff only; the same text again adds
    nothing and returns the current version."""
    now = now or timezone.now()
    _check_province_staff(actor)
    check_year(year, now=now)
    if region.kind == RegionKind.PROVINCE:
        raise RankingError(_("Choose a regency or city."), field="region")
    text = (text or "").strip().replace("\r\n", "\n")
    if not PLAN_MIN_CHARS <= len(text) <= PLAN_MAX_CHARS:
        raise RankingError(
            _("Write the plan in %(min)s to %(max)s characters.")
            % {"min": PLAN_MIN_CHARS, "max": PLAN_MAX_CHARS},
            field="text",
        )
    with transaction.atomic():
        plan, _created = ActionPlan.objects.get_or_create(
            year=year, region=region, defaults={"created_at": now}
        )
        plan = ActionPlan.objects.select_for_update().get(pk=plan.pk)
        latest = plan.versions.order_by("-number").first()
        if latest is not None and latest.text == text:
            return latest
        return ActionPlanVersion.objects.create(
            plan=plan,
            number=(latest.number + 1) if latest else 1,
            text=text,
            author=actor,
            written_at=now,
        )
