"""Filters of the API lists: the public list reuses the page's; the staff queue adds its own."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Category, Region
from complaints.filters import ComplaintFilter
from complaints.models import Channel, Classification, Complaint
from complaints.querysets import overdue_q
from complaints.workflow import OPEN_STATUSES, ComplaintStatus


class PublicComplaintFilter(ComplaintFilter):
    """The filters of /complaints/: q, region, category, status, classification."""


class StaffQueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=ComplaintStatus.choices)
    region = django_filters.ModelChoiceFilter(
        label=_("Regency/city"), queryset=Region.objects.order_by("code"), to_field_name="code"
    )
    agency = django_filters.ModelChoiceFilter(
        label=_("Agency"), queryset=Agency.objects.all(), field_name="assigned_agency"
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"), queryset=Category.objects.all(), to_field_name="code"
    )
    classification = django_filters.ChoiceFilter(label=_("Type"), choices=Classification.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue")

    class Meta:
        model = Complaint
        fields = ["q", "status", "region", "agency", "category", "classification", "channel"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            # As the dashboard's queue: the open complaints unless other statuses are asked for.
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        return queryset

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(tracking_code__iexact=value)
            | Q(title__icontains=value)
            | Q(description__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        q = overdue_q(timezone.now())
        return queryset.filter(q) if value else queryset.exclude(q)
