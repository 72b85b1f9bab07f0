"""The complaint-handling indicators, per group, over a period: one module for the ranking and
the staff dashboard, so both count the same way. The counting rules are in ``docs/awards.md``.

Every figure is an SQL aggregate over all groups at once: one query per call for regions and
months, two for agencies (the breaches go to the agency that missed the deadline, which may no
longer hold the complaint), plus one for the median on databases without ``percentile_cont``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth

from complaints.models import BreachKind, Complaint, ComplaintEvent, DeadlineBreach, EventKind
from complaints.workflow import ArchiveReason, ComplaintStatus

GROUPS = ("region", "agency", "month")
SHARE_PLACES = Decimal("0.0001")  # shares are kept to four decimals (0.0001 = 0.01 %)
HOURS_PLACES = Decimal("0.01")
RATING_PLACES = Decimal("0.01")
PER_CAPITA_PLACES = Decimal("0.01")
PER_RESIDENTS = 10_000  # complaints per 10,000 residents

# Archive reasons that mean "not a real complaint": never counted, whatever happened before.
NOT_COMPLAINTS = (ArchiveReason.SPAM, ArchiveReason.DUPLICATE)
# A counted complaint followed up at all, and by its follow-up deadline.
FOLLOWED = Q(first_follow_up_at__isnull=False)
FOLLOWED_ON_TIME = FOLLOWED & Q(first_follow_up_at__lte=F("follow_up_due_at"))
RESOLVED_STATUSES = (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)


def wita():
    return ZoneInfo(settings.TIME_ZONE)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of ``year`` in WITA: the submission dates that make a year."""
    tz = wita()
    return (
        datetime.combine(date(year, 1, 1), time.min, tzinfo=tz),
        datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=tz),
    )


@dataclass(frozen=True)
class IndicatorSet:
    received: int
    followed_up: int
    followed_up_on_time: int
    resolved: int
    breached: int
    rated: int
    followed_up_share: Decimal | None  # None when received == 0
    on_time_share: Decimal | None
    resolved_share: Decimal | None
    breach_share: Decimal | None  # None when nothing could have been breached (see below)
    median_hours_to_follow_up: Decimal | None  # None when nothing was followed up
    mean_rating: Decimal | None  # None when nothing was rated
    # Agency grouping only: complaints this agency breached that another agency holds now.
    # They count in ``breached`` and in the breach share's denominator (received + these).
    breached_elsewhere: int = 0
    # The national rules' indicators (see docs/awards.md).
    triaged_on_time: int = 0  # verified/routed with no missed verification deadline
    completed_on_time: int = 0  # resolved no later than the completion target
    reopened: int = 0  # reopened by the reporter at least once
    triage_on_time_share: Decimal | None = None
    completed_on_time_share: Decimal | None = None
    reopen_share: Decimal | None = None
    # Regions only, from BPS reference data: see ``with_population``.
    population: int | None = None
    received_per_10k: Decimal | None = None

    @classmethod
    def empty(cls) -> IndicatorSet:
        """A group with no complaints: zero counts, no shares, no median, no rating."""
        return cls.build(
            received=0, followed_up=0, followed_up_on_time=0, resolved=0, breached=0, rated=0
        )

    @classmethod
    def build(
        cls,
        *,
        received: int,
        followed_up: int,
        followed_up_on_time: int,
        resolved: int,
        breached: int,
        rated: int,
        rating_sum: int = 0,
        median_hours: Decimal | None = None,
        breached_elsewhere: int = 0,
        triaged_on_time: int = 0,
        completed_on_time: int = 0,
        reopened: int = 0,
        population: int | None = None,
    ) -> IndicatorSet:
        """The set from its counts; every share and mean is derived here, the same way always."""
        return cls(
            received=received,
            followed_up=followed_up,
            followed_up_on_time=followed_up_on_time,
            resolved=resolved,
            breached=breached,
            rated=rated,
            followed_up_share=share(followed_up, received),
            on_time_share=share(followed_up_on_time, received),
            resolved_share=share(resolved, received),
            breach_share=share(breached, received + breached_elsewhere),
            median_hours_to_follow_up=median_hours,
            mean_rating=(
                (Decimal(rating_sum) / Decimal(rated)).quantize(RATING_PLACES, ROUND_HALF_UP)
                if rated
                else None
            ),
            breached_elsewhere=breached_elsewhere,
            triaged_on_time=triaged_on_time,
            completed_on_time=completed_on_time,
            reopened=reopened,
            triage_on_time_share=share(triaged_on_time, received),
            completed_on_time_share=share(completed_on_time, received),
            reopen_share=share(reopened, received),
            population=population,
            received_per_10k=per_residents(received, population),
        )

    def with_population(self, population: int | None) -> IndicatorSet:
        """The set with its region's population and complaints per 10,000 residents."""
        return replace(
            self, population=population, received_per_10k=per_residents(self.received, population)
        )

    def as_dict(self) -> dict:
        return {
            name: (str(value) if isinstance(value, Decimal) else value)
            for name, value in self.__dict__.items()
        }


def per_residents(received: int, population: int | None) -> Decimal | None:
    """Complaints per 10,000 residents, to two decimals (half up); None without a population."""
    if not population:
        return None
    return (Decimal(received) * PER_RESIDENTS / Decimal(population)).quantize(
        PER_CAPITA_PLACES, ROUND_HALF_UP
    )


def share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(SHARE_PLACES, ROUND_HALF_UP)


def counted_q(*, start: datetime, end: datetime, prefix: str = "") -> Q:
    """The complaints the indicators count: submitted in [start, end) and routed (to an agency
    or to triage), less spam and duplicates, and less other archived ones that never reached an
    agency. Rahasia complaints count: they are figures here, never rows. ``prefix`` reaches the
    complaint through a relation, e.g. "complaint__" from a breach."""

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    return (
        q(created_at__gte=start, created_at__lt=end)
        & ~q(status=ComplaintStatus.SUBMITTED)
        & ~q(status=ComplaintStatus.ARCHIVED, archive_reason__in=NOT_COMPLAINTS)
        & ~q(status=ComplaintStatus.ARCHIVED, assigned_at__isnull=True)
    )


def counted(complaints=None, *, start: datetime, end: datetime):
    """``complaints`` (default: all) narrowed to those counted; see ``counted_q``."""
    qs = Complaint.objects.all() if complaints is None else complaints
    return qs.filter(counted_q(start=start, end=end)).order_by()


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set ``percentile_cont(f) WITHIN GROUP (ORDER BY expr)``."""

    function = "PERCENTILE_CONT"
    name = "percentile_cont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float = 0.5, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    """Seconds in a PostgreSQL interval (NULL stays NULL), as double precision: ``EXTRACT``
    returns numeric since PostgreSQL 14, which sorts several times slower for the median."""

    template = "DATE_PART('epoch', %(expressions)s)"
    output_field = FloatField()


def _group_key(group_by: str):
    if group_by == "region":
        return F("region_id")
    if group_by == "agency":
        return F("assigned_agency_id")
    if group_by == "month":
        return TruncMonth("created_at", tzinfo=wita())
    raise ValueError(f"group_by must be one of {', '.join(GROUPS)}, not {group_by!r}")


def _normal_key(group_by: str, key):
    if group_by == "month" and isinstance(key, datetime):
        return key.date()
    return key


def _hours(seconds: Decimal) -> Decimal:
    return (seconds / Decimal(3600)).quantize(HOURS_PLACES, ROUND_HALF_UP)


def indicator_sets(
    *, group_by: str, start: datetime, end: datetime, complaints=None
) -> dict[object, IndicatorSet]:
    """group_by: "region" | "agency" | "month" (month of submission in WITA, key = date of the 1st).
    start/end: aware datetimes, half-open [start, end) on submission time.
    complaints: an optional base queryset (e.g. a staff scope) to restrict to.
    One query per indicator set for all groups at once (plus one for the median where needed);
    returns {group key: IndicatorSet}; groups with no complaints are absent (the caller fills
    zeros, e.g. with ``IndicatorSet.empty()``).

    Agencies: a complaint belongs to the agency that holds it now; a breach to the agency that
    missed the deadline (``DeadlineBreach.agency``), even after the complaint moved on.
    Complaints with no agency (in triage, or archived) are in no agency's group.
    """
    key = _group_key(group_by)
    base = counted(complaints, start=start, end=end)
    postgres = connections[base.db].vendor == "postgresql"
    aggregates = {
        "received": Count("pk"),
        "followed_up": Count("pk", filter=FOLLOWED),
        "followed_up_on_time": Count("pk", filter=FOLLOWED_ON_TIME),
        "resolved": Count("pk", filter=Q(status__in=RESOLVED_STATUSES)),
        "rated": Count("rating"),
        "rating_sum": Sum("rating"),
        # Verified/routed within the verification deadline (3 working days): out of triage and
        # no verification deadline missed (auto-routed complaints never wait for one).
        "triaged_on_time": Count(
            "pk",
            filter=~Q(status=ComplaintStatus.TRIAGE)
            & ~_has(_breaches(start, kind=BreachKind.TRIAGE), scoped=complaints is not None),
        ),
        # Completed within the completion target of its type (set from the category).
        "completed_on_time": Count(
            "pk",
            filter=Q(status__in=RESOLVED_STATUSES, resolved_at__lte=F("completion_due_at")),
        ),
        "reopened": Count(
            "pk",
            filter=_has(
                ComplaintEvent.objects.filter(kind=EventKind.REOPENED),
                scoped=complaints is not None,
            ),
        ),
    }
    if group_by != "agency":
        aggregates["breached"] = Count(
            "pk", filter=_has(_breaches(start), scoped=complaints is not None)
        )
    if postgres:
        aggregates["median_seconds"] = PercentileCont(
            EpochSeconds(F("first_follow_up_at") - F("assigned_at"))
        )
    rows = base.annotate(group_key=key).values("group_key").annotate(**aggregates)
    with transaction.atomic(using=base.db):
        if postgres:
            _without_jit(base.db)
        counts = {_normal_key(group_by, row.pop("group_key")): row for row in rows}
    if group_by == "agency":
        counts.pop(None, None)

    medians: dict[object, Decimal | None] = {}
    if postgres:
        for group, row in counts.items():
            seconds = row.pop("median_seconds")
            medians[group] = None if seconds is None else _hours(Decimal(repr(seconds)))
    else:
        medians = _medians_in_python(base, key, group_by)

    breaches: dict[object, tuple[int, int]] = {}
    if group_by == "agency":
        with transaction.atomic(using=base.db):
            if postgres:
                _without_jit(base.db, parallel=complaints is None)
            breaches = _agency_breaches(complaints, start=start, end=end)
            if postgres and complaints is None:
                _serial(base.db)  # the rest of the caller's transaction plans as before

    result = {}
    for group in set(counts) | set(breaches):
        row = counts.get(group)
        breached, elsewhere = breaches.get(group, (None, 0))
        result[group] = IndicatorSet.build(
            received=row["received"] if row else 0,
            followed_up=row["followed_up"] if row else 0,
            followed_up_on_time=row["followed_up_on_time"] if row else 0,
            resolved=row["resolved"] if row else 0,
            breached=breached if breached is not None else (row or {}).get("breached", 0),
            rated=row["rated"] if row else 0,
            rating_sum=(row["rating_sum"] or 0) if row else 0,
            median_hours=medians.get(group),
            breached_elsewhere=elsewhere,
            triaged_on_time=row["triaged_on_time"] if row else 0,
            completed_on_time=row["completed_on_time"] if row else 0,
            reopened=row["reopened"] if row else 0,
        )
    return result


@dataclass(frozen=True)
class MonthCount:
    """A month's bar of the staff figures' trend: the complaints counted (as ``indicator_sets``
    counts them) and the share followed up on time."""

    received: int
    on_time_share: Decimal | None


def monthly_received(*, start: datetime, end: datetime, complaints=None) -> dict[date, MonthCount]:
    """{first day of the month of submission (WITA): MonthCount} over ``complaints`` in [start,
    end): the two numbers of ``indicator_sets(group_by="month")`` the trend shows, with the same
    rules (``counted``, ``FOLLOWED_ON_TIME``, ``share``), without the median's sort and the
    breach and reopen sets that the trend does not show (about 40 % of their cost for the
    province's year)."""
    base = counted(complaints, start=start, end=end)
    rows = (
        base.annotate(group_key=_group_key("month"))
        .values("group_key")
        .annotate(received=Count("pk"), on_time=Count("pk", filter=FOLLOWED_ON_TIME))
    )
    with transaction.atomic(using=base.db):
        if connections[base.db].vendor == "postgresql":
            _without_jit(base.db)
        return {
            _normal_key("month", row["group_key"]): MonthCount(
                row["received"], share(row["on_time"], row["received"])
            )
            for row in rows
        }


def _breaches(start: datetime, kind: str | None = None):
    """The breaches (of ``kind``) recorded since ``start``: every breach of a complaint submitted
    from ``start`` on."""
    breaches = DeadlineBreach.objects.filter(recorded_at__gte=start)
    return breaches.filter(kind=kind) if kind is not None else breaches


def _has(rows, *, scoped: bool) -> Q:
    """The counted complaint has one of ``rows`` (breaches or events, by ``complaint_id``).

    The whole province (a ranking: 300,000 complaints a year) asks ``pk IN (...)``, which
    PostgreSQL answers from one hash of the ids (``_without_jit`` gives it the memory) instead
    of probing an index once per counted complaint (seconds). A scope (one agency's figures)
    counts few complaints: there a correlated EXISTS probes the index for each, and never reads
    the whole table.
    """
    if scoped:
        return Q(Exists(rows.filter(complaint_id=OuterRef("pk"))))
    return Q(pk__in=rows.values("complaint_id"))


def _without_jit(alias: str, *, parallel: bool = False) -> None:
    """PostgreSQL's JIT compiles these one-off aggregates for longer than they run (1.8 s of
    compilation for a 0.5 s query on the benchmark's year), so turn it off for this transaction;
    and give it the memory to hash the breached complaints and sort the period in memory.

    ``parallel`` (the whole province's breaches by agency: a join of a year's complaints with
    their breaches) lets PostgreSQL share the join among its parallel workers, which its default
    costs refuse for a query this size (on two busy cores the join took half the time). A scope
    reads few rows and gains nothing from starting workers."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        if parallel:
            cursor.execute("SET LOCAL parallel_setup_cost = 0")
            cursor.execute("SET LOCAL parallel_tuple_cost = 0")


def _serial(alias: str) -> None:
    """Undo ``_without_jit(parallel=True)``'s costs for the rest of the transaction."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SET LOCAL parallel_setup_cost = DEFAULT")
        cursor.execute("SET LOCAL parallel_tuple_cost = DEFAULT")


def _agency_breaches(complaints, *, start, end) -> dict[int, tuple[int, int]]:
    """{agency id: (complaints it breached, of which another agency holds now)} in one query,
    joining each breach to its complaint once."""
    # The period's complaints first (a range on an index), then their breaches through the
    # breach index that leads with the complaint: a small period or one agency's scope never
    # reads the whole breach table.
    breaches = DeadlineBreach.objects.filter(agency__isnull=False)
    if complaints is not None:
        counted = complaints.filter(counted_q(start=start, end=end))
        breaches = breaches.filter(complaint__in=counted.order_by().values("pk"))
    else:
        # The whole province: the period's breaches joined once to their complaints, which
        # both decides "counted" and says who holds each now (no second pass over complaints).
        breaches = breaches.filter(
            counted_q(start=start, end=end, prefix="complaint__"), recorded_at__gte=start
        )
    rows = (
        breaches.order_by()
        .values("agency_id")
        .annotate(
            breached=Count("complaint_id", distinct=True),
            still_here=Count(
                "complaint_id",
                distinct=True,
                filter=Q(complaint__assigned_agency_id=F("agency_id")),
            ),
        )
    )
    return {r["agency_id"]: (r["breached"], r["breached"] - r["still_here"]) for r in rows}


def _medians_in_python(base, key, group_by: str) -> dict[object, Decimal]:
    """The median on databases without percentile_cont: one query, exact arithmetic."""
    spans: dict[object, list[int]] = defaultdict(list)
    rows = (
        base.filter(first_follow_up_at__isnull=False, assigned_at__isnull=False)
        .annotate(group_key=key)
        .values_list("group_key", "assigned_at", "first_follow_up_at")
    )
    for group, assigned_at, followed_at in rows.iterator(chunk_size=5000):
        delta: timedelta = followed_at - assigned_at
        spans[_normal_key(group_by, group)].append(
            (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        )
    return {group: _hours(_median(values) / Decimal(1_000_000)) for group, values in spans.items()}


def _median(values: list[int]) -> Decimal:
    values = sorted(values)
    middle = len(values) // 2
    if len(values) % 2:
        return Decimal(values[middle])
    return (Decimal(values[middle - 1]) + Decimal(values[middle])) / 2


def region_months(*, region_id: int, start: datetime, end: datetime, whole_period=False) -> dict:
    """One region's indicators per month of submission, or (``whole_period``) in total under
    the key "total": for the public figures page behind each regency's ranking row."""
    complaints = Complaint.objects.filter(region_id=region_id)
    if whole_period:
        sets = indicator_sets(group_by="region", start=start, end=end, complaints=complaints)
        return {"total": sets[region_id]} if region_id in sets else {}
    return indicator_sets(group_by="month", start=start, end=end, complaints=complaints)
