"""The adapters of proof of work: the staff form and the API refuse a resolution without the
required "after" photo (a field error); the complaint page shows before/after, never for a
rahasia complaint; the "is it fixed?" email's links (GET shows, POST acts, once)."""

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from complaints.attachments import clean_uploads
from complaints.models import Attachment, EventKind
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from notifications.models import Notification
from notifications.services import notifications_deliver
from tests.factories import category, complaint_submitted, officer

WITA = ZoneInfo("Asia/Makassar")
S = ComplaintStatus
MONDAY = datetime(2025, 7, 7, 9, 0, tzinfo=WITA)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings, media_root):
    settings.LAPOR_FOLLOW_UP_WORKING_DAYS = False
    settings.LAPOR_FIXED_CHECK_DAYS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tuesday():
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        yield


def photo(name="foto.png", colour="teal") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def requires_after_photo(code="pju"):
    marked = category(code)
    marked.requires_after_photo = True
    marked.save()


def resolved_with_photos(**kw):
    """A street-light complaint filed with a "before" photo, resolved with an "after" one."""
    complaint = complaint_submitted(
        now=MONDAY, files=clean_uploads([photo("sebelum.png", "black")]), **kw
    ).complaint
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim"),
        note="Lampu sudah menyala.",
        files=clean_uploads([photo("sesudah.png", "yellow")]),
        now=MONDAY + timedelta(hours=2),
    )
    complaint.refresh_from_db()
    return complaint


def after_photo(complaint) -> Attachment:
    return Attachment.objects.get(complaint=complaint, event__kind=EventKind.RESOLVED)


def before_photo(complaint) -> Attachment:
    return Attachment.objects.get(complaint=complaint, event__kind=EventKind.SUBMITTED)


# --- the staff form and the API ----------------------------------------------------------------


def test_the_staff_form_refuses_to_resolve_without_the_after_photo(client):
    requires_after_photo()
    complaint = complaint_submitted(now=MONDAY).complaint
    client.force_login(officer("63.72", "perkim"))
    url = f"/complaints/{complaint.tracking_code}/act/"
    refused = client.post(url, {"action": "resolve", "note": "Sudah diperbaiki."})
    assert refused.status_code == 400
    assert refused.context["staff_form"].errors["attachments"]
    assert "foto hasil" in refused.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == S.ASSIGNED

    done = client.post(url, {"action": "resolve", "note": "Sudah.", "attachments": [photo()]})
    assert done.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
    assert after_photo(complaint).uploaded_by_role == Role.AGENCY_OFFICER


def test_the_api_refuses_to_resolve_without_the_after_photo():
    requires_after_photo()
    complaint = complaint_submitted(now=MONDAY).complaint
    api = APIClient()
    api.force_authenticate(officer("63.72", "perkim"))
    url = f"/api/v1/complaints/{complaint.tracking_code}/resolve/"
    refused = api.post(url, {"note": "Sudah diperbaiki."}, format="multipart")
    assert refused.status_code == 400
    assert "attachments" in refused.json()["errors"]
    done = api.post(url, {"note": "Sudah.", "attachments": [photo()]}, format="multipart")
    assert done.status_code == 200, done.content
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED


def test_the_admin_marks_a_category_in_its_list(admin_client):
    page = admin_client.get("/admin/agencies/category/")
    assert 'name="form-0-requires_after_photo"' in page.content.decode()


# --- before and after on the complaint's page ---------------------------------------------------


def test_the_public_page_shows_before_and_after_side_by_side(client):
    complaint = resolved_with_photos()
    page = client.get(complaint.get_absolute_url())
    html = page.content.decode()
    section = html[html.index('id="before-after"') :]
    before, after = section.index('figure class="before"'), section.index('figure class="after"')
    assert before < after
    assert f"/attachments/{before_photo(complaint).pk}/" in section[before:after]
    assert f"/attachments/{after_photo(complaint).pk}/" in section[after:]
    assert client.get(f"/attachments/{after_photo(complaint).pk}/").status_code == 200


def test_no_before_after_without_an_after_photo_or_once_reopened(client):
    plain = complaint_submitted(now=MONDAY).complaint
    complaint_transition(
        complaint=plain,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim", username="perkim-a"),
        note="Beres.",
    )
    assert 'id="before-after"' not in client.get(plain.get_absolute_url()).content.decode()

    reopened = resolved_with_photos()
    complaint_transition(complaint=reopened, action=Action.REOPEN, role=Role.REPORTER, note="Mati.")
    assert 'id="before-after"' not in client.get(reopened.get_absolute_url()).content.decode()


def test_a_rahasia_complaint_never_shows_its_after_photo_publicly(client):
    result_complaint = resolved_with_photos(is_confidential=True)
    after = after_photo(result_complaint)
    assert client.get(result_complaint.get_absolute_url()).status_code == 404
    assert client.get(f"/attachments/{after.pk}/").status_code == 404
    for url in ("/complaints/", "/peta/", "/data/complaints.geojson", "/data/complaints.csv"):
        body = b"".join(client.get(url).streaming_content) if url.startswith("/data") else None
        body = body if body is not None else client.get(url).content
        assert result_complaint.tracking_code.encode() not in body
        assert f"/attachments/{after.pk}/".encode() not in body
    # Not side by side for the staff who handle it either: its page keeps them in the timeline.
    client.force_login(officer("63.72", "perkim", username="perkim-b"))
    staff_page = client.get(result_complaint.get_absolute_url()).content.decode()
    assert 'id="before-after"' not in staff_page
    assert f"/attachments/{after.pk}/" in staff_page


# --- "is it fixed?" ------------------------------------------------------------------------------


def links_in_the_email(complaint) -> dict[str, str]:
    """Send the outbox and read the two answers' links from the reporter's email."""
    mail.outbox.clear()
    notifications_deliver()
    (email,) = [m for m in mail.outbox if "apakah sudah beres" in m.subject]
    assert email.to == ["siti.aminah@example.id"]
    assert complaint.tracking_code in email.subject
    found = dict(
        re.findall(r"http://[^/\s]+(/complaints/is-it-fixed/([a-z-]+)/\?t=\S+)", email.body)
    )
    return {answer: path for path, answer in found.items()}


def test_the_fixed_link_shows_first_and_closes_on_post(client):
    complaint = resolved_with_photos()
    links = links_in_the_email(complaint)
    assert set(links) == {"fixed", "not-fixed"}
    assert not Notification.objects.filter(secret__gt="").exists()  # the token left the outbox

    shown = client.get(links["fixed"])  # what a mail scanner does: nothing changes
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    assert shown.context["form"]["rating"].value() == 5  # preselected, the reporter may change it
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED

    done = client.post(links["fixed"], {"rating": "5", "note": "Terima kasih."}, follow=True)
    assert "pengaduan ditutup" in done.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED
    assert complaint.rating == 5
    assert complaint.rating_comment == "Terima kasih."


def test_the_not_fixed_link_reopens_with_a_new_deadline_and_a_second_answer_changes_nothing(
    client,
):
    complaint = resolved_with_photos()
    links = links_in_the_email(complaint)
    client.get(links["not-fixed"])
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED

    answered = client.post(links["not-fixed"], {"note": "Lampu masih mati."}, follow=True)
    html = answered.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == S.ASSIGNED
    assert complaint.follow_up_due_at > MONDAY + timedelta(days=1)
    assert "dikembalikan ke perangkat daerah" in html
    assert 'id="fixed-state"' in html

    events = complaint.events.count()
    for path in links.values():  # both links, again: a clear answer, nothing changed
        again = client.post(path, {"rating": "1"})
        assert again.status_code == 200
        assert "tidak mengubah apa pun lagi" in again.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == S.ASSIGNED
    assert complaint.events.count() == events


def test_a_link_after_the_complaint_moved_on_says_so(client):
    complaint = resolved_with_photos()
    links = links_in_the_email(complaint)
    complaint_transition(complaint=complaint, action=Action.RATE, role=Role.REPORTER, rating=3)
    page = client.post(links["not-fixed"], {"note": "x"})
    assert page.status_code == 200
    assert 'id="fixed-state"' in page.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED and complaint.rating == 3


@pytest.mark.parametrize(
    "path", ["/complaints/is-it-fixed/fixed/?t=rusak", "/complaints/is-it-fixed/fixed/"]
)
def test_a_broken_link_is_a_clear_404(client, path):
    page = client.get(path)
    assert page.status_code == 404
    assert "Tautan ini tidak berfungsi" in page.content.decode()
    assert client.post(path, {"rating": "5"}).status_code == 404


def test_an_unknown_answer_is_404(client):
    complaint = resolved_with_photos()
    links = links_in_the_email(complaint)
    assert client.get(links["fixed"].replace("/fixed/", "/maybe/")).status_code == 404


def test_a_bad_rating_is_a_field_error(client):
    complaint = resolved_with_photos()
    links = links_in_the_email(complaint)
    page = client.post(links["fixed"], {"rating": "9"})
    assert page.status_code == 400
    assert page.context["form"].errors["rating"]
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
