"""Writes for reference data and staff roles."""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from . import reference
from .models import StaffRole

# Django groups mirror the roles, so the admin and permission checks see the same thing.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    StaffRole.AGENCY_OFFICER: [],
    StaffRole.REGION_COORDINATOR: [],
    StaffRole.PROVINCE_STAFF: [
        "agencies.view_region",
        "agencies.view_agency",
        "agencies.add_routingrule",
        "agencies.change_routingrule",
        "agencies.view_routingrule",
        "agencies.view_category",
        "agencies.change_category",
        # The scoring schemes of the annual ranking (awards), read-only once published.
        "awards.view_scheme",
        "awards.add_scheme",
        "awards.change_scheme",
        "awards.add_criterion",
        "awards.change_criterion",
        "awards.delete_criterion",
        "awards.view_criterion",
        "awards.add_band",
        "awards.change_band",
        "awards.delete_band",
        "awards.view_band",
        "awards.view_result",
        "awards.view_rankinglog",
    ],
}


def reference_data_load(*, apps=global_apps) -> dict[str, int]:
    """Create or update the regions, agencies, categories and routing rules. Idempotent.

    ``apps`` lets a migration pass its historical app registry. Returns how many rows were
    created per model, so the command can say whether anything changed.
    """
    Region = apps.get_model("agencies", "Region")
    Agency = apps.get_model("agencies", "Agency")
    Category = apps.get_model("agencies", "Category")
    RoutingRule = apps.get_model("agencies", "RoutingRule")
    created = {"regions": 0, "agencies": 0, "categories": 0, "routing_rules": 0}

    with transaction.atomic():
        regions = {}
        for code, name, kind in reference.REGIONS:
            region, was_created = Region.objects.update_or_create(
                code=code, defaults={"name": name, "kind": kind}
            )
            regions[code] = region
            created["regions"] += was_created

        agencies: dict[tuple[str, str], object] = {}  # (region code, agency code)
        standard: dict[tuple[str, str], object] = {}  # (region code, kind)
        for region_code, region in regions.items():
            for kind, code, prefix, short in reference.STANDARD_AGENCIES:
                if (region_code, kind) in reference.AGENCIES_OMITTED:
                    continue
                code, name, short = reference.AGENCY_OVERRIDES.get(
                    (region_code, kind), (code, f"{prefix} {region.name}", short)
                )
                agency, was_created = Agency.objects.get_or_create(
                    region=region,
                    code=code,
                    defaults={"kind": kind, "name": name, "short_name": short},
                )
                agencies[(region_code, code)] = agency
                standard[(region_code, kind)] = agency
                created["agencies"] += was_created
        for region_code, kind, code, name, short in reference.EXTRA_AGENCIES:
            agency, was_created = Agency.objects.get_or_create(
                region=regions[region_code],
                code=code,
                defaults={"kind": kind, "name": name, "short_name": short},
            )
            agencies[(region_code, code)] = agency
            created["agencies"] += was_created

        categories = {}
        for order, (code, name_id, name_en, days, kind) in enumerate(reference.CATEGORIES):
            category, was_created = Category.objects.get_or_create(
                code=code,
                defaults={
                    "name_id": name_id,
                    "name_en": name_en,
                    "follow_up_days": days,
                    "default_agency_kind": kind,
                    "sort_order": order,
                },
            )
            categories[code] = category
            created["categories"] += was_created

        # Rules an admin has already changed are kept: only missing pairs are created.
        existing = set(RoutingRule.objects.values_list("region__code", "category__code"))
        new_rules = []
        for region_code, region in regions.items():
            for code, category in categories.items():
                if (region_code, code) in existing:
                    continue
                override = reference.ROUTING_OVERRIDES.get((region_code, code))
                agency = (
                    agencies.get((region_code, override))
                    if override
                    else standard.get((region_code, category.default_agency_kind))
                )
                if agency is not None:
                    new_rules.append(RoutingRule(region=region, category=category, agency=agency))
        RoutingRule.objects.bulk_create(new_rules)
        created["routing_rules"] = len(new_rules)
    return created


def role_groups_sync() -> None:
    """Create one Django group per staff role with its permissions. Idempotent."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        perms = [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in (name.split(".") for name in codenames)
        ]
        group.permissions.set(perms)


def staff_membership_grant(*, user, role: str, agency=None, region=None):
    """Give ``user`` a staff role for one agency, one region or the province."""
    from .models import StaffMembership

    with transaction.atomic():
        membership, _ = StaffMembership.objects.get_or_create(
            user=user, role=role, agency=agency, region=region
        )
        group, _ = Group.objects.get_or_create(name=str(role))
        user.groups.add(group)
        if not user.is_staff:
            user.is_staff = role == StaffRole.PROVINCE_STAFF
            user.save(update_fields=["is_staff"])
    return membership
