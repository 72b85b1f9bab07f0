"""Demo accounts for the embedded default. Never created when DEBUG is off."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Region, StaffRole
from agencies.services import staff_membership_grant

DEMO_PASSWORD = "lapor-demo-2026"  # noqa: S105 - demo only, refused with DEBUG off


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    description: str
    role: str | None = None
    region_code: str | None = None
    agency_code: str | None = None
    password: str = DEMO_PASSWORD


DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("warga", "Siti Rahmah", _("Citizen")),
    DemoAccount(
        "petugas.banjarbaru",
        "Ahmad Fauzi",
        _("Agency officer, Disperkim Kota Banjarbaru"),
        StaffRole.AGENCY_OFFICER,
        "63.72",
        "perkim",
    ),
    DemoAccount(
        "koordinator.banjarbaru",
        "Nurul Hidayah",
        _("Coordinator, Diskominfo Kota Banjarbaru"),
        StaffRole.REGION_COORDINATOR,
        "63.72",
    ),
    DemoAccount(
        "petugas.banjarmasin",
        "Rizky Pratama",
        _("Agency officer, UPTD PJU Kota Banjarmasin"),
        StaffRole.AGENCY_OFFICER,
        "63.71",
        "uptd-pju",
    ),
    DemoAccount(
        "koordinator.banjarmasin",
        "Dewi Lestari",
        _("Coordinator, Diskominfo Kota Banjarmasin"),
        StaffRole.REGION_COORDINATOR,
        "63.71",
    ),
    DemoAccount(
        "provinsi",
        "Muhammad Iqbal",
        _("Provincial staff, Diskominfo Provinsi Kalimantan Selatan"),
        StaffRole.PROVINCE_STAFF,
    ),
]


def demo_accounts_visible() -> list[DemoAccount]:
    """The accounts to show on the home page: only in the embedded demo with DEBUG on."""
    return DEMO_ACCOUNTS if settings.LAPOR_DEMO else []


def demo_allowed_check() -> None:
    if not settings.DEBUG:
        raise ImproperlyConfigured(
            "seed_demo creates accounts with published passwords and runs only with DEBUG=1."
        )


def demo_accounts_seed() -> list[DemoAccount]:
    """Create the demo accounts and their roles. Idempotent; refused with DEBUG off."""
    demo_allowed_check()
    User = get_user_model()
    with transaction.atomic():
        for account in DEMO_ACCOUNTS:
            first, _sep, last = account.full_name.partition(" ")
            user, created = User.objects.get_or_create(
                username=account.username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{account.username}@demo.lapor.local",
                },
            )
            if created:
                user.set_password(account.password)
                user.save(update_fields=["password"])
            if account.role is None:
                continue
            region = Region.objects.get(code=account.region_code) if account.region_code else None
            agency = None
            if account.agency_code:
                agency = Agency.objects.get(region=region, code=account.agency_code)
                region = None
            staff_membership_grant(user=user, role=account.role, agency=agency, region=region)
    return DEMO_ACCOUNTS
