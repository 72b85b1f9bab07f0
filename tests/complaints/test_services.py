"""complaint_submit and friends: validation, routing, idempotency, tracking codes, concurrency,
privacy and the notifications a submission queues."""

import re
import threading
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection

from agencies.models import Agency, Category, RoutingRule
from complaints import codes
from complaints import services as complaint_services
from complaints.codes import ALPHABET, access_key_hash, tracking_code_new, tracking_code_normalise
from complaints.models import Assignment, Channel, Complaint, ComplaintEvent, EventKind
from complaints.scope import Purpose, complaints_for
from complaints.services import (
    check_complaint_fields,
    complaint_privacy_change,
    complaint_reply,
    complaint_submit,
    complaint_transition,
)
from complaints.workflow import Action, ArchiveReason, ComplaintStatus, Role, WorkflowError
from lapor.pagecache import generation_bump
from notifications import services as notifications
from notifications.models import Notification
from tests.factories import (
    UserFactory,
    agency,
    category,
    complaint_fields,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
)

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
FRIDAY = datetime(2025, 7, 4, 10, 0, tzinfo=WITA)
CODE_RE = re.compile(
    r"^LPR-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$"
)

# Personal data that must never reach an agency's or coordinator's mailbox.
NAME, EMAIL, PHONE = "Rahmat Hidayat", "rahmat.hidayat@example.id", "081399887766"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False


def stored() -> tuple[int, int, int, int]:
    return (
        Complaint.objects.count(),
        ComplaintEvent.objects.count(),
        Assignment.objects.count(),
        Notification.objects.count(),
    )


# --- field validation ----------------------------------------------------------------------------


def _inactive_category():
    lainnya = category("lainnya")
    lainnya.is_active = False
    lainnya.save()
    return lainnya


INVALID = [
    # (id, overrides (a callable where the database is needed), fields named in the error)
    ("no title", lambda: {"title": ""}, {"title"}),
    ("blank title", lambda: {"title": "   "}, {"title"}),
    ("title over 150", lambda: {"title": "x" * 151}, {"title"}),
    ("no description", lambda: {"description": ""}, {"description"}),
    ("description over 5000", lambda: {"description": "x" * 5001}, {"description"}),
    ("unknown classification", lambda: {"classification": "keluhan"}, {"classification"}),
    ("no category", lambda: {"category": None}, {"category"}),
    ("inactive category", lambda: {"category": _inactive_category()}, {"category"}),
    ("no region", lambda: {"region": None}, {"region"}),
    ("empty address", lambda: {"address": ""}, {"address"}),
    ("blank address", lambda: {"address": "  \t"}, {"address"}),
    ("no incident date", lambda: {"incident_date": None}, {"incident_date"}),
    (
        "future incident date",
        lambda: {"incident_date": FRIDAY.date() + timedelta(days=1)},
        {"incident_date"},
    ),
    ("incident in year 1", lambda: {"incident_date": date(1, 1, 1)}, {"incident_date"}),
    ("incident before 2000", lambda: {"incident_date": date(1999, 12, 31)}, {"incident_date"}),
    (
        "latitude 200",
        lambda: {"latitude": Decimal("200"), "longitude": Decimal("114.8")},
        {"latitude"},
    ),
    ("only latitude", lambda: {"latitude": Decimal("-3.44")}, {"latitude"}),
    ("only longitude", lambda: {"longitude": Decimal("114.83")}, {"latitude"}),
    (
        "Jakarta",
        lambda: {"latitude": Decimal("-6.2088"), "longitude": Decimal("106.8456")},
        {"latitude", "longitude"},
    ),
    (
        "Palangka Raya",
        lambda: {"latitude": Decimal("-2.2096"), "longitude": Decimal("113.9135")},
        {"longitude"},
    ),
    ("address over 255", lambda: {"address": "x" * 256}, {"address"}),
    ("district over 100", lambda: {"district": "x" * 101}, {"district"}),
    ("guest without name", lambda: {"reporter_name": " "}, {"reporter_name"}),
    ("name over 100", lambda: {"reporter_name": "x" * 101}, {"reporter_name"}),
    ("phone over 20", lambda: {"reporter_phone": "0" * 21}, {"reporter_phone"}),
    ("not a phone number", lambda: {"reporter_phone": "hubungi saya"}, {"reporter_phone"}),
    ("phone too short", lambda: {"reporter_phone": "0812"}, {"reporter_phone"}),
    ("not an email", lambda: {"reporter_email": "siti@"}, {"reporter_email"}),
    (
        "guest without email and phone",
        lambda: {"reporter_email": "", "reporter_phone": ""},
        {"reporter_email"},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "fields"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_check_complaint_fields_names_the_field(overrides, fields):
    with pytest.raises(ValidationError) as caught:
        check_complaint_fields(**complaint_fields(now=FRIDAY, **overrides()), today=FRIDAY.date())
    assert set(caught.value.message_dict) == fields


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "fields"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_complaint_submit_refuses_and_stores_nothing(overrides, fields):
    before = stored()
    with pytest.raises(ValidationError) as caught:
        complaint_submit(now=FRIDAY, **complaint_fields(now=FRIDAY, **overrides()))
    assert set(caught.value.message_dict) == fields
    assert stored() == before


@pytest.mark.django_db
def test_every_error_at_once():
    with pytest.raises(ValidationError) as caught:
        check_complaint_fields(
            classification="",
            title="",
            description="",
            category=None,
            region=None,
            address="",
            incident_date=None,
            latitude=Decimal("-3.4"),
            reporter_name="",
        )
    assert set(caught.value.message_dict) == {
        "classification",
        "title",
        "description",
        "category",
        "region",
        "address",
        "incident_date",
        "latitude",
        "reporter_name",
        "reporter_email",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "x" * 150, "description": "y" * 5000},
        {"latitude": Decimal("-3.442"), "longitude": Decimal("114.838")},  # Banjarbaru
        {"latitude": -3.3186, "longitude": 114.5944},  # Banjarmasin, as floats
        {"reporter_email": ""},  # a phone is enough
        {"reporter_phone": ""},  # an email is enough
        {"incident_date": FRIDAY.date()},
        {"address": "x" * 255, "district": "y" * 100, "reporter_name": "z" * 100},
        {"reporter_phone": "+62 812-3456-7890-12"},  # 20 characters
    ],
)
def test_valid_fields_pass(overrides):
    check_complaint_fields(**complaint_fields(now=FRIDAY, **overrides), today=FRIDAY.date())


@pytest.mark.django_db
def test_signed_in_reporters_and_coordinator_entries_need_no_contact_fields():
    fields = complaint_fields(reporter_name="", reporter_email="", reporter_phone="")
    check_complaint_fields(**fields, reporter=UserFactory())
    check_complaint_fields(**fields, channel=Channel.SMS)
    with pytest.raises(ValidationError):
        check_complaint_fields(**fields, reporter=AnonymousUser())


@pytest.mark.django_db
@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
def test_a_gateways_sender_is_taken_as_it_comes(channel):
    # The number is the gateway's, not typed by anyone: never a reason to lose the message.
    check_complaint_fields(**complaint_fields(reporter_phone="LAPOR-1708"), channel=channel)


@pytest.mark.django_db
def test_today_is_the_wita_date():
    # 00:30 WITA on 5 July is still 4 July in UTC: an incident on 5 July is not in the future.
    just_after_midnight = datetime(2025, 7, 5, 0, 30, tzinfo=WITA)
    result = complaint_submit(
        now=just_after_midnight,
        **complaint_fields(now=just_after_midnight, incident_date=date(2025, 7, 5)),
    )
    assert result.complaint.incident_date == date(2025, 7, 5)


# --- routing on submission -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("region_code", "agency_code"),
    [("63.71", "uptd-pju"), ("63.72", "perkim"), ("63.03", "dprkplh")],
)
def test_street_lighting_goes_to_the_agency_of_the_routing_rule(region_code, agency_code):
    result = complaint_submitted(region_code=region_code, category_code="pju", now=FRIDAY)
    complaint = result.complaint
    assert result.created
    assert complaint.status == S.ASSIGNED
    assert complaint.assigned_agency == agency(region_code, agency_code)


@pytest.mark.django_db
def test_a_banjarmasin_street_lighting_complaint_goes_to_uptd_pju_with_three_calendar_days():
    complaint = complaint_submitted(region_code="63.71", category_code="pju", now=FRIDAY).complaint
    uptd = agency("63.71", "uptd-pju")
    assert complaint.assigned_agency == uptd
    assert complaint.created_at == FRIDAY
    assert complaint.assigned_at == FRIDAY
    # Friday 10:00 + 3 calendar days = Monday 10:00 WITA, weekend included.
    assert complaint.follow_up_due_at == FRIDAY + timedelta(days=3)
    assert complaint.triage_due_at is None
    (assignment,) = complaint.assignments.all()
    assert (assignment.agency, assignment.assigned_at, assignment.follow_up_due_at) == (
        uptd,
        FRIDAY,
        FRIDAY + timedelta(days=3),
    )
    assert assignment.completion_due_at == complaint.completion_due_at
    assert assignment.ended_at is None
    submitted, routed = complaint.events.order_by("pk")
    assert (submitted.kind, submitted.to_status) == (EventKind.SUBMITTED, S.SUBMITTED)
    assert (routed.kind, routed.from_status, routed.to_status) == (
        EventKind.ROUTED,
        S.SUBMITTED,
        S.ASSIGNED,
    )
    assert routed.to_agency == uptd
    assert routed.data["follow_up_due_at"] == (FRIDAY + timedelta(days=3)).isoformat()


@pytest.mark.django_db
def test_follow_up_days_in_working_days_and_per_category(settings):
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = True
    complaint = complaint_submitted(region_code="63.71", now=FRIDAY).complaint
    assert complaint.follow_up_due_at == datetime(2025, 7, 9, 10, 0, tzinfo=WITA)  # Mon-Wed

    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False
    Category.objects.filter(code="jalan").update(follow_up_days=5)
    complaint = complaint_submitted(region_code="63.71", category_code="jalan", now=FRIDAY)
    assert complaint.complaint.follow_up_due_at == FRIDAY + timedelta(days=5)


@pytest.mark.django_db
def test_without_a_routing_rule_the_complaint_goes_to_triage():
    RoutingRule.objects.filter(region__code="63.71", category__code="pju").delete()
    complaint = complaint_submitted(region_code="63.71", now=FRIDAY).complaint
    assert complaint.status == S.TRIAGE
    assert complaint.assigned_agency is None
    assert complaint.follow_up_due_at is None
    # Three working days: Monday, Tuesday, Wednesday.
    assert complaint.triage_due_at == datetime(2025, 7, 9, 10, 0, tzinfo=WITA)
    assert not complaint.assignments.exists()
    triaged = complaint.events.get(kind=EventKind.TRIAGED)
    assert (triaged.from_status, triaged.to_status) == (S.SUBMITTED, S.TRIAGE)
    assert triaged.data == {"triage_due_at": complaint.triage_due_at.isoformat()}


@pytest.mark.django_db
def test_an_inactive_agency_sends_the_complaint_to_triage():
    Agency.objects.filter(region__code="63.71", code="uptd-pju").update(is_active=False)
    complaint = complaint_submitted(region_code="63.71", now=FRIDAY).complaint
    assert complaint.status == S.TRIAGE
    assert complaint.assigned_agency is None
    assert complaint.triage_due_at is not None
    assert not complaint.assignments.exists()


# --- idempotency and tracking codes --------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_gives_one_complaint():
    key = uuid.uuid4()
    first = complaint_submitted(idempotency_key=key, now=FRIDAY)
    before = stored()
    second = complaint_submitted(idempotency_key=key, now=FRIDAY, title="Another title")
    assert first.created and not second.created
    assert second.complaint.pk == first.complaint.pk
    assert second.complaint.title == first.complaint.title
    assert first.access_key and second.access_key is None
    assert stored() == before
    assert Complaint.objects.filter(idempotency_key=key).count() == 1


def test_tracking_codes_are_short_and_readable():
    drawn = {tracking_code_new() for _ in range(2000)}
    assert len(drawn) == 2000
    for code in drawn:
        assert CODE_RE.match(code), code
        assert not set(code[4:]) & set("0O1IL")
    assert set(ALPHABET) == set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    used = set("".join(code[4:].replace("-", "") for code in drawn))
    assert used == set(ALPHABET)  # every character is drawn, none other


@pytest.mark.parametrize(
    "typed",
    [
        "LPR-7K3M-9Q2X",
        "lpr-7k3m-9q2x",
        "LPR7K3M9Q2X",
        "lpr7k3m9q2x",
        " lpr 7k3m 9q2x ",
        "7K3M-9Q2X",
        "7k3m9q2x",
        "LPR-7K3M9Q2X",
    ],
)
def test_tracking_code_normalise(typed):
    assert tracking_code_normalise(typed) == "LPR-7K3M-9Q2X"


@pytest.mark.parametrize("typed", ["", "abc", "LPR-7K3M-9Q2", "  xyz  "])
def test_tracking_code_normalise_leaves_nonsense_unmatched(typed):
    assert not CODE_RE.match(tracking_code_normalise(typed))


@pytest.mark.django_db
def test_a_submitted_complaint_is_found_by_what_a_citizen_types():
    complaint = complaint_submitted(now=FRIDAY).complaint
    assert CODE_RE.match(complaint.tracking_code)
    typed = complaint.tracking_code.lower().replace("-", "")
    assert Complaint.objects.get(tracking_code=tracking_code_normalise(typed)) == complaint


@pytest.mark.django_db
def test_a_tracking_code_collision_draws_again(monkeypatch):
    taken = complaint_submitted(now=FRIDAY).complaint.tracking_code
    draws = iter([taken, taken, "LPR-2345-6789"])
    monkeypatch.setattr(complaint_services, "tracking_code_new", lambda: next(draws))
    complaint = complaint_submitted(now=FRIDAY).complaint
    assert complaint.tracking_code == "LPR-2345-6789"
    assert Complaint.objects.count() == 2
    assert complaint.events.count() == 2


@pytest.mark.django_db
def test_access_keys_are_stored_only_as_hashes():
    result = complaint_submitted(now=FRIDAY)
    assert result.access_key
    assert result.complaint.access_key_hash == access_key_hash(result.access_key)
    assert result.access_key not in result.complaint.access_key_hash
    assert codes.access_key_new() != codes.access_key_new()
    signed_in = complaint_submitted(reporter=UserFactory(), now=FRIDAY)
    assert signed_in.access_key is None
    assert signed_in.complaint.access_key_hash == ""


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


def run_in_threads(count: int, work) -> tuple[list, list]:
    """Run ``work(i)`` in ``count`` threads released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def target(i):
        try:
            barrier.wait(timeout=30)
            result = work(i)
            with lock:
                results.append(result)
        except Exception as exc:  # reported below with the test's assertion
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def concurrent_fields(i: int) -> dict:
    # A phone but no email: no notification, so nothing is handed to the broker.
    return complaint_fields(
        now=FRIDAY, reporter_email="", reporter_phone=f"0812{i:08d}", title=f"Laporan {i}"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_simultaneous_submissions_get_fifty_distinct_codes():
    fields = [concurrent_fields(i) for i in range(50)]
    results, errors = run_in_threads(
        50, lambda i: complaint_submit(now=FRIDAY, **fields[i]).complaint.tracking_code
    )
    assert errors == []
    assert len(results) == 50
    assert len(set(results)) == 50
    assert Complaint.objects.count() == 50
    assert set(Complaint.objects.values_list("tracking_code", flat=True)) == set(results)
    assert Assignment.objects.count() == 50
    assert ComplaintEvent.objects.count() == 100


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_simultaneous_submissions_with_one_idempotency_key_give_one_complaint():
    key = uuid.uuid4()
    fields = [concurrent_fields(i) for i in range(10)]
    results, errors = run_in_threads(
        10, lambda i: complaint_submit(now=FRIDAY, idempotency_key=key, **fields[i])
    )
    assert errors == []
    assert len(results) == 10
    assert Complaint.objects.count() == 1
    assert {result.complaint.pk for result in results} == {Complaint.objects.get().pk}
    assert sorted(result.created for result in results) == [False] * 9 + [True]
    assert ComplaintEvent.objects.count() == 2
    assert Assignment.objects.count() == 1


# --- privacy -------------------------------------------------------------------------------------


def personal(complaint: Complaint) -> list[str]:
    return [complaint.reporter_name, complaint.reporter_email, complaint.reporter_phone]


def assert_no_personal_data(rows, complaint):
    assert rows
    for row in rows:
        text = f"{row.subject}\n{row.body}"
        for value in personal(complaint):
            assert value and value not in text, (row.dedupe_key, value)


@pytest.mark.django_db
@pytest.mark.parametrize("is_anonymous", [True, False])
def test_agency_and_coordinator_emails_never_carry_the_reporters_identity(is_anonymous):
    perkim_officer = officer("63.72", "perkim")
    pupr_officer = officer("63.72", "pupr")
    bjb_coordinator = coordinator("63.72")
    Agency.objects.filter(region__code="63.72", code="pupr").update(email="pupr@banjarbaru.go.id")
    complaint = complaint_submitted(
        now=FRIDAY,
        reporter_name=NAME,
        reporter_email=EMAIL,
        reporter_phone=PHONE,
        is_anonymous=is_anonymous,
        district="Landasan Ulin",
    ).complaint
    complaint_transition(
        complaint=complaint,
        action=Action.NOT_OURS,
        role=Role.AGENCY_OFFICER,
        actor=perkim_officer,
        note="Ini jalan rusak, bukan lampu.",
        now=FRIDAY + timedelta(hours=1),
    )
    complaint_transition(
        complaint=complaint,
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=bjb_coordinator,
        agency=agency("63.72", "pupr"),
        now=FRIDAY + timedelta(hours=2),
    )
    complaint_reply(complaint=complaint, note="Tolong segera.", now=FRIDAY + timedelta(hours=3))

    assigned = Notification.objects.filter(complaint=complaint, dedupe_key__startswith="assigned:")
    assert {n.recipient for n in assigned} == {pupr_officer.email, "pupr@banjarbaru.go.id"}
    assert_no_personal_data(assigned, complaint)
    triage = Notification.objects.filter(complaint=complaint, dedupe_key__startswith="triage:")
    assert {n.recipient for n in triage} == {bjb_coordinator.email}
    # In general: whatever was written to anyone but the reporter.
    to_others = Notification.objects.exclude(recipient=EMAIL)
    assert to_others.count() == assigned.count() + triage.count() + 2  # + the two replies
    assert_no_personal_data(to_others, complaint)
    # The reporter's own receipt does address them by name.
    receipt = Notification.objects.get(recipient=EMAIL, dedupe_key__startswith="submitted:")
    assert NAME in receipt.body


@pytest.fixture
def four_complaints(db):
    """A public, a rahasia, an archived and a triage complaint of Banjarbaru."""
    owner = UserFactory(username="pemilik")
    public = complaint_submitted(now=FRIDAY).complaint
    rahasia = complaint_submitted(now=FRIDAY, reporter=owner, is_confidential=True).complaint
    archived = complaint_submitted(now=FRIDAY).complaint
    complaint_transition(
        complaint=archived,
        action=Action.ARCHIVE,
        role=Role.REGION_COORDINATOR,
        actor=coordinator("63.72", username="arsip"),
        reason=ArchiveReason.SPAM,
        now=FRIDAY,
    )
    Agency.objects.filter(region__code="63.72", code="perkim").update(is_active=False)
    triage = complaint_submitted(now=FRIDAY).complaint
    Agency.objects.filter(region__code="63.72", code="perkim").update(is_active=True)
    assert triage.status == S.TRIAGE
    return {
        "owner": owner,
        "public": public,
        "rahasia": rahasia,
        "archived": archived,
        "triage": triage,
    }


@pytest.mark.django_db
def test_the_public_sees_only_routed_non_confidential_complaints(four_complaints):
    c = four_complaints
    assert list(complaints_for(None, purpose=Purpose.PUBLIC)) == [c["public"]]
    assert list(complaints_for(AnonymousUser())) == [c["public"]]
    assert list(complaints_for(None)) == [c["public"]]
    assert list(complaints_for(UserFactory(username="warga"))) == [c["public"]]
    assert [x.is_public for x in (c["public"], c["rahasia"], c["archived"], c["triage"])] == [
        True,
        False,
        False,
        False,
    ]


@pytest.mark.django_db
def test_a_rahasia_complaint_stays_rahasia_even_when_resolved_and_closed(four_complaints):
    rahasia = four_complaints["rahasia"]
    complaint_transition(
        complaint=rahasia,
        action=Action.RESOLVE,
        role=Role.PROVINCE_STAFF,
        actor=province_staff(),
        note="Selesai.",
        now=FRIDAY,
    )
    assert not complaints_for(None, purpose=Purpose.PUBLIC).filter(pk=rahasia.pk).exists()
    complaint_transition(complaint=rahasia, action=Action.CLOSE, role=Role.SYSTEM, now=FRIDAY)
    assert not complaints_for(None, purpose=Purpose.PUBLIC).filter(pk=rahasia.pk).exists()
    assert not complaints_for(AnonymousUser()).filter(pk=rahasia.pk).exists()


@pytest.mark.django_db
def test_the_reporter_and_the_handling_staff_see_a_rahasia_complaint(four_complaints):
    rahasia = four_complaints["rahasia"]
    may_see = {
        "the reporter": four_complaints["owner"],
        "the agency's officer": officer("63.72", "perkim"),
        "the city's coordinator": coordinator("63.72"),
        "provincial staff": province_staff(),
    }
    for who, user in may_see.items():
        assert complaints_for(user).filter(pk=rahasia.pk).exists(), who
    may_not_see = {
        "another agency's officer": officer("63.72", "pupr"),
        "an officer of another city": officer("63.71", "perkim"),
        "another city's coordinator": coordinator("63.71"),
        "another citizen": UserFactory(username="tetangga"),
    }
    for who, user in may_not_see.items():
        assert not complaints_for(user).filter(pk=rahasia.pk).exists(), who
    # A guest holding the private link sees it too.
    with_link = complaints_for(AnonymousUser(), reporter_codes=frozenset({rahasia.tracking_code}))
    assert set(with_link) == {rahasia, four_complaints["public"]}


@pytest.mark.django_db
def test_privacy_change_writes_a_privacy_event():
    owner = UserFactory(username="pemilik")
    complaint = complaint_submitted(now=FRIDAY, reporter=owner).complaint
    assert complaints_for(None, purpose=Purpose.PUBLIC).filter(pk=complaint.pk).exists()
    complaint_privacy_change(
        complaint=complaint,
        actor=owner,
        role=Role.REPORTER,
        is_anonymous=True,
        is_confidential=True,
    )
    assert (complaint.is_anonymous, complaint.is_confidential) == (True, True)
    assert not complaints_for(None, purpose=Purpose.PUBLIC).filter(pk=complaint.pk).exists()
    event = complaint.events.get(kind=EventKind.PRIVACY)
    assert event.actor == owner
    assert event.actor_role == Role.REPORTER
    assert event.data == {
        "from": {"is_anonymous": False, "is_confidential": False},
        "to": {"is_anonymous": True, "is_confidential": True},
    }
    # The same flags again change nothing and write nothing.
    complaint_privacy_change(
        complaint=complaint,
        actor=owner,
        role=Role.REPORTER,
        is_anonymous=True,
        is_confidential=True,
    )
    assert complaint.events.filter(kind=EventKind.PRIVACY).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "make_actor"),
    [
        (Role.AGENCY_OFFICER, lambda: officer("63.72", "perkim")),
        (Role.REPORTER, lambda: UserFactory(username="tetangga")),
        (Role.REGION_COORDINATOR, lambda: coordinator("63.71")),
    ],
)
def test_privacy_change_by_others_is_refused(role, make_actor):
    complaint = complaint_submitted(now=FRIDAY, reporter=UserFactory(username="pemilik"))
    complaint = complaint.complaint
    with pytest.raises(WorkflowError):
        complaint_privacy_change(
            complaint=complaint,
            actor=make_actor(),
            role=role,
            is_anonymous=False,
            is_confidential=True,
        )
    complaint.refresh_from_db()
    assert not complaint.is_confidential
    assert not complaint.events.filter(kind=EventKind.PRIVACY).exists()


# --- the receipt ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_guest_with_an_email_gets_one_receipt_with_the_private_link(
    django_capture_on_commit_callbacks, monkeypatch
):
    dispatched = []
    monkeypatch.setattr(notifications, "notification_dispatch", dispatched.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = complaint_submitted(now=FRIDAY, reporter_email=EMAIL, reporter_name=NAME)
    complaint = result.complaint
    (receipt,) = Notification.objects.filter(complaint=complaint)
    assert receipt.recipient == EMAIL
    assert receipt.dedupe_key == f"submitted:{complaint.pk}"
    # The key waits beside the body until the email is sent (see test_notifications.py).
    assert receipt.secret == result.access_key
    assert result.access_key not in receipt.body
    assert f"{complaint.get_absolute_url()}?key={Notification.SECRET_PLACEHOLDER}" in receipt.body
    assert complaint.tracking_code in receipt.body
    assert complaint.tracking_code in receipt.subject
    # Handed to Celery only after the commit (beside it: the public page cache's retirement).
    (deliver,) = [c for c in callbacks if c is not generation_bump]
    assert dispatched == []
    deliver()
    assert dispatched == [receipt.pk]


@pytest.mark.django_db
def test_no_receipt_without_an_email_or_a_mobile_and_no_private_link_for_accounts(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complaint_submitted(now=FRIDAY, reporter_email="", reporter_phone="0511 3352 000")
    assert [c for c in callbacks if c is not generation_bump] == []
    assert not Notification.objects.exists()

    # A mobile number only: the receipt goes by SMS, without the private link's key.
    sms = complaint_submitted(now=FRIDAY, reporter_email="", reporter_phone=PHONE)
    (receipt,) = Notification.objects.filter(complaint=sms.complaint)
    assert (receipt.channel, receipt.secret) == ("sms", "")
    assert sms.complaint.tracking_code in receipt.body and "key=" not in receipt.body

    user = UserFactory(username="akun", email="akun@example.id")
    result = complaint_submitted(now=FRIDAY, reporter=user, reporter_email="")
    (receipt,) = Notification.objects.filter(complaint=result.complaint)
    assert receipt.recipient == "akun@example.id"
    assert "?key=" not in receipt.body
