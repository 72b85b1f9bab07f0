"""What-if, before publishing: the year's figures scored with other weights or criteria, beside
the year's scheme, without saving; then, if staff choose, saved as the year's scheme (until the
year is published).

Both rankings come from the figures and the scoring ``ranking_compute`` uses
(``services.year_figures`` counted once, then ``services.score_year`` for each scheme), so the
only difference is the scheme: with the year's saved scheme, the what-if is the stored draft,
number for number (tests/awards/test_what_if.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import scoring
from .models import (
    ALLOWED_NORMALISATIONS,
    REGION_ONLY,
    Indicator,
    Level,
    LogAction,
    RankingLog,
    Result,
    ResultStatus,
    Scheme,
    ThinData,
)
from .services import (
    RankingError,
    _check_province_staff,
    check_level,
    check_year,
    criteria_write,
    scheme_for_year,
    scheme_specs,
    score_year,
    thin_for,
    year_figures,
)


@dataclass
class Proposal:
    """A scheme as staff typed it: criteria (indicator, weight, normalisation) and minimums."""

    criteria: list[scoring.CriterionSpec]
    min_received: int
    min_rated: int
    thin_data: str


def indicators_for(level: str) -> list[str]:
    return [i for i in Indicator.values if level == Level.REGENCY or i not in REGION_ONLY]


def _label(indicator: str, language: str) -> str:
    with translation.override(language):
        return str(Indicator(indicator).label)


def proposal_from_scheme(scheme: Scheme) -> Proposal:
    criteria, _bands = scheme_specs(scheme)
    return Proposal(
        criteria=criteria,
        min_received=scheme.min_received,
        min_rated=scheme.min_rated,
        thin_data=scheme.thin_data,
    )


def proposal_from_form(data, *, level: str, current: Scheme) -> tuple[Proposal, dict]:
    """Read ``weight_<indicator>``, ``norm_<indicator>``, ``min_received``, ``min_rated`` and
    ``thin_data``; returns the proposal and {field: error}. A blank weight: not used."""
    errors = {}
    names = {c.indicator: (c.name_id, c.name_en) for c in current.criteria.all()}
    criteria = []
    for order, indicator in enumerate(indicators_for(level), start=1):
        text = (data.get(f"weight_{indicator}") or "").strip().replace(",", ".")
        if not text:
            continue
        try:
            weight = Decimal(text)
        except InvalidOperation:
            weight = None
        if weight is None or not weight.is_finite() or not Decimal("0.0001") <= weight <= 99:
            errors[f"weight_{indicator}"] = _("A weight from 0.0001 to 99, or blank.")
            continue
        normalisation = data.get(f"norm_{indicator}") or ""
        if normalisation not in ALLOWED_NORMALISATIONS[indicator]:
            errors[f"norm_{indicator}"] = _("Choose a normalisation that fits the indicator.")
            continue
        name_id, name_en = names.get(indicator) or (
            _label(indicator, "id"),
            _label(indicator, "en"),
        )
        criteria.append(
            scoring.CriterionSpec(
                indicator=indicator,
                weight=weight.quantize(Decimal("0.0001")),
                normalisation=normalisation,
                name_id=name_id,
                name_en=name_en,
                order=order,
            )
        )
    if not criteria and not errors:
        errors["criteria"] = _("Give at least one criterion a weight.")
    minimums = {}
    for name in ("min_received", "min_rated"):
        text = (data.get(name) or "0").strip()
        if not text.isdigit() or int(text) > 100_000:
            errors[name] = _("A whole number from 0.")
            minimums[name] = 0
        else:
            minimums[name] = int(text)
    thin_data = data.get("thin_data") or ThinData.UNRANKED
    if thin_data not in ThinData.values:
        errors["thin_data"] = _("Choose what happens to groups with too little data.")
        thin_data = ThinData.UNRANKED
    return Proposal(criteria=criteria, thin_data=thin_data, **minimums), errors


def _score(proposal: Proposal, groups, figures, bands) -> dict:
    thin = thin_for(
        min_received=proposal.min_received,
        min_rated=proposal.min_rated,
        thin_data=proposal.thin_data,
    )
    ranked, _bests = score_year(groups, figures, proposal.criteria, bands, thin)
    return {s.key: s for s in ranked}


def what_if(*, year: int, level: str, proposal: Proposal, now: datetime | None = None) -> list:
    """Every group scored with the year's scheme and with ``proposal``, side by side, in the
    proposal's order; nothing is saved."""
    now = now or timezone.now()
    check_level(level)
    check_year(year, now=now)
    scheme = scheme_for_year(year=year, level=level)
    _criteria, bands = scheme_specs(scheme)
    groups, figures, _populations = year_figures(year=year, level=level, now=now)
    current = _score(proposal_from_scheme(scheme), groups, figures, bands)
    proposed = _score(proposal, groups, figures, bands)
    rows = []
    for key, new in proposed.items():
        old = current[key]
        change = None if old.rank is None or new.rank is None else old.rank - new.rank
        rows.append(
            {
                "name": groups[key][2],
                "region_name": groups[key][0].name,
                "current": old,
                "proposed": new,
                "rank_change": change,
                "score_change": new.score - old.score,
            }
        )
    return rows


def scheme_save(
    *, year: int, level: str, proposal: Proposal, actor, now: datetime | None = None
) -> Scheme:
    """Save ``proposal`` as the year's scheme (criteria and minimums; the bands stay), until the
    year is published."""
    now = now or timezone.now()
    _check_province_staff(actor)
    check_level(level)
    check_year(year, now=now)
    if not proposal.criteria:
        raise RankingError(_("Give at least one criterion a weight."), field="criteria")
    scheme = scheme_for_year(year=year, level=level)
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        published = Result.objects.filter(
            year=year, level=level, status=ResultStatus.PUBLISHED
        ).exists()
        if scheme.is_locked or published:
            raise RankingError(
                _("This year's scheme was used by a published ranking; it can no longer change.")
            )
        scheme.min_received = proposal.min_received
        scheme.min_rated = proposal.min_rated
        scheme.thin_data = proposal.thin_data
        scheme.save(update_fields=["min_received", "min_rated", "thin_data", "updated_at"])
        scheme.criteria.all().delete()
        criteria_write(scheme, proposal.criteria)
        RankingLog.objects.create(
            year=year,
            level=level,
            action=LogAction.SCHEME,
            actor=actor,
            reason=_("Edited on the what-if page: ")
            + "; ".join(
                f"{c.indicator} × {c.weight} ({c.normalisation})" for c in proposal.criteria
            )
            + f"; min {proposal.min_received}/{proposal.min_rated}, {proposal.thin_data}",
            at=now,
        )
    return scheme
