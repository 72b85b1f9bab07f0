"""Deadline arithmetic in WITA across weekends, Indonesian holidays, cuti bersama and admin days.

Expected values were worked out by hand from the holiday list the installed ``holidays``
library returns for ID with the PUBLIC and GOVERNMENT categories; the dates relied on are
pinned in ``test_library_calendar`` so that a library upgrade which moves them fails there first.

2025: Jun 6 (Fri) Idul Adha, Jun 9 (Mon) cuti bersama Idul Adha.
2026: Mar 18 (Wed) cuti Nyepi, Mar 19 (Thu) Nyepi, Mar 20 (Fri) cuti Idul Fitri,
      Mar 21-22 (Sat-Sun) Idul Fitri, Mar 23-24 (Mon-Tue) cuti Idul Fitri;
      May 14 (Thu) Kenaikan, May 15 (Fri) cuti; May 27 (Wed) Idul Adha, May 28 (Thu) cuti;
      May 31 (Sun) Waisak, Jun 1 (Mon) Pancasila; Aug 17 (Mon) Kemerdekaan,
      Aug 25 (Tue) Maulid; Dec 24 (Thu) cuti Natal, Dec 25 (Fri) Natal.
2027: Jan 1 (Fri) Tahun Baru, Jan 5 (Tue) Isra Mikraj.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.utils import timezone

from complaints import deadlines
from complaints.models import NonWorkingDay

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")


def wita(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WITA)


def assert_wita(result: datetime, expected: datetime) -> None:
    assert result == expected
    assert result.tzinfo is not None
    assert result.utcoffset() == timedelta(hours=8)
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 6, 6), "Eid al-Adha"),
        (date(2025, 6, 9), "Eid al-Adha Joint Holiday"),
        (date(2026, 3, 18), "Day of Silence Joint Holiday"),
        (date(2026, 3, 19), "Day of Silence"),
        (date(2026, 3, 20), "Eid al-Fitr Joint Holiday"),
        (date(2026, 3, 21), "Eid al-Fitr"),
        (date(2026, 3, 22), "Eid al-Fitr Second Day"),
        (date(2026, 3, 23), "Eid al-Fitr Joint Holiday"),
        (date(2026, 3, 24), "Eid al-Fitr Joint Holiday"),
        (date(2026, 5, 14), "Ascension Day"),
        (date(2026, 5, 15), "Ascension Joint Holiday"),
        (date(2026, 5, 27), "Eid al-Adha"),
        (date(2026, 5, 28), "Eid al-Adha Joint Holiday"),
        (date(2026, 5, 31), "Vesak Day"),
        (date(2026, 6, 1), "Pancasila Day"),
        (date(2026, 8, 17), "Independence Day"),
        (date(2026, 8, 25), "Prophet's Birthday"),
        (date(2026, 12, 24), "Christmas Joint Holiday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 1, 5), "Isra' and Mi'raj"),
    ],
)
def test_library_calendar(day, name):
    calendar = holidays.country_holidays(
        "ID",
        years=day.year,
        categories=(holidays.PUBLIC, holidays.GOVERNMENT),
        language="en_US",
    )
    assert calendar.get(day) == name


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 8, 18), True),  # Tuesday
        (date(2026, 8, 15), False),  # Saturday
        (date(2026, 8, 16), False),  # Sunday
        (date(2026, 8, 17), False),  # Independence Day, a Monday
        (date(2026, 3, 20), False),  # cuti bersama Idul Fitri (GOVERNMENT category)
        (date(2026, 12, 24), False),  # cuti bersama Natal
        (date(2027, 1, 1), False),  # New Year
        (date(2027, 1, 4), True),  # Monday after New Year
    ],
)
def test_is_working_day(day, expected):
    assert deadlines.is_working_day(day, extra=set()) is expected
    assert deadlines.is_working_day(day) is expected


def test_is_working_day_honours_extra_days_and_the_table():
    tuesday = date(2026, 8, 18)
    assert deadlines.is_working_day(tuesday, extra={tuesday}) is False
    NonWorkingDay.objects.create(date=tuesday, name="Hari jadi Provinsi")
    assert deadlines.is_working_day(tuesday) is False
    assert deadlines.is_working_day(tuesday, extra=set()) is True


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Plain week: Monday 10:00 + 3 = Thursday 10:00.
        (wita(2025, 6, 2, 10), 3, wita(2025, 6, 5, 10)),
        # Friday 10:00 + 1 skips the weekend.
        (wita(2025, 6, 13, 10), 1, wita(2025, 6, 16, 10)),
        # Saturday start counts from Monday 00:00: Mon, Tue, Wed -> Thursday 00:00.
        (wita(2025, 6, 14, 14), 3, wita(2025, 6, 19, 0)),
        # Sunday start, same.
        (wita(2025, 6, 15, 9, 30), 3, wita(2025, 6, 19, 0)),
        # Zero days from a Saturday is the start of Monday.
        (wita(2025, 6, 14, 14), 0, wita(2025, 6, 16, 0)),
        # Zero days from a working day is the start itself.
        (wita(2025, 6, 2, 10), 0, wita(2025, 6, 2, 10)),
        # Thursday + 1: Fri Idul Adha, weekend, Mon cuti bersama -> Tuesday.
        (wita(2025, 6, 5, 10), 1, wita(2025, 6, 10, 10)),
        # Start on a holiday (Idul Adha): counting begins Tue 10 00:00 -> Tue, Wed, Thu.
        (wita(2025, 6, 6, 8), 3, wita(2025, 6, 13, 0)),
        # Idul Fitri 2026: Tue 17 + 1 skips Mar 18-24 -> Wednesday 25.
        (wita(2026, 3, 17, 10), 1, wita(2026, 3, 25, 10)),
        # Mon 16 + 3: Tue 17, Wed 25, Thu 26.
        (wita(2026, 3, 16, 9), 3, wita(2026, 3, 26, 9)),
        # Start inside the Lebaran break (cuti bersama Fri 20): from Wed 25 00:00 -> Thu 26.
        (wita(2026, 3, 20, 11), 1, wita(2026, 3, 26, 0)),
        # 17 August 2026 is a Monday: Fri 14 + 1 -> Tuesday 18.
        (wita(2026, 8, 14, 10), 1, wita(2026, 8, 18, 10)),
        # Year end: Wed 23 Dec + 3 skips Dec 24-27 -> Mon 28, Tue 29, Wed 30.
        (wita(2026, 12, 23, 10), 3, wita(2026, 12, 30, 10)),
        # ... + 5: Thu 31, then Jan 1 (Fri) and the weekend -> Mon 4 Jan 2027.
        (wita(2026, 12, 23, 10), 5, wita(2027, 1, 4, 10)),
        # ... + 6: Tue 5 Jan 2027 is Isra Mikraj -> Wed 6 Jan.
        (wita(2026, 12, 23, 10), 6, wita(2027, 1, 6, 10)),
    ],
)
def test_add_working_days(start, days, expected):
    assert_wita(deadlines.add_working_days(start, days), expected)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # No adjustment: lands on Independence Day, a Monday.
        (wita(2026, 8, 14, 10), 3, wita(2026, 8, 17, 10)),
        # Across the year end, landing on a Sunday.
        (wita(2026, 12, 24, 15), 10, wita(2027, 1, 3, 15)),
        (wita(2026, 8, 14, 10), 0, wita(2026, 8, 14, 10)),
    ],
)
def test_add_calendar_days(start, days, expected):
    assert_wita(deadlines.add_calendar_days(start, days), expected)


@pytest.mark.parametrize(
    ("setting", "argument", "days", "expected"),
    [
        # Default: calendar days; Fri 14 Aug + 3 = Mon 17 Aug (a holiday, no adjustment).
        (False, None, 3, wita(2026, 8, 17, 10)),
        # Setting on: working days Tue 18, Wed 19, Thu 20.
        (True, None, 3, wita(2026, 8, 20, 10)),
        # The argument overrides the setting, both ways.
        (True, False, 3, wita(2026, 8, 17, 10)),
        (False, True, 3, wita(2026, 8, 20, 10)),
        # Per-category override of 5 days: calendar -> Wed 19; working -> Tue 18 .. Mon 24.
        (False, None, 5, wita(2026, 8, 19, 10)),
        (True, None, 5, wita(2026, 8, 24, 10)),
    ],
)
def test_follow_up_due(settings, setting, argument, days, expected):
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = setting
    result = deadlines.follow_up_due(wita(2026, 8, 14, 10), days=days, working_days=argument)
    assert_wita(result, expected)


def test_follow_up_due_defaults_to_three_calendar_days(settings):
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False
    assert_wita(deadlines.follow_up_due(wita(2026, 3, 19, 8)), wita(2026, 3, 22, 8))


@pytest.mark.parametrize(
    ("classification", "start", "expected"),
    [
        # 14 working days from Tue 4 Aug 2026: Aug 5,6,7,10,11,12,13,14, (17 holiday)
        # 18,19,20,21,24, (25 Maulid) 26.
        ("pengaduan", wita(2026, 8, 4, 9), wita(2026, 8, 26, 9)),
        # 5 from Mon 11 May 2026: Tue 12, Wed 13, (Thu 14 Kenaikan, Fri 15 cuti) 18, 19, 20.
        ("aspirasi", wita(2026, 5, 11, 8), wita(2026, 5, 20, 8)),
        # 5 from Mon 25 May 2026: Tue 26, (27 Idul Adha, 28 cuti) Fri 29,
        # (31 Waisak Sun, Jun 1 Pancasila) Tue 2, Wed 3, Thu 4 Jun.
        ("permintaan_informasi", wita(2026, 5, 25, 8), wita(2026, 6, 4, 8)),
    ],
)
def test_completion_due(classification, start, expected):
    assert_wita(deadlines.completion_due(start, classification=classification), expected)


def test_completion_due_rejects_unknown_classification():
    with pytest.raises(ValueError, match="unknown classification"):
        deadlines.completion_due(wita(2026, 8, 4, 9), classification="gugatan")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Tue 17 Mar 2026 + 3 working days: Wed 25, Thu 26, Fri 27.
        (wita(2026, 3, 17, 10), wita(2026, 3, 27, 10)),
        # Entered on a Sunday: counting from Mon 00:00 -> Mon, Tue, Wed -> Thu 00:00.
        (wita(2025, 6, 15, 20), wita(2025, 6, 19, 0)),
    ],
)
def test_triage_due(start, expected):
    assert_wita(deadlines.triage_due(start), expected)


@pytest.mark.parametrize(
    ("resolved_at", "expected"),
    [
        (wita(2026, 8, 14, 10), wita(2026, 8, 24, 10)),
        # Ten calendar days even through Lebaran.
        (wita(2026, 3, 17, 16, 45), wita(2026, 3, 27, 16, 45)),
    ],
)
def test_reply_window_end(resolved_at, expected):
    assert_wita(deadlines.reply_window_end(resolved_at), expected)


@pytest.mark.parametrize(
    ("start", "call", "expected"),
    [
        # 02:00 UTC = Fri 10:00 WITA; + 1 working day -> Tue 18 Aug 10:00 WITA.
        (
            datetime(2026, 8, 14, 2, tzinfo=UTC),
            lambda s: deadlines.add_working_days(s, 1),
            wita(2026, 8, 18, 10),
        ),
        # Fri 17:00 UTC is already Sat 01:00 WITA: counting starts Tue 18 00:00 -> Wed 19.
        (
            datetime(2026, 8, 14, 17, tzinfo=UTC),
            lambda s: deadlines.add_working_days(s, 1),
            wita(2026, 8, 19, 0),
        ),
        # Calendar days come back in WITA too.
        (
            datetime(2026, 8, 14, 17, tzinfo=UTC),
            lambda s: deadlines.reply_window_end(s),
            wita(2026, 8, 25, 1),
        ),
    ],
)
def test_utc_input_gives_wita_result(start, call, expected):
    assert_wita(call(start), expected)


def test_active_time_zone_does_not_change_the_result():
    # Sat 00:30 WITA is still Fri 23:30 in Jakarta; the count must follow WITA's Saturday.
    with timezone.override(ZoneInfo("Asia/Jakarta")):
        result = deadlines.add_working_days(wita(2026, 8, 15, 0, 30), 1)
    assert_wita(result, wita(2026, 8, 19, 0))


def test_admin_non_working_day_shifts_due_date():
    start = wita(2025, 6, 2, 10)
    assert_wita(deadlines.add_working_days(start, 3), wita(2025, 6, 5, 10))
    # Added after a first computation: read from the table, not cached.
    NonWorkingDay.objects.create(date=date(2025, 6, 4), name="Cuti bersama daerah")
    # Tue 3, (Wed 4 admin day) Thu 5, (Fri 6 Idul Adha, weekend, Mon 9 cuti) Tue 10.
    assert_wita(deadlines.add_working_days(start, 3), wita(2025, 6, 10, 10))
    assert_wita(deadlines.triage_due(start), wita(2025, 6, 10, 10))


def test_admin_non_working_day_does_not_move_calendar_days(settings):
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False
    NonWorkingDay.objects.create(date=date(2025, 6, 5), name="Banjir")
    assert_wita(deadlines.follow_up_due(wita(2025, 6, 2, 10)), wita(2025, 6, 5, 10))


def test_admin_days_beyond_the_first_loaded_span():
    # Every weekday from Mon 3 Aug 2026 through Fri 30 Oct 2026 is closed by admins.
    closed = [
        date(2026, 8, 3) + timedelta(days=offset)
        for offset in range(91)
        if (date(2026, 8, 3) + timedelta(days=offset)).weekday() < 5
    ]
    NonWorkingDay.objects.bulk_create(NonWorkingDay(date=day, name="Tutup") for day in closed)
    # Fri 31 Jul + 1 -> Mon 2 Nov 2026 (no holiday that day).
    assert_wita(deadlines.add_working_days(wita(2026, 7, 31, 10), 1), wita(2026, 11, 2, 10))


def test_working_days_use_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        deadlines.completion_due(wita(2026, 3, 16, 9), classification="pengaduan")


@pytest.mark.parametrize("function", [deadlines.add_working_days, deadlines.add_calendar_days])
def test_negative_days_rejected(function):
    with pytest.raises(ValueError, match="negative"):
        function(wita(2026, 8, 14, 10), -1)


def test_naive_datetime_rejected():
    with pytest.raises(ValueError):
        deadlines.add_working_days(datetime(2026, 8, 14, 10), 1)
