"""Deadline arithmetic for complaints, in WITA (Asia/Makassar), see docs/product-rules.md.

Working days skip Saturdays, Sundays, Indonesian public holidays and cuti bersama (the
``holidays`` library's PUBLIC and GOVERNMENT categories for ``ID``) and the extra days admins
add as ``NonWorkingDay`` rows. Every function takes an aware datetime and returns an aware
datetime in WITA, whatever time zone is active.
"""

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import timezone
from holidays.constants import GOVERNMENT, PUBLIC

# PermenPANRB 62/2018: completion target per classification, in working days.
COMPLETION_WORKING_DAYS: dict[str, int] = {
    "pengaduan": 14,
    "aspirasi": 5,
    "permintaan_informasi": 5,
}
# SP4N-LAPOR! verification limit for a triage item.
TRIAGE_WORKING_DAYS = 3
# The reporter's window to reply, rate or reopen after resolution, in calendar days.
REPLY_WINDOW_DAYS = 10

# Calendar days of NonWorkingDay rows loaded per query while walking forward.
_EXTRA_CHUNK_DAYS = 60


def _wita(value: datetime) -> datetime:
    """``value`` in the project's time zone (WITA); raises ValueError for a naive datetime."""
    return timezone.localtime(value, timezone.get_default_timezone())


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    """Indonesian public holidays and cuti bersama of ``year`` (cached per process)."""
    calendar = holidays.country_holidays("ID", years=year, categories=(PUBLIC, GOVERNMENT))
    return frozenset(calendar)


def _extra_days(first: date, last: date) -> set[date]:
    """Admin-added non-working days from ``first`` to ``last`` inclusive, in one query."""
    from complaints.models import NonWorkingDay

    return set(
        NonWorkingDay.objects.filter(date__range=(first, last)).values_list("date", flat=True)
    )


def is_working_day(day: date, *, extra: set[date] | None = None) -> bool:
    """Whether ``day`` is a working day.

    ``extra`` is the set of admin-added non-working days to honour; when it is None the
    ``NonWorkingDay`` table is asked about ``day``. A datetime is taken as its WITA date.
    """
    if isinstance(day, datetime):
        day = _wita(day).date()
    if day.weekday() >= 5 or day in _holidays(day.year):
        return False
    if extra is None:
        extra = _extra_days(day, day)
    return day not in extra


class _WorkingCalendar:
    """Answers ``is_working_day`` for days walked forward from ``first``.

    NonWorkingDay rows are loaded in chunks as the walk goes on, so usually in one query.
    """

    def __init__(self, first: date, days: int) -> None:
        self._extra: set[date] = set()
        self._loaded_until = first - timedelta(days=1)
        self._load_through(first + timedelta(days=2 * days + _EXTRA_CHUNK_DAYS))

    def _load_through(self, last: date) -> None:
        self._extra |= _extra_days(self._loaded_until + timedelta(days=1), last)
        self._loaded_until = last

    def is_working(self, day: date) -> bool:
        if day > self._loaded_until:
            self._load_through(day + timedelta(days=_EXTRA_CHUNK_DAYS))
        return is_working_day(day, extra=self._extra)

    def next_working(self, day: date) -> date:
        """The first working day after ``day``."""
        day += timedelta(days=1)
        while not self.is_working(day):
            day += timedelta(days=1)
        return day


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days, keeping the WITA time of day.

    A start on a non-working day counts from 00:00 of the next working day, so Saturday
    14:00 + 3 is Thursday 00:00; Friday 10:00 + 1 is Monday 10:00.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    local = _wita(start)
    calendar = _WorkingCalendar(local.date(), days)
    day = local.date()
    if not calendar.is_working(day):
        day = calendar.next_working(day)
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(days):
        day = calendar.next_working(day)
    return local.replace(year=day.year, month=day.month, day=day.day)


def add_calendar_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` times 24 hours, with no adjustment for non-working days."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    return _wita(start) + timedelta(days=days)


def follow_up_due(start: datetime, *, days: int = 3, working_days: bool | None = None) -> datetime:
    """When the agency's first follow-up is due: ``days`` after assignment at ``start``.

    Calendar days unless ``working_days`` is true; when it is None the setting
    ``LAPOR_FOLLOW_UP_WORKING_DAYS`` decides. ``days`` is the category's number of days.
    """
    if working_days is None:
        working_days = getattr(settings, "LAPOR_FOLLOW_UP_WORKING_DAYS", False)
    if working_days:
        return add_working_days(start, days)
    return add_calendar_days(start, days)


def completion_due(start: datetime, *, classification: str) -> datetime:
    """The completion target after assignment at ``start`` for a complaint's classification."""
    try:
        days = COMPLETION_WORKING_DAYS[classification]
    except KeyError:
        raise ValueError(f"unknown classification {classification!r}") from None
    return add_working_days(start, days)


def triage_due(start: datetime) -> datetime:
    """When a triage item entered at ``start`` must be routed or archived."""
    return add_working_days(start, TRIAGE_WORKING_DAYS)


def reply_window_end(resolved_at: datetime) -> datetime:
    """When the reporter's window to reply, rate or reopen closes after resolution."""
    return add_calendar_days(resolved_at, REPLY_WINDOW_DAYS)
