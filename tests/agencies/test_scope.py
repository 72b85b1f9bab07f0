import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError

from agencies.models import Agency, StaffMembership, StaffRole
from agencies.selectors import agencies_visible_to, staff_scope_for
from tests.factories import UserFactory, agency, coordinator, officer, province_staff, region

pytestmark = pytest.mark.django_db


def test_a_citizen_and_an_anonymous_visitor_have_no_staff_scope():
    citizen = UserFactory()
    for user in (citizen, AnonymousUser(), None):
        scope = staff_scope_for(user)
        assert not scope.is_staff
        assert scope.roles == set()
    assert not agencies_visible_to(citizen).exists()
    assert not Agency.objects.filter(staff_scope_for(citizen).q()).exists()


def test_an_agency_officer_sees_only_their_agency():
    user = officer("63.72", "perkim")
    scope = staff_scope_for(user)
    assert scope.roles == {StaffRole.AGENCY_OFFICER}
    assert list(agencies_visible_to(user)) == [agency("63.72", "perkim")]
    assert not scope.covers_region(region("63.72").pk)
    assert scope.covers_agency(agency("63.72", "perkim"))
    assert not scope.covers_agency(agency("63.72", "pupr"))


def test_a_coordinator_sees_every_agency_of_their_region_and_no_other():
    user = coordinator("63.71")
    visible = set(agencies_visible_to(user))
    assert visible == set(Agency.objects.filter(region__code="63.71"))
    assert agency("63.71", "uptd-pju") in visible
    assert agency("63.72", "perkim") not in visible
    scope = staff_scope_for(user)
    assert scope.covers_region(region("63.71").pk)
    assert not scope.covers_region(region("63.72").pk)


def test_provincial_staff_see_everything():
    user = province_staff()
    assert agencies_visible_to(user).count() == Agency.objects.count()
    assert staff_scope_for(user).covers_region(region("63.01").pk)
    assert user.is_staff  # may open /admin/ for reference data and schemes


def test_scope_q_filters_rows_by_agency_or_region():
    user = officer("63.72", "perkim")
    rows = Agency.objects.filter(staff_scope_for(user).q(agency_field="routing_rules__agency"))
    assert rows.exists()
    assert set(rows.values_list("region__code", flat=True)) == {"63.72"}


def test_a_membership_must_match_its_role():
    user = UserFactory()
    with pytest.raises(IntegrityError):
        StaffMembership.objects.create(
            user=user, role=StaffRole.AGENCY_OFFICER, region=region("63.72")
        )


def test_roles_are_django_groups():
    user = coordinator("63.72")
    assert list(user.groups.values_list("name", flat=True)) == [StaffRole.REGION_COORDINATOR]
