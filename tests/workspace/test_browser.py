"""The staff workspace in a real Chromium: a coordinator enters a complaint seen on Facebook,
the agency works it from its queue, and the citizen's public page tells the story."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from PIL import Image

from complaints.models import Attachment, Complaint
from tests.factories import coordinator, officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def image(tmp_path, name: str, colour: str):
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), colour).save(buffer, "PNG" if name.endswith(".png") else "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def signed_in(browser, live_server, user):
    """A browser context with ``user``'s session (sign-in itself is another page's test)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="id-ID", viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def test_a_facebook_post_is_entered_worked_and_shown_to_the_public(
    live_server, browser, tmp_path, media_root
):
    screenshot = image(tmp_path, "postingan-fb.png", "white")
    photo = image(tmp_path, "lampu-menyala.jpg", "yellow")
    kominfo = coordinator("63.72", username="kominfo-bjb", first_name="Rina")
    perkim = officer("63.72", "perkim", username="perkim-bjb", first_name="Joko")

    # The coordinator enters the post, with its screenshot.
    context, page = signed_in(browser, live_server, kominfo)
    page.goto(live_server.url + "/dashboard/")
    page.get_by_role("link", name="Masukkan pengaduan").first.click()
    page.get_by_label("Media sosial").check()
    page.get_by_label("Tautan unggahan atau berita").fill(
        "https://www.facebook.com/groups/wargabanjarbaru/posts/555123"
    )
    page.get_by_label("Tanggal warga menyampaikannya").fill(timezone.localdate().isoformat())
    page.get_by_label("Tangkapan layar atau kliping").set_input_files(str(screenshot))
    page.get_by_label("Nama warga").fill("Akun FB Hendra")
    page.get_by_label("Kategori").select_option(label="Penerangan jalan umum")
    assert page.get_by_label("Kabupaten/kota").input_value() == "63.72"
    page.get_by_label("Lokasi", exact=True).fill("Jl. Karang Anyar, dekat masjid")
    page.get_by_label("Judul").fill("Lampu jalan padam di Karang Anyar")
    page.get_by_label("Isi pengaduan").fill(
        "Warga mengeluh di grup Facebook: tiga lampu jalan padam sejak pekan lalu."
    )
    page.get_by_role("button", name="Masukkan pengaduan").click()
    assert page.get_by_text("dimasukkan dan diteruskan ke").is_visible()
    complaint = Complaint.objects.get()
    assert complaint.channel == "social_media" and complaint.entered_by == kominfo
    assert Attachment.objects.get(complaint=complaint).content_type == "image/png"
    context.close()

    # It is in Perkim's queue at once.
    context, page = signed_in(browser, live_server, perkim)
    page.goto(live_server.url + "/dashboard/queue/")
    assert page.get_by_role("link", name=complaint.tracking_code).is_visible()

    context.close()

    # Four days on, nobody has answered: the officer (signed in again: staff sessions expire
    # when idle) filters the overdue ones.
    with time_machine.travel(timezone.now() + timedelta(days=4), tick=True):
        context, page = signed_in(browser, live_server, perkim)
        page.goto(live_server.url + "/dashboard/queue/")
        page.get_by_text("Saringan lainnya").click()  # the filters past the search are folded
        page.get_by_label("Terlambat", exact=True).check()
        page.get_by_role("button", name="Tampilkan").click()
        assert "overdue=on" in page.url
        row = page.locator("table.queue tbody tr")
        assert row.count() == 1
        assert "terlambat" in row.inner_text()
        page.get_by_role("link", name=complaint.tracking_code).click()

        page.get_by_label("Apa yang sudah dilakukan").fill(
            "Tim Perkim mengganti tiga lampu hari ini."
        )
        page.get_by_label("Foto atau dokumen bukti").set_input_files(str(photo))
        page.get_by_role("button", name="Kirim tindak lanjut").click()
        assert page.get_by_text("Tim Perkim mengganti tiga lampu hari ini.").is_visible()
        page.get_by_label("Apa yang sudah dilakukan").fill("Semua lampu menyala kembali.")
        page.get_by_role("button", name="Tandai selesai").click()
        complaint.refresh_from_db()
        assert complaint.status == "resolved"
    context.close()

    # The citizen (anyone) sees the channel, the follow-up and its photo; never the staff.
    visitor = browser.new_context(locale="id-ID")
    public = visitor.new_page()
    public.goto(live_server.url + complaint.get_absolute_url())
    text = public.locator("main").inner_text()
    assert "Media sosial" in text
    assert "Tim Perkim mengganti tiga lampu hari ini." in text
    assert "Semua lampu menyala kembali." in text
    assert public.locator("ol.timeline img").count() >= 1
    for private in ("Rina", "Joko", "kominfo-bjb", "perkim-bjb", "facebook.com"):
        assert private not in public.content()
    visitor.close()


def test_a_long_source_link_does_not_widen_the_intake_result_on_a_phone(
    live_server, browser, tmp_path, media_root
):
    screenshot = image(tmp_path, "berita.png", "white")
    kominfo = coordinator("63.72", username="kominfo-bjb")
    context, page = signed_in(browser, live_server, kominfo)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/dashboard/intake/")
    page.get_by_label("Media sosial").check()
    long_link = "https://www.facebook.com/groups/wargabanjarbaru/posts/" + "1234567890" * 30
    page.get_by_label("Tautan unggahan atau berita").fill(long_link)
    page.get_by_label("Tanggal warga menyampaikannya").fill(timezone.localdate().isoformat())
    page.get_by_label("Tangkapan layar atau kliping").set_input_files(str(screenshot))
    page.get_by_label("Nama warga").fill("Akun FB Hendra")
    page.get_by_label("Kategori").select_option(label="Penerangan jalan umum")
    page.get_by_label("Lokasi", exact=True).fill("Jl. Karang Anyar")
    page.get_by_label("Judul").fill("Lampu jalan padam")
    page.get_by_label("Isi pengaduan").fill("Tiga lampu jalan padam sejak pekan lalu.")
    page.get_by_role("button", name="Masukkan pengaduan").click()
    assert page.get_by_text("dimasukkan dan diteruskan ke").is_visible()
    # The source link on the result wraps: nothing is wider than the phone's screen.
    assert page.locator('a[href*="wargabanjarbaru/posts/1234567890"]').count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_a_response_template_is_picked_and_sent_in_two_clicks(live_server, browser):
    """At phone width: one tap puts the template's text, filled in, in the note (by script, no
    reload); a second sends it."""
    from complaints.services import response_template_save
    from complaints.workflow import Action
    from tests.factories import complaint_submitted, province_staff

    complaint = complaint_submitted(title="Lampu mati di Jl. Sudirman").complaint
    response_template_save(
        actor=province_staff(),
        agency=None,
        region=None,
        category=None,
        action=Action.FOLLOW_UP,
        title="Sedang ditinjau",
        body="Laporan {kode} sedang ditinjau oleh {perangkat_daerah}.",
    )
    context, page = signed_in(browser, live_server, officer("63.72", "perkim"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + complaint.get_absolute_url())
    page.get_by_role("link", name="Sedang ditinjau").click()
    expected = (
        f"Laporan {complaint.tracking_code} sedang ditinjau oleh {complaint.assigned_agency.name}."
    )
    assert page.locator("#id_note").input_value() == expected
    assert "templat=" not in page.url  # filled by the script, not by a reload
    page.get_by_role("button", name="Kirim tindak lanjut").click()
    page.get_by_text(expected).first.wait_for()
    assert complaint.events.filter(note=expected).exists()
    context.close()
