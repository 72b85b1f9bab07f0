"""One scope: every read of complaints starts from ``complaints.scope.complaints_for``.

What each purpose gives is tested here; the source guard that keeps every module to the scope
is in tests/lapor/test_guards.py, and templates are checked below. See docs/architecture.md.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from agencies.models import RoutingRule
from complaints.scope import Purpose, complaints_for, private_link_opens
from complaints.services import complaint_submit
from tests.factories import (
    UserFactory,
    complaint_fields,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
)

BASE_DIR = Path(settings.BASE_DIR)


# A template reaching for a reverse manager (`region.complaints.count`) reads around it too.
TEMPLATE_REVERSE = re.compile(r"\.(complaints|duplicates)(\.|\s|\}|\|)")


def test_no_template_reads_complaints_through_a_relation():
    offenders = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in sorted((BASE_DIR / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TEMPLATE_REVERSE.search(line)
    ]
    assert offenders == []
    assert TEMPLATE_REVERSE.search("{{ region.complaints.count }}")
    assert not TEMPLATE_REVERSE.search("{% url 'complaints:list' %} complaints/detail.html")


# --- what each purpose gives -------------------------------------------------------------------


@pytest.fixture
def complaints(db, media_root):
    """In Banjarbaru: a public complaint (Perkim), a rahasia one of an account, and one in triage;
    in Banjarmasin: a public one."""
    owner = UserFactory(username="pemilik")
    public = complaint_submitted(title="Publik").complaint
    rahasia = complaint_submitted(title="Rahasia", reporter=owner, is_confidential=True).complaint
    RoutingRule.objects.filter(region__code="63.72", category__code="pju").delete()
    triage = complaint_submitted(title="Triase").complaint
    elsewhere = complaint_submitted(region_code="63.71", title="Banjarmasin").complaint
    return {
        "owner": owner,
        "public": public,
        "rahasia": rahasia,
        "triage": triage,
        "elsewhere": elsewhere,
    }


def titles(queryset) -> set[str]:
    return set(queryset.values_list("title", flat=True))


@pytest.mark.django_db
def test_public_is_routed_and_not_rahasia_whoever_asks(complaints):
    for user in (None, AnonymousUser(), complaints["owner"], province_staff()):
        assert titles(complaints_for(user, purpose=Purpose.PUBLIC)) == {"Publik", "Banjarmasin"}


@pytest.mark.django_db
def test_work_is_the_staff_members_own_set_and_empty_for_citizens(complaints):
    expected = {
        "officer of Banjarbaru's Perkim": (officer("63.72", "perkim"), {"Publik", "Rahasia"}),
        "coordinator of Banjarbaru": (coordinator("63.72"), {"Publik", "Rahasia", "Triase"}),
        "coordinator of Banjarmasin": (coordinator("63.71"), {"Banjarmasin"}),
        "provincial staff": (
            province_staff(),
            {"Publik", "Rahasia", "Triase", "Banjarmasin"},
        ),
        "the reporter": (complaints["owner"], set()),
        "a visitor": (AnonymousUser(), set()),
    }
    for who, (user, wanted) in expected.items():
        assert titles(complaints_for(user, purpose=Purpose.WORK)) == wanted, who


@pytest.mark.django_db
def test_own_is_by_account_or_by_proven_codes_and_nothing_else(complaints):
    assert titles(complaints_for(complaints["owner"], purpose=Purpose.OWN)) == {"Rahasia"}
    codes = frozenset({complaints["triage"].tracking_code})
    assert titles(complaints_for(None, purpose=Purpose.OWN, reporter_codes=codes)) == {"Triase"}
    assert titles(complaints_for(AnonymousUser(), purpose=Purpose.OWN)) == set()
    assert titles(complaints_for(UserFactory(username="tetangga"), purpose=Purpose.OWN)) == set()


@pytest.mark.django_db
def test_see_adds_own_and_work_to_public(complaints):
    assert titles(complaints_for(complaints["owner"], purpose=Purpose.SEE)) == {
        "Publik",
        "Banjarmasin",
        "Rahasia",
    }
    assert titles(complaints_for(coordinator("63.72"), purpose=Purpose.SEE)) == {
        "Publik",
        "Banjarmasin",
        "Rahasia",
        "Triase",
    }


@pytest.mark.django_db
def test_only_the_right_secret_opens_a_private_link(db, media_root):
    result = complaint_submit(**complaint_fields(region_code="63.72", category_code="pju"))
    code = result.complaint.tracking_code
    assert private_link_opens(code, result.access_key)
    assert not private_link_opens(code, result.access_key + "x")
    assert not private_link_opens(code, "")
