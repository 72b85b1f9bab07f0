import django_filters
from django.core.exceptions import ValidationError
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
