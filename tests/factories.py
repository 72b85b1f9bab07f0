import factory
from django.contrib.auth import get_user_model

from agencies.models import Agency, Region, StaffRole
from agencies.services import staff_membership_grant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.id")
    first_name = "Budi"
    password = factory.django.Password("s3cret-pass-123")


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def agency(region_code: str, code: str) -> Agency:
    return Agency.objects.get(region__code=region_code, code=code)


def officer(region_code: str = "63.72", agency_code: str = "perkim", **kwargs):
    user = UserFactory(**kwargs)
    staff_membership_grant(
        user=user, role=StaffRole.AGENCY_OFFICER, agency=agency(region_code, agency_code)
    )
    return user


def coordinator(region_code: str = "63.72", **kwargs):
    user = UserFactory(**kwargs)
    staff_membership_grant(user=user, role=StaffRole.REGION_COORDINATOR, region=region(region_code))
    return user


def province_staff(**kwargs):
    user = UserFactory(**kwargs)
    staff_membership_grant(user=user, role=StaffRole.PROVINCE_STAFF)
    return user


# --- complaints ---------------------------------------------------------------------------------


def category(code: str):
    from agencies.models import Category

    return Category.objects.get(code=code)


def complaint_fields(*, region_code: str = "63.72", category_code: str = "pju", now=None, **kw):
    """Valid keyword arguments for ``complaint_submit`` by a guest; ``kw`` overrides any of them."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate(now) if now is not None else timezone.localdate()
    fields = {
        "classification": "pengaduan",
        "title": "Lampu jalan mati di depan sekolah",
        "description": "Sudah seminggu lampu penerangan jalan mati, jalan gelap di malam hari.",
        "category": category(category_code),
        "region": region(region_code),
        "address": "Jl. Ahmad Yani km 33, dekat SDN 1",
        "incident_date": today - timedelta(days=1),
        "reporter_name": "Siti Aminah",
        "reporter_email": "siti.aminah@example.id",
        "reporter_phone": "081234567890",
    }
    fields.update(kw)
    return fields


def complaint_submitted(*, region_code: str = "63.72", category_code: str = "pju", now=None, **kw):
    """A complaint filed through ``complaint_submit`` (so routed); returns the SubmitResult."""
    from complaints.services import complaint_submit

    fields = complaint_fields(region_code=region_code, category_code=category_code, now=now, **kw)
    return complaint_submit(now=now, **fields)


def complaint_new(*, now, region_code: str = "63.72", category_code: str = "jalan", **kw):
    """A guest's complaint submitted at ``now`` (routed, or sent to triage); returns the complaint.

    Without an email address, and with a landline (no SMS reaches it), so that only the
    notifications under test are in the outbox.
    """
    kw.setdefault("reporter_email", "")
    kw.setdefault("reporter_phone", "0511 3352 000")
    return complaint_submitted(
        region_code=region_code, category_code=category_code, now=now, **kw
    ).complaint
