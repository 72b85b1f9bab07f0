"""The map on the complaint form, in a real Chromium: it opens at the chosen regency, places a
pin from the keyboard (arrows move the map, Enter marks its centre) or from "Gunakan lokasi saya",
and keeps the latitude/longitude boxes folded unless asked; without JavaScript the boxes show."""

import pytest

from agencies.reference import REGION_SEATS
from tests.lapor.helpers import SCREENSHOTS
from tests.lapor.test_browser_csp import TILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KOTABARU = REGION_SEATS["63.02"]
BANJARMASIN = (-3.3186, 114.5944)


@pytest.fixture
def open_form(live_server, browser):
    contexts = []

    def opener(**options):
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="id-ID", **options
        )
        contexts.append(context)
        context.route(
            "https://tile.openstreetmap.org/**",
            lambda route: route.fulfill(status=200, content_type="image/png", body=TILE),
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + "/complaints/new/")
        return page

    yield opener
    for context in contexts:
        context.close()


def coordinates(page):
    return float(page.locator("#id_latitude").input_value()), float(
        page.locator("#id_longitude").input_value()
    )


def test_the_map_opens_at_the_regency_and_a_pin_is_placed_with_the_keyboard(open_form):
    page = open_form()
    manual = page.locator("#manual-coords")
    assert manual.get_attribute("open") is None  # folded
    assert not page.locator("#id_latitude").is_visible()
    page.get_by_label("Kabupaten/kota").select_option(label="Kabupaten Kotabaru")

    page.locator("#map").focus()
    page.keyboard.press("Enter")
    lat, lon = coordinates(page)
    assert abs(lat - KOTABARU[0]) < 0.01 and abs(lon - KOTABARU[1]) < 0.01
    assert page.get_by_role("status").filter(has_text="Titik ditandai").count() == 1
    assert "-3,24" in page.locator("#map-status").inner_text()  # Indonesian decimals

    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    moved_lat, moved_lon = coordinates(page)
    assert moved_lon > lon and abs(moved_lat - lat) < 0.001
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#map").screenshot(path=SCREENSHOTS / "form_map_keyboard_390.png")

    page.get_by_text("Isi koordinat manual").click()
    assert page.get_by_label("Lintang").is_visible()


def test_use_my_location_places_the_pin_where_the_phone_is(open_form):
    page = open_form(
        geolocation={"latitude": BANJARMASIN[0], "longitude": BANJARMASIN[1]},
        permissions=["geolocation"],
    )
    page.get_by_role("button", name="Gunakan lokasi saya").click()
    page.wait_for_function("() => document.querySelector('#id_latitude').value !== ''")
    lat, lon = coordinates(page)
    assert abs(lat - BANJARMASIN[0]) < 1e-5 and abs(lon - BANJARMASIN[1]) < 1e-5


def test_without_javascript_the_boxes_are_there_and_the_map_is_not(open_form):
    page = open_form(java_script_enabled=False)
    assert page.get_by_label("Lintang").is_visible()
    assert page.get_by_label("Bujur").is_visible()
    assert not page.locator("#map").is_visible()
    assert not page.get_by_role("button", name="Gunakan lokasi saya").is_visible()
    assert not page.locator("#send-status").is_visible()  # the progress bar needs the script
