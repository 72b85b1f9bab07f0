"""The figures (home, regency and province overviews) read from the tally, and stay exact.

Every test compares the selectors with a recount straight from the complaint and breach rows,
before and after the fold, after a burst of submissions, staff moves, sweeps and auto-close
(and a bulk ``update()`` that no service made).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Count
from django.utils import timezone

from agencies.models import Agency, RoutingRule
from agencies.selectors import staff_scope_for
from complaints.enforcement import complaints_close_expired, deadlines_sweep
from complaints.models import Complaint, DeadlineBreach, Tally, TallyDelta
from complaints.querysets import overdue_q
from complaints.scope import Purpose, complaints_for
from complaints.selectors import (
    breach_counts,
    complaint_counts,
    complaint_figures,
    overdue_counts,
    year_start,
)
from complaints.services import complaint_transition
from complaints.tally import tally_fold, tally_rebuild
from complaints.tasks import fold_tallies
from complaints.workflow import PUBLIC_STATUSES, Action, ComplaintStatus, Role
from tests.factories import (
    UserFactory,
    agency,
    complaint_new,
    coordinator,
    officer,
    province_staff,
)

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
OPEN_STATUSES = (S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS)
# The last working days of a year, so the burst crosses into the next one.
T0 = datetime(2025, 12, 22, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def recount(now, base=None):
    """The figures counted the slow way, from the rows themselves (``base``: the staff scope)."""
    base = Complaint.objects.all() if base is None else base
    this_year = timezone.localdate(now).year
    public = Complaint.objects.filter(is_confidential=False, status__in=PUBLIC_STATUSES)
    overdue = base.filter(overdue_q(now))

    def by(qs, field):
        return dict(qs.order_by().values_list(field).annotate(n=Count("pk")))

    received = base.filter(created_at__year=this_year)
    return {
        "home": {
            "received": public.filter(created_at__year=this_year).count(),
            "followed_up": public.filter(
                created_at__year=this_year, first_follow_up_at__isnull=False
            ).count(),
            "overdue": public.filter(overdue_q(now)).count(),
        },
        "received_by_region": by(received, "region_id"),
        "open_by_region": by(base.filter(status__in=OPEN_STATUSES), "region_id"),
        "triage_by_region": by(base.filter(status=S.TRIAGE), "region_id"),
        "open_by_agency": by(
            base.filter(status__in=[S.ASSIGNED, S.IN_PROGRESS]), "assigned_agency_id"
        ),
        "overdue_by_region": by(overdue, "region_id"),
        "overdue_by_agency": {
            k: v for k, v in by(overdue, "assigned_agency_id").items() if k is not None
        },
        "by_status": by(base, "status"),
        "total": base.count(),
    }


def from_selectors(now, user):
    since = year_start(now)
    agencies = list(Agency.objects.values_list("pk", flat=True))
    work = {"purpose": Purpose.WORK}
    return {
        "home": complaint_figures(now=now),
        "received_by_region": complaint_counts(user, **work, by="region_id", since=since),
        "open_by_region": complaint_counts(user, **work, by="region_id", statuses=OPEN_STATUSES),
        "triage_by_region": complaint_counts(user, **work, by="region_id", statuses=[S.TRIAGE]),
        "open_by_agency": complaint_counts(
            user, **work, by="agency_id", agency_ids=agencies, statuses=[S.ASSIGNED, S.IN_PROGRESS]
        ),
        "overdue_by_region": overdue_counts(user, **work, by="region_id", now=now),
        "overdue_by_agency": overdue_counts(
            user, **work, by="assigned_agency_id", agency_ids=agencies, now=now
        ),
        "by_status": complaint_counts(user, **work, by="status"),
        "total": complaint_counts(user, **work),
    }


def breaches(now, user):
    this_year = timezone.localdate(now).year
    region_ids = staff_scope_for(user).region_ids

    def by(qs, field):
        return dict(qs.order_by().values_list(field).annotate(n=Count("pk")))

    rows = DeadlineBreach.objects.all()
    if not staff_scope_for(user).is_province:
        rows = rows.filter(region_id__in=region_ids)
    expected = {
        "breaches_by_region": by(rows.filter(recorded_at__year=this_year), "region_id"),
        "breaches_by_kind": by(rows, "kind"),
    }
    found = {
        "breaches_by_region": breach_counts(user, by="region_id", since=year_start(now)),
        "breaches_by_kind": breach_counts(user, by="status"),
    }
    return expected, found


def assert_exact(now):
    """Province and a coordinator, before and after the fold: the selectors equal a recount."""
    province = province_staff(username="prov.figures")
    bjb = coordinator("63.72", username="koord.figures")
    expected = recount(now)
    expected_bjb = recount(now, complaints_for(bjb, purpose=Purpose.WORK))
    for _fold in (False, True):
        if _fold:
            tally_fold()
            assert not TallyDelta.objects.exists()
        assert from_selectors(now, province) == expected
        assert from_selectors(now, bjb) == expected_bjb
        for user in (province, bjb):
            breach_expected, breach_found = breaches(now, user)
            assert breach_found == breach_expected
    return expected


def test_figures_equal_a_recount_after_a_burst_across_new_year():
    bjb_pupr = officer("63.72", "pupr", username="pupr.bjb")
    bjm_coordinator = coordinator("63.71", username="koord.bjm")
    bjb_coordinator = coordinator("63.72", username="koord.bjb")
    # Kota Banjarmasin's "kebersihan" has no rule: those go to its coordinator's triage.
    RoutingRule.objects.filter(region__code="63.71", category__code="jalan").delete()

    made = []
    for i in range(12):
        made.append(
            complaint_new(
                now=T0 + timedelta(hours=i),
                region_code=["63.72", "63.71", "63.03"][i % 3],
                is_confidential=i % 4 == 0,
                is_anonymous=i % 5 == 0,
            )
        )
    assert {c.status for c in made} == {S.ASSIGNED, S.TRIAGE}
    bjb = [c for c in made if c.region.code == "63.72"]
    bjm = [c for c in made if c.region.code == "63.71"]

    # Staff moves: a follow-up, a resolution, "not ours" back to triage, a triage routed on,
    # an archive.
    later = T0 + timedelta(days=1)
    complaint_transition(
        complaint=bjb[0],
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=bjb_pupr,
        note="Tim dijadwalkan.",
        now=later,
    )
    complaint_transition(
        complaint=bjb[0],
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=bjb_pupr,
        note="Jalan sudah ditambal.",
        now=later + timedelta(hours=1),
    )
    complaint_transition(
        complaint=bjb[1],
        action=Action.NOT_OURS,
        role=Role.AGENCY_OFFICER,
        actor=bjb_pupr,
        note="Ini jalan provinsi.",
        now=later,
    )
    complaint_transition(
        complaint=bjb[1],
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=bjb_coordinator,
        agency=agency("63.72", "perkim"),
        note="Untuk Perkim.",
        now=later + timedelta(hours=2),
    )
    complaint_transition(
        complaint=bjm[0],
        action=Action.ARCHIVE,
        role=Role.REGION_COORDINATOR,
        actor=bjm_coordinator,
        reason="spam",
        note="Iklan.",
        now=later,
    )
    assert_exact(later + timedelta(hours=3))

    # Sweeps over new year: breaches are recorded, "overdue now" keeps last year's complaints.
    new_year = datetime(2026, 1, 2, 10, 0, tzinfo=WITA)
    deadlines_sweep(now=T0 + timedelta(days=4))
    deadlines_sweep(now=new_year)
    assert DeadlineBreach.objects.exists()
    figures = assert_exact(new_year)
    assert figures["home"]["received"] == 0  # nothing came in this year yet
    assert figures["home"]["overdue"] > 0  # December's overdue complaints are still overdue
    assert breaches(new_year, province_staff(username="p.b"))[1]["breaches_by_region"]

    # A complaint of the new year, and auto-close of the one resolved in December.
    fresh = complaint_new(now=new_year, region_code="63.72")
    closed = complaints_close_expired(now=new_year + timedelta(days=30))
    assert closed == 1
    bjb[0].refresh_from_db()
    assert bjb[0].status == S.CLOSED
    figures = assert_exact(new_year + timedelta(days=30))
    assert figures["home"]["received"] == 1
    assert fresh.pk

    # A bulk update nobody told the figures about is counted all the same (the triggers).
    Complaint.objects.filter(pk__in=[c.pk for c in bjm[1:]]).update(is_confidential=True)
    Complaint.objects.filter(pk=fresh.pk).update(first_follow_up_at=new_year)
    assert_exact(new_year + timedelta(days=30))

    # Counting again from scratch gives the same tally.
    province = province_staff(username="prov.rebuild")
    before = from_selectors(new_year + timedelta(days=30), province)
    tally_rebuild()
    assert from_selectors(new_year + timedelta(days=30), province) == before
    assert Tally.objects.exists()


def test_an_overdue_complaint_from_december_is_still_overdue_on_the_first_of_january(client):
    complaint = complaint_new(now=datetime(2025, 12, 26, 15, 0, tzinfo=WITA))
    assert complaint.status == S.ASSIGNED
    with time_machine.travel(datetime(2026, 1, 1, 8, 0, tzinfo=WITA), tick=False):
        assert complaint.follow_up_due_at < timezone.now()
        figures = complaint_figures()
        assert figures == {"received": 0, "followed_up": 0, "overdue": 1}
        response = client.get("/")
    assert response.context["figures"]["overdue"] == 1


def test_rahasia_complaints_count_in_staff_figures_but_not_on_the_home_page():
    now = T0 + timedelta(hours=1)
    complaint_new(now=T0, is_confidential=True)
    public = complaint_new(now=T0)
    assert complaint_figures(now=now) == {"received": 1, "followed_up": 0, "overdue": 0}
    staff = coordinator("63.72", username="koord.rahasia")
    since = year_start(now)
    assert complaint_counts(staff, purpose=Purpose.WORK, since=since) == 2
    assert complaint_counts(None, purpose=Purpose.PUBLIC, since=since) == 1
    overdue_at = public.follow_up_due_at + timedelta(minutes=1)
    assert overdue_counts(None, purpose=Purpose.PUBLIC, now=overdue_at) == 1
    assert overdue_counts(staff, purpose=Purpose.WORK, now=overdue_at) == 2
    # Another regency's coordinator and a citizen count nothing of these.
    assert complaint_counts(coordinator("63.71", username="koord.bjm2"), purpose=Purpose.WORK) == 0
    assert complaint_counts(UserFactory(), purpose=Purpose.WORK) == 0


def test_the_fold_task_folds_and_is_safe_to_repeat():
    complaint_new(now=T0)
    pending = TallyDelta.objects.count()
    assert pending >= 1
    assert fold_tallies() == pending
    assert fold_tallies() == 0
    assert complaint_counts(province_staff(username="p.fold"), purpose=Purpose.WORK) == 1


def test_triggers_a_migration_dropped_come_back_and_the_tally_is_recounted():
    """SQLite remakes a table to alter a column, dropping its triggers; ``post_migrate`` runs
    ``tally_ensure``, which puts them back and counts again."""
    from django.db import connection

    from complaints.tally import tally_ensure

    complaint_new(now=T0)
    province = province_staff(username="p.ensure")

    def complaint_counts_all():
        return complaint_counts(province, purpose=Purpose.WORK)

    assert tally_ensure() is False  # all there: nothing to do
    on = " ON complaints_complaint" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER complaints_complaint_tally_insert{on}")
    complaint_new(now=T0)  # not counted: no trigger
    assert complaint_counts_all() == 1
    assert tally_ensure() is True
    assert complaint_counts_all() == 2
    complaint_new(now=T0)
    assert complaint_counts_all() == 3 == Complaint.objects.count()
