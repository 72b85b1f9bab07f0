"""The rules the pages and the API share, each tested once here: which staff role acts
(``acting_role``), what a person may do now (``actions_for``), the staff queues' order
(``by_urgency``), who redacts photos (``redaction_role``). The adapters call these; their own
tests check only that they do."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agencies.models import Agency, RoutingRule, StaffRole
from agencies.services import staff_membership_grant
from complaints.models import Complaint
from complaints.querysets import next_due_expression
from complaints.services import acting_role, actions_for, complaint_transition
from complaints.workflow import (
    NOTE,
    REPLY,
    Action,
    ArchiveReason,
    ComplaintStatus,
    Role,
    allowed_for,
    role_preferred,
)
from notifications.models import Notification
from tests.factories import UserFactory, complaint_new, coordinator, officer, province_staff

WITA = ZoneInfo("Asia/Makassar")
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=WITA)  # a Tuesday
S, A, R = ComplaintStatus, Action, Role
OFF, COO, PRO, REP = R.AGENCY_OFFICER, R.REGION_COORDINATOR, R.PROVINCE_STAFF, R.REPORTER


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False


# --- the acting role ----------------------------------------------------------------------------

ROLE_CASES = [
    # roles held, action (None: an internal note), the role that acts
    ({OFF, COO, PRO}, A.FOLLOW_UP, OFF),
    ({COO, PRO}, A.FOLLOW_UP, COO),
    ({PRO}, A.RESOLVE, PRO),
    ({OFF, COO}, A.RESOLVE, OFF),
    ({OFF, PRO}, A.NOT_OURS, OFF),
    ({COO, PRO}, A.NOT_OURS, None),
    ({OFF, COO, PRO}, A.REROUTE, COO),
    ({OFF, PRO}, A.ARCHIVE, PRO),
    ({OFF}, A.ARCHIVE, None),
    ({OFF, COO}, A.ROUTE, None),  # the system's move
    ({REP}, A.FOLLOW_UP, None),
    ({REP, OFF}, None, OFF),
    ({PRO, COO}, None, COO),
    ({REP}, None, None),
    (set(), None, None),
    ({OFF}, "no_such_action", None),
]


@pytest.mark.parametrize(("roles", "action", "expected"), ROLE_CASES)
def test_the_most_specific_role_the_table_allows_acts(roles, action, expected):
    assert role_preferred(roles, action=action) == expected


@pytest.mark.django_db
def test_acting_role_of_a_person_on_a_complaint():
    complaint = complaint_new(now=T0)  # routed to an agency of Banjarbaru
    both = coordinator("63.72")
    officer_of = complaint.assigned_agency
    staff_membership_grant(user=both, role=StaffRole.AGENCY_OFFICER, agency=officer_of)
    other_officer = officer("63.72", "pupr" if officer_of.code != "pupr" else "perkim")
    cases = [
        (both, A.FOLLOW_UP, OFF),
        (both, A.ARCHIVE, COO),
        (both, None, OFF),
        (province_staff(), A.FOLLOW_UP, PRO),
        (coordinator("63.71"), A.FOLLOW_UP, None),  # another regency
        (other_officer, A.FOLLOW_UP, None),
        (UserFactory(), None, None),
    ]
    for user, action, expected in cases:
        assert acting_role(user, complaint, action) == expected, (user.username, action)


# --- what a person may do now -------------------------------------------------------------------

HANDLING = {A.FOLLOW_UP, A.RESOLVE}
ACTION_CASES = [
    # status, roles, the reporter's steps, the staff's steps
    (S.SUBMITTED, {REP}, set(), set()),
    (S.TRIAGE, {REP}, set(), set()),
    (S.ASSIGNED, {REP}, {REPLY}, set()),
    (S.IN_PROGRESS, {REP}, {REPLY}, set()),
    (S.RESOLVED, {REP}, {A.REOPEN, A.RATE, A.CLOSE, REPLY}, set()),
    (S.CLOSED, {REP}, set(), set()),
    (S.ARCHIVED, {REP}, set(), set()),
    (S.ASSIGNED, {OFF}, set(), HANDLING | {A.NOT_OURS, NOTE}),
    (S.IN_PROGRESS, {COO}, set(), HANDLING | {A.REROUTE, A.ARCHIVE, NOTE}),
    (S.TRIAGE, {COO}, set(), {A.REROUTE, A.ARCHIVE, NOTE}),
    (S.TRIAGE, {OFF}, set(), {NOTE}),
    (S.RESOLVED, {PRO}, set(), {NOTE}),
    (S.CLOSED, {OFF, COO, PRO}, set(), {NOTE}),
    (S.RESOLVED, {REP, OFF}, {A.REOPEN, A.RATE, A.CLOSE, REPLY}, {NOTE}),
    (S.ASSIGNED, set(), set(), set()),
]


@pytest.mark.parametrize(("status", "roles", "reporter", "staff"), ACTION_CASES)
def test_steps_allowed_by_status_and_role(status, roles, reporter, staff):
    allowed = allowed_for(status=status, roles=roles)
    assert allowed.reporter == reporter
    assert allowed.staff == staff
    assert allowed.is_reporter == (REP in roles)
    assert allowed.is_staff == bool(roles - {REP})
    assert set(allowed.ordered) == reporter | staff


def test_steps_come_in_the_tables_order_then_reply_and_note():
    allowed = allowed_for(status=S.RESOLVED, roles={REP, OFF})
    assert allowed.ordered == [A.REOPEN, A.RATE, A.CLOSE, REPLY, NOTE]


@pytest.mark.django_db
def test_actions_for_a_reporter_end_when_the_complaint_closes():
    reporter = UserFactory()
    complaint = complaint_new(now=T0, reporter=reporter, reporter_name="", reporter_phone="")
    handler = officer("63.72", complaint.assigned_agency.code)
    stranger = UserFactory()
    assert actions_for(reporter, complaint).reporter == {REPLY}
    assert actions_for(stranger, complaint).ordered == []
    # A guest proves to be the reporter with the private link.
    assert actions_for(None, complaint, reporter_access=True).reporter == {REPLY}
    complaint_transition(
        complaint=complaint, action=A.RESOLVE, role=OFF, actor=handler, note="Selesai.", now=T0
    )
    assert REPLY in actions_for(reporter, complaint) and A.RATE in actions_for(reporter, complaint)
    complaint_transition(
        complaint=complaint, action=A.RATE, role=REP, actor=reporter, rating=4, now=T0
    )
    assert complaint.status == S.CLOSED
    assert actions_for(reporter, complaint).ordered == []
    assert actions_for(handler, complaint).ordered == [NOTE]


# --- the order of the staff queues --------------------------------------------------------------


@pytest.mark.django_db
def test_by_urgency_overdue_first_then_next_clock_then_finished():
    # Filed in an order that is neither the expected one nor its reverse.
    resolved = complaint_new(now=T0)
    overdue = complaint_new(now=T0 + timedelta(hours=1))
    in_progress = complaint_new(now=T0 + timedelta(hours=2))
    waiting = complaint_new(now=T0 + timedelta(hours=3))
    RoutingRule.objects.filter(region__code="63.72", category__code="lainnya").delete()
    triage = complaint_new(now=T0 + timedelta(hours=4), category_code="lainnya")
    handler = officer("63.72", resolved.assigned_agency.code)  # "jalan" goes to one agency
    for complaint, action in ((resolved, A.RESOLVE), (in_progress, A.FOLLOW_UP)):
        complaint_transition(
            complaint=complaint,
            action=action,
            role=OFF,
            actor=handler,
            note="Ditangani.",
            now=T0 + timedelta(hours=5),
        )
    for complaint in (overdue, waiting, triage):
        complaint.refresh_from_db()
    assert triage.status == S.TRIAGE
    now = overdue.follow_up_due_at + timedelta(minutes=1)
    assert now < waiting.follow_up_due_at and now < triage.triage_due_at
    ids = [c.pk for c in (resolved, overdue, in_progress, waiting, triage)]
    rows = list(Complaint.objects.filter(pk__in=ids).by_urgency(now))
    # next_due: the clock that matters next, by status; none once resolved.
    due_field = {
        S.TRIAGE: "triage_due_at",
        S.ASSIGNED: "follow_up_due_at",
        S.IN_PROGRESS: "completion_due_at",
    }
    for row in rows:
        field = due_field.get(row.status)
        assert row.next_due == (getattr(row, field) if field else None), row.status
    assert [r.is_overdue for r in rows] == [True, False, False, False, False]
    waiting_rows = sorted(
        (r for r in rows if r.pk in (in_progress.pk, waiting.pk, triage.pk)),
        key=lambda r: r.next_due,
    )
    assert [r.pk for r in rows] == [overdue.pk, *[r.pk for r in waiting_rows], resolved.pk]
    assert [r.pk for r in rows] not in (sorted(ids), sorted(ids, reverse=True))


def test_next_due_has_no_fallback_for_finished_complaints():
    expression = next_due_expression()
    assert expression.default.value is None


# --- who hears of a staff step ------------------------------------------------------------------

REPORTER_HEARS = [
    # the staff step, the role taking it, whether the reporter gets an email
    (A.FOLLOW_UP, OFF, True),
    (A.RESOLVE, OFF, True),
    (A.ARCHIVE, COO, True),
    (A.NOT_OURS, OFF, False),
    (A.REROUTE, COO, False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "role", "hears"), REPORTER_HEARS)
def test_the_reporter_hears_of_a_follow_up_a_resolution_and_an_archive(action, role, hears):
    complaint = complaint_new(now=T0, reporter_email="siti@example.id")
    complaint.refresh_from_db()
    actor = officer("63.72", complaint.assigned_agency.code) if role == OFF else coordinator()
    other = Agency.objects.filter(region=complaint.region, is_active=True).exclude(
        pk=complaint.assigned_agency_id
    )
    complaint_transition(
        complaint=complaint,
        action=action,
        role=role,
        actor=actor,
        note="Catatan.",
        reason=ArchiveReason.OUT_OF_SCOPE,
        agency=other.first(),
        now=T0 + timedelta(hours=1),
    )
    to_reporter = Notification.objects.filter(complaint=complaint, recipient="siti@example.id")
    assert to_reporter.filter(dedupe_key__startswith="status:").exists() == hears


# --- who may redact a photo and see its original ---------------------------------------------

REDACTION_CASES = [
    # who, the role in which they redact (None: they may not)
    ("officer", OFF),
    ("officer_and_province", OFF),
    ("province", PRO),
    ("coordinator", None),
    ("coordinator_and_province", PRO),
    ("other_officer", None),
    ("reporter", None),
    ("nobody", None),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "expected"), REDACTION_CASES)
def test_the_handling_agency_and_the_province_redact_photos(who, expected):
    from complaints.services import redaction_role

    reporter = UserFactory(username="warga")
    complaint = complaint_new(now=T0, category_code="pju", reporter=reporter)  # to perkim
    assert complaint.assigned_agency.code == "perkim"
    people = {
        "officer": lambda: officer("63.72", "perkim"),
        "province": province_staff,
        "coordinator": lambda: coordinator("63.72"),
        "other_officer": lambda: officer("63.71", "perkim"),
        "reporter": lambda: reporter,
        "nobody": lambda: None,
    }
    if who.endswith("_and_province"):
        person = people[who.removesuffix("_and_province")]()
        staff_membership_grant(user=person, role=StaffRole.PROVINCE_STAFF)
    else:
        person = people[who]()
    assert redaction_role(person, complaint) == expected
