"""The staff queue's filters (django-filter). Choices are limited to the caller's scope: an
agency or region outside it is an invalid choice, which the views answer with 404."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Category, Region
from agencies.selectors import agencies_visible_to, staff_scope_for
from complaints.codes import tracking_code_normalise
from complaints.models import Channel, Classification, Complaint
from complaints.search import complaints_search, search_words
from complaints.workflow import ComplaintStatus
from lapor.dates import BoundedDateFilter

from .selectors import breached_q, due_soon_q, open_statuses, overdue_q

OPEN, ALL = "open", "all"
SORTS = (
    ("urgency", _("Most urgent first")),
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("supporters", _("Most supporters first")),
)
SCOPE_FIELDS = ("agency", "region")


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class StaffQueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[
            (OPEN, _("Open (not yet resolved)")),
            (ALL, _("Any status")),
            *ComplaintStatus.choices,
        ],
        empty_label=None,
        method="filter_status",
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.order_by("sort_order", "code"),
        to_field_name="code",
        empty_label=_("All categories"),
    )
    classification = django_filters.ChoiceFilter(
        label=_("Type"), choices=Classification.choices, empty_label=_("Any type")
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=Channel.choices, empty_label=_("Any channel")
    )
    region = django_filters.ModelChoiceFilter(
        label=_("Regency/city"),
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label=_("All regencies and cities"),
    )
    agency = django_filters.ModelChoiceFilter(
        label=_("Agency"),
        field_name="assigned_agency",
        queryset=Region.objects.none(),
        empty_label=_("All agencies"),
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"), widget=forms.CheckboxInput, method="filter_overdue"
    )
    due_soon = django_filters.BooleanFilter(
        label=_("Due within 24 hours"), widget=forms.CheckboxInput, method="filter_due_soon"
    )
    breached = django_filters.BooleanFilter(
        label=_("Missed a deadline"), widget=forms.CheckboxInput, method="filter_breached"
    )
    since = BoundedDateFilter(
        label=_("Received from"),
        method="filter_since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = BoundedDateFilter(
        label=_("Received until"),
        method="filter_until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = django_filters.ChoiceFilter(
        label=_("Order"), choices=SORTS, empty_label=None, method="keep"
    )

    class Meta:
        model = Complaint
        fields = []

    def __init__(self, data=None, *args, user, now=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.now = now or timezone.now()
        scope = staff_scope_for(user)
        agencies = agencies_visible_to(user).order_by("region__code", "name")
        self.filters["agency"].queryset = agencies
        self.form.fields["agency"].queryset = agencies
        regions = Region.objects.order_by("code")
        if not scope.is_province:
            regions = regions.filter(pk__in=scope.region_ids)
        self.filters["region"].queryset = regions
        self.form.fields["region"].queryset = regions
        # Choices with a single option only clutter the form; they still validate.
        self.shown_scope_fields = [
            name
            for name, wanted in (
                ("region", scope.is_province or len(scope.region_ids) > 1),
                ("agency", scope.is_province or scope.region_ids or len(scope.agency_ids) > 1),
            )
            if wanted
        ]

    @property
    def scope_errors(self) -> bool:
        """An agency or region outside the caller's scope was asked for."""
        return any(name in self.form.errors for name in SCOPE_FIELDS)

    @property
    def sort_value(self) -> str:
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("sort") or "urgency"
        return "urgency"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not (self.form.cleaned_data.get("status") or ""):
            queryset = queryset.filter(status__in=open_statuses())
        return queryset

    def selected_statuses(self) -> list[str]:
        value = self.form.cleaned_data.get("status") or OPEN
        if value == ALL:
            return list(ComplaintStatus.values)
        if value == OPEN:
            return open_statuses()
        return [value]

    def without_status(self):
        """The queue with every filter but the status one, for the counts per status."""
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name != "status":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    # --- filter methods -----------------------------------------------------------------------

    def keep(self, queryset, name, value):
        return queryset

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        code = tracking_code_normalise(value)
        if code and queryset.filter(tracking_code=code).exists():
            return queryset.filter(tracking_code=code)
        words = search_words(value)
        if not words:
            # Only short words: the public search ignores them; here, the phrase as it is.
            return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))
        # The public search's rule: every word, in the title, the address or the description.
        return complaints_search(queryset, words)

    def filter_status(self, queryset, name, value):
        if value == ALL:
            return queryset
        if value == OPEN:
            return queryset.filter(status__in=open_statuses())
        return queryset.filter(status=value)

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(self.now)) if value else queryset

    def filter_due_soon(self, queryset, name, value):
        return queryset.filter(due_soon_q(self.now)) if value else queryset

    def filter_breached(self, queryset, name, value):
        return queryset.filter(breached_q()) if value else queryset

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))
