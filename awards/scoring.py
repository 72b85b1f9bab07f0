"""Scoring, in plain Python over indicator sets: raw → normalised → points → score → rank → band.

The rules (also in docs/awards.md and on the page):

- raw values are the indicators as shown (shares to four decimals, hours and ratings to two);
- normalised values are in [0, 1], to four decimals (half up), so that what the page shows is
  what counts; a missing raw value (no complaints, nothing followed up, nothing rated) gets 0;
- points = weight × normalised, exactly; score = the sum of the points, exactly;
- ranks by score, highest first; equal scores share a rank and the next rank skips (1, 1, 3);
- the band is the one with the highest threshold at or below the score;
- a group under the scheme's minimums (``Thin``) has too little data: it gets no band, and either
  no rank or a rank after every group with enough data (the scheme decides); the best values the
  normalisations use come from the groups with enough data only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .indicators import IndicatorSet
from .models import Indicator, Normalisation

ONE = Decimal(1)
ZERO = Decimal(0)
NORMAL_PLACES = Decimal("0.0001")
# Inverse normalisation treats anything under one hour as one hour, so that a handful of
# instant answers cannot shrink everyone else's score to nothing.
INVERSE_FLOOR = Decimal(1)


@dataclass(frozen=True)
class CriterionSpec:
    indicator: str
    weight: Decimal
    normalisation: str
    name_id: str = ""
    name_en: str = ""
    order: int = 0


@dataclass(frozen=True)
class BandSpec:
    name_id: str
    name_en: str
    min_score: Decimal


@dataclass
class Value:
    criterion: CriterionSpec
    raw: Decimal | None
    normalised: Decimal
    points: Decimal


@dataclass(frozen=True)
class Thin:
    """A scheme's minimums: fewer complaints received, or (when a criterion uses the rating)
    fewer rated complaints, is too little data. ``rank_after``: rank such groups after the
    others instead of leaving them unranked."""

    min_received: int = 0
    min_rated: int = 0
    rank_after: bool = False

    def is_thin(self, figures: IndicatorSet, criteria: Iterable[CriterionSpec]) -> bool:
        if figures.received < self.min_received:
            return True
        uses_rating = any(c.indicator == Indicator.MEAN_RATING for c in criteria)
        return uses_rating and figures.rated < self.min_rated


@dataclass
class Scored:
    key: object
    figures: IndicatorSet
    values: list[Value] = field(default_factory=list)
    score: Decimal = ZERO
    rank: int | None = 0
    band: BandSpec | None = None
    insufficient: bool = False


def raw_value(figures: IndicatorSet, indicator: str) -> Decimal | None:
    value = getattr(figures, Indicator(indicator).value)
    if value is None:
        return None
    return Decimal(value)


def reference(values: Iterable[Decimal | None], normalisation: str) -> Decimal | None:
    """The best value in the group for a normalisation against the best, else None."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if normalisation == Normalisation.AGAINST_BEST:
        return max(present)
    if normalisation == Normalisation.INVERSE_BEST:
        return min(present)
    return None


def normalise(raw: Decimal | None, normalisation: str, best: Decimal | None) -> Decimal:
    if raw is None:
        return ZERO
    if normalisation == Normalisation.AS_IS:
        value = raw
    elif normalisation == Normalisation.COMPLEMENT:
        value = ONE - raw
    elif normalisation == Normalisation.AGAINST_BEST:
        if not best:
            return ZERO
        value = raw / best
    elif normalisation == Normalisation.INVERSE_BEST:
        value = max(best, INVERSE_FLOOR) / max(raw, INVERSE_FLOOR)
    else:
        raise ValueError(f"unknown normalisation {normalisation!r}")
    return min(ONE, max(ZERO, value)).quantize(NORMAL_PLACES, ROUND_HALF_UP)


def band_for(score: Decimal, bands: Iterable[BandSpec]) -> BandSpec | None:
    eligible = [b for b in bands if b.min_score <= score]
    return max(eligible, key=lambda b: b.min_score) if eligible else None


def rank(scores: Iterable[Decimal]) -> list[int]:
    """Competition ranks ("1224") for scores in the order given."""
    scores = list(scores)
    ordered = sorted(scores, reverse=True)
    first_place = {}
    for position, score in enumerate(ordered, start=1):
        first_place.setdefault(score, position)
    return [first_place[s] for s in scores]


def score_groups(
    groups: Mapping[object, IndicatorSet],
    criteria: Iterable[CriterionSpec],
    bands: Iterable[BandSpec] = (),
    *,
    tie_order=str,
    thin: Thin | None = None,
) -> tuple[list[Scored], dict[str, Decimal | None]]:
    """Score every group; returns the groups ranked (ties by ``tie_order(key)``) and, per indicator,
    the best value the normalisation used (None where it uses none). Groups with too little
    data (``thin``) come last, unranked or ranked after the others."""
    criteria = sorted(criteria, key=lambda c: c.order)
    bands = list(bands)
    thin = thin or Thin()
    scored = {
        key: Scored(key=key, figures=figures, insufficient=thin.is_thin(figures, criteria))
        for key, figures in groups.items()
    }
    # The best values come from the groups with enough data (all, when none has enough).
    enough = [key for key, s in scored.items() if not s.insufficient] or list(scored)
    bests: dict[str, Decimal | None] = {}
    for criterion in criteria:
        raws = {key: raw_value(s.figures, criterion.indicator) for key, s in scored.items()}
        best = reference((raws[key] for key in enough), criterion.normalisation)
        bests[criterion.indicator] = best
        for key, s in scored.items():
            normalised = normalise(raws[key], criterion.normalisation, best)
            points = criterion.weight * normalised
            s.values.append(Value(criterion, raws[key], normalised, points))
            s.score += points
    ordered = sorted(scored.values(), key=lambda s: (s.insufficient, -s.score, tie_order(s.key)))
    ranked = [s for s in ordered if not s.insufficient]
    for s, r in zip(ranked, rank(s.score for s in ranked), strict=True):
        s.rank = r
        s.band = band_for(s.score, bands)
    after = [s for s in ordered if s.insufficient]
    for s, r in zip(after, rank(s.score for s in after), strict=True):
        s.rank = len(ranked) + r if thin.rank_after else None
        s.band = None
    return ordered, bests
