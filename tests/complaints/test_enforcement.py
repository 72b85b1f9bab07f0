"""The deadline sweep and auto-close (docs/product-rules.md, "Deadlines"), with the time
injected as ``now=``.

Every test drives the services the way Celery beat does: ``deadlines_sweep(now=...)`` and
``complaints_close_expired(now=...)``, with complaints made through ``complaint_submit`` and
``complaint_transition`` at fixed WITA times, so no test depends on the wall clock.
"""

import dataclasses
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections, transaction

from agencies.models import RoutingRule
from complaints import workflow
from complaints.enforcement import (
    PROVINCE_ESCALATION_AFTER,
    REMINDER_BEFORE,
    REMINDER_TRAIL,
    complaints_close_expired,
    deadlines_sweep,
)
from complaints.models import (
    BreachKind,
    Complaint,
    ComplaintEvent,
    DeadlineBreach,
    EventKind,
    SweepMark,
)
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role, WorkflowError
from notifications import services as notifications
from notifications.models import Notification, NotificationStatus
from tests.factories import (
    agency,
    category,
    complaint_new,
    coordinator,
    officer,
    province_staff,
)

WITA = ZoneInfo("Asia/Makassar")
# A Monday morning in Banjarbaru, far from holidays.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)


def notifications_to(email: str):
    return Notification.objects.filter(recipient=email)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    """A coordinator for Banjarbaru and one for Banjarmasin, an officer of Banjarbaru's PUPR
    (which handles "jalan" there) and one of its Perkim, and a provincial staff member."""
    return {
        "coordinator": coordinator("63.72", username="koord.bjb"),
        "other_coordinator": coordinator("63.71", username="koord.bjm"),
        "officer": officer("63.72", "pupr", username="pupr.bjb"),
        "other_officer": officer("63.72", "perkim", username="perkim.bjb"),
        "province": province_staff(username="prov.kalsel"),
    }


@pytest.fixture
def assigned(db):
    """A "jalan" complaint of Banjarbaru, routed to its PUPR at T0."""
    complaint = complaint_new(now=T0)
    assert complaint.status == ComplaintStatus.ASSIGNED
    assert complaint.assigned_agency == agency("63.72", "pupr")
    assert complaint.follow_up_due_at == T0 + timedelta(days=3)
    return complaint


# --- overdue before any sweep ------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_queryset_is_right_before_any_sweep(assigned):
    due = assigned.follow_up_due_at
    followed_up = complaint_new(now=T0)
    complaint_transition(
        complaint=followed_up,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "pupr", username="pupr.bjb"),
        note="Tim sudah dijadwalkan ke lokasi.",
        now=T0 + timedelta(hours=2),
    )
    RoutingRule.objects.filter(region__code="63.72", category__code="jalan").delete()
    triage = complaint_new(now=T0 + timedelta(days=1))
    assert triage.status == ComplaintStatus.TRIAGE
    assert triage.triage_due_at > due

    def overdue(now):
        flagged = Complaint.objects.all().with_overdue(now=now).filter(is_overdue=True)
        return set(flagged.values_list("pk", flat=True))

    assert overdue(due - timedelta(seconds=1)) == set()
    assert overdue(due + timedelta(seconds=1)) == {assigned.pk}
    assert overdue(triage.triage_due_at + timedelta(seconds=1)) == {assigned.pk, triage.pk}
    # Nothing has been swept: overdue comes from the due dates alone.
    assert not DeadlineBreach.objects.exists()
    assert not SweepMark.objects.exists()  # no sweep has run


# --- follow-up breach ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_follow_up_breach_recorded_once_when_the_sweep_runs_twice(assigned, staff):
    due = assigned.follow_up_due_at

    assert deadlines_sweep(now=due - timedelta(minutes=1)).follow_up_breaches == 0
    assert not DeadlineBreach.objects.exists()
    reminders = Notification.objects.count()

    first = deadlines_sweep(now=due + timedelta(minutes=5))
    assert first.follow_up_breaches == 1
    breach = DeadlineBreach.objects.get()
    assert breach.complaint_id == assigned.pk
    assert breach.kind == BreachKind.FOLLOW_UP
    assert breach.due_at == due
    assert breach.agency == agency("63.72", "pupr")
    assert breach.region_id == assigned.region_id
    assert breach.escalated_to_province_at is None
    assert breach.recorded_at == due + timedelta(minutes=5)
    events = ComplaintEvent.objects.filter(complaint=assigned, kind=EventKind.BREACH)
    assert events.count() == 1
    assert events.get().is_internal
    assert events.get().actor_role == Role.SYSTEM
    notifications_after_first = Notification.objects.count()
    assert notifications_after_first == reminders + first.notifications
    assert first.notifications == 2  # the agency's officer and the coordinator

    second = deadlines_sweep(now=due + timedelta(minutes=10))
    assert second.total == 0
    assert second.notifications == 0
    assert DeadlineBreach.objects.count() == 1
    assert events.count() == 1
    assert Notification.objects.count() == notifications_after_first


@pytest.mark.django_db
def test_breach_escalates_to_the_coordinator_of_the_complaints_region(assigned, staff):
    in_banjarmasin = complaint_new(now=T0, region_code="63.71", category_code="jalan")

    deadlines_sweep(now=assigned.follow_up_due_at + timedelta(minutes=5))

    to_coordinator = notifications_to(staff["coordinator"].email).get()
    assert to_coordinator.status == NotificationStatus.PENDING
    assert assigned.tracking_code in to_coordinator.body
    assert in_banjarmasin.tracking_code not in to_coordinator.body
    # Emails are written in the site's language (Indonesian): "1 pengaduan melewati batas ...".
    assert to_coordinator.subject.startswith("1 ")
    assert "melewati" in to_coordinator.subject

    to_other = notifications_to(staff["other_coordinator"].email).get()
    assert in_banjarmasin.tracking_code in to_other.body
    assert assigned.tracking_code not in to_other.body

    # The agency hears of its breach; another agency and the province do not (yet).
    to_officer = notifications_to(staff["officer"].email).get()
    assert assigned.tracking_code in to_officer.body
    assert not notifications_to(staff["other_officer"].email).exists()
    assert not notifications_to(staff["province"].email).exists()


@pytest.mark.django_db
def test_breach_digest_lists_each_complaint_on_one_line_with_its_link(assigned, staff, settings):
    settings.LAPOR_SITE_URL = "https://lapor.example.id"

    deadlines_sweep(now=assigned.follow_up_due_at + timedelta(minutes=5))

    body = notifications_to(staff["officer"].email).get().body
    code = assigned.tracking_code
    line = f"- {code} — {assigned.title}: https://lapor.example.id/complaints/{code}/"
    lines = body.splitlines()
    assert lines[1:3] == ["", line]  # under the opening sentence and a blank line
    assert lines.count(line) == 1
    assert "…" not in body  # no "and N more" for one complaint


def test_digest_of_more_than_200_complaints_lists_200_and_counts_the_rest():
    rows = [{"tracking_code": f"LPR-{i:04d}", "title": f"Jalan <{i}>"} for i in range(200)]

    _subject, body = notifications.notification_render(
        "digest", {"kind": "breach_agency", "rows": rows, "count": 230}
    )

    listed = [line for line in body.splitlines() if line.startswith("- LPR-")]
    assert len(listed) == 200
    assert listed[0].startswith("- LPR-0000 — Jalan <0>: ")  # plain text: nothing escaped
    assert "30" in body.split(listed[-1])[1].splitlines()[1]  # "… dan 30 lainnya."


@pytest.mark.django_db
def test_breach_without_a_coordinator_email_still_recorded(assigned):
    result = deadlines_sweep(now=assigned.follow_up_due_at + timedelta(minutes=5))
    assert result.follow_up_breaches == 1
    assert result.notifications == 0
    assert DeadlineBreach.objects.count() == 1


# --- province escalation -------------------------------------------------------------------------


@pytest.mark.django_db
def test_province_escalation_only_after_three_more_days_and_once(assigned, staff):
    due = assigned.follow_up_due_at
    assert timedelta(days=3) == PROVINCE_ESCALATION_AFTER

    deadlines_sweep(now=due + timedelta(minutes=5))
    early = deadlines_sweep(now=due + timedelta(days=3) - timedelta(minutes=1))
    assert early.province_escalations == 0
    assert not notifications_to(staff["province"].email).exists()
    assert not ComplaintEvent.objects.filter(kind=EventKind.ESCALATED).exists()

    escalated_at = due + timedelta(days=3, minutes=1)
    result = deadlines_sweep(now=escalated_at)
    assert result.province_escalations == 1
    assert result.follow_up_breaches == 0
    to_province = notifications_to(staff["province"].email).get()
    assert assigned.tracking_code in to_province.body
    event = ComplaintEvent.objects.get(kind=EventKind.ESCALATED)
    assert event.complaint_id == assigned.pk
    assert event.data["to"] == "province"
    breach = DeadlineBreach.objects.get()
    assert breach.escalated_to_province_at == escalated_at
    assigned.refresh_from_db()

    again = deadlines_sweep(now=due + timedelta(days=5))
    assert again.total == 0
    assert notifications_to(staff["province"].email).count() == 1
    assert ComplaintEvent.objects.filter(kind=EventKind.ESCALATED).count() == 1
    assert DeadlineBreach.objects.count() == 1


@pytest.mark.django_db
def test_followed_up_complaint_is_not_escalated_to_the_province(assigned, staff):
    due = assigned.follow_up_due_at
    deadlines_sweep(now=due + timedelta(minutes=5))
    complaint_transition(
        complaint=assigned,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=staff["officer"],
        note="Maaf terlambat, tim ke lokasi besok.",
        now=due + timedelta(days=1),
    )
    result = deadlines_sweep(now=due + timedelta(days=4))
    assert result.province_escalations == 0
    assert not notifications_to(staff["province"].email).exists()
    # The breach stays on record although the agency followed up later.
    assert DeadlineBreach.objects.filter(kind=BreachKind.FOLLOW_UP).count() == 1


# --- reminders -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reminder_24_hours_before_the_follow_up_deadline_once(assigned, staff):
    due = assigned.follow_up_due_at

    too_early = deadlines_sweep(now=due - timedelta(hours=24, minutes=1))
    assert too_early.reminders == 0

    result = deadlines_sweep(now=due - timedelta(hours=23))
    assert result.reminders == 1
    assert result.follow_up_breaches == 0
    reminder = notifications_to(staff["officer"].email).get()
    assert assigned.tracking_code in reminder.body
    assert "24" in reminder.subject
    event = ComplaintEvent.objects.get(kind=EventKind.REMINDER)
    assert event.complaint_id == assigned.pk
    assert event.to_agency == agency("63.72", "pupr")
    # Only the agency is reminded: no coordinator, no province.
    assert not notifications_to(staff["coordinator"].email).exists()
    assert not notifications_to(staff["province"].email).exists()

    assert deadlines_sweep(now=due - timedelta(hours=2)).reminders == 0
    assert notifications_to(staff["officer"].email).count() == 1
    assert ComplaintEvent.objects.filter(kind=EventKind.REMINDER).count() == 1

    # At the breach there is a breach notice, not a second reminder.
    deadlines_sweep(now=due + timedelta(minutes=1))
    assert ComplaintEvent.objects.filter(kind=EventKind.REMINDER).count() == 1
    assert notifications_to(staff["officer"].email).count() == 2


@pytest.mark.django_db
def test_sweeps_within_the_reminder_trail_remind_once(staff):
    """A one-day follow-up is due for its reminder at once; the sweeps after it read it again
    (the watermark trails by ``REMINDER_TRAIL``) and neither remind nor email a second time."""
    jalan = category("jalan")
    jalan.follow_up_days = 1
    jalan.save(update_fields=["follow_up_days"])
    complaint = complaint_new(now=T0)
    assert complaint.follow_up_due_at == T0 + timedelta(days=1)
    counts = [deadlines_sweep(now=T0 + timedelta(minutes=m)).reminders for m in (1, 2, 5, 10, 30)]
    assert counts == [1, 0, 0, 0, 0]
    assert ComplaintEvent.objects.filter(kind=EventKind.REMINDER).count() == 1
    assert notifications_to(staff["officer"].email).count() == 1
    mark = SweepMark.objects.get(step="reminder")
    assert mark.until == T0 + timedelta(minutes=30) + REMINDER_BEFORE - REMINDER_TRAIL


@pytest.mark.django_db
def test_no_reminder_once_the_deadline_has_passed(assigned, staff):
    result = deadlines_sweep(now=assigned.follow_up_due_at + timedelta(minutes=1))
    assert result.follow_up_breaches == 1
    assert result.reminders == 0
    assert not ComplaintEvent.objects.filter(kind=EventKind.REMINDER).exists()


# --- re-routing ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reroute_keeps_the_old_breach_and_gives_a_fresh_deadline(assigned, staff):
    agency_a, agency_b = agency("63.72", "pupr"), agency("63.72", "perkim")
    due_a = assigned.follow_up_due_at
    deadlines_sweep(now=due_a + timedelta(minutes=5))

    rerouted_at = due_a + timedelta(hours=2)
    complaint_transition(
        complaint=assigned,
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=staff["coordinator"],
        agency=agency_b,
        note="Ini urusan Perkim.",
        now=rerouted_at,
    )
    assigned.refresh_from_db()
    assert assigned.assigned_agency == agency_b
    due_b = assigned.follow_up_due_at
    assert due_b == rerouted_at + timedelta(days=3)

    # The sweep after the re-route does not count B as late, and A's breach stays.
    assert deadlines_sweep(now=rerouted_at + timedelta(minutes=5)).follow_up_breaches == 0
    old = DeadlineBreach.objects.get()
    assert (old.agency, old.due_at) == (agency_a, due_a)

    # B misses its own deadline: a second, separate breach against B.
    result = deadlines_sweep(now=due_b + timedelta(minutes=5))
    assert result.follow_up_breaches == 1
    breaches = DeadlineBreach.objects.filter(kind=BreachKind.FOLLOW_UP).order_by("due_at")
    assert [(b.agency, b.due_at) for b in breaches] == [(agency_a, due_a), (agency_b, due_b)]
    # B's officers heard of the new assignment and then of B's own breach.
    to_b = notifications_to(staff["other_officer"].email).exclude(complaint=assigned)
    assert to_b.count() == 1
    assert assigned.tracking_code in to_b.get().body

    # The province escalation concerns B's breach, not A's old one.
    assert deadlines_sweep(now=due_b + timedelta(days=3, minutes=5)).province_escalations == 1
    old.refresh_from_db()
    assert old.escalated_to_province_at is None
    assert DeadlineBreach.objects.get(due_at=due_b).escalated_to_province_at is not None


# --- triage and completion ----------------------------------------------------------------------


@pytest.mark.django_db
def test_triage_breach(staff):
    RoutingRule.objects.filter(region__code="63.72", category__code="jalan").delete()
    triage = complaint_new(now=T0)
    assert triage.status == ComplaintStatus.TRIAGE
    due = triage.triage_due_at
    assert due is not None

    assert deadlines_sweep(now=due - timedelta(minutes=1)).triage_breaches == 0
    result = deadlines_sweep(now=due + timedelta(minutes=1))
    assert result.triage_breaches == 1
    breach = DeadlineBreach.objects.get()
    assert (breach.kind, breach.due_at, breach.agency, breach.region_id) == (
        BreachKind.TRIAGE,
        due,
        None,
        triage.region_id,
    )
    assert ComplaintEvent.objects.filter(complaint=triage, kind=EventKind.BREACH).count() == 1
    assert triage.tracking_code in notifications_to(staff["coordinator"].email).get().body
    assert not notifications_to(staff["other_coordinator"].email).exists()

    assert deadlines_sweep(now=due + timedelta(days=2)).total == 0
    assert DeadlineBreach.objects.count() == 1


@pytest.mark.django_db
def test_completion_breach(assigned, staff):
    complaint_transition(
        complaint=assigned,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=staff["officer"],
        note="Sudah kami cek, perbaikan dijadwalkan.",
        now=T0 + timedelta(hours=3),
    )
    assigned.refresh_from_db()
    assert assigned.status == ComplaintStatus.IN_PROGRESS
    due = assigned.completion_due_at
    assert due > assigned.follow_up_due_at

    assert deadlines_sweep(now=due - timedelta(minutes=1)).total == 0
    result = deadlines_sweep(now=due + timedelta(minutes=1))
    assert result.completion_breaches == 1
    assert result.follow_up_breaches == 0
    breach = DeadlineBreach.objects.get()
    assert (breach.kind, breach.due_at, breach.agency) == (
        BreachKind.COMPLETION,
        due,
        agency("63.72", "pupr"),
    )
    assert assigned.tracking_code in notifications_to(staff["officer"].email).get().body

    assert deadlines_sweep(now=due + timedelta(days=1)).total == 0
    assert DeadlineBreach.objects.count() == 1


# --- auto-close ----------------------------------------------------------------------------------


def resolve(complaint, officer_user, now):
    return complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer_user,
        note="Jalan sudah ditambal.",
        now=now,
    )


@pytest.mark.django_db
def test_close_expired_closes_with_an_event_and_leaves_open_windows_alone(staff):
    old = resolve(complaint_new(now=T0), staff["officer"], T0 + timedelta(days=1))
    recent = resolve(complaint_new(now=T0), staff["officer"], T0 + timedelta(days=5))
    assert old.reply_due_at == T0 + timedelta(days=11)

    assert complaints_close_expired(now=old.reply_due_at - timedelta(minutes=1)) == 0
    old.refresh_from_db()
    assert old.status == ComplaintStatus.RESOLVED

    closed_at = old.reply_due_at + timedelta(minutes=1)
    assert complaints_close_expired(now=closed_at) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == ComplaintStatus.CLOSED
    assert old.closed_at == closed_at
    assert recent.status == ComplaintStatus.RESOLVED
    assert recent.closed_at is None
    event = ComplaintEvent.objects.get(complaint=old, kind=EventKind.CLOSED)
    assert (event.from_status, event.to_status, event.actor_role) == (
        ComplaintStatus.RESOLVED,
        ComplaintStatus.CLOSED,
        Role.SYSTEM,
    )
    assert event.created_at == closed_at
    assert not ComplaintEvent.objects.filter(complaint=recent, kind=EventKind.CLOSED).exists()

    assert complaints_close_expired(now=closed_at + timedelta(minutes=5)) == 0
    assert ComplaintEvent.objects.filter(kind=EventKind.CLOSED).count() == 1


# --- two sweeps at once --------------------------------------------------------------------------


def run_concurrently(count: int, target) -> list:
    """Run ``target(i)`` in ``count`` threads released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("same_now", [True, False], ids=["same-now", "different-now"])
def test_two_concurrent_sweeps_record_each_breach_once(monkeypatch, same_now):
    dispatched: list[int] = []
    # Stay off the shared broker: record what would be handed to Celery after commit.
    monkeypatch.setattr(notifications, "notification_dispatch", dispatched.append)
    monkeypatch.setattr(notifications, "notifications_dispatch", dispatched.extend)
    staff_coordinator = coordinator("63.72", username="koord.bjb")
    officer("63.72", "pupr", username="pupr.bjb")
    complaints = [complaint_new(now=T0 + timedelta(minutes=i)) for i in range(30)]
    dispatched.clear()
    base = T0 + timedelta(days=3, hours=1)

    # Small batches, so that the sweeps interleave and share out the complaints.
    results = run_concurrently(
        4,
        lambda i: deadlines_sweep(now=base if same_now else base + timedelta(seconds=i), batch=4),
    )
    assert sum(r.follow_up_breaches for r in results) == len(complaints)
    assert DeadlineBreach.objects.count() == len(complaints)
    assert DeadlineBreach.objects.values("complaint").distinct().count() == len(complaints)
    assert ComplaintEvent.objects.filter(kind=EventKind.BREACH).count() == len(complaints)
    assert set(DeadlineBreach.objects.values_list("complaint_id", flat=True)) == {
        complaint.pk for complaint in complaints
    }
    # Each complaint is in exactly one digest to its coordinator, whichever sweep took it.
    digests = list(notifications_to(staff_coordinator.email))
    for complaint in complaints:
        assert sum(complaint.tracking_code in n.body for n in digests) == 1, complaint
    # Every outbox row was handed to the broker after its commit, once.
    assert sorted(dispatched) == sorted(Notification.objects.values_list("pk", flat=True))

    again = deadlines_sweep(now=base + timedelta(minutes=5))
    assert again.total == 0
    assert DeadlineBreach.objects.count() == len(complaints)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_auto_closes_close_each_complaint_once(monkeypatch):
    monkeypatch.setattr(notifications, "notification_dispatch", lambda pk: None)
    officer_user = officer("63.72", "pupr", username="pupr.bjb")
    resolved = [
        resolve(complaint_new(now=T0 + timedelta(minutes=i)), officer_user, T0 + timedelta(days=1))
        for i in range(12)
    ]
    closed_at = resolved[0].reply_due_at + timedelta(hours=1)

    results = run_concurrently(3, lambda i: complaints_close_expired(now=closed_at, batch=2))

    assert sum(results) == len(resolved)
    assert Complaint.objects.filter(status=ComplaintStatus.CLOSED).count() == len(resolved)
    events = ComplaintEvent.objects.filter(kind=EventKind.CLOSED)
    assert sorted(events.values_list("complaint_id", flat=True)) == sorted(c.pk for c in resolved)
    assert complaints_close_expired(now=closed_at + timedelta(minutes=5)) == 0


@pytest.mark.django_db
def test_auto_close_takes_the_move_from_the_workflow_table(staff, monkeypatch):
    old = resolve(complaint_new(now=T0), staff["officer"], T0 + timedelta(days=1))
    later = old.reply_due_at + timedelta(minutes=1)
    # Were the table to stop letting the system close, auto-close would refuse, writing nothing.
    close = workflow.TRANSITIONS_BY_ACTION[Action.CLOSE]
    monkeypatch.setitem(
        workflow.TRANSITIONS_BY_ACTION,
        Action.CLOSE,
        dataclasses.replace(close, roles=frozenset({Role.REPORTER})),
    )
    with pytest.raises(WorkflowError):
        complaints_close_expired(now=later)
    old.refresh_from_db()
    assert old.status == ComplaintStatus.RESOLVED
    assert not ComplaintEvent.objects.filter(kind=EventKind.CLOSED).exists()
    # And the table's target is where the complaints go.
    monkeypatch.setitem(
        workflow.TRANSITIONS_BY_ACTION,
        Action.CLOSE,
        dataclasses.replace(close, target=ComplaintStatus.ARCHIVED),
    )
    assert complaints_close_expired(now=later) == 1
    old.refresh_from_db()
    assert old.status == ComplaintStatus.ARCHIVED
    assert ComplaintEvent.objects.get(kind=EventKind.CLOSED).to_status == ComplaintStatus.ARCHIVED


@pytest.mark.django_db
def test_rerouting_an_overdue_complaint_before_any_sweep_keeps_the_old_breach(assigned, staff):
    due_a = assigned.follow_up_due_at
    agency_a, agency_b = agency("63.72", "pupr"), agency("63.72", "perkim")
    rerouted_at = due_a + timedelta(hours=2)  # late, and no sweep has run since the deadline
    complaint_transition(
        complaint=assigned,
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=staff["coordinator"],
        agency=agency_b,
        now=rerouted_at,
    )
    breach = DeadlineBreach.objects.get()
    assert (breach.agency, breach.due_at, breach.recorded_at) == (agency_a, due_a, rerouted_at)
    assert ComplaintEvent.objects.filter(complaint=assigned, kind=EventKind.BREACH).count() == 1
    # The sweep that comes later neither repeats it nor counts the new agency as late.
    result = deadlines_sweep(now=rerouted_at + timedelta(minutes=5))
    assert result.follow_up_breaches == 0
    assert DeadlineBreach.objects.count() == 1
    assert ComplaintEvent.objects.filter(complaint=assigned, kind=EventKind.BREACH).count() == 1


@pytest.mark.django_db
def test_a_sweep_reads_only_what_fell_due_since_the_last_one(assigned, staff):
    due = assigned.follow_up_due_at
    deadlines_sweep(now=due - timedelta(hours=1))
    mark = SweepMark.objects.get(step="follow_up")
    assert mark.until == due - timedelta(hours=1)
    assert deadlines_sweep(now=due + timedelta(minutes=1)).follow_up_breaches == 1
    assert SweepMark.objects.get(step="follow_up").until == due + timedelta(minutes=1)
    # A sweep whose clock is behind the watermark (another worker's skew) does nothing.
    assert deadlines_sweep(now=due - timedelta(minutes=30)).total == 0
    assert SweepMark.objects.get(step="follow_up").until == due + timedelta(minutes=1)


@pytest.mark.django_db
def test_large_sweeps_go_in_batches_and_resume_where_they_stopped(staff):
    complaints = [complaint_new(now=T0 + timedelta(minutes=i)) for i in range(7)]
    result = deadlines_sweep(now=T0 + timedelta(days=4), batch=3)
    assert result.follow_up_breaches == 7
    assert set(DeadlineBreach.objects.values_list("complaint_id", flat=True)) == {
        c.pk for c in complaints
    }


@pytest.mark.django_db
def test_the_breach_event_says_who_it_was_escalated_to(assigned, staff):
    deadlines_sweep(now=assigned.follow_up_due_at + timedelta(minutes=5))
    event = ComplaintEvent.objects.get(complaint=assigned, kind=EventKind.BREACH)
    assert event.data["deadline"] == BreachKind.FOLLOW_UP
    assert event.data["escalated_to"] == "region_coordinator"
    assert datetime.fromisoformat(event.data["due_at"]) == assigned.follow_up_due_at


# --- a submission committed after a sweep that began before it -----------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="a transaction open beside a sweep: two PostgreSQL connections",
)
def test_a_complaint_committed_after_a_sweep_that_passed_its_reminder_time_is_still_reminded(
    monkeypatch,
):
    """A one-day follow-up: the reminder is due at once. The submission's transaction takes its
    time stamp, then stays open while a sweep runs and moves the reminder watermark past the
    complaint's due time minus 24 hours; it commits after. The next sweep still reminds it, once.
    """
    monkeypatch.setattr(notifications, "notification_dispatch", lambda pk: None)
    monkeypatch.setattr(notifications, "notifications_dispatch", lambda pks: None)
    pupr = officer("63.72", "pupr", username="pupr.bjb")
    jalan = category("jalan")
    jalan.follow_up_days = 1  # the shortest follow-up a category may have
    jalan.save(update_fields=["follow_up_days"])
    written, release = threading.Event(), threading.Event()
    submitted: list = []

    def submit():
        try:
            with transaction.atomic():
                submitted.append(complaint_new(now=T0))
                written.set()
                assert release.wait(timeout=30)
        finally:
            connections.close_all()

    submission = threading.Thread(target=submit)
    submission.start()
    try:
        assert written.wait(timeout=30)
        # The sweep cannot see the uncommitted complaint; its watermark moves on.
        assert deadlines_sweep(now=T0 + timedelta(minutes=1)).reminders == 0
    finally:
        release.set()
        submission.join(timeout=30)
    assert not submission.is_alive()
    (complaint,) = submitted
    assert complaint.follow_up_due_at == T0 + timedelta(days=1)

    assert deadlines_sweep(now=T0 + timedelta(minutes=6)).reminders == 1
    # Exactly once, however many sweeps follow before the deadline.
    for minutes in range(11, 60, 5):
        assert deadlines_sweep(now=T0 + timedelta(minutes=minutes)).reminders == 0
    reminders = ComplaintEvent.objects.filter(complaint=complaint, kind=EventKind.REMINDER)
    assert reminders.count() == 1
    assert sum(complaint.tracking_code in n.body for n in notifications_to(pupr.email)) == 1
