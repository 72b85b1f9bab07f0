"""Each indicator against a plain-Python recount over a generated data set (run on PostgreSQL in
CI, and on SQLite with the median's fallback), plus the counting rules one at a time."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from awards.indicators import IndicatorSet, indicator_sets, monthly_received, year_bounds
from complaints.models import DeadlineBreach
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.awards import dataset
from tests.factories import agency, complaint_new, province_staff, region

WITA = dataset.WITA
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    return province_staff(username="prov.kalsel")


@pytest.fixture
def generated(staff):
    return dataset.generate(actor=staff)


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["region", "agency", "month"])
def test_every_indicator_matches_a_plain_recount(generated, group_by):
    expected = dataset.recount(group_by)
    got = indicator_sets(group_by=group_by, start=dataset.START, end=dataset.END)
    assert {k: v.as_dict() for k, v in got.items()} == {
        k: IndicatorSet(**v).as_dict() for k, v in expected.items()
    }
    # The data set reaches every branch the indicators tell apart.
    totals = {
        name: sum(getattr(s, name) for s in got.values())
        for name in (
            "received",
            "followed_up",
            "followed_up_on_time",
            "resolved",
            "breached",
            "triaged_on_time",
            "completed_on_time",
            "reopened",
        )
    }
    assert all(totals.values()), totals
    assert any(s.mean_rating is not None for s in got.values())
    if group_by == "agency":
        assert any(s.breached_elsewhere for s in got.values())
    # Not every complaint is on time, so the national indicators tell something apart.
    assert totals["completed_on_time"] < totals["resolved"]


@pytest.mark.django_db
def test_the_trends_monthly_counts_are_the_indicator_sets_own(generated):
    from complaints.scope import Purpose, complaints_for
    from tests.factories import coordinator

    for scope in (None, complaints_for(coordinator("63.72"), purpose=Purpose.WORK)):
        sets = indicator_sets(
            group_by="month", start=dataset.START, end=dataset.END, complaints=scope
        )
        months = monthly_received(start=dataset.START, end=dataset.END, complaints=scope)
        assert {k: (m.received, m.on_time_share) for k, m in months.items()} == {
            k: (s.received, s.on_time_share) for k, s in sets.items()
        }
        assert len(months) > 1 and any(m.on_time_share for m in months.values())


@pytest.mark.django_db
def test_a_staff_scope_restricts_the_figures(generated):
    from complaints.scope import Purpose, complaints_for
    from tests.factories import coordinator

    user = coordinator("63.72", username="koord.bjb")
    scoped = indicator_sets(
        group_by="region",
        start=dataset.START,
        end=dataset.END,
        complaints=complaints_for(user, purpose=Purpose.WORK),
    )
    assert set(scoped) == {region("63.72").pk}
    whole = indicator_sets(group_by="region", start=dataset.START, end=dataset.END)
    assert scoped[region("63.72").pk] == whole[region("63.72").pk]


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["region", "agency", "month"])
def test_a_fixed_number_of_queries_whatever_the_groups(generated, group_by):
    with CaptureQueriesContext(connection) as queries:
        indicator_sets(group_by=group_by, start=dataset.START, end=dataset.END)
    expected = 1 + (group_by == "agency") + (connection.vendor != "postgresql")
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == expected


@pytest.mark.django_db
def test_the_year_is_the_submission_date_in_wita(staff):
    inside = complaint_new(now=datetime(2025, 1, 1, 0, 30, tzinfo=WITA))  # 2024 in UTC
    complaint_new(now=datetime(2024, 12, 31, 23, 59, tzinfo=WITA))
    start, end = year_bounds(2025)
    assert start == datetime(2025, 1, 1, tzinfo=WITA)
    sets = indicator_sets(group_by="month", start=start, end=end)
    assert set(sets) == {date(2025, 1, 1)}
    assert sets[date(2025, 1, 1)].received == 1
    assert inside.created_at.astimezone(WITA).year == 2025


@pytest.mark.django_db
def test_exclusions_spam_duplicates_and_archived_before_any_agency(staff):
    from agencies.models import RoutingRule

    def archive(c, reason, **kw):
        complaint_transition(
            complaint=c,
            action=Action.ARCHIVE,
            role=Role.PROVINCE_STAFF,
            actor=staff,
            reason=reason,
            now=T0 + timedelta(hours=1),
            **kw,
        )

    kept = complaint_new(now=T0)
    secret = complaint_new(now=T0, is_confidential=True)
    archive(complaint_new(now=T0), "spam")
    archive(complaint_new(now=T0), "duplicate", duplicate_of=kept)
    held_then_archived = complaint_new(now=T0)
    archive(held_then_archived, "out_of_scope")
    RoutingRule.objects.filter(region__code="63.72", category__code="jalan").delete()
    never_held = complaint_new(now=T0)
    archive(never_held, "too_general")
    in_triage = complaint_new(now=T0)
    assert never_held.assigned_at is None and in_triage.status == "triage"

    start, end = year_bounds(2025)
    by_region = indicator_sets(group_by="region", start=start, end=end)
    # kept, the rahasia one, the one archived after an agency held it, the one in triage.
    assert by_region[region("63.72").pk].received == 4
    by_agency = indicator_sets(group_by="agency", start=start, end=end)
    # The agency holds kept and the rahasia one; archived and triage ones are no agency's.
    assert by_agency[agency("63.72", "pupr").pk].received == 2
    assert secret.is_confidential


@pytest.mark.django_db
def test_the_agency_that_breached_keeps_the_breach_after_rerouting(staff):
    complaint = complaint_new(now=T0)
    pupr, perkim = agency("63.72", "pupr"), agency("63.72", "perkim")
    complaint_transition(
        complaint=complaint,
        action=Action.REROUTE,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        agency=perkim,
        now=T0 + timedelta(days=4),
    )
    assert DeadlineBreach.objects.get().agency == pupr
    start, end = year_bounds(2025)
    sets = indicator_sets(group_by="agency", start=start, end=end)
    assert sets[pupr.pk].received == 0
    assert sets[pupr.pk].breached == 1
    assert sets[pupr.pk].breached_elsewhere == 1
    assert sets[pupr.pk].breach_share == 1
    assert sets[pupr.pk].followed_up_share is None
    assert sets[perkim.pk].received == 1
    assert sets[perkim.pk].breached == 0
    assert sets[perkim.pk].breach_share == 0
    # The regency keeps it as one breached complaint.
    by_region = indicator_sets(group_by="region", start=start, end=end)
    assert by_region[region("63.72").pk].breached == 1


@pytest.mark.django_db
def test_median_hours_of_an_even_count_is_the_mean_of_the_middle_two(staff):
    for hours in (2, 10, 30, 50):
        complaint = complaint_new(now=T0)
        complaint_transition(
            complaint=complaint,
            action=Action.FOLLOW_UP,
            role=Role.PROVINCE_STAFF,
            actor=staff,
            note="Ditinjau",
            now=T0 + timedelta(hours=hours, minutes=1),
        )
    complaint_new(now=T0)  # not followed up: not in the median
    start, end = year_bounds(2025)
    result = indicator_sets(group_by="region", start=start, end=end)[region("63.72").pk]
    assert str(result.median_hours_to_follow_up) == "20.02"  # (10h01 + 30h01) / 2
    assert result.followed_up == 4 and result.received == 5
    assert str(result.followed_up_share) == "0.8000"
    assert result.mean_rating is None


def test_empty_set_has_no_shares():
    empty = IndicatorSet.empty()
    assert empty.received == 0 and empty.followed_up_share is None
    assert empty.breach_share is None and empty.median_hours_to_follow_up is None


def test_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="group_by"):
        indicator_sets(group_by="category", start=T0, end=T0)


@pytest.mark.django_db
def test_verification_within_the_deadline_and_reopening(staff):
    """Triage: a complaint verified late (the sweep recorded the missed verification deadline)
    is not "verified on time"; one still waiting is not either; a routed one is."""
    from agencies.models import RoutingRule
    from complaints.enforcement import deadlines_sweep

    RoutingRule.objects.filter(region__code="63.03", category__code="lainnya").delete()
    late = complaint_new(now=T0, region_code="63.03", category_code="lainnya")
    complaint_new(now=T0, region_code="63.03", category_code="lainnya")  # still waiting
    complaint_new(now=T0, region_code="63.03", category_code="jalan")  # routed at once
    deadlines_sweep(now=T0 + timedelta(days=10))
    pupr = agency("63.03", "pupr")
    complaint_transition(
        complaint=late,
        action=Action.REROUTE,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        agency=pupr,
        now=T0 + timedelta(days=10, hours=1),
    )
    figures = indicator_sets(group_by="region", start=dataset.START, end=dataset.END)
    banjar = figures[region("63.03").pk]
    assert (banjar.received, banjar.triaged_on_time) == (3, 1)
    assert str(banjar.triage_on_time_share) == "0.3333"
    assert banjar.reopened == 0 and str(banjar.reopen_share) == "0.0000"
