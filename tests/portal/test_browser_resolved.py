"""The reporter's answer to a resolved complaint, in a real Chromium: one clear choice between
"solved — rate it" and "not solved — reopen", stars that say what they mean and work with the
keyboard, the truth about what a rating does, and the reply as a smaller secondary action."""

import pytest

from complaints.models import Complaint
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from tests.factories import complaint_submitted, officer
from tests.lapor.helpers import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 844})
        page.screenshot(path=SCREENSHOTS / f"{name}_{width}.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})


@pytest.fixture
def resolved(live_server, browser):
    """A resolved complaint and a phone-sized browser that opened its private link."""
    result = complaint_submitted(title="Lampu jalan mati di Jl. Trikora")
    complaint_transition(
        complaint=result.complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim"),
        note="Lampu sudah diganti.",
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}{result.complaint.get_absolute_url()}?key={result.access_key}")
    yield result.complaint, page
    context.close()


def test_one_clear_choice_with_labelled_stars_rated_by_keyboard(resolved):
    complaint, page = resolved
    solved = page.locator("summary", has_text="Sudah selesai — beri penilaian")
    not_solved = page.locator("summary", has_text="Belum selesai — buka kembali")
    assert solved.is_visible() and not_solved.is_visible()
    # Nothing is asked before a choice is made; the reply is there, smaller, folded.
    assert not page.get_by_role("button", name="Kirim penilaian dan tutup").is_visible()
    assert not page.get_by_role("button", name="Buka kembali pengaduan").is_visible()
    assert page.get_by_text("Hanya kirim pesan ke perangkat daerah").is_visible()
    assert not page.get_by_role("button", name="Kirim balasan").is_visible()

    solved.click()
    # What a rating does, said before it is sent: every rating closes the complaint.
    assert page.get_by_text(
        "Mengirim penilaian menutup pengaduan, berapa pun jumlah bintangnya."
    ).is_visible()
    stars = page.get_by_role("radio")
    assert stars.count() == 5
    words = ["Sangat buruk", "Buruk", "Cukup", "Baik", "Sangat baik"]
    for n, word in enumerate(words, start=1):
        star = page.get_by_role("radio", name=f"{n} {word}", exact=True)
        assert star.count() == 1
        box = page.locator("label.star").nth(n - 1).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44  # a target a thumb hits

    # The keyboard: Tab into the group, arrows move the choice.
    page.get_by_role("radio", name="1 Sangat buruk", exact=True).focus()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.get_by_role("radio", name="4 Baik", exact=True).is_checked()
    screenshot(page, "reporter_resolved_rate")
    page.get_by_label("Komentar").fill("Sudah terang lagi.")
    page.get_by_role("button", name="Kirim penilaian dan tutup").click()

    assert page.get_by_text("Terima kasih atas penilaian Anda. Pengaduan ditutup.").is_visible()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.rating == 4


def test_not_solved_reopens_with_a_reason(resolved):
    complaint, page = resolved
    page.locator("summary", has_text="Belum selesai — buka kembali").click()
    assert not page.get_by_role("button", name="Kirim penilaian dan tutup").is_visible()
    page.get_by_role("button", name="Buka kembali pengaduan").click()
    # No reason: the same choice stays open with its error.
    assert page.get_by_text("Mohon perbaiki hal berikut:").is_visible()
    assert page.get_by_role("button", name="Buka kembali pengaduan").is_visible()
    page.get_by_label("Mengapa Anda membukanya kembali?").fill("Lampu mati lagi semalam.")
    page.get_by_role("button", name="Buka kembali pengaduan").click()
    assert page.get_by_text("dibuka kembali").first.is_visible()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ASSIGNED


def test_a_rating_without_stars_says_what_is_missing(resolved):
    complaint, page = resolved
    page.locator("summary", has_text="Sudah selesai — beri penilaian").click()
    page.get_by_role("button", name="Kirim penilaian dan tutup").click()
    assert page.get_by_text("Pilih 1 sampai 5 bintang.").first.is_visible()
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.RESOLVED
