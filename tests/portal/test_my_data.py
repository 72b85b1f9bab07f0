"""The reporter's rights: download everything held about them (and nothing of other people),
correct their contact, erase it (with a confirmation email); the privacy page and its links."""

import json

import pytest
from django.contrib.auth import get_user_model

from complaints.models import Complaint, ComplaintEvent, EventKind
from complaints.services import complaint_note_internal, complaint_transition
from complaints.workflow import Action, Role
from notifications.models import Notification
from tests.factories import UserFactory, complaint_submitted, officer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    citizen = UserFactory(username="warga", email="warga@example.id", first_name="Warga")
    mine = complaint_submitted(
        reporter=citizen, reporter_name="Warga Satu", reporter_email="warga@example.id"
    ).complaint
    staff = officer("63.72", "perkim", username="petugas")
    complaint_transition(
        complaint=mine,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=staff,
        note="Tim dijadwalkan",
    )
    complaint_note_internal(
        complaint=mine, actor=staff, role=Role.AGENCY_OFFICER, note="Catatan internal staf"
    )
    other = complaint_submitted(
        reporter_name="Orang Lain", reporter_email="lain@example.id", reporter_phone="0899999999"
    )
    return {"citizen": citizen, "mine": mine, "other": other}


def test_the_export_holds_everything_of_mine_and_nothing_of_others(client, world):
    client.force_login(world["citizen"])
    response = client.get("/data-saya/unduh.json")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "warga@example.id"
    [complaint] = data["complaints"]
    assert complaint["tracking_code"] == world["mine"].tracking_code
    assert complaint["contact"]["email"] == "warga@example.id"
    assert [e["kind"] for e in complaint["events"]][:1] == ["submitted"]
    assert "Tim dijadwalkan" in str(complaint["events"])
    assert data["emails_sent_to_you"]
    assert all(m["to"] == "warga@example.id" for m in data["emails_sent_to_you"])
    text = response.content.decode()
    for foreign in ("Orang Lain", "lain@example.id", "0899999999", "Catatan internal", "petugas"):
        assert foreign not in text, foreign
    assert world["other"].complaint.tracking_code not in text
    page = client.get("/data-saya/").content.decode()
    assert world["mine"].tracking_code in page and "Tim dijadwalkan" in page
    assert "Orang Lain" not in page and "Catatan internal" not in page


def test_a_guest_with_the_private_link_gets_their_complaint_only(client, world):
    result = world["other"]
    client.get(f"{result.complaint.get_absolute_url()}?key={result.access_key}")
    data = json.loads(client.get("/data-saya/unduh.json").content)
    assert data["account"] is None
    assert [c["tracking_code"] for c in data["complaints"]] == [result.complaint.tracking_code]
    assert "warga@example.id" not in json.dumps(data)


def test_without_account_or_link_there_is_nothing_to_show(client, world):
    page = client.get("/data-saya/").content.decode()
    assert "warga@example.id" not in page and "lain@example.id" not in page
    assert client.get("/data-saya/unduh.json").status_code == 302


def test_correcting_the_contact(client, world):
    client.force_login(world["citizen"])
    bad = client.post("/data-saya/koreksi/", {"name": "W", "email": "bukan-email", "phone": ""})
    assert bad.status_code == 400
    response = client.post(
        "/data-saya/koreksi/", {"name": "Warga Baru", "email": "baru@example.id", "phone": ""}
    )
    assert response.status_code == 302
    mine = Complaint.objects.get(pk=world["mine"].pk)
    assert (mine.reporter_name, mine.reporter_email) == ("Warga Baru", "baru@example.id")
    assert Complaint.objects.get(pk=world["other"].complaint.pk).reporter_name == "Orang Lain"


def test_the_correction_service_refuses_what_the_form_refuses(world):
    # The phone rule is the service's (complaints.contact): a caller without the form, e.g. the
    # shell, gets the same field error, and nothing changes.
    from django.core.exceptions import ValidationError

    from complaints.services import complaints_contact_correct

    mine = Complaint.objects.filter(pk=world["mine"].pk)
    before = mine.values("reporter_name", "reporter_email", "reporter_phone").get()
    with pytest.raises(ValidationError) as caught:
        complaints_contact_correct(complaints=mine, name="W", email="", phone="hubungi saya")
    assert set(caught.value.message_dict) == {"reporter_phone"}
    assert mine.values("reporter_name", "reporter_email", "reporter_phone").get() == before
    assert complaints_contact_correct(complaints=mine, name="W", email="", phone="0812 3456 7890")


def test_erasure_anonymises_at_once_deletes_the_account_and_confirms_by_email(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world["citizen"])
    assert client.post("/data-saya/hapus/", {}).status_code == 400  # not confirmed
    response = client.post("/data-saya/hapus/", {"confirm": "on"})
    assert response.status_code == 200
    assert "text of the complaints stays" in response.content.decode() or "tetap" in (
        response.content.decode()
    )
    mine = Complaint.objects.get(pk=world["mine"].pk)
    assert (mine.reporter_id, mine.reporter_name, mine.reporter_email) == (None, "", "")
    assert mine.title == world["mine"].title  # the text stays
    event = ComplaintEvent.objects.get(complaint=mine, kind=EventKind.ANONYMISED)
    assert event.data == {"reason": "erasure"}
    assert not get_user_model().objects.filter(username="warga").exists()
    confirm = Notification.objects.get(dedupe_key__startswith="erased:")
    assert confirm.recipient == "warga@example.id" and "/privasi/" in confirm.body
    # The others' data is untouched; signed out.
    assert Complaint.objects.get(pk=world["other"].complaint.pk).reporter_email == "lain@example.id"
    assert "_auth_user_id" not in client.session


def test_an_account_without_complaints_is_deleted_outright(client, db):
    user = UserFactory(username="kosong", email="kosong@example.id")
    client.force_login(user)
    assert client.post("/data-saya/hapus/", {"confirm": "on"}).status_code == 200
    assert not get_user_model().objects.filter(username="kosong").exists()


def test_the_privacy_page_states_the_settings_and_is_linked(client, settings, db):
    settings.LAPOR_RETENTION_REPORTER_DAYS = 400
    page = client.get("/privasi/").content.decode()
    assert "400" in page and "27" in page
    assert 'id="photo-redaction"' in page and "pelat kendaraan" in page
    assert 'href="/privasi/"' in client.get("/").content.decode()  # the footer
    form = client.get("/complaints/new/").content.decode()
    assert 'href="/privasi/"' in form
    assert 'id="anonymous-photo-warning"' in form


def test_every_email_links_the_privacy_page(world):
    for mail in Notification.objects.all():
        assert "/privasi/" in mail.body, mail.subject


def test_erasure_takes_the_supporters_name_off_their_supports_and_keeps_the_count(client, world):
    from complaints.codes import supporter_email_hash
    from complaints.models import Support
    from complaints.services import complaint_support

    other = world["other"].complaint
    third = complaint_submitted(reporter_email="ketiga@example.id").complaint
    assert complaint_support(complaint=other, user=world["citizen"])
    assert complaint_support(complaint=third, email="Warga@example.id")  # the account's address
    assert complaint_support(complaint=third, email="orang.lain@example.id")
    client.force_login(world["citizen"])
    data = json.loads(client.get("/data-saya/unduh.json").content)
    assert sorted(s["complaint"] for s in data["supported"]) == sorted(
        [other.tracking_code, third.tracking_code]
    )

    assert client.post("/data-saya/hapus/", {"confirm": "on"}).status_code == 200

    assert Support.objects.filter(user__isnull=False).count() == 0
    assert not Support.objects.filter(email_hash=supporter_email_hash("warga@example.id")).exists()
    assert Support.objects.filter(email_hash=supporter_email_hash("orang.lain@example.id")).exists()
    assert Support.objects.count() == 3
    assert Complaint.objects.get(pk=other.pk).supporter_count == 1
    assert Complaint.objects.get(pk=third.pk).supporter_count == 2


def test_the_forms_warn_that_photos_may_identify_the_reporter(client, world):
    form = client.get("/complaints/new/").content.decode()
    assert 'id="photo-identify-warning"' in form and 'id="anonymous-photo-warning"' in form
    assert "nomor rumah" in form  # in Indonesian, the language users see first
    client.force_login(world["citizen"])
    page = client.get(world["mine"].get_absolute_url()).content.decode()
    assert 'id="reply-photo-warning"' in page


def test_the_export_lists_my_attachments_but_not_the_staffs_internal_ones(client, world):
    from django.core.files.base import ContentFile

    from complaints.models import Attachment

    mine = world["mine"]
    note = ComplaintEvent.objects.get(complaint=mine, kind=EventKind.NOTE)
    sent = Attachment.objects.create(
        complaint=mine,
        event=ComplaintEvent.objects.get(complaint=mine, kind=EventKind.SUBMITTED),
        file=ContentFile(b"%PDF-1.4 a", name="a.pdf"),
        content_type="application/pdf",
        size=10,
        uploaded_by_role=Role.REPORTER,
    )
    internal = Attachment.objects.create(
        complaint=mine,
        event=note,
        file=ContentFile(b"%PDF-1.4 b", name="b.pdf"),
        content_type="application/pdf",
        size=10,
        uploaded_by_role=Role.AGENCY_OFFICER,
    )
    client.force_login(world["citizen"])
    [complaint] = json.loads(client.get("/data-saya/unduh.json").content)["complaints"]
    urls = [a["url"] for a in complaint["attachments"]]
    assert urls == [f"http://testserver/attachments/{sent.pk}/"]
    page = client.get("/data-saya/").content.decode()
    assert f"/attachments/{sent.pk}/" in page and f"/attachments/{internal.pk}/" not in page
