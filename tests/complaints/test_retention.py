"""Retention: a reporter's personal data leaves a complaint a year after it closes or is archived,
from the complaint, its events and its notifications, and no figure or published ranking moves;
old outbox bodies and sign-in records go too. Each step is idempotent."""

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from axes.models import AccessAttempt, AccessLog
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Q

from accounts.services import signin_records_prune
from awards.indicators import indicator_sets, year_bounds
from awards.models import Level
from awards.services import ranking_compute, ranking_publish
from complaints.codes import supporter_email_hash
from complaints.models import Attachment, Complaint, ComplaintEvent, EventKind, Support
from complaints.search import INDEX_NAME, TABLE, complaints_search
from complaints.selectors import breach_counts, complaint_counts, complaint_figures
from complaints.services import (
    REMOVED,
    attachments_prune_spam,
    complaint_reply,
    complaint_support,
    complaint_transition,
    complaints_anonymise_due,
    complaints_close_expired,
)
from complaints.tally import tally_fold
from complaints.workflow import Action, ComplaintStatus, Role
from notifications.models import Notification, NotificationStatus
from notifications.services import notifications_prune
from tests.factories import UserFactory, complaint_submitted, coordinator, province_staff

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)
RUN = datetime(2026, 6, 1, 2, 0, tzinfo=WITA)
PHONE = "081234567890"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def resolve(complaint, staff, *, at, note="Sudah diperbaiki"):
    return complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        note=note,
        now=at,
    )


@pytest.fixture
def year(settings):
    """2025: closed and archived complaints with contact in every place, one still open."""
    settings.LAPOR_RETENTION_REPORTER_DAYS = 365
    staff = province_staff(username="prov.kalsel")
    citizen = UserFactory(username="warga", email="warga@example.id", first_name="Warga")
    made = {}
    # A guest with email and phone; a staff note and the reporter's reply name them.
    guest = complaint_submitted(now=T0).complaint
    complaint_reply(
        complaint=guest, actor=None, note=f"Hubungi saya di {PHONE}", now=T0 + timedelta(hours=1)
    )
    resolve(guest, staff, at=T0 + timedelta(days=2), note="Sudah ditelepon Siti Aminah, beres")
    made["guest"] = guest
    # A citizen's complaint (account link), anonim.
    mine = complaint_submitted(
        now=T0 + timedelta(days=1),
        reporter=citizen,
        reporter_name="",
        reporter_email="",
        is_anonymous=True,
        region_code="63.71",
    ).complaint
    resolve(mine, staff, at=T0 + timedelta(days=3))
    made["mine"] = mine
    complaints_close_expired(now=T0 + timedelta(days=30))
    # Archived as spam in March.
    spam = complaint_submitted(now=T0 + timedelta(days=2), reporter_email="spam@example.id")
    complaint_transition(
        complaint=spam.complaint,
        action=Action.ARCHIVE,
        role=Role.REGION_COORDINATOR,
        actor=coordinator("63.72"),
        reason="spam",
        now=T0 + timedelta(days=2, hours=1),
    )
    made["spam"] = spam.complaint
    # Closed in December 2025: not due on RUN.
    late = complaint_submitted(now=T0 + timedelta(days=200), reporter_email="late@example.id")
    resolve(late.complaint, staff, at=datetime(2025, 12, 1, 9, tzinfo=WITA))
    made["late"] = late.complaint
    # Still open: never due.
    made["open"] = complaint_submitted(
        now=T0 + timedelta(days=5), reporter_email="open@example.id"
    ).complaint
    complaints_close_expired(now=datetime(2025, 12, 31, 9, tzinfo=WITA))
    published = ranking_publish(
        result=ranking_compute(year=2025, level=Level.REGENCY, now=RUN - timedelta(days=100)),
        actor=staff,
        now=RUN - timedelta(days=100),
    )
    return made, published


def figures(published):
    start, end = year_bounds(2025)
    return {
        "home": complaint_figures(now=RUN),
        "by_region": complaint_counts(by="region_id"),
        "by_status": complaint_counts(by="status"),
        "by_agency": complaint_counts(by="agency_id"),
        "breaches": breach_counts(None, by="region_id"),
        "indicators": indicator_sets(group_by="region", start=start, end=end),
        "draft": [
            (r.region_id, r.rank, r.score)
            for r in ranking_compute(year=2025, level=Level.REGENCY, now=RUN).rows.all()
        ],
        "published": [
            (r.region_id, r.rank, r.score, [(v.raw, v.points) for v in r.values.all()])
            for r in published.rows.order_by("region_id")
        ],
    }


def contact_anywhere(complaint, values) -> list[str]:
    """Every place a value still occurs: the complaint's row, its events, its notifications."""
    found = []
    c = Complaint.objects.get(pk=complaint.pk)
    for field in ("reporter_name", "reporter_email", "reporter_phone"):
        if getattr(c, field):
            found.append(field)
    if c.reporter_id or c.access_key_hash:
        found.append("links")
    for value in values:
        text = Q(note__icontains=value) | Q(data__icontains=value)
        if ComplaintEvent.objects.filter(complaint=complaint).filter(text).exists():
            found.append(f"event:{value}")
        mail = Q(recipient__icontains=value) | Q(body__icontains=value)
        if Notification.objects.filter(complaint=complaint).filter(mail).exists():
            found.append(f"mail:{value}")
    return found


def test_anonymising_removes_contact_everywhere_and_keeps_every_figure(year):
    made, published = year
    values = ["Siti Aminah", "siti.aminah@example.id", PHONE]
    assert contact_anywhere(made["guest"], values)  # there before
    assert Notification.objects.filter(recipient="siti.aminah@example.id").exists()
    tally_fold()
    before = figures(published)

    assert complaints_anonymise_due(now=RUN, batch=2) == 3  # guest, mine, spam; in 2 batches

    for key in ("guest", "mine", "spam"):
        assert contact_anywhere(made[key], values + ["spam@example.id", "warga"]) == [], key
        c = Complaint.objects.get(pk=made[key].pk)
        assert c.personal_data_removed_at == RUN
        events = ComplaintEvent.objects.filter(complaint=c, kind=EventKind.ANONYMISED)
        assert [(e.actor_role, e.data) for e in events] == [(Role.SYSTEM, {"reason": "retention"})]
    note = ComplaintEvent.objects.get(complaint=made["guest"], kind=EventKind.RESOLVED).note
    assert note == f"Sudah ditelepon {REMOVED}, beres"
    reply = ComplaintEvent.objects.get(complaint=made["guest"], kind=EventKind.REPLY).note
    assert reply == f"Hubungi saya di {REMOVED}"
    # Not due yet, or still open: untouched.
    for key, email in (("late", "late@example.id"), ("open", "open@example.id")):
        c = Complaint.objects.get(pk=made[key].pk)
        assert (c.reporter_email, c.personal_data_removed_at) == (email, None)
        assert Notification.objects.filter(complaint=c, recipient=email).exists()
    # The complaint's text and its handling stay.
    guest = Complaint.objects.get(pk=made["guest"].pk)
    assert (guest.title, guest.status) == (made["guest"].title, S.CLOSED)

    tally_fold()
    assert figures(published) == before

    # A second run changes nothing.
    snapshot = list(Complaint.objects.order_by("pk").values())
    events = ComplaintEvent.objects.count()
    assert complaints_anonymise_due(now=RUN + timedelta(hours=1)) == 0
    assert list(Complaint.objects.order_by("pk").values()) == snapshot
    assert ComplaintEvent.objects.count() == events
    assert figures(published) == before


def test_late_complaint_is_anonymised_once_its_year_is_up(year):
    made, _ = year
    assert complaints_anonymise_due(now=RUN) == 3
    assert complaints_anonymise_due(now=datetime(2027, 1, 5, tzinfo=WITA)) == 1
    assert Complaint.objects.get(pk=made["late"].pk).reporter_email == ""
    assert Complaint.objects.get(pk=made["open"].pk).reporter_email == "open@example.id"


def test_the_beat_task_calls_the_service(year, settings):
    from complaints.tasks import anonymise_due

    settings.LAPOR_RETENTION_REPORTER_DAYS = 0
    result = anonymise_due()
    assert result["anonymised"] == 4  # all closed and archived ones, the open one stays
    assert set(settings.CELERY_BEAT_SCHEDULE) >= {
        "anonymise-due",
        "prune-notifications",
        "prune-signin-records",
    }


def test_spam_attachments_go_after_their_shorter_period(
    year, settings, django_capture_on_commit_callbacks
):
    made, _ = year
    settings.LAPOR_RETENTION_SPAM_ATTACHMENT_DAYS = 30
    spam, kept = made["spam"], made["open"]
    for complaint in (spam, kept):
        Attachment.objects.create(
            complaint=complaint,
            file=ContentFile(b"%PDF-1.4 test", name="x.pdf"),
            content_type="application/pdf",
            size=13,
            uploaded_by_role=Role.REPORTER,
        )
    path = Attachment.objects.get(complaint=spam).file.path
    archived = spam.events.get(kind=EventKind.ARCHIVED).created_at
    assert attachments_prune_spam(now=archived + timedelta(days=29)) == 0
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows have
        assert attachments_prune_spam(now=archived + timedelta(days=31)) == 1
    assert not Attachment.objects.filter(complaint=spam).exists()
    assert Attachment.objects.filter(complaint=kept).count() == 1
    assert not os.path.exists(path)
    assert attachments_prune_spam(now=archived + timedelta(days=31)) == 0


def test_old_notifications_lose_recipient_and_body(db, settings):
    settings.LAPOR_RETENTION_NOTIFICATION_DAYS = 30
    sent_at = datetime(2025, 5, 1, tzinfo=WITA)
    old = Notification.objects.create(
        dedupe_key="a",
        recipient="a@example.id",
        subject="s",
        body="Halo Siti",
        status=NotificationStatus.SENT,
        sent_at=sent_at,
    )
    recent = Notification.objects.create(
        dedupe_key="b",
        recipient="b@example.id",
        subject="s",
        body="Halo Budi",
        status=NotificationStatus.SENT,
        sent_at=sent_at + timedelta(days=20),
    )
    pending = Notification.objects.create(
        dedupe_key="c", recipient="c@example.id", subject="s", body="x"
    )
    assert notifications_prune(now=sent_at + timedelta(days=31)) == 1
    old.refresh_from_db()
    assert (old.recipient, old.body, old.subject, old.dedupe_key) == ("", "", "s", "a")
    assert Notification.objects.get(pk=recent.pk).body == "Halo Budi"
    assert Notification.objects.get(pk=pending.pk).recipient == "c@example.id"
    assert notifications_prune(now=sent_at + timedelta(days=31)) == 0


def test_old_signin_records_are_deleted(db, settings):
    settings.LAPOR_RETENTION_SIGNIN_DAYS = 90
    at = datetime(2025, 5, 1, tzinfo=WITA)
    for when in (at, at + timedelta(days=80)):
        AccessAttempt.objects.create(
            username=f"u{when.day}", ip_address="10.0.0.1", user_agent="x", failures_since_start=1
        )
        AccessLog.objects.create(username="u", ip_address="10.0.0.1", user_agent="x")
    AccessAttempt.objects.filter(username="u1").update(attempt_time=at)
    AccessLog.objects.filter(pk=AccessLog.objects.order_by("pk").first().pk).update(attempt_time=at)
    AccessAttempt.objects.exclude(username="u1").update(attempt_time=at + timedelta(days=80))
    AccessLog.objects.exclude(attempt_time=at).update(attempt_time=at + timedelta(days=80))
    assert signin_records_prune(now=at + timedelta(days=91)) == 2
    assert AccessAttempt.objects.count() == AccessLog.objects.count() == 1
    assert signin_records_prune(now=at + timedelta(days=91)) == 0


def test_supporters_lose_who_they_were_and_stay_counted(year):
    made, _ = year
    guest = made["guest"]
    neighbour = UserFactory(username="tetangga", email="tetangga@example.id")
    assert complaint_support(complaint=guest, user=neighbour)
    assert complaint_support(complaint=guest, email="warga.lain@example.id")
    assert complaint_support(complaint=made["open"], email="warga.lain@example.id")

    assert complaints_anonymise_due(now=RUN) == 3

    rows = Support.objects.filter(complaint=guest)
    assert list(rows.values_list("user", "email_hash")) == [(None, ""), (None, "")]
    assert Complaint.objects.get(pk=guest.pk).supporter_count == 2
    # A complaint not due keeps its supporters as they were.
    kept = Support.objects.get(complaint=made["open"])
    assert kept.email_hash == supporter_email_hash("warga.lain@example.id")


def test_the_search_index_holds_no_contact(year):
    made, _ = year
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX_NAME])
        [(definition,)] = cursor.fetchall()
        # The index covers the side table's document, which its trigger builds from these.
        cursor.execute(f"SELECT pg_get_functiondef('{TABLE}_sync'::regproc)")
        [(function,)] = cursor.fetchall()
    assert TABLE in definition
    assert "title" in function and "description" in function and "reporter" not in function
    complaints_anonymise_due(now=RUN)
    for word in ("siti", "aminah", "siti.aminah@example.id", PHONE, "warga"):
        assert not complaints_search(Complaint.objects.all(), [word]).exists(), word


def test_a_contact_view_stays_on_record_without_the_contact(year):
    from complaints.services import contact_view_record

    made, _ = year
    # Seen before the complaint is due; its year is up on 5 January 2027.
    late = made["late"]
    staff = province_staff(username="prov.lain")
    view = contact_view_record(
        complaint=late, actor=staff, reason="Menelepon late@example.id soal lokasi"
    )
    complaints_anonymise_due(now=datetime(2027, 1, 5, tzinfo=WITA))
    view.refresh_from_db()
    assert view.reason == f"Menelepon {REMOVED} soal lokasi"
    assert (view.viewer, view.complaint_id) == (staff, late.pk)
