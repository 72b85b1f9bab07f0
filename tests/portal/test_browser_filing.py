"""Feedback while filing, in a real Chromium: a large photo is previewed and made smaller in the
browser, the button is disabled and a progress bar shows while the form is sent, and over the
rate limit the form comes back with what was typed and when it can be sent."""

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from complaints.models import Attachment, Complaint
from tests.lapor.helpers import SCREENSHOTS
from tests.lapor.test_browser_csp import TILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def big_photo(tmp_path):
    """A 4000 × 3000 phone photo of several megabytes (noise does not compress)."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (4000, 3000), rng.randbytes(4000 * 3000 * 3))
    path = tmp_path / "IMG_20250310_091500.jpg"
    image.save(path, "JPEG", quality=92)
    assert path.stat().st_size > 5 * 1024 * 1024
    return path


def fill(page, title="Lampu jalan mati di Jl. Trikora"):
    page.get_by_label("Kategori").select_option(label="Penerangan jalan umum")
    page.get_by_label("Judul").fill(title)
    page.get_by_label("Apa yang terjadi?").fill("Sudah seminggu lampu PJU mati, jalan gelap.")
    page.get_by_label("Kapan terjadinya?").fill(
        (timezone.localdate() - timedelta(days=1)).isoformat()
    )
    page.get_by_label("Kabupaten/kota").select_option(label="Kota Banjarbaru")
    page.get_by_label("Lokasi", exact=True).fill("Jl. Trikora depan kantor lurah")
    page.get_by_label("Nama Anda").fill("Rahmat Hidayat")
    page.get_by_role("textbox", name="Email").fill("rahmat@example.id")


@pytest.fixture
def form_page(live_server, page):
    page.context.route(
        "https://tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=TILE),
    )
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/complaints/new/")
    yield page
    assert [e for e in errors if "status of 429" not in e] == []


def test_a_large_photo_is_previewed_made_smaller_and_sent_with_progress(
    form_page, big_photo, media_root
):
    page = form_page
    fill(page)
    page.get_by_label("Foto atau dokumen").set_input_files(str(big_photo))
    preview = page.locator("#photo-previews li")
    preview.wait_for()
    assert preview.locator("img").get_attribute("src").startswith("data:image/jpeg")
    caption = preview.inner_text()
    assert re.search(r"IMG_20250310_091500\.jpg: diperkecil untuk dikirim, \d+,\d MB → ", caption)
    size = page.evaluate("document.querySelector('input[name=attachments]').files[0].size")
    assert size < big_photo.stat().st_size

    # Hold the upload to look at the page while it is on its way.
    held = []
    page.route("**/complaints/new/", lambda route: held.append(route))
    button = page.get_by_role("button", name="Kirim pengaduan")
    button.click()
    page.wait_for_function("() => document.querySelector('#send-status').hidden === false")
    sending = page.locator("#complaint-form button[type=submit]")
    assert sending.is_disabled() and sending.inner_text() == "Mengirim…"
    assert page.locator("#send-status progress").is_visible()
    assert page.get_by_role("status").filter(has_text="Mengirim").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "filing_sending_390.png", full_page=True)
    while not held:  # the request reaches the route while Playwright waits
        page.wait_for_timeout(50)
    held[0].continue_()

    page.locator("#tracking-code").wait_for()
    stored = Image.open(Attachment.objects.get().file.path)
    assert max(stored.size) == 2048 and stored.size == (2048, 1536)
    assert Complaint.objects.get().title == "Lampu jalan mati di Jl. Trikora"


def test_over_the_limit_the_form_comes_back_filled_in(form_page, settings):
    settings.LAPOR_SUBMIT_CONTACT_RATE = "1/h"
    page = form_page
    fill(page)
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.locator("#tracking-code").wait_for()

    page.goto(page.url.split("/complaints/")[0] + "/complaints/new/")
    fill(page, title="Jembatan kayu patah")
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.get_by_role("heading", name="Mohon tunggu sebentar sebelum mengirim").wait_for()
    assert re.search(r"mengirim pengaduan ini \d+ menit lagi", page.content())
    assert page.get_by_label("Judul").input_value() == "Jembatan kayu patah"
    assert page.get_by_role("textbox", name="Email").input_value() == "rahmat@example.id"
    assert page.get_by_role("button", name="Kirim pengaduan").is_enabled()
    assert Complaint.objects.count() == 1
    page.screenshot(path=SCREENSHOTS / "filing_rate_limited_390.png", full_page=True)
