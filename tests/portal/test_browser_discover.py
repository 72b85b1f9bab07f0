"""In a real Chromium: start filing, see the same problem already reported nearby, support it
instead, and find the count on the map (without map tiles)."""

from decimal import Decimal

import pytest

from complaints.models import Complaint
from tests.factories import complaint_submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_supports_the_similar_complaint_instead_of_filing(
    live_server, page, media_root, settings
):
    settings.LAPOR_MAP_TILE_URL = ""
    existing = complaint_submitted(
        title="Lampu jalan mati di Jl. A. Yani km 33",
        latitude=Decimal("-3.442000"),
        longitude=Decimal("114.830000"),
    ).complaint

    page.goto(live_server.url + "/complaints/new/")
    page.get_by_label("Kategori").select_option(label="Penerangan jalan umum")
    page.get_by_text("Isi koordinat manual").click()  # the boxes are folded under the map
    page.locator("#id_latitude").fill("-3.442500")
    page.locator("#id_longitude").fill("114.830400")
    similar = page.locator("#similar")
    similar.get_by_text("Lampu jalan mati di Jl. A. Yani km 33").wait_for()
    assert "m dari lokasi" in similar.inner_text()

    similar.get_by_role("link", name="Lampu jalan mati di Jl. A. Yani km 33").click()
    page.get_by_label("Alamat email Anda").fill("warga@example.id")
    page.get_by_role("button", name="Dukung (saya juga)").click()
    page.get_by_text("Terima kasih: dukungan Anda sudah dihitung.").wait_for()
    assert page.locator("#supporter-count").inner_text().strip() == "1 pendukung"
    assert Complaint.objects.count() == 1  # supported, not filed again

    page.goto(live_server.url + "/peta/?lat=-3.442&lon=114.83&zoom=17")
    in_view = page.locator("#map-in-view")
    in_view.get_by_text("1 pendukung").wait_for()
    link = in_view.get_by_role("link", name="Lampu jalan mati di Jl. A. Yani km 33")
    assert link.get_attribute("href") == existing.get_absolute_url()
    assert page.get_by_role("table").get_by_text("Kota Banjarbaru").count() == 1
