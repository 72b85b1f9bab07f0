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
