"""Photo redaction: staff of the handling agency (or the province) hide areas of a photo; the
public and the reporter get the redacted copy (checked pixel by pixel), the original only the
handling agency and the province, until the reporter's personal data goes with retention."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image

from complaints.attachments import CleanFile, Rectangle, clean_image, random_name
from complaints.models import Attachment, ComplaintEvent, EventKind
from complaints.services import (
    attachment_redact,
    complaint_transition,
    complaints_anonymise_due,
    complaints_close_expired,
    redaction_role,
)
from complaints.workflow import Action, Role, WorkflowError
from tests.factories import complaint_submitted, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db

WITA = ZoneInfo("Asia/Makassar")
BOX = {"x0": 20, "y0": 30, "w0": 50, "h0": 40}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pattern(size=(200, 120)) -> Image.Image:
    """A picture where every pixel differs from its neighbours, so any change shows."""
    image = Image.new("RGB", size)
    image.putdata(
        [
            ((x * 7) % 256, (y * 11) % 256, (x * y) % 256)
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    return image


def encoded(image: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def photo(content_type="image/png") -> CleanFile:
    fmt = {"image/png": "PNG", "image/jpeg": "JPEG"}[content_type]
    content = clean_image(encoded(pattern(), fmt), content_type)
    return CleanFile(random_name(content_type), "foto.png", content_type, content)


@pytest.fixture
def staff():
    return {
        "officer": officer("63.72", "perkim", username="petugas"),
        "province": province_staff(username="provinsi"),
        "coordinator": coordinator("63.72", username="koordinator"),
        "other_officer": officer("63.71", "perkim", username="lain"),
    }


@pytest.fixture
def filed(staff):
    result = complaint_submitted(files=[photo()])  # pju in Banjarbaru: routed to perkim
    return result, Attachment.objects.get(complaint=result.complaint)


def pixels(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content)).convert("RGB")


def test_the_public_gets_the_redacted_copy_checked_by_pixels(client, staff, filed):
    result, attachment = filed
    url = f"/attachments/{attachment.pk}/"
    before = pixels(b"".join(client.get(url).streaming_content))
    page = f"/complaints/{result.complaint.tracking_code}/photos/{attachment.pk}/redact/"

    client.force_login(staff["officer"])
    assert client.get(page).status_code == 200
    assert client.post(page, BOX).status_code == 302
    client.logout()

    response = client.get(url)
    assert response.status_code == 200
    after = pixels(b"".join(response.streaming_content))
    assert after.size == before.size
    x0, y0, x1, y1 = 20, 30, 20 + 50, 30 + 40
    for y in range(after.height):
        for x in range(after.width):
            inside = x0 <= x < x1 and y0 <= y < y1
            expected = (0, 0, 0) if inside else before.getpixel((x, y))
            assert after.getpixel((x, y)) == expected, (x, y)
    # The complaint's public page shows the copy and offers the public nothing more.
    public = client.get(result.complaint.get_absolute_url()).content.decode()
    assert f"/attachments/{attachment.pk}/" in public
    assert "/original/" not in public and "/redact/" not in public


def test_a_jpeg_is_redacted_black_without_exif(staff, filed):
    result, _png = filed
    exif = Image.Exif()
    exif[0x010F] = "KameraMerek"  # Make
    exif[0x8825] = {2: (3.0, 19.0, 0.0)}  # GPS latitude
    smooth = Image.new("RGB", (200, 120))
    smooth.putdata([(x, 2 * y, (x + y) // 2) for y in range(120) for x in range(200)])
    raw = encoded(smooth, "JPEG", quality=95, exif=exif)
    assert Image.open(io.BytesIO(raw)).getexif()  # the stored file carries EXIF
    attachment = Attachment.objects.create(
        complaint=result.complaint,
        file=ContentFile(raw, name="x.jpg"),
        content_type="image/jpeg",
        size=len(raw),
        uploaded_by_role=Role.REPORTER,
    )
    attachment_redact(
        attachment=attachment, actor=staff["officer"], rectangles=[Rectangle(20, 30, 50, 40)]
    )
    attachment.refresh_from_db()
    with attachment.file.open("rb") as f:
        copy = f.read()
    image = Image.open(io.BytesIO(copy))
    assert not image.getexif() and "exif" not in image.info
    image = image.convert("RGB")
    original = pixels(raw)
    # Inside (a JPEG block away from the edge, which JPEG blurs): black; outside: the photo,
    # up to JPEG's loss.
    for y in range(38, 62):
        for x in range(28, 62):
            assert max(image.getpixel((x, y))) <= 12, (x, y)
    diffs = [
        max(
            abs(a - b)
            for a, b in zip(image.getpixel((x, y)), original.getpixel((x, y)), strict=True)
        )
        for y in range(0, 120, 3)
        for x in range(0, 200, 3)
        if not (12 <= x < 78 and 22 <= y < 78)
    ]
    assert sum(diffs) / len(diffs) < 4 and max(diffs) < 24


def test_the_original_is_for_the_handling_agency_and_the_province_only(client, staff, filed):
    result, attachment = filed
    with attachment.file.open("rb") as f:
        uploaded = f.read()
    attachment_redact(
        attachment=attachment, actor=staff["officer"], rectangles=[Rectangle(20, 30, 50, 40)]
    )
    attachment.refresh_from_db()
    code = result.complaint.tracking_code
    original = f"/complaints/{code}/photos/{attachment.pk}/original/"
    redact = f"/complaints/{code}/photos/{attachment.pk}/redact/"

    def fetched(path) -> tuple[int, bytes]:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, body

    # Everyone may fetch the public URL: it is never the original.
    for who in (None, "coordinator", "other_officer", "officer", "province"):
        client.logout()
        if who:
            client.force_login(staff[who])
        status, body = fetched(f"/attachments/{attachment.pk}/")
        assert status == 200 and body != uploaded, who
    # The API and Open311 link the public copy only.
    client.logout()
    for path in (f"/api/v1/complaints/{code}/", f"/open311/v2/requests/{code}.json"):
        status, body = fetched(path)
        text = body.decode()
        assert status == 200 and f"/attachments/{attachment.pk}/" in text, path
        assert "/original/" not in text and attachment.original.name not in text, path
    # Nobody but the handling agency and the province gets the original, by any URL.
    storage_paths = [f"/media/{attachment.original.name}", f"/{attachment.original.name}"]
    client.logout()
    client.get(f"{result.complaint.get_absolute_url()}?key={result.access_key}")  # the reporter
    for who in (None, "coordinator", "other_officer"):
        if who:
            client.force_login(staff[who])
        for path in (original, redact, *storage_paths):
            status, body = fetched(path)
            assert status in (302, 404) and uploaded not in body, (who, path)
    for who in ("officer", "province"):
        client.force_login(staff[who])
        response = client.get(original)
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == uploaded
        page = client.get(result.complaint.get_absolute_url()).content.decode()
        assert redact in page
    assert redaction_role(staff["coordinator"], result.complaint) is None
    assert redaction_role(staff["province"], result.complaint) == Role.PROVINCE_STAFF


def test_redaction_goes_through_the_service_and_leaves_an_event(
    staff, filed, django_capture_on_commit_callbacks
):
    result, attachment = filed
    for who in ("coordinator", "other_officer"):
        with pytest.raises(WorkflowError):
            attachment_redact(
                attachment=attachment, actor=staff[who], rectangles=[Rectangle(0, 0, 5, 5)]
            )
    with pytest.raises(ValidationError):  # nothing of it inside the photo
        attachment_redact(
            attachment=attachment, actor=staff["officer"], rectangles=[Rectangle(500, 0, 5, 5)]
        )
    assert not ComplaintEvent.objects.filter(kind=EventKind.REDACTED).exists()
    first = attachment.file.name

    attachment_redact(
        attachment=attachment, actor=staff["officer"], rectangles=[Rectangle(190, 110, 50, 50)]
    )
    attachment.refresh_from_db()
    assert attachment.original.name == first and attachment.redacted_at is not None
    second = attachment.file.name
    # Again, by the province: more black; the original stays the photo as uploaded.
    with django_capture_on_commit_callbacks(execute=True):
        attachment_redact(
            attachment=attachment, actor=staff["province"], rectangles=[Rectangle(0, 0, 10, 10)]
        )
    attachment.refresh_from_db()
    assert attachment.original.name == first
    with attachment.file.open("rb") as f:
        image = pixels(f.read())
    assert image.getpixel((195, 115)) == image.getpixel((5, 5)) == (0, 0, 0)
    assert not attachment.file.storage.exists(second)
    events = ComplaintEvent.objects.filter(kind=EventKind.REDACTED).order_by("pk")
    assert [(e.actor, e.actor_role, e.is_internal, e.data) for e in events] == [
        (
            staff["officer"],
            Role.AGENCY_OFFICER,
            True,
            {"attachment": attachment.pk, "rectangles": [[190, 110, 10, 10]]},
        ),
        (
            staff["province"],
            Role.PROVINCE_STAFF,
            True,
            {"attachment": attachment.pk, "rectangles": [[0, 0, 10, 10]]},
        ),
    ]


@pytest.mark.parametrize(
    "data",
    [{}, {"x0": 1, "y0": 2, "w0": 3}, {"x0": 1, "y0": 2, "w0": 0, "h0": 5}, {**BOX, "x0": -1}],
)
def test_the_numbers_form_refuses_bad_areas_with_field_errors(client, staff, filed, data):
    result, attachment = filed
    client.force_login(staff["officer"])
    page = f"/complaints/{result.complaint.tracking_code}/photos/{attachment.pk}/redact/"
    response = client.post(page, data)
    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    attachment.refresh_from_db()
    assert attachment.redacted_at is None and not attachment.original


def test_a_pdf_is_not_redacted(client, staff, filed):
    result, _photo = filed
    pdf = Attachment.objects.create(
        complaint=result.complaint,
        file=ContentFile(b"%PDF-1.4 test", name="x.pdf"),
        content_type="application/pdf",
        size=13,
        uploaded_by_role=Role.REPORTER,
    )
    client.force_login(staff["officer"])
    page = f"/complaints/{result.complaint.tracking_code}/photos/{pdf.pk}/redact/"
    assert client.get(page).status_code == 404
    with pytest.raises(WorkflowError):
        attachment_redact(
            attachment=pdf, actor=staff["officer"], rectangles=[Rectangle(0, 0, 1, 1)]
        )


def test_retention_deletes_the_original_and_keeps_the_redacted_copy(
    client, staff, settings, django_capture_on_commit_callbacks
):
    settings.LAPOR_RETENTION_REPORTER_DAYS = 365
    t0 = datetime(2025, 3, 3, 9, tzinfo=WITA)
    result = complaint_submitted(files=[photo()], now=t0)
    attachment = Attachment.objects.get(complaint=result.complaint)
    attachment_redact(
        attachment=attachment,
        actor=staff["officer"],
        rectangles=[Rectangle(20, 30, 50, 40)],
        now=t0 + timedelta(hours=1),
    )
    attachment.refresh_from_db()
    original, copy = attachment.original.name, attachment.file.name
    complaint_transition(
        complaint=result.complaint,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=staff["officer"],
        note="Sudah diperbaiki",
        now=t0 + timedelta(days=2),
    )
    complaints_close_expired(now=t0 + timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert complaints_anonymise_due(now=t0 + timedelta(days=200)) == 0
    assert attachment.file.storage.exists(original)
    with django_capture_on_commit_callbacks(execute=True):
        assert complaints_anonymise_due(now=t0 + timedelta(days=400)) == 1
    attachment.refresh_from_db()
    assert not attachment.original and attachment.file.name == copy
    assert not attachment.file.storage.exists(original)
    assert attachment.file.storage.exists(copy)
    client.force_login(staff["officer"])
    code = result.complaint.tracking_code
    assert client.get(f"/complaints/{code}/photos/{attachment.pk}/original/").status_code == 404
    # Redacting after that keeps no original at all.
    attachment_redact(
        attachment=attachment, actor=staff["officer"], rectangles=[Rectangle(0, 0, 5, 5)]
    )
    attachment.refresh_from_db()
    assert not attachment.original
