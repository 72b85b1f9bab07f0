"""The citizen pages: form, success page, private link, detail, list, track, attachments."""

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from complaints.models import Attachment, Complaint, ComplaintEvent
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from notifications.models import Notification
from tests.factories import UserFactory, category, complaint_submitted, officer

pytestmark = pytest.mark.django_db

# A Wednesday in June, away from year ends and holidays: the home page's figures count this
# year's complaints, and "five days ago" is overdue, whatever day the suite runs.
PINNED = datetime(2025, 6, 18, 10, 0, tzinfo=ZoneInfo("Asia/Makassar"))


@pytest.fixture(autouse=True)
def _pinned_clock(time_machine):
    time_machine.move_to(PINNED)


SPEC_FIELDS = [
    "classification",
    "title",
    "description",
    "category",
    "region",
    "district",
    "address",
    "latitude",
    "longitude",
    "incident_date",
    "attachments",
    "is_anonymous",
    "is_confidential",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
]


@pytest.fixture
def en_client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def form_data(**overrides):
    data = {
        "classification": "pengaduan",
        "title": "Lampu jalan mati di Jl. Panglima Batur",
        "description": "Sudah dua minggu lampu PJU mati, jalan gelap di malam hari.",
        "category": str(category("pju").pk),
        "region": "63.72",
        "district": "Banjarbaru Utara",
        "address": "Jl. Panglima Batur dekat masjid",
        "incident_date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "reporter_name": "Siti Aminah",
        "reporter_email": "siti@example.id",
        "reporter_phone": "",
        "submission_token": "0b5a8f38-4a0e-4a57-9a77-54f1c4d8a2a1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def jpeg_with_gps(name="foto.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), "orange")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "S", 2: (3.0, 26.0, 40.0), 3: "E", 4: (114.0, 50.0, 20.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def test_the_form_has_the_spec_field_names_and_explains_privacy(client):
    response = client.get("/complaints/new/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in SPEC_FIELDS:
        assert f'name="{name}"' in html, name
    assert 'lang="id"' in html
    # anonim, in Indonesian
    assert "nama Anda disembunyikan dari perangkat daerah dan publik" in html
    assert "hanya Anda dan petugas" in html  # rahasia


def test_a_guest_files_a_complaint_and_gets_a_code_and_private_link(client):
    response = client.post("/complaints/new/", form_data())
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert response["Location"] == f"/complaints/{complaint.tracking_code}/created/"
    assert complaint.status == ComplaintStatus.ASSIGNED
    assert complaint.assigned_agency.code == "perkim"

    page = client.get(response["Location"]).content.decode()
    assert complaint.tracking_code in page
    link = re.search(r'value="(http://testserver/complaints/[^"]+\?key=[^"]+)"', page).group(1)
    assert "Dinas Perumahan dan Kawasan Permukiman Kota Banjarbaru" in page

    # The private link works in another browser, and the key leaves the URL at once.
    other = Client()
    opened = other.get(link.removeprefix("http://testserver"))
    assert opened.status_code == 302
    assert opened["Location"] == f"/complaints/{complaint.tracking_code}/"
    detail = other.get(opened["Location"]).content.decode()
    assert "Siti Aminah" in detail
    assert 'action="/complaints/' in detail  # the reporter may reply

    # The email to the reporter will carry the same private link.
    mail = Notification.objects.get(recipient="siti@example.id")
    assert mail.secret == link.split("?key=")[1]


def test_a_double_submit_creates_one_complaint(client):
    first = client.post("/complaints/new/", form_data())
    second = client.post("/complaints/new/", form_data())
    assert Complaint.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 100_000}, "title"),
        ({"description": ""}, "description"),
        ({"latitude": "200", "longitude": "115"}, "latitude"),
        ({"latitude": "-3.44"}, "latitude"),
        ({"latitude": "1.5", "longitude": "110.1"}, "latitude"),
        (
            {"incident_date": (timezone.localdate() + timedelta(days=3)).isoformat()},
            "incident_date",
        ),
        ({"incident_date": "kemarin"}, "incident_date"),
        ({"region": "99.99"}, "region"),
        ({"category": "999999"}, "category"),
        ({"classification": "gossip"}, "classification"),
        ({"reporter_name": ""}, "reporter_name"),
        ({"reporter_email": "", "reporter_phone": ""}, "reporter_email"),
        ({"reporter_email": "not-an-email"}, "reporter_email"),
        ({"reporter_phone": "call me"}, "reporter_phone"),
        ({"address": ""}, "address"),
    ],
)
def test_bad_input_gives_the_form_back_with_the_field_error(en_client, overrides, field):
    response = en_client.post("/complaints/new/", form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert f'href="#field-{field}"' in html
    assert Complaint.objects.count() == 0


def test_missing_everything_lists_every_required_field(en_client):
    response = en_client.post("/complaints/new/", {})
    assert response.status_code == 200
    errors = response.context["form"].errors
    for field in ["title", "description", "category", "region", "address", "incident_date"]:
        assert field in errors
    assert Complaint.objects.count() == 0


def test_a_photo_is_stored_without_exif_and_served_through_an_access_check(client):
    upload = jpeg_with_gps("rumah-pak-rt.jpg")
    response = client.post("/complaints/new/", {**form_data(), "attachments": [upload]})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert "rumah" not in attachment.file.name  # stored under a random name, original not kept
    served = client.get(f"/attachments/{attachment.pk}/")
    assert served.status_code == 200
    assert f'filename="lampiran-{attachment.pk}.jpg"' in served["Content-Disposition"]
    page = client.get(attachment.complaint.get_absolute_url()).content.decode()
    assert "rumah-pak-rt" not in page
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert len(image.getexif()) == 0
    assert "exif" not in image.info


def test_bad_uploads_are_refused_by_name_and_nothing_is_stored(en_client):
    files = [
        SimpleUploadedFile("surat.jpg", b"just some text, not a picture", "image/jpeg"),
        SimpleUploadedFile(
            "gambar.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        ),
    ]
    response = en_client.post("/complaints/new/", {**form_data(), "attachments": files})
    assert response.status_code == 200
    html = response.content.decode()
    assert "surat.jpg" in html and "gambar.svg" in html
    assert Complaint.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_a_sixth_file_is_refused(en_client):
    files = [jpeg_with_gps(f"foto{i}.jpg") for i in range(6)]
    response = en_client.post("/complaints/new/", {**form_data(), "attachments": files})
    assert response.status_code == 200
    assert "foto5.jpg" in response.content.decode()
    assert Complaint.objects.count() == 0


def test_the_honeypot_refuses_bots(client):
    response = client.post("/complaints/new/", form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert Complaint.objects.count() == 0


def test_too_many_submissions_from_one_address_get_a_wait_page(client, settings):
    settings.LAPOR_SUBMIT_RATE = "2/h"
    for n in range(2):
        client.post("/complaints/new/", form_data(submission_token=f"{n}" * 8))
    response = client.post("/complaints/new/", form_data(submission_token=None))
    assert response.status_code == 429
    assert "menit" in response.content.decode()  # "try again in N minutes", in Indonesian
    assert Complaint.objects.count() == 2


def test_an_anonymous_reporter_is_hidden_from_the_public_and_the_agency(client):
    result = complaint_submitted(is_anonymous=True, reporter_name="Rahasia Sekali")
    complaint = result.complaint
    public = client.get(complaint.get_absolute_url())
    assert public.status_code == 200
    assert "Rahasia Sekali" not in public.content.decode()
    assert "siti.aminah@example.id" not in public.content.decode()

    agency_officer = officer("63.72", "perkim")
    client.force_login(agency_officer)
    staff_view = client.get(complaint.get_absolute_url()).content.decode()
    assert "Rahasia Sekali" not in staff_view
    assert "081234567890" not in staff_view

    reporter = Client()
    reporter.get(f"{complaint.get_absolute_url()}?key={result.access_key}")
    assert "Rahasia Sekali" in reporter.get(complaint.get_absolute_url()).content.decode()


def test_a_confidential_complaint_is_404_for_others_and_never_listed(client):
    result = complaint_submitted(is_confidential=True, title="Pungutan liar di kantor kelurahan")
    complaint = result.complaint
    attachment_owner = Client()
    attachment_owner.get(f"{complaint.get_absolute_url()}?key={result.access_key}")

    assert client.get(complaint.get_absolute_url()).status_code == 404
    assert client.get(f"{complaint.get_absolute_url()}?key=wrong").status_code == 404
    assert client.get(f"/track/?code={complaint.tracking_code}").status_code == 404
    for page in ["/", "/complaints/", "/complaints/?q=Pungutan"]:
        assert "Pungutan liar" not in client.get(page).content.decode()
    # The reporter and the agency that handles it do see it.
    assert attachment_owner.get(complaint.get_absolute_url()).status_code == 200
    handler = Client()
    handler.force_login(officer("63.72", "perkim"))
    assert handler.get(complaint.get_absolute_url()).status_code == 200
    stranger = Client()
    stranger.force_login(officer("63.71", "uptd-pju"))
    assert stranger.get(complaint.get_absolute_url()).status_code == 404


def test_attachments_of_a_confidential_complaint_are_served_only_to_who_may_see_it(client):
    response = client.post(
        "/complaints/new/", {**form_data(is_confidential="on"), "attachments": [jpeg_with_gps()]}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 200  # the reporter
    assert Client().get(f"/attachments/{attachment.pk}/").status_code == 404
    detail = client.get(attachment.complaint.get_absolute_url()).content.decode()
    assert f"/attachments/{attachment.pk}/" in detail
    assert attachment.file.url not in detail


def test_public_list_shows_routed_public_complaints_only_and_filters(client):
    public = complaint_submitted(title="Jalan berlubang besar", category_code="jalan").complaint
    complaint_submitted(title="Lampu padam rahasia", is_confidential=True)
    archived = complaint_submitted(title="Iklan pinjaman online").complaint
    coordinator_user = UserFactory()
    from agencies.models import StaffRole
    from agencies.services import staff_membership_grant
    from tests.factories import region

    staff_membership_grant(
        user=coordinator_user, role=StaffRole.REGION_COORDINATOR, region=region("63.72")
    )
    complaint_transition(
        complaint=archived,
        action=Action.ARCHIVE,
        role=Role.REGION_COORDINATOR,
        actor=coordinator_user,
        reason="spam",
    )
    in_banjarmasin = complaint_submitted(
        title="Parkir liar di pasar", region_code="63.71", category_code="parkir"
    ).complaint

    html = client.get("/complaints/").content.decode()
    assert "Jalan berlubang besar" in html
    assert "Parkir liar di pasar" in html
    assert "rahasia" not in html
    assert "Iklan pinjaman online" not in html

    by_region = client.get("/complaints/?region=63.71").content.decode()
    assert "Parkir liar di pasar" in by_region and "Jalan berlubang" not in by_region
    by_category = client.get("/complaints/?category=jalan").content.decode()
    assert "Jalan berlubang besar" in by_category and "Parkir liar" not in by_category
    searched = client.get("/complaints/?q=berlubang").content.decode()
    assert public.tracking_code not in "" and "Jalan berlubang besar" in searched
    assert "Parkir liar" not in searched
    by_status = client.get("/complaints/?status=assigned").content.decode()
    assert "Parkir liar di pasar" in by_status
    assert in_banjarmasin.get_absolute_url() in by_status
    # A bad filter value is a form error, never a 500.
    assert client.get("/complaints/?region=nowhere&status=bogus&page=abc").status_code == 200


def test_home_shows_live_figures_and_latest_public_complaints(client):
    complaint_submitted(title="Drainase tersumbat lumpur", category_code="drainase")
    complaint_submitted(title="Laporan rahasia sekali", is_confidential=True)
    response = client.get("/")
    html = response.content.decode()
    assert response.context["figures"]["received"] == 1
    assert "Drainase tersumbat lumpur" in html
    assert "Laporan rahasia sekali" not in html


def test_overdue_figure_is_right_before_any_sweep(client):
    now = timezone.now()
    complaint_submitted(now=now - timedelta(days=5))
    complaint_submitted(now=now - timedelta(hours=2))
    assert client.get("/").context["figures"]["overdue"] == 1


def test_track_finds_a_code_however_it_is_typed(client):
    complaint = complaint_submitted().complaint
    code = complaint.tracking_code
    typed = code.lower().replace("-", " ")
    response = client.get("/track/", {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == complaint.get_absolute_url()
    missing = client.get("/track/", {"code": "LPR-2222-2222"})
    assert missing.status_code == 404
    assert "LPR-2222-2222" in missing.content.decode()


def test_unknown_complaint_is_a_404(client):
    assert client.get("/complaints/LPR-ZZZZ-ZZZZ/").status_code == 404


def reporter_client(result) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.get(f"{result.complaint.get_absolute_url()}?key={result.access_key}")
    return browser


def test_the_reporter_replies_rates_and_the_complaint_closes(client):
    result = complaint_submitted()
    complaint = result.complaint
    agency_officer = officer("63.72", "perkim")
    complaint_transition(
        complaint=complaint,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=agency_officer,
        note="Tim kami cek ke lokasi besok.",
    )
    browser = reporter_client(result)
    url = complaint.get_absolute_url()
    reply = browser.post(f"{url}reply/", {"note": "Terima kasih, lampunya di tiang nomor 12."})
    assert reply.status_code == 302
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="reply").exists()

    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=agency_officer,
        note="Lampu sudah diganti.",
    )
    page = browser.get(url).content.decode()
    assert "Lampu sudah diganti." in page
    assert f"{url}rate/" in page and f"{url}reopen/" in page

    bad = browser.post(f"{url}rate/", {"rating": "9"})
    assert bad.status_code == 400
    rated = browser.post(f"{url}rate/", {"rating": "4", "note": "Cepat ditangani"})
    assert rated.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.rating) == (ComplaintStatus.CLOSED, 4)


def _reply_section(response) -> str:
    page = response.content.decode()
    start = page.index('id="reply-title"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_reply_form_says_before_sending_that_the_reply_will_be_public(anonymous):
    result = complaint_submitted(is_anonymous=anonymous)
    section = _reply_section(reporter_client(result).get(result.complaint.get_absolute_url()))
    assert "Your reply and its attachments will be public:" in section
    assert "on this complaint's timeline" in section
    assert ("Your name is not shown with it." in section) is anonymous
    assert section.index("will be public") < section.index('type="submit"')
    # And in Indonesian, the portal's first language.
    browser = Client(HTTP_ACCEPT_LANGUAGE="id")
    browser.get(f"{result.complaint.get_absolute_url()}?key={result.access_key}")
    section = _reply_section(browser.get(result.complaint.get_absolute_url()))
    assert "Balasan dan lampiran Anda akan terbuka untuk umum:" in section


def test_the_reply_form_of_a_confidential_complaint_says_it_stays_private():
    result = complaint_submitted(is_confidential=True)
    section = _reply_section(reporter_client(result).get(result.complaint.get_absolute_url()))
    assert "never by the public" in section
    assert "will be public" not in section


def test_the_reporter_reopens_within_ten_days_and_not_after(client):
    result = complaint_submitted()
    complaint = result.complaint
    agency_officer = officer("63.72", "perkim")
    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=agency_officer,
        note="Sudah diperbaiki.",
    )
    browser = reporter_client(result)
    url = complaint.get_absolute_url()
    assert browser.post(f"{url}reopen/", {"note": ""}).status_code == 400
    response = browser.post(f"{url}reopen/", {"note": "Masih mati sampai sekarang."})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ASSIGNED
    assert complaint.follow_up_due_at > timezone.now()

    complaint_transition(
        complaint=complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=agency_officer,
        note="Sudah diganti lagi.",
        now=timezone.now() - timedelta(days=11),
    )
    late = browser.post(f"{url}reopen/", {"note": "Masih mati."})
    assert late.status_code == 400
    assert "ten days" in late.content.decode()


def test_a_visitor_without_the_link_cannot_act_as_reporter(client):
    complaint = complaint_submitted().complaint
    url = complaint.get_absolute_url()
    assert client.post(f"{url}reply/", {"note": "Saya pelapornya"}).status_code == 404
    assert client.post(f"{url}rate/", {"rating": "1"}).status_code == 404


def test_a_signed_in_citizen_reports_without_giving_contact_details(client):
    user = UserFactory(username="rina", first_name="Rina", email="rina@example.id")
    client.force_login(user)
    response = client.post("/complaints/new/", form_data(reporter_name="", reporter_email=""))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.reporter == user
    assert complaint.title in client.get("/accounts/complaints/").content.decode()


def test_an_overdue_complaint_says_so_on_its_page_and_in_the_list(client):
    late = complaint_submitted(now=timezone.now() - timedelta(days=4), title="Lampu mati lama")
    page = client.get(late.complaint.get_absolute_url()).content.decode()
    assert "terlambat" in page
    listing = client.get("/complaints/").content.decode()
    assert 'class="badge overdue"' in listing
    fresh = complaint_submitted(title="Lampu mati baru").complaint
    assert "terlambat" not in client.get(fresh.get_absolute_url()).content.decode()


def test_the_admin_hides_an_anonymous_reporter_even_from_administrators(client):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("admin", "admin@example.id", "x")
    client.force_login(admin_user)
    complaint = complaint_submitted(is_anonymous=True, reporter_name="Nama Tersembunyi").complaint
    page = client.get(f"/admin/complaints/complaint/{complaint.pk}/change/")
    assert page.status_code == 200
    assert "Nama Tersembunyi" not in page.content.decode()


def test_a_form_sent_without_its_csrf_token_gets_a_plain_answer():
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/complaints/new/", form_data())
    assert response.status_code == 403
    assert "Silakan kirim formulir lagi" in response.content.decode()
    assert Complaint.objects.count() == 0


def test_the_timeline_names_statuses_in_words(client):
    complaint = complaint_submitted().complaint
    complaint_transition(
        complaint=complaint,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim"),
        note="Tim kami ke lokasi.",
    )
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "Di perangkat daerah → Sedang ditindaklanjuti" in page
    assert ">in_progress<" not in page and "in_progress →" not in page
