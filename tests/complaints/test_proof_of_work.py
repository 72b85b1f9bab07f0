"""Proof of work: "after" photos when resolving (required for the categories the admin marks),
and the "is it fixed?" email with its two signed answers (``complaint_fixed_answer``)."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext
from PIL import Image

from awards.indicators import indicator_sets
from complaints.attachments import clean_uploads
from complaints.codes import fixed_check_read, fixed_check_token
from complaints.models import ComplaintEvent, EventKind
from complaints.selectors import FixedState, fixed_check_state
from complaints.services import (
    FIXED,
    NOT_FIXED,
    complaint_fixed_answer,
    complaint_transition,
)
from complaints.workflow import Action, ComplaintStatus, Role, WorkflowError
from notifications.models import Notification
from tests.complaints.test_attachments import pdf_document
from tests.factories import category, complaint_submitted, officer

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
MONDAY = datetime(2025, 7, 7, 9, 0, tzinfo=WITA)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings, media_root):
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False
    settings.LAPOR_FIXED_CHECK_DAYS = 3


@pytest.fixture(autouse=True)
def _tuesday():
    """The day after the complaints below are filed and resolved (within the reply window)."""
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        yield


def photo(name="sesudah.png", colour="yellow") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("laporan.pdf", pdf_document(), content_type="application/pdf")


def resolved(*, now=MONDAY, files=(), agency_code="perkim", **kw):
    """A street-light complaint of Banjarbaru resolved by its agency at ``now`` (+1 hour)."""
    complaint = complaint_submitted(now=now, **kw).complaint
    staff = officer("63.72", agency_code)
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=staff,
        note="Lampu sudah diganti.",
        files=clean_uploads(list(files)),
        now=now + timedelta(hours=1),
    )
    return complaint


def question(complaint) -> Notification:
    return Notification.objects.get(complaint=complaint, dedupe_key__startswith="fixed-check:")


def token_of(complaint) -> str:
    return question(complaint).secret


# --- "after" photos ---------------------------------------------------------------------------


def test_a_marked_category_is_not_resolved_without_an_after_photo():
    pju = category("pju")
    pju.requires_after_photo = True
    pju.save()
    complaint = complaint_submitted(now=MONDAY).complaint
    staff = officer("63.72", "perkim")
    for files in ([], [pdf()]):  # a document is not a photo of the result
        with pytest.raises(ValidationError) as refused:
            complaint_transition(
                complaint=complaint,
                action=Action.RESOLVE,
                role=Role.AGENCY_OFFICER,
                actor=staff,
                note="Sudah diperbaiki.",
                files=clean_uploads(files),
            )
        assert "attachments" in refused.value.message_dict
        complaint.refresh_from_db()
        assert complaint.status == S.ASSIGNED
        assert not complaint.events.filter(kind=EventKind.RESOLVED).exists()

    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=staff,
        note="Sudah diperbaiki.",
        files=clean_uploads([photo()]),
    )
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
    event = complaint.events.get(kind=EventKind.RESOLVED)
    assert [a.content_type for a in event.attachments.all()] == ["image/png"]


def test_other_categories_resolve_without_a_photo_and_other_steps_never_need_one():
    pju = category("pju")
    pju.requires_after_photo = True
    pju.save()
    complaint = complaint_submitted(now=MONDAY).complaint
    staff = officer("63.72", "perkim")
    complaint_transition(
        complaint=complaint,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=staff,
        note="Kami cek besok.",
    )
    road = resolved(category_code="jalan", agency_code="pupr")
    road.refresh_from_db()
    assert road.status == S.RESOLVED


# --- the "is it fixed?" email ------------------------------------------------------------------


def test_resolving_queues_the_question_for_later_with_the_token_as_a_secret():
    complaint = resolved()
    row = question(complaint)
    resolution = complaint.events.get(kind=EventKind.RESOLVED)
    assert row.recipient == "siti.aminah@example.id"
    assert row.next_attempt_at == resolution.created_at + timedelta(days=3)
    assert fixed_check_read(row.secret) == (complaint.tracking_code, resolution.pk)
    assert row.secret not in row.body  # stored apart until it is sent
    assert row.body.count(Notification.SECRET_PLACEHOLDER) == 2
    assert "/complaints/is-it-fixed/fixed/?t=" in row.body
    assert "/complaints/is-it-fixed/not-fixed/?t=" in row.body


def test_the_question_goes_out_before_the_reply_window_ends(settings):
    settings.LAPOR_FIXED_CHECK_DAYS = 30
    complaint = resolved()
    complaint.refresh_from_db()
    assert question(complaint).next_attempt_at == complaint.reply_due_at - timedelta(days=1)


def test_no_question_without_an_email_address():
    complaint = resolved(reporter_email="")
    assert not Notification.objects.filter(dedupe_key__startswith="fixed-check:").exists()
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED


def test_answering_on_the_site_withdraws_the_question_still_waiting():
    complaint = resolved()
    complaint_transition(
        complaint=complaint, action=Action.RATE, role=Role.REPORTER, rating=4, note=""
    )
    assert not Notification.objects.filter(dedupe_key__startswith="fixed-check:").exists()


def test_fixed_closes_with_the_rating_and_counts_in_the_satisfaction():
    complaint = resolved()
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        result = complaint_fixed_answer(token=token_of(complaint), answer=FIXED, rating=5)
    assert result.state == FixedState.ANSWERED and result.done
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED
    assert complaint.rating == 5
    event = complaint.events.get(kind=EventKind.RATED)
    assert event.actor_role == Role.REPORTER and event.actor is None
    resolution = complaint.events.get(kind=EventKind.RESOLVED)
    assert event.data == {"rating": 5, "answer_to": resolution.pk}

    sets = indicator_sets(
        group_by="region", start=MONDAY - timedelta(days=1), end=MONDAY + timedelta(days=30)
    )
    (figures,) = sets.values()
    assert figures.rated == 1
    assert figures.mean_rating == 5


def test_fixed_needs_a_rating_from_one_to_five():
    complaint = resolved()
    with pytest.raises(ValidationError) as refused:
        complaint_fixed_answer(token=token_of(complaint), answer=FIXED, rating=None)
    assert "rating" in refused.value.message_dict
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED


def test_not_fixed_reopens_through_the_workflow_with_a_new_deadline():
    complaint = resolved()
    complaint.refresh_from_db()
    first_due = complaint.follow_up_due_at
    answered = MONDAY + timedelta(days=3)
    with time_machine.travel(answered, tick=False):
        result = complaint_fixed_answer(
            token=token_of(complaint), answer=NOT_FIXED, note="Masih mati."
        )
    assert result.done
    complaint.refresh_from_db()
    assert complaint.status == S.ASSIGNED
    assert complaint.resolved_at is None and complaint.reply_due_at is None
    assert complaint.assigned_at == answered
    assert complaint.follow_up_due_at > first_due
    assert complaint.follow_up_due_at > answered
    reopened = complaint.events.get(kind=EventKind.REOPENED)
    assert reopened.note == "Masih mati."
    assert datetime.fromisoformat(reopened.data["follow_up_due_at"]) == complaint.follow_up_due_at
    # The agency hears of it, as with any reopening.
    assert Notification.objects.filter(dedupe_key__startswith=f"assigned:{reopened.pk}").exists()


def test_not_fixed_without_a_word_still_reopens_with_a_note_saying_so():
    complaint = resolved()
    complaint_fixed_answer(token=token_of(complaint), answer=NOT_FIXED)
    reopened = ComplaintEvent.objects.get(complaint=complaint, kind=EventKind.REOPENED)
    assert reopened.note == gettext("Not fixed (the reporter's answer to “is it fixed?”).")
    assert "beres" in reopened.note  # in Indonesian, the site's language


@pytest.mark.parametrize("first,second", [(FIXED, FIXED), (FIXED, NOT_FIXED), (NOT_FIXED, FIXED)])
def test_a_second_answer_changes_nothing(first, second):
    complaint = resolved()
    token = token_of(complaint)
    complaint_fixed_answer(token=token, answer=first, rating=4)
    complaint.refresh_from_db()
    before = (complaint.status, complaint.rating, complaint.follow_up_due_at)
    events = complaint.events.count()

    again = complaint_fixed_answer(token=token, answer=second, rating=1)
    assert again.state == FixedState.ANSWERED and not again.done
    assert again.answer == first
    complaint.refresh_from_db()
    assert (complaint.status, complaint.rating, complaint.follow_up_due_at) == before
    assert complaint.events.count() == events


def test_an_answer_after_the_complaint_moved_on_changes_nothing():
    complaint = resolved()
    token = token_of(complaint)
    # The reporter reopened it on the site; the agency resolved it again.
    complaint_transition(
        complaint=complaint, action=Action.REOPEN, role=Role.REPORTER, note="Belum."
    )
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim", username="perkim2"),
        note="Sekarang sudah.",
    )
    events = complaint.events.count()
    result = complaint_fixed_answer(token=token, answer=NOT_FIXED)
    assert result.state == FixedState.MOVED_ON and not result.done
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
    assert complaint.events.count() == events
    # The new resolution asks again, with its own link, which still counts.
    newest = Notification.objects.filter(dedupe_key__startswith="fixed-check:").latest("pk")
    assert complaint_fixed_answer(token=newest.secret, answer=FIXED, rating=3).done


def test_not_fixed_after_the_reply_window_is_refused_by_the_workflow():
    complaint = resolved()
    late = time_machine.travel(MONDAY + timedelta(days=12), tick=False)
    with late, pytest.raises(WorkflowError):
        complaint_fixed_answer(token=token_of(complaint), answer=NOT_FIXED)
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED


@pytest.mark.parametrize("answer", ["maybe", ""])
def test_a_forged_token_or_answer_changes_nothing(answer):
    complaint = resolved()
    resolution = complaint.events.get(kind=EventKind.RESOLVED)
    forged = fixed_check_token(tracking_code=complaint.tracking_code, resolved_event_id=0)[:-2]
    assert complaint_fixed_answer(token=forged, answer=FIXED, rating=5).state == "unknown"
    assert complaint_fixed_answer(token="", answer=FIXED, rating=5).state == "unknown"
    real = fixed_check_token(tracking_code=complaint.tracking_code, resolved_event_id=resolution.pk)
    assert complaint_fixed_answer(token=real, answer=answer, rating=5).state == "unknown"
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
    state = fixed_check_state(
        tracking_code=complaint.tracking_code, resolved_event_id=resolution.pk
    )
    assert state.state == FixedState.OPEN
