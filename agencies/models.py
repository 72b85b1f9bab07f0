from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class RegionKind(models.TextChoices):
    PROVINCE = "province", _("Province")
    REGENCY = "regency", _("Regency")
    CITY = "city", _("City")


class Region(models.Model):
    """A regency or city of Kalimantan Selatan, or the province itself, by Kemendagri code."""

    code = models.CharField(_("Kemendagri code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=RegionKind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def is_province(self) -> bool:
        return self.kind == RegionKind.PROVINCE


class AgencyKind(models.TextChoices):
    PERKIM = "perkim", _("Housing and settlements (Perkim)")
    PUPR = "pupr", _("Public works and spatial planning (PUPR)")
    DISHUB = "dishub", _("Transport (Dishub)")
    KOMINFO = "kominfo", _("Communication and informatics (Kominfo)")
    DINKES = "dinkes", _("Health (Dinkes)")
    DISDIK = "disdik", _("Education (Disdik)")
    DLH = "dlh", _("Environment (DLH)")
    SATPOLPP = "satpolpp", _("Public order (Satpol PP)")
    DISDUKCAPIL = "disdukcapil", _("Population and civil registration (Disdukcapil)")
    OTHER = "other", _("Other")


class Agency(models.Model):
    """An SKPD/OPD of one region."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="agencies", verbose_name=_("region")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AgencyKind.choices)
    code = models.SlugField(_("code"), max_length=40, help_text=_("Unique within the region."))
    name = models.CharField(_("local name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "code"], name="agency_unique_code_per_region"
            ),
        ]
        indexes = [models.Index(fields=["region", "kind"], name="agency_region_kind_idx")]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A complaint category, with its follow-up days and the kind of agency that usually owns it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_id = models.CharField(_("name (Indonesian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up days"),
        default=3,
        help_text=_("Days the agency has for its first follow-up after assignment."),
    )
    default_agency_kind = models.CharField(
        _("default agency kind"), max_length=16, choices=AgencyKind.choices
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    requires_after_photo = models.BooleanField(
        _("after photo required"),
        default=False,
        help_text=_(
            "Staff can resolve a complaint of this category only with a photo of the result "
            "(e.g. street lights, roads)."
        ),
    )

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up_days__gte=1), name="category_follow_up_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "id").startswith("en") else self.name_id


class RoutingRule(models.Model):
    """(region, category) -> agency. Who handles what differs between regencies: it is data."""

    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="routing_rules", verbose_name=_("region")
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="routing_rules", verbose_name=_("category")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="routing_rules", verbose_name=_("agency")
    )

    class Meta:
        ordering = ["region__code", "category__sort_order"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "category"], name="routingrule_unique_region_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} / {self.category} → {self.agency}"


class StaffRole(models.TextChoices):
    AGENCY_OFFICER = "agency_officer", _("Agency officer")
    REGION_COORDINATOR = "region_coordinator", _("Regency/city coordinator")
    PROVINCE_STAFF = "province_staff", _("Provincial staff")


class StaffMembership(models.Model):
    """What a staff account works for: one agency, one region, or the whole province."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=24, choices=StaffRole.choices)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("agency"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("region"),
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role=StaffRole.AGENCY_OFFICER, agency__isnull=False, region__isnull=True)
                    | Q(
                        role=StaffRole.REGION_COORDINATOR, agency__isnull=True, region__isnull=False
                    )
                    | Q(role=StaffRole.PROVINCE_STAFF, agency__isnull=True, region__isnull=True)
                ),
                name="staffmembership_scope_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "agency"],
                condition=Q(agency__isnull=False),
                name="staffmembership_unique_agency",
            ),
            models.UniqueConstraint(
                fields=["user", "region"],
                condition=Q(region__isnull=False),
                name="staffmembership_unique_region",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="province_staff"),
                name="staffmembership_unique_province",
            ),
        ]

    def __str__(self) -> str:
        target = self.agency or self.region or _("Kalimantan Selatan")
        return f"{self.get_role_display()}: {target}"


class RegionPopulation(models.Model):
    """A region's population for a year, as published by BPS (reference data the admin updates).
    The ranking uses the latest year at or before the ranking's year (else the earliest)."""

    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="populations", verbose_name=_("region")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    population = models.PositiveIntegerField(_("population"))
    source = models.CharField(
        _("source"), max_length=300, help_text=_("The BPS publication or table the figure is from.")
    )

    class Meta:
        ordering = ["region__code", "-year"]
        verbose_name = _("population (BPS)")
        verbose_name_plural = _("populations (BPS)")
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="population_once_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}: {self.population}"
