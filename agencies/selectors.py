"""Reads for reference data, and the one answer to "what may this staff user see"."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from .models import (
    Agency,
    Category,
    Region,
    RegionPopulation,
    RoutingRule,
    StaffMembership,
    StaffRole,
)

if TYPE_CHECKING:
    from lapor.types import AnyUser


@dataclass(frozen=True)
class StaffScope:
    """The agencies and regions a user works for. Empty for citizens and anonymous visitors."""

    is_province: bool = False
    region_ids: frozenset[int] = field(default_factory=frozenset)
    agency_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return self.is_province or bool(self.region_ids) or bool(self.agency_ids)

    @property
    def roles(self) -> set[str]:
        roles: set[str] = set()
        if self.is_province:
            roles.add(StaffRole.PROVINCE_STAFF)
        if self.region_ids:
            roles.add(StaffRole.REGION_COORDINATOR)
        if self.agency_ids:
            roles.add(StaffRole.AGENCY_OFFICER)
        return roles

    def q(self, *, agency_field: str = "agency", region_field: str = "region") -> Q:
        """A filter for rows owned by an agency and/or lying in a region within this scope.

        Later apps call this with their own field paths, e.g. ``agency_field="assigned_agency"``.
        A coordinator sees everything of their region; an officer what their agency holds.
        """
        if self.is_province:
            return Q()
        q = Q(pk__in=[])
        if self.region_ids:
            q |= Q(**{f"{region_field}_id__in": self.region_ids})
        if self.agency_ids:
            q |= Q(**{f"{agency_field}_id__in": self.agency_ids})
        return q

    def covers_region(self, region_id: int) -> bool:
        return self.is_province or region_id in self.region_ids

    def covers_agency(self, agency: Agency) -> bool:
        return self.covers_region(agency.region_id) or agency.pk in self.agency_ids


NO_SCOPE = StaffScope()


def staff_scope_for(user: "AnyUser | None") -> StaffScope:
    """What ``user`` may see as staff. Cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return NO_SCOPE
    cached = getattr(user, "_lapor_staff_scope", None)
    if cached is not None:
        return cached
    is_province = user.is_superuser
    region_ids: set[int] = set()
    agency_ids: set[int] = set()
    for role, region_id, agency_id in StaffMembership.objects.filter(user=user).values_list(
        "role", "region_id", "agency_id"
    ):
        if role == StaffRole.PROVINCE_STAFF:
            is_province = True
        elif role == StaffRole.REGION_COORDINATOR:
            region_ids.add(region_id)
        elif role == StaffRole.AGENCY_OFFICER:
            agency_ids.add(agency_id)
    scope = StaffScope(
        is_province=is_province, region_ids=frozenset(region_ids), agency_ids=frozenset(agency_ids)
    )
    setattr(user, "_lapor_staff_scope", scope)  # noqa: B010 (an attribute the User type lacks)
    return scope


def agencies_visible_to(user: "AnyUser | None") -> QuerySet[Agency]:
    """The agencies whose work ``user`` may watch as staff."""
    scope = staff_scope_for(user)
    if not scope.is_staff:
        return Agency.objects.none()
    if scope.is_province:
        return Agency.objects.select_related("region")
    return Agency.objects.select_related("region").filter(
        Q(region_id__in=scope.region_ids) | Q(pk__in=scope.agency_ids)
    )


def regions_public() -> QuerySet[Region]:
    return Region.objects.order_by("code")


def categories_active() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("sort_order", "code")


def routing_rule_for(*, region_id: int, category_id: int) -> RoutingRule | None:
    return (
        RoutingRule.objects.select_related("agency")
        .filter(region_id=region_id, category_id=category_id)
        .first()
    )


def populations_for(year: int) -> dict[int, RegionPopulation]:
    """{region id: its BPS population} for ``year``: the latest figure at or before the year,
    else the earliest there is. One query."""
    chosen: dict[int, RegionPopulation] = {}
    # Ascending years: every figure up to the year replaces the one before; a later figure is
    # taken only when the region has none at all yet (so the earliest).
    for p in RegionPopulation.objects.order_by("region_id", "year"):
        if p.year <= year or p.region_id not in chosen:
            chosen[p.region_id] = p
    return chosen
