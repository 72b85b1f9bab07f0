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
from complaints.enforcement import complaints_close_expired, deadlines_sweep
from complaints.models import Complaint, DeadlineBreach, Tally, TallyDelta
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
from complaints.workflow import OPEN_STATUSES, PUBLIC_STATUSES, Action, ComplaintStatus, Role
from tests.factories import agency, complaint_new, coordinator, officer

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
# The last working days of a year, so the burst crosses into the next one.
T0 = datetime(2025, 12, 22, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def recount(now):
    """The figures counted the slow way, from the rows themselves."""
    this_year = timezone.localdate(now).year
    public = Complaint.objects.filter(is_confidential=False, status__in=PUBLIC_STATUSES)
    overdue = Complaint.objects.overdue(now)

    def by(qs, field):
        return dict(qs.order_by().values_list(field).annotate(n=Count("pk")))

    received = Complaint.objects.filter(created_at__year=this_year)
    return {
        "home": {
            "received": public.filter(created_at__year=this_year).count(),
            "followed_up": public.filter(
                created_at__year=this_year, first_follow_up_at__isnull=False
            ).count(),
            "overdue": overdue.filter(is_confidential=False).count(),
        },
        "received_by_region": by(received, "region_id"),
        "open_by_region": by(Complaint.objects.filter(status__in=OPEN_STATUSES), "region_id"),
        "triage_by_region": by(Complaint.objects.filter(status=S.TRIAGE), "region_id"),
        "open_by_agency": by(
            Complaint.objects.filter(status__in=[S.ASSIGNED, S.IN_PROGRESS]), "assigned_agency_id"
        ),
        "overdue_by_region": by(overdue, "region_id"),
        "overdue_by_agency": {
            k: v for k, v in by(overdue, "assigned_agency_id").items() if k is not None
        },
        "by_status": by(Complaint.objects.all(), "status"),
        "breaches_by_region": by(
            DeadlineBreach.objects.filter(recorded_at__year=this_year), "region_id"
        ),
        "breaches_by_kind": by(DeadlineBreach.objects.all(), "kind"),
        "total": Complaint.objects.count(),
    }


def from_selectors(now):
    since = year_start(now)
    agencies = list(Agency.objects.values_list("pk", flat=True))
    return {
        "home": complaint_figures(now=now),
        "received_by_region": complaint_counts(by="region_id", since=since),
        "open_by_region": complaint_counts(by="region_id", statuses=OPEN_STATUSES),
        "triage_by_region": complaint_counts(by="region_id", statuses=[S.TRIAGE]),
        "open_by_agency": complaint_counts(
            by="agency_id", agency_ids=agencies, statuses=[S.ASSIGNED, S.IN_PROGRESS]
        ),
        "overdue_by_region": overdue_counts(by="region_id", now=now),
        "overdue_by_agency": overdue_counts(by="assigned_agency_id", agency_ids=agencies, now=now),
        "by_status": complaint_counts(by="status"),
        "breaches_by_region": breach_counts(by="region_id", since=since),
        "breaches_by_kind": breach_counts(by="status"),
        "total": complaint_counts(),
    }


def assert_exact(now):
    expected = recount(now)
    assert from_selectors(now) == expected  # deltas pending
    tally_fold()
    assert not TallyDelta.objects.exists()
    assert from_selectors(now) == expected  # all folded
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
    assert figures["breaches_by_region"]  # swept on 2 January: this year's breaches

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
    before = from_selectors(new_year + timedelta(days=30))
    tally_rebuild()
    assert from_selectors(new_year + timedelta(days=30)) == before
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
    assert complaint_counts(region_ids=[public.region_id], since=year_start(now)) == 2
    overdue_at = public.follow_up_due_at + timedelta(minutes=1)
    assert overdue_counts(public=True, now=overdue_at) == 1
    assert overdue_counts(now=overdue_at) == 2


def test_the_fold_task_folds_and_is_safe_to_repeat():
    complaint_new(now=T0)
    pending = TallyDelta.objects.count()
    assert pending >= 1
    assert fold_tallies() == pending
    assert fold_tallies() == 0
    assert complaint_counts() == 1


def test_triggers_a_migration_dropped_come_back_and_the_tally_is_recounted():
    """SQLite remakes a table to alter a column, dropping its triggers; ``post_migrate`` runs
    ``tally_ensure``, which puts them back and counts again."""
    from django.db import connection

    from complaints.tally import tally_ensure

    complaint_new(now=T0)
    assert tally_ensure() is False  # all there: nothing to do
    on = " ON complaints_complaint" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER complaints_complaint_tally_insert{on}")
    complaint_new(now=T0)  # not counted: no trigger
    assert complaint_counts() == 1
    assert tally_ensure() is True
    assert complaint_counts() == 2
    complaint_new(now=T0)
    assert complaint_counts() == 3 == Complaint.objects.count()
