import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Category, Region

from .models import Classification, Complaint
from .workflow import PUBLIC_STATUSES, ComplaintStatus


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
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
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))
