"""Where a complaint stands, in a real Chromium: the five steps and the time left on the current
deadline, on the complaint's page and in "my complaints", at phone and desktop width."""

import re

import pytest
from django.conf import settings
from django.test import Client

from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import UserFactory, complaint_submitted, officer
from tests.lapor.helpers import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = ["Diterima", "Diverifikasi / diteruskan", "Ditindaklanjuti", "Selesai", "Ditutup"]


@pytest.fixture
def citizen_page(live_server, browser):
    citizen = UserFactory(username="rahmat@example.id", email="rahmat@example.id")
    waiting = complaint_submitted(
        title="Lampu jalan mati", reporter=citizen, reporter_email=citizen.email
    ).complaint
    worked = complaint_submitted(
        title="Jalan berlubang", reporter=citizen, reporter_email=citizen.email
    ).complaint
    complaint_transition(
        complaint=worked,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=officer("63.72", "perkim"),
        note="Tim sudah meninjau lokasi.",
    )
    client = Client()
    client.force_login(citizen)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page, waiting, worked
    context.close()


def text(locator) -> str:
    """The text as read aloud, hidden helper words included, in single spaces."""
    return " ".join(locator.text_content().split())


def steps_of(scope):
    items = scope.locator(":scope > li")
    return [
        (text(items.nth(i)).split(" (")[0], items.nth(i).get_attribute("class"))
        for i in range(items.count())
    ]


@pytest.mark.parametrize("width", [390, 1366])
def test_the_complaint_page_shows_the_steps_and_the_time_left(live_server, citizen_page, width):
    page, waiting, _worked = citizen_page
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + waiting.get_absolute_url())
    stepper = page.get_by_role("list", name="Posisi pengaduan")
    assert [label for label, _ in steps_of(stepper)] == STEPS
    current = stepper.locator("[aria-current=step]")
    assert current.text_content().strip() == "Ditindaklanjuti"
    assert "Diverifikasi / diteruskan (sudah)" in text(stepper)
    due = page.locator(".progress .step-due").inner_text()
    assert re.match(r"Batas tindak lanjut pertama: sisa \d+ (hari|jam)", due), due
    assert current.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"citizen_progress_detail_{width}.png", full_page=True)


def test_my_complaints_show_each_ones_step(live_server, citizen_page):
    page, waiting, worked = citizen_page
    page.goto(live_server.url + "/accounts/complaints/")
    cards = page.locator(".complaint-card")
    assert cards.count() == 2
    by_title = {cards.nth(i).locator("strong").first.inner_text(): cards.nth(i) for i in range(2)}
    waiting_card, worked_card = by_title["Lampu jalan mati"], by_title["Jalan berlubang"]
    assert waiting_card.locator("[aria-current=step]").text_content().strip() == "Ditindaklanjuti"
    assert worked_card.locator("[aria-current=step]").text_content().strip() == "Selesai"
    assert re.search(r"Target penyelesaian: sisa \d+ hari", worked_card.inner_text())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "citizen_progress_list_390.png", full_page=True)
