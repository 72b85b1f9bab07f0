from datetime import timedelta

import django_filters
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Category, Region

from .models import Classification, Complaint
from .search import MIN_WORD, complaints_search, search_words
from .workflow import PUBLIC_STATUSES, ComplaintStatus


def validate_search(value: str) -> None:
    if value.strip() and not search_words(value):
        raise ValidationError(
            _("Type a word of at least %(count)d letters to search."), params={"count": MIN_WORD}
        )


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", max_length=100, validators=[validate_search]
    )
    region = django_filters.ModelChoiceFilter(
        label=_("Regency/city"),
        queryset=Region.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("All regencies and cities"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("All categories"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in ComplaintStatus if s in PUBLIC_STATUSES],
        empty_label=_("Any status"),
    )
    classification = django_filters.ChoiceFilter(
        label=_("Type"), choices=Classification.choices, empty_label=_("Any type")
    )

    class Meta:
        model = Complaint
        fields = ["q", "region", "category", "status", "classification"]

    def search(self, queryset, name, value):
        words = search_words(value[:100])
        if not words:
            return queryset
        return complaints_search(queryset, words)


PERIOD_DAYS = {"30": 30, "90": 90, "365": 365}


def filter_period(queryset, name, value):
    """Submitted within the last ``value`` days (``PERIOD_DAYS``)."""
    days = PERIOD_DAYS.get(value)
    if days is None:
        return queryset
    return queryset.filter(created_at__gte=timezone.now() - timedelta(days=days))


PERIOD_CHOICES = [
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("365", _("Last 12 months")),
]


class MapFilter(django_filters.FilterSet):
    """The public map's filters: category, regency, status and period."""

    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("All categories"),
    )
    region = django_filters.ModelChoiceFilter(
        label=_("Regency/city"),
        queryset=Region.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("All regencies and cities"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in ComplaintStatus if s in PUBLIC_STATUSES],
        empty_label=_("Any status"),
    )
    period = django_filters.ChoiceFilter(
        label=_("Period"),
        choices=PERIOD_CHOICES,
        empty_label=_("Any time"),
        method=filter_period,
    )

    class Meta:
        model = Complaint
        fields = ["category", "region", "status", "period"]


class OpenDataFilter(ComplaintFilter):
    """The list's filters plus the period, for the open-data downloads."""

    period = django_filters.ChoiceFilter(
        label=_("Period"),
        choices=PERIOD_CHOICES,
        empty_label=_("Any time"),
        method=filter_period,
    )

    class Meta(ComplaintFilter.Meta):
        fields = [*ComplaintFilter.Meta.fields, "period"]
