"""Photo redaction in a real Chromium, on a phone-sized screen: the officer draws a rectangle on
the photo (the script turns it into the photo's own pixels), sends it, and the public copy is
black there and unchanged elsewhere."""

import io

import pytest
from django.test import Client
from PIL import Image

from complaints.attachments import CleanFile, clean_image, random_name
from complaints.models import Attachment, ComplaintEvent, EventKind
from tests.factories import complaint_submitted, officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo() -> CleanFile:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 140, 200)).save(out, "PNG")
    return CleanFile(
        random_name("image/png"), "foto.png", "image/png", clean_image(out.getvalue(), "image/png")
    )


def test_an_officer_draws_an_area_and_the_public_copy_is_black_there(
    live_server, browser, media_root
):
    perkim = officer("63.72", "perkim", username="perkim-bjb")
    complaint = complaint_submitted(files=[photo()]).complaint
    attachment = Attachment.objects.get(complaint=complaint)
    client = Client()
    client.force_login(perkim)
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + complaint.get_absolute_url())
    page.get_by_role("link", name="Samarkan sebagian foto ini").click()

    image = page.locator("#redact-image")
    box = image.bounding_box()
    assert box["width"] < 390  # shrunk to the phone's width: the script scales back
    scale = 800 / box["width"]
    # From a quarter to a half of the photo, both ways.
    page.mouse.move(box["x"] + box["width"] / 4, box["y"] + box["height"] / 4)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    values = [int(page.locator(f"#id_{p}0").input_value()) for p in "xywh"]
    assert all(abs(v - e) <= 2 * scale for v, e in zip(values, [200, 150, 200, 150], strict=True))
    assert page.locator(".redact-box").count() == 1
    page.get_by_role("button", name="Samarkan area ini").click()
    page.wait_for_url(live_server.url + complaint.get_absolute_url())
    context.close()

    x, y, w, h = values
    public = Image.open(
        io.BytesIO(b"".join(Client().get(f"/attachments/{attachment.pk}/").streaming_content))
    ).convert("RGB")
    assert public.getpixel((x + w // 2, y + h // 2)) == (0, 0, 0)
    assert public.getpixel((x + 1, y + 1)) == (0, 0, 0)
    assert public.getpixel((x + w - 1, y + h - 1)) == (0, 0, 0)
    for outside in ((x - 1, y), (x + w, y + h), (10, 10), (790, 590)):
        assert public.getpixel(outside) == (90, 140, 200), outside
    event = ComplaintEvent.objects.get(complaint=complaint, kind=EventKind.REDACTED)
    assert event.data["rectangles"] == [values]
