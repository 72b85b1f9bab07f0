"""Scoring schemes (data, edited by provincial staff) and the annual results they produce.

A result's rows, each criterion's values and the scheme as it was are stored with the result, so
a published year never moves: later changes to complaints or to the scheme cannot alter it.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Region


def in_english() -> bool:
    return (get_language() or "id").startswith("en")


class Level(models.TextChoices):
    REGENCY = "regency", _("Regencies and cities")
    AGENCY = "agency", _("Agencies")


class Indicator(models.TextChoices):
    RECEIVED = "received", _("Complaints received")
    FOLLOWED_UP_SHARE = "followed_up_share", _("Share followed up")
    ON_TIME_SHARE = "on_time_share", _("Share followed up within the deadline")
    RESOLVED_SHARE = "resolved_share", _("Share resolved")
    BREACH_SHARE = "breach_share", _("Share with a missed deadline")
    MEDIAN_HOURS = "median_hours_to_follow_up", _("Median hours to first follow-up")
    MEAN_RATING = "mean_rating", _("Mean citizen rating (1–5)")
    PER_10K = "received_per_10k", _("Complaints per 10,000 residents (regencies and cities)")
    TRIAGE_ON_TIME_SHARE = "triage_on_time_share", _("Share verified within 3 working days")
    COMPLETED_ON_TIME_SHARE = (
        "completed_on_time_share",
        _("Share completed within the completion target"),
    )
    REOPEN_SHARE = "reopen_share", _("Share reopened by the reporter")


SHARE_INDICATORS = frozenset(
    {
        Indicator.FOLLOWED_UP_SHARE,
        Indicator.ON_TIME_SHARE,
        Indicator.RESOLVED_SHARE,
        Indicator.BREACH_SHARE,
        Indicator.TRIAGE_ON_TIME_SHARE,
        Indicator.COMPLETED_ON_TIME_SHARE,
        Indicator.REOPEN_SHARE,
    }
)
LOWER_IS_BETTER = frozenset(
    {Indicator.BREACH_SHARE, Indicator.MEDIAN_HOURS, Indicator.REOPEN_SHARE}
)
# Indicators that only make sense for regions (they need a population).
REGION_ONLY = frozenset({Indicator.PER_10K})


class Normalisation(models.TextChoices):
    AS_IS = "as_is", _("As is (a share from 0 to 1)")
    COMPLEMENT = "complement", _("1 minus the share (lower is better)")
    AGAINST_BEST = "against_best", _("Against the best in the group (value ÷ highest)")
    INVERSE_BEST = "inverse_best", _("Inverse, against the best (lowest ÷ value; lower is better)")


# Which normalisations make sense for which indicator; checked when a scheme is edited.
ALLOWED_NORMALISATIONS = {
    Indicator.RECEIVED: {Normalisation.AGAINST_BEST},
    Indicator.FOLLOWED_UP_SHARE: {Normalisation.AS_IS, Normalisation.AGAINST_BEST},
    Indicator.ON_TIME_SHARE: {Normalisation.AS_IS, Normalisation.AGAINST_BEST},
    Indicator.RESOLVED_SHARE: {Normalisation.AS_IS, Normalisation.AGAINST_BEST},
    Indicator.BREACH_SHARE: {Normalisation.COMPLEMENT},
    Indicator.MEDIAN_HOURS: {Normalisation.INVERSE_BEST},
    Indicator.MEAN_RATING: {Normalisation.AGAINST_BEST},
    Indicator.PER_10K: {Normalisation.AGAINST_BEST},
    Indicator.TRIAGE_ON_TIME_SHARE: {Normalisation.AS_IS, Normalisation.AGAINST_BEST},
    Indicator.COMPLETED_ON_TIME_SHARE: {Normalisation.AS_IS, Normalisation.AGAINST_BEST},
    Indicator.REOPEN_SHARE: {Normalisation.COMPLEMENT},
}


class ThinData(models.TextChoices):
    UNRANKED = "unranked", _("Not ranked: shown as “data belum cukup”")
    AFTER = "after", _("Ranked after the groups with enough data")


class Scheme(models.Model):
    """The criteria and bands of one year and level; ``year`` empty: the default, copied into a
    year the first time that year is computed (so later edits of the default leave it alone)."""

    year = models.PositiveSmallIntegerField(
        _("year"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the default scheme, used for years without their own."),
    )
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    name_id = models.CharField(_("name (Indonesian)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    # Too little data is not a score: below these a group is "data belum cukup".
    min_received = models.PositiveIntegerField(
        _("minimum complaints received"),
        default=0,
        help_text=_("A group that received fewer complaints in the year has too little data."),
    )
    min_rated = models.PositiveIntegerField(
        _("minimum rated complaints"),
        default=0,
        help_text=_(
            "When a criterion uses the citizens' rating: a group with fewer rated complaints "
            "has too little data."
        ),
    )
    thin_data = models.CharField(
        _("groups with too little data"),
        max_length=10,
        choices=ThinData.choices,
        default=ThinData.UNRANKED,
    )
    # Schemes without a year are ready-made: the level's default (copied into a year the first
    # time it is computed) and others staff may apply to a year's draft instead.
    is_default = models.BooleanField(
        _("default of its level"),
        default=False,
        help_text=_("Only for a scheme without a year: the one copied into a new year."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["level", "-year"]
        verbose_name = _("scoring scheme")
        verbose_name_plural = _("scoring schemes")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "level"],
                condition=Q(year__isnull=False),
                name="scheme_one_per_year_level",
            ),
            models.UniqueConstraint(
                fields=["level"],
                condition=Q(year__isnull=True, is_default=True),
                name="scheme_one_default_per_level",
            ),
        ]

    def __str__(self) -> str:
        year = self.year if self.year else (_("default") if self.is_default else _("ready-made"))
        return f"{self.name} ({year})"

    @property
    def name(self) -> str:
        return self.name_en if in_english() else self.name_id

    @property
    def is_locked(self) -> bool:
        """Read-only once a published result used it (even if later withdrawn)."""
        return self.pk is not None and self.results.filter(published_at__isnull=False).exists()


class Criterion(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    indicator = models.CharField(_("indicator"), max_length=32, choices=Indicator.choices)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    normalisation = models.CharField(
        _("normalisation"), max_length=16, choices=Normalisation.choices
    )
    name_id = models.CharField(_("name (Indonesian)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "indicator"], name="criterion_indicator_once_per_scheme"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if in_english() else self.name_id

    def clean(self):
        if self.indicator in REGION_ONLY and self.scheme_id and self.scheme.level != Level.REGENCY:
            raise ValidationError(
                {"indicator": _("This indicator needs a population: regencies and cities only.")}
            )
        allowed = ALLOWED_NORMALISATIONS.get(self.indicator, set())
        if self.indicator and self.normalisation and self.normalisation not in allowed:
            raise ValidationError(
                {
                    "normalisation": _("“%(indicator)s” can be normalised only as: %(allowed)s.")
                    % {
                        "indicator": Indicator(self.indicator).label,
                        "allowed": ", ".join(str(Normalisation(n).label) for n in sorted(allowed)),
                    }
                }
            )


class Band(models.Model):
    """A predicate band: a score at or above ``min_score`` (and below the next band) earns it."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="bands")
    name_id = models.CharField(_("name (Indonesian)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    min_score = models.DecimalField(
        _("lowest score"),
        max_digits=8,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["-min_score"]
        verbose_name = _("predicate band")
        verbose_name_plural = _("predicate bands")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "min_score"], name="band_threshold_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ≥ {self.min_score}"

    @property
    def name(self) -> str:
        return self.name_en if in_english() else self.name_id


class ResultStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (provisional)")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Result(models.Model):
    """One computation of a year's ranking at one level. A draft is replaced by the next
    computation; a published one is frozen: its rows and values are never recomputed."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="results", verbose_name=_("scheme")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ResultStatus.choices, default=ResultStatus.DRAFT
    )
    # The complaints counted: submitted in [period_start, period_end).
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("until"))
    computed_at = models.DateTimeField(_("computed at"))
    # The scheme as it was: criteria (with the best value of each), bands, names.
    scheme_snapshot = models.JSONField(default=dict)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # A ranking the province published before Lapor, imported from a CSV (rows without a
    # breakdown): movement in the first Lapor year compares with it.
    is_imported = models.BooleanField(_("imported"), default=False)
    source_note = models.CharField(_("source"), max_length=300, blank=True)
    # The draft this one replaced (rank and score per group, and its scheme), for the
    # publishing confirmation: what changed since the last draft.
    replaced_draft = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-year", "level", "-computed_at"]
        verbose_name = _("ranking result")
        verbose_name_plural = _("ranking results")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "level"],
                condition=Q(status="draft"),
                name="result_one_draft_per_year_level",
            ),
            models.UniqueConstraint(
                fields=["year", "level"],
                condition=Q(status="published"),
                name="result_one_published_per_year_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_level_display()} ({self.get_status_display()})"

    @property
    def is_published(self) -> bool:
        return self.status == ResultStatus.PUBLISHED

    @property
    def is_draft(self) -> bool:
        return self.status == ResultStatus.DRAFT


class ResultRow(models.Model):
    """One ranked group (a regency or an agency), with its names frozen as they were."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="rows")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    region_name = models.CharField(max_length=100)
    # None: not ranked, too little data (the scheme's minimums).
    rank = models.PositiveIntegerField(null=True, blank=True)
    insufficient = models.BooleanField(default=False)
    # Agencies: the rank among the agencies of the same region (the province's own included).
    region_rank = models.PositiveIntegerField(null=True, blank=True)
    score = models.DecimalField(max_digits=16, decimal_places=8)
    band_id = models.CharField(max_length=60, blank=True)
    band_en = models.CharField(max_length=60, blank=True)
    # Against the latest earlier published year of the same level; None: new, or nothing before.
    previous_year = models.PositiveSmallIntegerField(null=True, blank=True)
    previous_rank = models.PositiveIntegerField(null=True, blank=True)
    # The indicator set the values come from (awards.indicators.IndicatorSet.as_dict()).
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["rank", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["result", "region"],
                condition=Q(agency__isnull=True),
                name="resultrow_region_once",
            ),
            models.UniqueConstraint(
                fields=["result", "agency"],
                condition=Q(agency__isnull=False),
                name="resultrow_agency_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.name}"

    @property
    def band(self) -> str:
        return self.band_en if in_english() else self.band_id

    @property
    def movement(self) -> int | None:
        """Places gained (positive) or lost against the previous published year; None: new."""
        if self.previous_rank is None or self.rank is None:
            return None
        return self.previous_rank - self.rank


class ResultValue(models.Model):
    """One criterion of one row: raw → normalised → × weight = points."""

    row = models.ForeignKey(ResultRow, on_delete=models.CASCADE, related_name="values")
    order = models.PositiveSmallIntegerField()
    indicator = models.CharField(max_length=32, choices=Indicator.choices)
    name_id = models.CharField(max_length=150)
    name_en = models.CharField(max_length=150)
    weight = models.DecimalField(max_digits=6, decimal_places=4)
    normalisation = models.CharField(max_length=16, choices=Normalisation.choices)
    raw = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    normalised = models.DecimalField(max_digits=6, decimal_places=4)
    points = models.DecimalField(max_digits=16, decimal_places=8)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.points}"

    @property
    def name(self) -> str:
        return self.name_en if in_english() else self.name_id


class LogAction(models.TextChoices):
    COMPUTED = "computed", _("Draft computed")
    PUBLISHED = "published", _("Published")
    REPUBLISHED = "republished", _("Republished")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SCHEME = "scheme", _("Scheme replaced by a ready-made one")
    IMPORTED = "imported", _("Imported from an earlier publication")


class RankingLog(models.Model):
    """What provincial staff (or the nightly task) did to a year's ranking, and why."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    action = models.CharField(_("action"), max_length=12, choices=LogAction.choices)
    result = models.ForeignKey(
        Result, on_delete=models.SET_NULL, null=True, blank=True, related_name="log"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("ranking log entry")
        verbose_name_plural = _("ranking log")
        indexes = [models.Index(fields=["year", "level", "at"], name="rankinglog_year_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.level} {self.action}"


class ActionPlan(models.Model):
    """The province's follow-up plan ("rencana tindak lanjut") with one regency or city for one
    year. Its text lives in its versions: every edit adds one, and none is ever changed."""

    year = models.PositiveSmallIntegerField(_("year"))
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("regency or city")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-year", "region__code"]
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        constraints = [
            models.UniqueConstraint(fields=["year", "region"], name="actionplan_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region}"


class ActionPlanVersion(models.Model):
    """One version of a plan's text: who wrote it and when. The newest is the plan."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("plan"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        ordering = ["-number"]
        verbose_name = _("follow-up plan version")
        verbose_name_plural = _("follow-up plan versions")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="actionplanversion_number"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"
