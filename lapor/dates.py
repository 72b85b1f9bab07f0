"""The one way a request's date or moment is read: bounded to years a complaint can have.

Dates far outside reason (year 1 or 9999, 30 February, an offset of +99:00) made views fail
when converting to UTC or comparing in PostgreSQL. Every view reads dates through these: the
forms' and filters' ``BoundedDateField``, and ``parse_moment`` for cursors and Open311.
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_OFFSET = timedelta(hours=14)


def in_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def parse_moment(raw, *, end: bool = False) -> datetime | None:
    """An ISO 8601 datetime (or a date: its start, or its end with ``end``), aware; None when it
    cannot be read or lies outside 2000-2100 or has an offset beyond ±14 hours."""
    if not isinstance(raw, str) or len(raw) > 64 or "\x00" in raw:
        return None
    raw = raw.strip()
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is None:
                return None
            value = datetime.combine(day, time.max if end else time.min)
    except (ValueError, OverflowError):
        return None
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return None
    if not in_range(value.date()):
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class BoundedDateField(forms.DateField):
    """A date between 2000 and 2100; anything else is a field error."""

    default_error_messages = {
        "out_of_range": _("Give a date between 2000 and 2100."),
    }

    def to_python(self, value):
        if isinstance(value, str) and (len(value) > 64 or "\x00" in value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            day = super().to_python(value)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if day is not None and not in_range(day):
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return day


class BoundedDateFilter(django_filters.DateFilter):
    field_class = BoundedDateField
