from django.contrib import admin

from .models import Agency, Category, Region, RegionPopulation, RoutingRule, StaffMembership


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind"]
    search_fields = ["code", "name"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "region", "kind", "is_active"]
    list_filter = ["region", "kind", "is_active"]
    search_fields = ["name", "short_name", "code"]
    list_select_related = ["region"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_id",
        "name_en",
        "follow_up_days",
        "default_agency_kind",
        "requires_after_photo",
        "is_active",
    ]
    list_editable = ["follow_up_days", "requires_after_photo", "is_active"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["region", "category", "agency"]
    list_filter = ["region", "category"]
    list_select_related = ["region", "category", "agency"]
    autocomplete_fields = ["agency"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "agency", "region"]
    list_filter = ["role", "region"]
    list_select_related = ["user", "agency", "region"]
    autocomplete_fields = ["agency"]
    raw_id_fields = ["user"]


@admin.register(RegionPopulation)
class RegionPopulationAdmin(admin.ModelAdmin):
    """BPS population figures: add a row when BPS publishes a new year."""

    list_display = ["region", "year", "population", "source"]
    list_filter = ["year"]
    list_select_related = ["region"]
    search_fields = ["region__name", "region__code"]
