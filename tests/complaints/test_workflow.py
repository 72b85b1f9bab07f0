"""The complaint workflow: the transition table, who may take each step, and replayed stories.

Every forbidden move must raise and write nothing: no event, no assignment, no notification,
the status as it was.
"""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from agencies.models import RoutingRule
from complaints.models import Assignment, Complaint, ComplaintEvent, EventKind, ImmutableError
from complaints.services import complaint_route, complaint_transition
from complaints.workflow import (
    TRANSITIONS,
    Action,
    ArchiveReason,
    ComplaintStatus,
    Role,
    WorkflowError,
    allowed_actions,
    transition_for,
)
from notifications.models import Notification
from tests.factories import (
    UserFactory,
    agency,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
    region,
)

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
A = Action
R = Role
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=WITA)  # a Tuesday


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False


# --- the table on its own ------------------------------------------------------------------------

# What docs/product-rules.md ("Lifecycle") allows, written out independently of
# workflow.TRANSITIONS:
# action -> (source statuses, target, roles).
HANDLING = {R.AGENCY_OFFICER, R.REGION_COORDINATOR, R.PROVINCE_STAFF}
EXPECTED = {
    A.ROUTE: ({S.SUBMITTED}, S.ASSIGNED, {R.SYSTEM}),
    A.ROUTE_TO_TRIAGE: ({S.SUBMITTED}, S.TRIAGE, {R.SYSTEM}),
    A.REROUTE: (
        {S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS},
        S.ASSIGNED,
        {R.REGION_COORDINATOR, R.PROVINCE_STAFF},
    ),
    A.FOLLOW_UP: ({S.ASSIGNED, S.IN_PROGRESS}, S.IN_PROGRESS, HANDLING),
    A.NOT_OURS: ({S.ASSIGNED, S.IN_PROGRESS}, S.TRIAGE, {R.AGENCY_OFFICER}),
    A.RESOLVE: ({S.ASSIGNED, S.IN_PROGRESS}, S.RESOLVED, HANDLING),
    A.REOPEN: ({S.RESOLVED}, S.ASSIGNED, {R.REPORTER}),
    A.RATE: ({S.RESOLVED}, S.CLOSED, {R.REPORTER}),
    A.CLOSE: ({S.RESOLVED}, S.CLOSED, {R.REPORTER, R.SYSTEM}),
    A.ARCHIVE: (
        {S.SUBMITTED, S.TRIAGE, S.ASSIGNED, S.IN_PROGRESS},
        S.ARCHIVED,
        {R.REGION_COORDINATOR, R.PROVINCE_STAFF},
    ),
}

TABLE = [
    # (status, action, role, target or None when forbidden)
    (S.SUBMITTED, A.ROUTE, R.SYSTEM, S.ASSIGNED),
    (S.SUBMITTED, A.ROUTE_TO_TRIAGE, R.SYSTEM, S.TRIAGE),
    (S.SUBMITTED, A.ROUTE, R.REGION_COORDINATOR, None),
    (S.ASSIGNED, A.ROUTE, R.SYSTEM, None),
    (S.TRIAGE, A.REROUTE, R.REGION_COORDINATOR, S.ASSIGNED),
    (S.TRIAGE, A.REROUTE, R.PROVINCE_STAFF, S.ASSIGNED),
    (S.TRIAGE, A.REROUTE, R.AGENCY_OFFICER, None),
    (S.ASSIGNED, A.REROUTE, R.REGION_COORDINATOR, S.ASSIGNED),
    (S.IN_PROGRESS, A.REROUTE, R.REGION_COORDINATOR, S.ASSIGNED),
    (S.RESOLVED, A.REROUTE, R.REGION_COORDINATOR, None),
    (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, S.IN_PROGRESS),
    (S.IN_PROGRESS, A.FOLLOW_UP, R.AGENCY_OFFICER, S.IN_PROGRESS),
    (S.ASSIGNED, A.FOLLOW_UP, R.REPORTER, None),
    (S.TRIAGE, A.FOLLOW_UP, R.AGENCY_OFFICER, None),
    (S.RESOLVED, A.FOLLOW_UP, R.AGENCY_OFFICER, None),
    (S.ASSIGNED, A.NOT_OURS, R.AGENCY_OFFICER, S.TRIAGE),
    (S.IN_PROGRESS, A.NOT_OURS, R.AGENCY_OFFICER, S.TRIAGE),
    (S.ASSIGNED, A.NOT_OURS, R.REGION_COORDINATOR, None),
    (S.TRIAGE, A.NOT_OURS, R.AGENCY_OFFICER, None),
    (S.IN_PROGRESS, A.RESOLVE, R.AGENCY_OFFICER, S.RESOLVED),
    (S.ASSIGNED, A.RESOLVE, R.REGION_COORDINATOR, S.RESOLVED),
    (S.IN_PROGRESS, A.RESOLVE, R.REPORTER, None),  # a reporter cannot resolve
    (S.IN_PROGRESS, A.RESOLVE, R.SYSTEM, None),
    (S.TRIAGE, A.RESOLVE, R.REGION_COORDINATOR, None),
    (S.RESOLVED, A.REOPEN, R.REPORTER, S.ASSIGNED),
    (S.CLOSED, A.REOPEN, R.REPORTER, None),  # reopen only from resolved
    (S.IN_PROGRESS, A.REOPEN, R.REPORTER, None),
    (S.ARCHIVED, A.REOPEN, R.REPORTER, None),
    (S.RESOLVED, A.REOPEN, R.AGENCY_OFFICER, None),
    (S.RESOLVED, A.RATE, R.REPORTER, S.CLOSED),
    (S.RESOLVED, A.RATE, R.AGENCY_OFFICER, None),
    (S.CLOSED, A.RATE, R.REPORTER, None),
    (S.RESOLVED, A.CLOSE, R.SYSTEM, S.CLOSED),  # the system closes resolved complaints
    (S.RESOLVED, A.CLOSE, R.REPORTER, S.CLOSED),
    (S.RESOLVED, A.CLOSE, R.AGENCY_OFFICER, None),
    (S.IN_PROGRESS, A.CLOSE, R.SYSTEM, None),
    (S.TRIAGE, A.ARCHIVE, R.REGION_COORDINATOR, S.ARCHIVED),
    (S.SUBMITTED, A.ARCHIVE, R.PROVINCE_STAFF, S.ARCHIVED),
    (S.ASSIGNED, A.ARCHIVE, R.AGENCY_OFFICER, None),  # an officer cannot archive
    (S.RESOLVED, A.ARCHIVE, R.REGION_COORDINATOR, None),
    (S.CLOSED, A.ARCHIVE, R.REGION_COORDINATOR, None),
    (S.ARCHIVED, A.ARCHIVE, R.REGION_COORDINATOR, None),
]


@pytest.mark.parametrize(("status", "action", "role", "target"), TABLE)
def test_transition_for(status, action, role, target):
    if target is None:
        with pytest.raises(WorkflowError):
            transition_for(action, status=status, role=role)
    else:
        assert transition_for(action, status=status, role=role).target == target


def test_the_table_matches_the_specification_for_every_triple():
    for action, status, role in itertools.product(A.values, S.values, R.values):
        sources, target, roles = EXPECTED[action]
        if status in sources and role in roles:
            assert transition_for(action, status=status, role=role).target == target
        else:
            with pytest.raises(WorkflowError):
                transition_for(action, status=status, role=role)
    assert {t.action for t in TRANSITIONS} == set(A.values)


def test_an_unknown_action_is_a_workflow_error():
    with pytest.raises(WorkflowError):
        transition_for("delete", status=S.ASSIGNED, role=R.PROVINCE_STAFF)


def test_allowed_actions_lists_what_a_role_may_do():
    assert set(allowed_actions(status=S.RESOLVED, roles={R.REPORTER})) == {
        A.REOPEN,
        A.RATE,
        A.CLOSE,
    }
    assert set(allowed_actions(status=S.ASSIGNED, roles={R.AGENCY_OFFICER})) == {
        A.FOLLOW_UP,
        A.NOT_OURS,
        A.RESOLVE,
    }
    assert allowed_actions(status=S.CLOSED, roles=set(R.values)) == []
    assert allowed_actions(status=S.ARCHIVED, roles=set(R.values)) == []


# --- on real complaints --------------------------------------------------------------------------


@pytest.fixture
def people(db):
    """One actor per role, all for Kota Banjarbaru, where street lighting is Perkim's."""
    return {
        R.REPORTER: UserFactory(username="pelapor", email="pelapor@example.id"),
        R.AGENCY_OFFICER: officer("63.72", "perkim", username="perkim-bjb"),
        R.REGION_COORDINATOR: coordinator("63.72", username="kominfo-bjb"),
        R.PROVINCE_STAFF: province_staff(username="kominfo-prov"),
        R.SYSTEM: None,
    }


def submit(people, **kwargs) -> Complaint:
    kwargs.setdefault("now", T0)
    return complaint_submitted(reporter=people[R.REPORTER], **kwargs).complaint


def act(people, complaint, action, role, *, now=None, **kwargs) -> Complaint:
    return complaint_transition(
        complaint=complaint,
        action=action,
        role=role,
        actor=people[role],
        now=now or at(1),
        **kwargs,
    )


def complaint_in(status: str, people) -> Complaint:
    """A Banjarbaru street-lighting complaint brought to ``status`` through the services."""
    if status == S.SUBMITTED:
        # Only a complaint half-way through complaint_submit is ever "submitted".
        complaint = submit(people)
        Complaint.objects.filter(pk=complaint.pk).update(
            status=S.SUBMITTED, assigned_agency=None, follow_up_due_at=None
        )
        Assignment.objects.filter(complaint=complaint).delete()
        complaint.refresh_from_db()
        return complaint
    if status == S.TRIAGE:
        RoutingRule.objects.filter(region__code="63.72", category__code="pju").delete()
        complaint = submit(people)
        assert complaint.status == S.TRIAGE
        return complaint
    complaint = submit(people)
    if status == S.ASSIGNED:
        return complaint
    if status == S.ARCHIVED:
        return act(people, complaint, A.ARCHIVE, R.REGION_COORDINATOR, reason="spam")
    act(people, complaint, A.FOLLOW_UP, R.AGENCY_OFFICER, now=at(0, 2), note="Dicek petugas.")
    if status == S.IN_PROGRESS:
        return complaint
    act(people, complaint, A.RESOLVE, R.AGENCY_OFFICER, now=at(0, 4), note="Lampu diganti.")
    if status == S.RESOLVED:
        return complaint
    assert status == S.CLOSED
    return act(people, complaint, A.CLOSE, R.SYSTEM, now=at(0, 6))


def snapshot(complaint: Complaint) -> dict:
    complaint = Complaint.objects.get(pk=complaint.pk)
    return {
        "status": complaint.status,
        "agency": complaint.assigned_agency_id,
        "updated_at": complaint.updated_at,
        "follow_up_due_at": complaint.follow_up_due_at,
        "events": list(complaint.events.values_list("pk", flat=True)),
        "assignments": list(complaint.assignments.values_list("pk", "ended_at")),
        "notifications": Notification.objects.count(),
    }


def action_kwargs(action: str) -> dict:
    """What each action needs to succeed (agency, note, reason, rating)."""
    return {
        A.REROUTE: {"agency": agency("63.72", "pupr"), "note": "Ini urusan PUPR."},
        A.FOLLOW_UP: {"note": "Petugas sudah meninjau lokasi."},
        A.NOT_OURS: {"note": "Bukan kewenangan kami."},
        A.RESOLVE: {"note": "Lampu sudah diganti."},
        A.REOPEN: {"note": "Lampu mati lagi."},
        A.RATE: {"rating": 4, "note": "Cepat, terima kasih."},
        A.CLOSE: {},
        A.ARCHIVE: {"reason": ArchiveReason.SPAM},
    }[action]


EVENT_KIND = {
    A.REROUTE: EventKind.REROUTED,
    A.FOLLOW_UP: EventKind.FOLLOW_UP,
    A.NOT_OURS: EventKind.NOT_OURS,
    A.RESOLVE: EventKind.RESOLVED,
    A.REOPEN: EventKind.REOPENED,
    A.RATE: EventKind.RATED,
    A.CLOSE: EventKind.CLOSED,
    A.ARCHIVE: EventKind.ARCHIVED,
}

REAL_TABLE = [
    # (status, action, role, allowed)
    (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, True),
    (S.IN_PROGRESS, A.FOLLOW_UP, R.AGENCY_OFFICER, True),
    (S.ASSIGNED, A.FOLLOW_UP, R.REGION_COORDINATOR, True),
    (S.ASSIGNED, A.FOLLOW_UP, R.REPORTER, False),
    (S.TRIAGE, A.FOLLOW_UP, R.REGION_COORDINATOR, False),
    (S.RESOLVED, A.FOLLOW_UP, R.AGENCY_OFFICER, False),
    (S.ASSIGNED, A.NOT_OURS, R.AGENCY_OFFICER, True),
    (S.IN_PROGRESS, A.NOT_OURS, R.AGENCY_OFFICER, True),
    (S.ASSIGNED, A.NOT_OURS, R.REGION_COORDINATOR, False),
    (S.ASSIGNED, A.RESOLVE, R.AGENCY_OFFICER, True),
    (S.IN_PROGRESS, A.RESOLVE, R.PROVINCE_STAFF, True),
    (S.IN_PROGRESS, A.RESOLVE, R.REPORTER, False),  # a reporter cannot resolve
    (S.IN_PROGRESS, A.RESOLVE, R.SYSTEM, False),
    (S.TRIAGE, A.REROUTE, R.REGION_COORDINATOR, True),  # a coordinator re-routes triage
    (S.ASSIGNED, A.REROUTE, R.REGION_COORDINATOR, True),
    (S.IN_PROGRESS, A.REROUTE, R.PROVINCE_STAFF, True),
    (S.ASSIGNED, A.REROUTE, R.AGENCY_OFFICER, False),
    (S.RESOLVED, A.REROUTE, R.REGION_COORDINATOR, False),
    (S.RESOLVED, A.REOPEN, R.REPORTER, True),
    (S.IN_PROGRESS, A.REOPEN, R.REPORTER, False),  # reopen only from resolved
    (S.CLOSED, A.REOPEN, R.REPORTER, False),
    (S.ARCHIVED, A.REOPEN, R.REPORTER, False),
    (S.RESOLVED, A.REOPEN, R.AGENCY_OFFICER, False),
    (S.RESOLVED, A.RATE, R.REPORTER, True),
    (S.IN_PROGRESS, A.RATE, R.REPORTER, False),
    (S.RESOLVED, A.CLOSE, R.SYSTEM, True),  # the system closes resolved complaints
    (S.RESOLVED, A.CLOSE, R.REPORTER, True),
    (S.IN_PROGRESS, A.CLOSE, R.SYSTEM, False),
    (S.RESOLVED, A.CLOSE, R.AGENCY_OFFICER, False),
    (S.SUBMITTED, A.ARCHIVE, R.REGION_COORDINATOR, True),
    (S.TRIAGE, A.ARCHIVE, R.REGION_COORDINATOR, True),
    (S.ASSIGNED, A.ARCHIVE, R.PROVINCE_STAFF, True),
    (S.IN_PROGRESS, A.ARCHIVE, R.REGION_COORDINATOR, True),
    (S.ASSIGNED, A.ARCHIVE, R.AGENCY_OFFICER, False),  # an officer cannot archive
    (S.RESOLVED, A.ARCHIVE, R.REGION_COORDINATOR, False),
    (S.CLOSED, A.ARCHIVE, R.PROVINCE_STAFF, False),
    (S.ARCHIVED, A.ARCHIVE, R.REGION_COORDINATOR, False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "action", "role", "allowed"), REAL_TABLE)
def test_complaint_transition(people, status, action, role, allowed):
    complaint = complaint_in(status, people)
    before = snapshot(complaint)
    now = at(2)
    if not allowed:
        with pytest.raises(WorkflowError):
            act(people, complaint, action, role, now=now, **action_kwargs(action))
        assert snapshot(complaint) == before
        return

    act(people, complaint, action, role, now=now, **action_kwargs(action))
    target = EXPECTED[action][1]
    assert complaint.status == target
    new_events = list(complaint.events.exclude(pk__in=before["events"]))
    assert len(new_events) == 1
    event = new_events[0]
    assert event.kind == EVENT_KIND[action]
    assert event.created_at == now
    assert event.actor == people[role]
    assert event.actor_role == role
    if status != target:
        assert (event.from_status, event.to_status) == (status, target)
    else:
        assert (event.from_status, event.to_status) == ("", "")


@pytest.mark.django_db
def test_the_system_routes_only_a_submitted_complaint(people):
    complaint = complaint_in(S.SUBMITTED, people)
    complaint_route(complaint=complaint, now=at(1))
    assert complaint.status == S.ASSIGNED
    assert complaint.assigned_agency == agency("63.72", "perkim")
    before = snapshot(complaint)
    with pytest.raises(WorkflowError):
        complaint_route(complaint=complaint, now=at(2))
    assert snapshot(complaint) == before


# --- scope ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "action", "role", "make_actor"),
    [
        # An officer of another agency of the same city, and of the same kind in another city.
        (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, lambda: officer("63.72", "pupr")),
        (S.ASSIGNED, A.RESOLVE, R.AGENCY_OFFICER, lambda: officer("63.71", "perkim")),
        (S.IN_PROGRESS, A.NOT_OURS, R.AGENCY_OFFICER, lambda: officer("63.72", "dishub")),
        # A coordinator of another region.
        (S.TRIAGE, A.REROUTE, R.REGION_COORDINATOR, lambda: coordinator("63.71")),
        (S.ASSIGNED, A.ARCHIVE, R.REGION_COORDINATOR, lambda: coordinator("63.03")),
        (S.ASSIGNED, A.FOLLOW_UP, R.REGION_COORDINATOR, lambda: coordinator("63.71")),
        # Claiming a role one does not hold.
        (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, lambda: coordinator("63.72")),
        (S.ASSIGNED, A.ARCHIVE, R.PROVINCE_STAFF, lambda: coordinator("63.72")),
        (S.ASSIGNED, A.ARCHIVE, R.REGION_COORDINATOR, lambda: None),
        (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, lambda: UserFactory()),
        # Another citizen is not the reporter.
        (S.RESOLVED, A.REOPEN, R.REPORTER, lambda: UserFactory(username="tetangga")),
        (S.RESOLVED, A.RATE, R.REPORTER, lambda: UserFactory(username="tetangga")),
    ],
)
def test_staff_act_only_within_their_scope(people, status, action, role, make_actor):
    complaint = complaint_in(status, people)
    kwargs = action_kwargs(action)
    if action == A.REROUTE:
        kwargs["agency"] = agency("63.72", "dishub")
    actor = make_actor()
    before = snapshot(complaint)
    with pytest.raises(WorkflowError):
        complaint_transition(
            complaint=complaint, action=action, role=role, actor=actor, now=at(2), **kwargs
        )
    assert snapshot(complaint) == before


@pytest.mark.django_db
def test_provincial_staff_and_the_own_region_coordinator_may_act(people):
    complaint = complaint_in(S.ASSIGNED, people)
    act(people, complaint, A.FOLLOW_UP, R.PROVINCE_STAFF, note="Dipantau provinsi.")
    assert complaint.status == S.IN_PROGRESS
    act(people, complaint, A.RESOLVE, R.REGION_COORDINATOR, now=at(2), note="Selesai.")
    assert complaint.status == S.RESOLVED


# --- replayed scenarios --------------------------------------------------------------------------


def timeline(complaint: Complaint) -> list[tuple]:
    return [
        (e.kind, e.from_status, e.to_status, e.actor_role, e.created_at)
        for e in complaint.events.order_by("created_at", "pk")
    ]


@pytest.mark.django_db
def test_happy_path(people):
    perkim = agency("63.72", "perkim")
    complaint = submit(people)
    assert complaint.status == S.ASSIGNED
    assert complaint.assigned_agency == perkim
    assert complaint.follow_up_due_at == at(3)

    act(people, complaint, A.FOLLOW_UP, R.AGENCY_OFFICER, now=at(1), note="Sudah dicek.")
    assert complaint.status == S.IN_PROGRESS
    assert complaint.first_follow_up_at == at(1)

    act(people, complaint, A.RESOLVE, R.AGENCY_OFFICER, now=at(2), note="Lampu diganti.")
    assert complaint.status == S.RESOLVED
    assert complaint.resolved_at == at(2)
    assert complaint.reply_due_at == at(12)

    act(people, complaint, A.RATE, R.REPORTER, now=at(3), rating=5, note="Mantap.")
    assert complaint.status == S.CLOSED
    assert complaint.closed_at == at(3)
    assert (complaint.rating, complaint.rating_comment) == (5, "Mantap.")

    assert timeline(complaint) == [
        (EventKind.SUBMITTED, "", S.SUBMITTED, R.REPORTER, at(0)),
        (EventKind.ROUTED, S.SUBMITTED, S.ASSIGNED, R.SYSTEM, at(0)),
        (EventKind.FOLLOW_UP, S.ASSIGNED, S.IN_PROGRESS, R.AGENCY_OFFICER, at(1)),
        (EventKind.RESOLVED, S.IN_PROGRESS, S.RESOLVED, R.AGENCY_OFFICER, at(2)),
        (EventKind.RATED, S.RESOLVED, S.CLOSED, R.REPORTER, at(3)),
    ]
    routed = complaint.events.get(kind=EventKind.ROUTED)
    assert routed.to_agency == perkim
    assert complaint.events.get(kind=EventKind.FOLLOW_UP).note == "Sudah dicek."
    assert complaint.events.get(kind=EventKind.RATED).data == {"rating": 5}
    (assignment,) = complaint.assignments.all()
    assert (assignment.agency, assignment.assigned_at, assignment.first_follow_up_at) == (
        perkim,
        at(0),
        at(1),
    )


@pytest.mark.django_db
def test_not_ours_then_triage_then_reroute_then_follow_up_by_the_new_agency(people):
    perkim, pupr = agency("63.72", "perkim"), agency("63.72", "pupr")
    pupr_officer = officer("63.72", "pupr", username="pupr-bjb")
    complaint = submit(people)
    first = complaint.assignments.get()

    act(people, complaint, A.NOT_OURS, R.AGENCY_OFFICER, now=at(1), note="Ini jalan, bukan PJU.")
    assert complaint.status == S.TRIAGE
    assert complaint.assigned_agency is None
    assert complaint.follow_up_due_at is None
    assert complaint.triage_due_at == at(6)  # Wed + 3 working days: Thu, Fri, Mon
    first.refresh_from_db()
    assert first.ended_at == at(1)
    # The coordinator hears about it; the agency may no longer act.
    assert Notification.objects.filter(
        complaint=complaint,
        dedupe_key__startswith="triage:",
        recipient=people[R.REGION_COORDINATOR].email,
    ).exists()
    with pytest.raises(WorkflowError):
        act(people, complaint, A.FOLLOW_UP, R.AGENCY_OFFICER, now=at(1, 1), note="x")

    act(people, complaint, A.REROUTE, R.REGION_COORDINATOR, now=at(2), agency=pupr)
    assert complaint.status == S.ASSIGNED
    assert complaint.assigned_agency == pupr
    assert complaint.assigned_at == at(2)
    assert complaint.follow_up_due_at == at(5)  # a fresh deadline from the re-route
    assert complaint.triage_due_at is None
    old, new = complaint.assignments.order_by("assigned_at")
    assert old.pk == first.pk  # the old assignment is kept, ended
    assert (old.agency, old.ended_at) == (perkim, at(1))
    assert (new.agency, new.assigned_at, new.follow_up_due_at, new.ended_at) == (
        pupr,
        at(2),
        at(5),
        None,
    )
    assert Notification.objects.filter(
        complaint=complaint, dedupe_key__startswith="assigned:", recipient=pupr_officer.email
    ).exists()

    complaint_transition(
        complaint=complaint,
        action=A.FOLLOW_UP,
        role=R.AGENCY_OFFICER,
        actor=pupr_officer,
        note="Tim PUPR dikirim.",
        now=at(3),
    )
    assert complaint.status == S.IN_PROGRESS
    new.refresh_from_db()
    assert new.first_follow_up_at == at(3)
    old.refresh_from_db()
    assert old.first_follow_up_at is None

    assert [row[:4] for row in timeline(complaint)] == [
        (EventKind.SUBMITTED, "", S.SUBMITTED, R.REPORTER),
        (EventKind.ROUTED, S.SUBMITTED, S.ASSIGNED, R.SYSTEM),
        (EventKind.NOT_OURS, S.ASSIGNED, S.TRIAGE, R.AGENCY_OFFICER),
        (EventKind.REROUTED, S.TRIAGE, S.ASSIGNED, R.REGION_COORDINATOR),
        (EventKind.FOLLOW_UP, S.ASSIGNED, S.IN_PROGRESS, R.AGENCY_OFFICER),
    ]
    not_ours = complaint.events.get(kind=EventKind.NOT_OURS)
    assert (not_ours.from_agency, not_ours.to_agency) == (perkim, None)
    rerouted = complaint.events.get(kind=EventKind.REROUTED)
    assert rerouted.to_agency == pupr
    assert rerouted.data["follow_up_due_at"] == at(5).isoformat()


@pytest.mark.django_db
def test_reroute_between_agencies_keeps_the_old_assignment(people):
    perkim, dishub = agency("63.72", "perkim"), agency("63.72", "dishub")
    complaint = submit(people)
    act(people, complaint, A.REROUTE, R.REGION_COORDINATOR, now=at(4), agency=dishub)
    assert complaint.follow_up_due_at == at(7)
    old, new = complaint.assignments.order_by("assigned_at")
    assert (old.agency, old.follow_up_due_at, old.ended_at) == (perkim, at(3), at(4))
    assert (new.agency, new.follow_up_due_at, new.ended_at) == (dishub, at(7), None)
    event = complaint.events.get(kind=EventKind.REROUTED)
    assert (event.from_agency, event.to_agency) == (perkim, dishub)
    assert (event.from_status, event.to_status) == ("", "")  # assigned stays assigned


@pytest.mark.django_db
def test_resolve_reopen_resolve_and_close_by_the_system(people):
    complaint = submit(people)
    act(people, complaint, A.RESOLVE, R.AGENCY_OFFICER, now=at(1), note="Sudah diperbaiki.")
    assert complaint.reply_due_at == at(11)

    act(people, complaint, A.REOPEN, R.REPORTER, now=at(10), note="Masih mati.")
    assert complaint.status == S.ASSIGNED
    assert complaint.assigned_agency == agency("63.72", "perkim")
    assert (complaint.resolved_at, complaint.reply_due_at) == (None, None)
    assert complaint.first_follow_up_at is None
    assert complaint.follow_up_due_at == at(13)  # a new deadline from the reopening
    first, second = complaint.assignments.order_by("assigned_at")
    assert (first.ended_at, first.first_follow_up_at) == (at(10), at(1))
    assert (second.assigned_at, second.follow_up_due_at, second.ended_at) == (at(10), at(13), None)

    act(people, complaint, A.RESOLVE, R.AGENCY_OFFICER, now=at(11), note="Kabel diganti.")
    assert complaint.reply_due_at == at(21)
    act(people, complaint, A.CLOSE, R.SYSTEM, now=at(21, 1))
    assert complaint.status == S.CLOSED
    assert complaint.closed_at == at(21, 1)

    assert [row[:3] for row in timeline(complaint)] == [
        (EventKind.SUBMITTED, "", S.SUBMITTED),
        (EventKind.ROUTED, S.SUBMITTED, S.ASSIGNED),
        (EventKind.RESOLVED, S.ASSIGNED, S.RESOLVED),
        (EventKind.REOPENED, S.RESOLVED, S.ASSIGNED),
        (EventKind.RESOLVED, S.ASSIGNED, S.RESOLVED),
        (EventKind.CLOSED, S.RESOLVED, S.CLOSED),
    ]
    assert complaint.events.get(kind=EventKind.CLOSED).actor is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reopen_at", "allowed"),
    [
        (at(1, 1) + timedelta(days=10) - timedelta(minutes=1), True),
        (at(1, 1) + timedelta(days=10), True),
        (at(1, 1) + timedelta(days=10, seconds=1), False),
        (at(30), False),
    ],
)
def test_reopen_only_within_ten_days(people, reopen_at, allowed):
    complaint = submit(people)
    act(people, complaint, A.RESOLVE, R.AGENCY_OFFICER, now=at(1, 1), note="Beres.")
    before = snapshot(complaint)
    if allowed:
        act(people, complaint, A.REOPEN, R.REPORTER, now=reopen_at, note="Belum beres.")
        assert complaint.status == S.ASSIGNED
        return
    with pytest.raises(WorkflowError):
        act(people, complaint, A.REOPEN, R.REPORTER, now=reopen_at, note="Belum beres.")
    assert snapshot(complaint) == before
    # The window has passed: the system closes it instead.
    act(people, complaint, A.CLOSE, R.SYSTEM, now=reopen_at)
    assert complaint.status == S.CLOSED


@pytest.mark.django_db
def test_archive_as_duplicate_points_at_the_original(people):
    original = submit(people)
    copy = submit(people, now=at(0, 3))
    act(
        people,
        copy,
        A.ARCHIVE,
        R.REGION_COORDINATOR,
        now=at(1),
        reason=ArchiveReason.DUPLICATE,
        duplicate_of=original,
        note="Sama dengan laporan sebelumnya.",
    )
    assert copy.status == S.ARCHIVED
    assert copy.archive_reason == ArchiveReason.DUPLICATE
    assert copy.duplicate_of == original
    assert copy.assigned_agency is None
    assert copy.assignments.get().ended_at == at(1)
    event = copy.events.get(kind=EventKind.ARCHIVED)
    assert event.data == {"reason": "duplicate", "duplicate_of": original.tracking_code}
    assert (event.from_status, event.to_status) == (S.ASSIGNED, S.ARCHIVED)
    assert list(original.duplicates.all()) == [copy]
    original.refresh_from_db()
    assert original.status == S.ASSIGNED


@pytest.mark.django_db
@pytest.mark.parametrize("duplicate_of", ["none", "itself"])
def test_archive_as_duplicate_needs_another_original(people, duplicate_of):
    complaint = submit(people)
    before = snapshot(complaint)
    with pytest.raises(ValidationError) as caught:
        act(
            people,
            complaint,
            A.ARCHIVE,
            R.REGION_COORDINATOR,
            reason=ArchiveReason.DUPLICATE,
            duplicate_of=complaint if duplicate_of == "itself" else None,
        )
    assert "duplicate_of" in caught.value.message_dict
    assert snapshot(complaint) == before


# --- what each step needs ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "action", "role", "kwargs", "field"),
    [
        (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, {}, "note"),
        (S.ASSIGNED, A.FOLLOW_UP, R.AGENCY_OFFICER, {"note": "   \n "}, "note"),
        (S.IN_PROGRESS, A.RESOLVE, R.AGENCY_OFFICER, {"note": ""}, "note"),
        (S.ASSIGNED, A.NOT_OURS, R.AGENCY_OFFICER, {}, "note"),
        (S.RESOLVED, A.REOPEN, R.REPORTER, {}, "note"),
        (S.TRIAGE, A.ARCHIVE, R.REGION_COORDINATOR, {}, "reason"),
        (S.TRIAGE, A.ARCHIVE, R.REGION_COORDINATOR, {"reason": "boring"}, "reason"),
        (S.RESOLVED, A.RATE, R.REPORTER, {}, "rating"),
        (S.RESOLVED, A.RATE, R.REPORTER, {"rating": 0}, "rating"),
        (S.RESOLVED, A.RATE, R.REPORTER, {"rating": 6}, "rating"),
        (S.TRIAGE, A.REROUTE, R.REGION_COORDINATOR, {}, "agency"),
        # An agency of another regency.
        (S.TRIAGE, A.REROUTE, R.REGION_COORDINATOR, {"agency": ("63.71", "uptd-pju")}, "agency"),
        (S.ASSIGNED, A.REROUTE, R.PROVINCE_STAFF, {"agency": ("63.03", "pupr")}, "agency"),
        # The agency it is already with.
        (S.ASSIGNED, A.REROUTE, R.REGION_COORDINATOR, {"agency": ("63.72", "perkim")}, "agency"),
    ],
)
def test_requirements(people, status, action, role, kwargs, field):
    complaint = complaint_in(status, people)
    if "agency" in kwargs:
        kwargs = {**kwargs, "agency": agency(*kwargs["agency"])}
    before = snapshot(complaint)
    with pytest.raises(ValidationError) as caught:
        act(people, complaint, action, role, now=at(2), **kwargs)
    assert field in caught.value.message_dict
    assert snapshot(complaint) == before


@pytest.mark.django_db
def test_reroute_to_an_inactive_agency_is_refused(people):
    complaint = complaint_in(S.TRIAGE, people)
    pupr = agency("63.72", "pupr")
    pupr.is_active = False
    pupr.save()
    before = snapshot(complaint)
    with pytest.raises(ValidationError) as caught:
        act(people, complaint, A.REROUTE, R.REGION_COORDINATOR, agency=pupr)
    assert "agency" in caught.value.message_dict
    assert snapshot(complaint) == before


@pytest.mark.django_db
def test_reroute_to_a_provincial_agency_is_allowed(people):
    complaint = complaint_in(S.TRIAGE, people)
    provincial = agency("63", "pupr")
    act(people, complaint, A.REROUTE, R.REGION_COORDINATOR, agency=provincial)
    assert complaint.assigned_agency == provincial
    assert complaint.region == region("63.72")


# --- events are history --------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_are_immutable(people):
    complaint = submit(people)
    event = complaint.events.get(kind=EventKind.ROUTED)
    event.note = "rewritten"
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()
    fresh = ComplaintEvent.objects.get(pk=event.pk)
    assert fresh.note == ""
    assert complaint.events.count() == 2


@pytest.mark.django_db
def test_events_cannot_be_edited_or_deleted_in_bulk_either():
    from complaints.models import ComplaintEvent, ImmutableError
    from tests.factories import complaint_submitted

    complaint = complaint_submitted().complaint
    events = ComplaintEvent.objects.filter(complaint=complaint)
    before = list(events.values_list("pk", "kind", "note"))
    with pytest.raises(ImmutableError):
        events.update(note="rewritten")
    with pytest.raises(ImmutableError):
        events.delete()
    assert list(events.values_list("pk", "kind", "note")) == before
