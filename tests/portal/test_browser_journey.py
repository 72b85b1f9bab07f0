"""A citizen's journey in a real Chromium: file as a guest with a photo, follow, stay private."""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from complaints.models import Attachment, Complaint
from tests.factories import complaint_submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "lampu.jpg"
    exif = Image.Exif()
    exif[0x8825] = {1: "S", 2: (3.0, 26.0, 40.0), 3: "E", 4: (114.0, 50.0, 20.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "navy").save(buffer, "JPEG", exif=exif)
    path.write_bytes(buffer.getvalue())
    return path


def test_a_guest_files_with_a_photo_and_follows_the_complaint(
    live_server, browser, page, photo, media_root
):
    page.goto(live_server.url + "/complaints/new/")
    page.get_by_label("Pengaduan").check()
    page.get_by_label("Kategori").select_option(label="Penerangan jalan umum")
    page.get_by_label("Judul").fill("Lampu jalan mati di Jl. Trikora")
    page.get_by_label("Apa yang terjadi?").fill("Sudah seminggu lampu PJU mati, jalan gelap.")
    page.get_by_label("Kapan terjadinya?").fill(
        (timezone.localdate() - timedelta(days=1)).isoformat()
    )
    page.get_by_label("Kabupaten/kota").select_option(label="Kota Banjarbaru")
    page.get_by_label("Lokasi", exact=True).fill("Jl. Trikora depan kantor lurah")
    page.get_by_label("Foto atau dokumen").set_input_files(str(photo))
    page.get_by_label("Anonim").check()
    page.get_by_label("Nama Anda").fill("Rahmat Hidayat")
    page.get_by_role("textbox", name="Email").fill("rahmat@example.id")
    page.get_by_role("button", name="Kirim pengaduan").click()

    code = page.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"LPR-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
    assert page.get_by_text("Dinas Perumahan dan Kawasan Permukiman Kota Banjarbaru").count()
    private_link = page.locator("#private-link-input").input_value()
    assert "?key=" in private_link

    complaint = Complaint.objects.get(tracking_code=code)
    assert complaint.is_anonymous and complaint.attachments.count() == 1
    stored = Image.open(Attachment.objects.get().file.path)
    assert len(stored.getexif()) == 0

    # The private link, in a fresh browser: the reporter's own view with the timeline.
    reporter = browser.new_context(locale="id-ID")
    reporter_page = reporter.new_page()
    reporter_page.goto(private_link)
    assert "key=" not in reporter_page.url
    assert reporter_page.get_by_role("heading", name="Lampu jalan mati di Jl. Trikora").is_visible()
    timeline = reporter_page.locator("ol.timeline")
    assert "Diajukan" in timeline.inner_text()
    assert "Dinas Perumahan dan Kawasan Permukiman Kota Banjarbaru" in timeline.inner_text()
    assert reporter_page.get_by_text("Rahmat Hidayat").count() == 1
    assert reporter_page.get_by_role("button", name="Kirim balasan").is_visible()
    reporter.close()

    # Another visitor sees the public complaint, never the anonymous reporter's name.
    visitor = browser.new_context(locale="id-ID")
    visitor_page = visitor.new_page()
    visitor_page.goto(live_server.url + f"/complaints/{code}/")
    assert visitor_page.get_by_role("heading", name="Lampu jalan mati di Jl. Trikora").is_visible()
    assert "Rahmat Hidayat" not in visitor_page.content()
    assert "rahmat@example.id" not in visitor_page.content()
    assert visitor_page.get_by_role("button", name="Kirim balasan").count() == 0
    visitor.close()


def test_a_second_visitor_cannot_open_a_confidential_complaint(live_server, page):
    secret = complaint_submitted(is_confidential=True, title="Pungli di kantor desa").complaint
    response = page.goto(live_server.url + secret.get_absolute_url())
    assert response.status == 404
    assert "Pungli di kantor desa" not in page.content()
    page.goto(live_server.url + "/track/")
    page.get_by_label("Kode pelacakan").fill(secret.tracking_code)
    page.get_by_role("button", name="Cari").click()
    assert "Pungli di kantor desa" not in page.content()
    page.goto(live_server.url + "/complaints/")
    assert "Pungli di kantor desa" not in page.content()
