"""Provincial staff compute, check, publish and show a year's ranking in Chromium."""

from datetime import datetime, timedelta

import pytest

from awards.models import Result, ResultStatus
from tests.factories import complaint_new, province_staff

from .dataset import WITA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)


def test_staff_compute_check_and_publish_in_the_browser(live_server, page, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    province_staff(username="prov.kalsel")
    for n, code in enumerate(("63.72", "63.72", "63.71", "63.05")):
        complaint_new(now=T0 + timedelta(days=n), region_code=code)

    page.goto(live_server.url + "/accounts/login/?next=/rankings/staff/%3Fyear%3D2025")
    page.get_by_label("Nama pengguna").fill("prov.kalsel")
    page.get_by_label("Kata sandi").fill("s3cret-pass-123")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()
    assert "Peringkat: hitung dan terbitkan" in page.locator("h1").inner_text()

    page.get_by_role("button", name="Hitung draf").click()
    page.wait_for_load_state()
    assert "Draf telah dihitung." in page.locator(".messages").inner_text()
    table = page.get_by_role("region", name="Draf")
    assert table.locator("tbody tr").count() == 13
    assert "Kota Banjarbaru" in table.locator("tbody tr").first.inner_text()

    page.get_by_role("button", name="Tinjau dan terbitkan…").click()
    page.wait_for_load_state()
    assert "Yang akan dibekukan" in page.content()
    page.get_by_role("button", name="Terbitkan", exact=True).click()
    page.wait_for_load_state()
    assert "Peringkat telah diterbitkan." in page.locator(".messages").inner_text()
    assert Result.objects.get(status=ResultStatus.PUBLISHED).year == 2025

    page.goto(live_server.url + "/rankings/")
    assert "Diterbitkan pada" in page.locator(".ranking-head").inner_text()
    assert page.locator("#ranking-compact th.c-name").first.inner_text() == ("Kota Banjarbaru")

    # Withdrawing needs a reason: without one the page says so and nothing changes.
    page.goto(live_server.url + "/rankings/staff/?year=2025")
    page.get_by_role("button", name="Tarik").click()
    page.wait_for_load_state()
    assert "minimal 10 karakter" in page.get_by_role("alert").inner_text()
    assert Result.objects.filter(status=ResultStatus.PUBLISHED).count() == 1
