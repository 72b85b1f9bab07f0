from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Band, Criterion, RankingLog, Result, Scheme


class LockedWhenPublished:
    """A scheme used by a published result is read-only, with its criteria and bands."""

    def _locked(self, obj) -> bool:
        scheme = obj if isinstance(obj, Scheme) else getattr(obj, "scheme", None)
        return scheme is not None and scheme.is_locked

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._locked(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._locked(obj)

    def has_add_permission(self, request, obj=None):
        args = (request, obj) if isinstance(self, admin.options.InlineModelAdmin) else (request,)
        return super().has_add_permission(*args) and not self._locked(obj)


class CriterionInline(LockedWhenPublished, admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ["order", "indicator", "weight", "normalisation", "name_id", "name_en"]


class BandInline(LockedWhenPublished, admin.TabularInline):
    model = Band
    extra = 0
    fields = ["name_id", "name_en", "min_score"]


@admin.register(Scheme)
class SchemeAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ["name_id", "level", "year", "published"]
    list_filter = ["level"]
    inlines = [CriterionInline, BandInline]
    fields = ["year", "level", "name_id", "name_en", "min_received", "min_rated", "thin_data"]

    @admin.display(boolean=True, description=_("used by a published result"))
    def published(self, obj):
        return obj.is_locked


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    """Results are made by the ranking page's services; the admin only shows them."""

    list_display = ["year", "level", "status", "computed_at", "published_at"]
    list_filter = ["level", "status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RankingLog)
class RankingLogAdmin(ResultAdmin):
    list_display = ["at", "year", "level", "action", "actor", "reason"]
    list_filter = ["level", "action"]
