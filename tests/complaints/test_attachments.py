"""Attachments: type from content, size and count limits, no metadata, random names."""

import binascii
import io
import random
import re
import struct
import zlib

import pikepdf
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from PIL import Image, JpegImagePlugin

from complaints import attachments
from complaints.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_IMAGE_SIDE,
    AttachmentsField,
    CleanFile,
    MultipleFileInput,
    clean_uploads,
    sanitise_filename,
)

RANDOM_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|pdf)$")
NOT_ACCEPTED = "“{}” is not a JPEG, PNG or WebP image or a PDF."
TOO_LARGE = "“{}” is larger than 10 MB."
TOO_LARGE_IMAGE = "“{}” is too large an image to process."
UNREADABLE_IMAGE = "“{}” could not be read as an image."
PDF_ACTIVE = "“{}” is a PDF with scripts or embedded files, which are not accepted."
PDF_DAMAGED = "“{}” is a damaged or encrypted PDF that cannot be checked."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- Builders ---------------------------------------------------------------------------------
def image_bytes(fmt="PNG", size=(32, 24), mode="RGB", color="teal", **save) -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, color).save(output, fmt, **save)
    return output.getvalue()


def upload(name: str, content: bytes, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png(name="photo.png", **kwargs):
    return upload(name, image_bytes("PNG", **kwargs), "image/png")


def pdf_document(*objects: bytes, catalog: bytes = b"") -> bytes:
    """A small well-formed PDF: catalog, one page, then ``objects`` numbered from 4."""
    objects = (
        b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        *objects,
    )
    return pdf_raw(*objects)


def pdf_raw(*objects: bytes) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit black PNG of ``width`` x ``height``; a few KB however large it claims to be."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _row in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def refusals(files) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        clean_uploads(files)
    return caught.value.messages


def cleaned_image(clean: CleanFile) -> Image.Image:
    image = Image.open(io.BytesIO(clean.content))
    image.load()
    return image


# --- Type from content ------------------------------------------------------------------------
def test_text_named_jpg_is_refused_naming_it():
    fake = upload("foto-jalan.jpg", b"just some notes, not a photo\n", "image/jpeg")
    assert refusals([fake]) == [NOT_ACCEPTED.format("foto-jalan.jpg")]


def test_svg_with_script_is_refused():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
    )
    assert refusals([upload("peta.svg", svg, "image/svg+xml")]) == [NOT_ACCEPTED.format("peta.svg")]


def test_gif_is_refused():
    gif = upload("animasi.gif", image_bytes("GIF"), "image/gif")
    assert refusals([gif]) == [NOT_ACCEPTED.format("animasi.gif")]


def test_empty_file_is_refused():
    assert refusals([upload("kosong.png", b"", "image/png")]) == ["“kosong.png” is empty."]


def test_truncated_image_is_refused():
    whole = image_bytes("JPEG", size=(64, 64))
    broken = upload("rusak.jpg", whole[: len(whole) // 2], "image/jpeg")
    assert refusals([broken]) == [UNREADABLE_IMAGE.format("rusak.jpg")]


def test_png_with_broken_checksum_is_refused_by_verify():
    data = bytearray(image_bytes("PNG"))
    data[-20] ^= 0xFF  # inside IDAT, so its CRC no longer matches
    assert refusals([upload("crc.png", bytes(data))]) == [UNREADABLE_IMAGE.format("crc.png")]


@pytest.mark.parametrize(
    ("fmt", "uploaded_as", "content_type", "extension"),
    [
        ("JPEG", "IMG_0001.JPG", "image/jpeg", ".jpg"),
        ("PNG", "photo.pdf", "image/png", ".png"),
        ("WEBP", "screenshot.png", "image/webp", ".webp"),
        ("PDF", "laporan.jpg", "application/pdf", ".pdf"),
    ],
)
def test_accepted_types_get_content_type_and_extension_from_content(
    fmt, uploaded_as, content_type, extension
):
    data = image_bytes(fmt, size=(48, 32))  # Pillow writes a real PDF, with a JPEG stream
    [clean] = clean_uploads([upload(uploaded_as, data, "text/plain")])
    assert clean.content_type == content_type
    assert RANDOM_NAME.match(clean.name)
    assert clean.name.endswith(extension)
    assert uploaded_as.rsplit(".", 1)[0] not in clean.name
    assert clean.original_name == uploaded_as
    assert clean.size == len(clean.content) > 0
    if fmt == "PDF":
        assert clean.content != data  # a copy written by qpdf, not the uploaded bytes
        with pikepdf.open(io.BytesIO(clean.content)) as pdf:
            assert len(pdf.pages) == 1
    else:
        assert cleaned_image(clean).format == fmt


def test_every_upload_gets_a_different_random_name():
    first, second = clean_uploads([png("same.png"), png("same.png")])
    assert first.name != second.name
    assert RANDOM_NAME.match(first.name) and RANDOM_NAME.match(second.name)


def test_clean_file_repr_leaves_out_the_content():
    [clean] = clean_uploads([png()])
    assert "content=" not in repr(clean)


# --- Names ------------------------------------------------------------------------------------
def test_original_name_is_sanitised():
    [clean] = clean_uploads([png("../../etc/passwd.png")])
    assert clean.original_name == "passwd.png"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\budi\\Pictures\\jalan rusak.jpg", "jalan rusak.jpg"),
        ("bad\x00na\x1bme\r\n.png", "badname .png"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # no right-to-left override
        ("  many   spaces\t.pdf ", "many spaces .pdf"),
        ("x" * 300 + ".jpeg", "x" * 115 + ".jpeg"),
        ("y" * 300, "y" * 120),
        ("", ""),
        (None, ""),
    ],
)
def test_sanitise_filename(raw, expected):
    assert sanitise_filename(raw) == expected
    assert len(sanitise_filename(raw)) <= 120


def test_messages_use_the_sanitised_name():
    fake = upload("x.jpg", b"text")
    fake.name = "..\\..\\evil\x07.jpg"  # as some browsers send it; bypasses Django's basename
    assert refusals([fake]) == [NOT_ACCEPTED.format("evil.jpg")]


# --- Size and count ---------------------------------------------------------------------------
class UnreadableFile(io.BytesIO):
    def read(self, *args):
        raise AssertionError("a file over the limit must not be read")


class EndlessFile(io.RawIOBase):
    """Hands out as many bytes as are asked for, counting them; refuses an unbounded read."""

    def __init__(self):
        self.bytes_read = 0

    def read(self, size=-1):
        if size is None or size < 0:
            raise AssertionError("unbounded read")
        self.bytes_read += size
        return b"\xff" * size

    def seek(self, offset, whence=0):
        return 0


def test_twenty_megabyte_file_is_refused_without_being_read():
    huge = UploadedFile(
        UnreadableFile(), name="video-banjir.jpg", content_type="image/jpeg", size=20 * 1024**2
    )
    assert refusals([huge]) == [TOO_LARGE.format("video-banjir.jpg")]


def test_size_is_checked_while_reading_when_the_claimed_size_is_wrong():
    endless = EndlessFile()
    liar = UploadedFile(endless, name="kecil.jpg", content_type="image/jpeg", size=100)
    assert refusals([liar]) == [TOO_LARGE.format("kecil.jpg")]
    assert endless.bytes_read == MAX_FILE_BYTES + 1


def test_a_file_of_exactly_the_limit_is_not_refused_for_size():
    padded = image_bytes("JPEG") + b"\x00" * (MAX_FILE_BYTES - len(image_bytes("JPEG")))
    assert len(padded) == MAX_FILE_BYTES
    [clean] = clean_uploads([upload("pas.jpg", padded)])
    assert clean.content_type == "image/jpeg"


def test_sixth_file_is_refused_naming_it():
    files = [png(f"foto-{number}.png") for number in range(1, MAX_FILES + 2)]
    assert refusals(files) == ["You can attach at most 5 files; “foto-6.png” is one too many."]


def test_five_files_are_accepted():
    assert len(clean_uploads([png(f"{n}.png") for n in range(MAX_FILES)])) == MAX_FILES


def test_every_bad_file_gets_its_own_message():
    files = [
        png("baik.png"),
        upload("catatan.jpg", b"hello"),
        UploadedFile(UnreadableFile(), name="besar.png", size=MAX_FILE_BYTES + 1),
        upload("bom.png", png_bomb(8_000, 6_000)),
        upload("skrip.pdf", pdf_document(b"<< /S /JavaScript /JS (app.alert(1)) >>")),
        png("dua.png"),
        png("tiga.png"),
        png("empat.png"),
    ]
    assert refusals(files) == [
        NOT_ACCEPTED.format("catatan.jpg"),
        TOO_LARGE.format("besar.png"),
        TOO_LARGE_IMAGE.format("bom.png"),
        PDF_ACTIVE.format("skrip.pdf"),
        "You can attach at most 5 files; “dua.png” is one too many.",
        "You can attach at most 5 files; “tiga.png” is one too many.",
        "You can attach at most 5 files; “empat.png” is one too many.",
    ]


def test_refusals_carry_codes_and_params():
    with pytest.raises(ValidationError) as caught:
        clean_uploads(
            [upload("a.txt", b"text"), UploadedFile(UnreadableFile(), "b.jpg", size=2**30)]
        )
    assert [(error.code, error.params) for error in caught.value.error_list] == [
        ("unsupported_type", {"name": "a.txt"}),
        ("file_too_large", {"name": "b.jpg"}),
    ]


# --- Decompression bombs ----------------------------------------------------------------------
def test_png_decompression_bomb_is_refused():
    # 900 megapixels in 120 KB; Pillow's own limit would catch this one too.
    bomb = png_bomb(30_000, 30_000)
    assert len(bomb) < 200 * 1024
    assert refusals([upload("bom.png", bomb)]) == [TOO_LARGE_IMAGE.format("bom.png")]


def test_image_over_our_pixel_limit_but_under_pillows_is_refused():
    before = Image.MAX_IMAGE_PIXELS
    bomb = png_bomb(8_000, 6_000)  # 48 megapixels: under Pillow's default, over ours
    assert Image.MAX_IMAGE_PIXELS > 8_000 * 6_000
    assert refusals([upload("besar.png", bomb)]) == [TOO_LARGE_IMAGE.format("besar.png")]
    assert before == Image.MAX_IMAGE_PIXELS


def test_forty_megapixel_png_is_refused_before_it_is_decoded():
    # Five of these in one reply took 7.8 s of server time when they were decoded.
    bomb = png_bomb(8_000, 5_000)
    assert refusals([upload("layar.png", bomb)]) == [TOO_LARGE_IMAGE.format("layar.png")]


def test_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        drafts.append((size, original(self, mode, size)))
        return drafts[-1][1]

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    photo = image_bytes("JPEG", size=(6_000, 4_000), color="navy")
    [clean] = clean_uploads([upload("foto.jpg", photo)])
    [(asked, (_mode, box))] = drafts
    assert asked == (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE * 4_000 // 6_000)
    assert box[2] - box[0] == 6_000 / 2  # decoded at half the scale, not in full
    assert clean.content_type == "image/jpeg"
    assert cleaned_image(clean).size[0] == MAX_IMAGE_SIDE


def test_webp_canvas_is_checked_before_pillow_allocates_it():
    # A VP8X header announcing a 10000 x 8000 canvas, and nothing else. 80 megapixels is under
    # Pillow's own limit, so only the check before Image.open refuses it as too large.
    size = (9_999).to_bytes(3, "little") + (7_999).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + size
    bomb = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    assert refusals([upload("bom.webp", bomb)]) == [TOO_LARGE_IMAGE.format("bom.webp")]


def test_pillow_decompression_bomb_error_is_a_refusal(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 32 x 24 > 2 * 100
    assert refusals([png("kecil.png")]) == [TOO_LARGE_IMAGE.format("kecil.png")]


# --- Metadata and re-encoding -----------------------------------------------------------------
def phone_photo() -> bytes:
    """A 40 x 20 JPEG, left half red, right half blue, to be shown rotated 90° clockwise."""
    image = Image.new("RGB", (40, 20), "blue")
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "Samsung"
    exif[0x8825] = {1: "S", 2: (3.0, 19.0, 48.0), 3: "E", 4: (114.0, 35.0, 24.0)}  # Banjarmasin
    exif.get_ifd(0x8769)[0xA431] = "SN-0042-BANJAR"  # BodySerialNumber
    output = io.BytesIO()
    image.save(output, "JPEG", quality=95, exif=exif, icc_profile=b"icc", comment=b"budi's phone")
    return output.getvalue()


def test_gps_exif_and_other_metadata_are_removed_and_orientation_applied():
    data = phone_photo()
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(0x8825)[1] == "S"  # the GPS really is there
    assert b"SN-0042-BANJAR" in data

    [clean] = clean_uploads([upload("IMG_20240501.jpg", data, "image/jpeg")])

    image = cleaned_image(clean)
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "comment", "xmp", "dpi"} & set(image.info)
    for secret in (b"Exif", b"SN-0042-BANJAR", b"Samsung", b"budi's phone", b"ICC_PROFILE"):
        assert secret not in clean.content
    # Upright: 20 wide, 40 high, with what was the left (red) half now on top.
    assert image.size == (20, 40)
    red, green, blue = image.getpixel((10, 8))
    assert red > 200 and blue < 60
    red, green, blue = image.getpixel((10, 32))
    assert blue > 200 and red < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_metadata_is_removed(fmt):
    exif = Image.Exif()
    exif[0x8825] = {1: "S", 2: (3.0, 19.0, 48.0)}
    data = image_bytes(fmt, exif=exif, icc_profile=b"icc-profile-bytes")
    assert "exif" in Image.open(io.BytesIO(data)).info
    [clean] = clean_uploads([upload("x", data)])
    image = cleaned_image(clean)
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp"} & set(image.info)


def test_large_image_is_downscaled_keeping_aspect_ratio():
    [wide, tall] = clean_uploads(
        [
            upload("lebar.png", image_bytes("PNG", size=(4000, 1000))),
            upload("tinggi.jpg", image_bytes("JPEG", size=(1500, 6000))),
        ]
    )
    assert cleaned_image(wide).size == (MAX_IMAGE_SIDE, 640)
    assert cleaned_image(tall).size == (640, MAX_IMAGE_SIDE)


def test_small_image_keeps_its_size():
    [clean] = clean_uploads([png(size=(300, 200))])
    assert cleaned_image(clean).size == (300, 200)


@pytest.mark.parametrize(
    ("fmt", "mode", "color", "expected_mode"),
    [
        ("JPEG", "CMYK", (0, 255, 255, 0), "RGB"),
        ("JPEG", "L", 128, "L"),
        ("PNG", "LA", (100, 50), "LA"),
        ("PNG", "1", 1, "L"),
        ("WEBP", "RGBA", (0, 128, 0, 100), "RGBA"),
        ("WEBP", "RGB", (0, 128, 0), "RGB"),
    ],
)
def test_image_modes_are_converted_for_their_format(fmt, mode, color, expected_mode):
    data = image_bytes(fmt, mode=mode, color=color)
    [clean] = clean_uploads([upload("x", data)])
    image = cleaned_image(clean)
    assert (image.format, image.mode) == (fmt, expected_mode)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped():
    [clean] = clean_uploads([upload("x.png", image_bytes("PNG", mode="I;16", color=40_000))])
    image = cleaned_image(clean)
    assert image.mode == "L"
    assert image.getpixel((0, 0)) == 40_000 // 256


def test_palette_png_with_transparency_keeps_it():
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 8, 16))
    output = io.BytesIO()
    image.save(output, "PNG", transparency=0)
    [clean] = clean_uploads([upload("logo.png", output.getvalue())])
    cleaned = cleaned_image(clean)
    assert cleaned.mode == "RGBA"
    assert cleaned.getpixel((2, 2)) == (0, 0, 255, 255)
    assert cleaned.getpixel((12, 2))[3] == 0


# --- PDF --------------------------------------------------------------------------------------
def pdf_with_object_stream(
    inner: list[bytes],
    *,
    catalog: bytes = b"",
    padding: bytes = b"",
    before_stream: bytes = b"\n",
    filter_name: bytes = b"/FlateDecode",
) -> bytes:
    """A PDF 1.5 whose objects 5, 6, ... (``inner``) sit compressed in object stream 4, found
    through a cross-reference stream, as modern writers make them. ``padding`` goes into the
    object stream's dictionary, ``before_stream`` between that dictionary and ``stream``."""
    numbers = range(5, 5 + len(inner))
    offsets, body = [], b""
    for number, data in zip(numbers, inner, strict=True):
        offsets.append(b"%d %d" % (number, len(body)))
        body += data + b"\n"
    index = b" ".join(offsets) + b"\n"
    packed = zlib.compress(index + body)
    plain = (
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Type /ObjStm /N %d /First %d /Filter %s %s /Length %d >>%sstream\n%s\nendstream"
        % (len(inner), len(index), filter_name, padding, len(packed), before_stream, packed),
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    entries = [b"\x00" + b"\x00" * 4 + b"\xff\xff"]
    for number, data in enumerate(plain, start=1):
        entries.append(b"\x01" + struct.pack(">I", len(out)) + b"\x00\x00")
        out += b"%d 0 obj\n%s\nendobj\n" % (number, data)
    entries += [b"\x02" + struct.pack(">IH", 4, position) for position in range(len(inner))]
    xref_number = 5 + len(inner)
    entries.append(b"\x01" + struct.pack(">I", len(out)) + b"\x00\x00")
    table = b"".join(entries)
    xref_at = len(out)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % (
        xref_number,
        xref_number + 1,
        len(table),
    )
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


OPEN_ACTION_JS = b"<< /Type /Action /S /JavaScript /JS (app.launchURL\\('http://x.test'\\)) >>"


def test_pdf_with_javascript_is_refused():
    document = pdf_document(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>")
    assert refusals([upload("surat.pdf", document)]) == [PDF_ACTIVE.format("surat.pdf")]


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /Launch /F (cmd.exe) >>",
        b"<< /S /Rendition /JS 4 0 R >>",  # a script in a stream: itself
        b"<< /Type /EmbeddedFile >>",
        b"<< /Names << /EmbeddedFiles << /Names [(a.exe) 3 0 R] >> >> >>",
        b"<< /S /J#61va#53cript /JS (x) >>",  # the same name, spelt with escapes
        b"<< /S /Rendition /J#53 (x) >>",
        b"<< /Type /Annot /Subtype /RichMedia /RichMediaContent << >> >>",
        b"<< /Type /Annot /Subtype /FileAttachment /FS << /EF << >> >> >>",
        b"<< /S /GoToR /F (//server/share/x.pdf) /D [0 /Fit] >>",
    ],
)
def test_pdf_with_launch_or_embedded_files_is_refused(action):
    assert refusals([upload("surat.pdf", pdf_document(action))]) == [PDF_ACTIVE.format("surat.pdf")]


def test_pdf_open_action_javascript_in_an_object_stream_whose_obj_is_far_from_stream():
    # More than 4 KB between "4 0 obj" and "stream" hid the object stream from the old scanner.
    padding = b"/Padding (" + b"A" * 5000 + b")"
    document = pdf_with_object_stream(
        [OPEN_ACTION_JS], catalog=b"/OpenAction 5 0 R", padding=padding
    )
    assert document.index(b"stream") - document.index(b"4 0 obj") > 4096
    assert refusals([upload("undangan.pdf", document)]) == [PDF_ACTIVE.format("undangan.pdf")]


def test_pdf_comment_between_dictionary_and_stream_hides_nothing():
    document = pdf_with_object_stream(
        [OPEN_ACTION_JS], catalog=b"/OpenAction 5 0 R", before_stream=b" % comment\n"
    )
    assert b">> % comment\nstream" in document
    assert refusals([upload("surat.pdf", document)]) == [PDF_ACTIVE.format("surat.pdf")]


def test_pdf_abbreviated_filter_name_hides_nothing():
    document = pdf_with_object_stream(
        [OPEN_ACTION_JS], catalog=b"/OpenAction 5 0 R", filter_name=b"/Fl"
    )
    assert refusals([upload("surat.pdf", document)]) == [PDF_ACTIVE.format("surat.pdf")]


def test_pdf_xfa_form_with_script_is_refused():
    xfa = (
        b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform>'
        b'<event activity="initialize"><script contentType="application/x-javascript">'
        b"app.alert(1)</script></event></subform></template></xdp:xdp>"
    )
    document = pdf_document(
        b"<< /Fields [] /XFA 5 0 R >>", pdf_stream(b"", xfa), catalog=b"/AcroForm 4 0 R "
    )
    assert refusals([upload("formulir.pdf", document)]) == [PDF_ACTIVE.format("formulir.pdf")]


def test_clean_pdf_is_accepted_and_stored_as_a_rewritten_copy():
    document = pdf_document(pdf_stream(b"", b"BT /F1 12 Tf 72 720 Td (Jalan rusak) Tj ET"))
    [clean] = clean_uploads([upload("surat.pdf", document + b"trailing bytes after EOF")])
    assert clean.content_type == "application/pdf"
    assert clean.content != document
    assert b"trailing bytes" not in clean.content
    with pikepdf.open(io.BytesIO(clean.content)) as pdf:
        assert len(pdf.pages) == 1


def test_pdf_open_action_to_a_page_and_metadata_are_removed():
    document = pdf_document(catalog=b"/OpenAction [3 0 R /Fit] ")
    document = document.replace(
        b"/Root 1 0 R >>", b"/Root 1 0 R /Info << /Author (Siti Rahmah) >> >>"
    )
    [clean] = clean_uploads([upload("surat.pdf", document)])
    assert b"Siti Rahmah" not in clean.content
    with pikepdf.open(io.BytesIO(clean.content)) as pdf:
        assert "/OpenAction" not in pdf.Root
        assert "/Author" not in pdf.docinfo


def test_pdf_javascript_hidden_in_a_compressed_object_stream_is_refused():
    document = pdf_with_object_stream([OPEN_ACTION_JS], catalog=b"/OpenAction 5 0 R")
    assert refusals([upload("lampiran.pdf", document)]) == [PDF_ACTIVE.format("lampiran.pdf")]


def test_pdf_object_stream_that_cannot_be_decoded_is_refused():
    stream = pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b"encrypted?!")
    assert refusals([upload("terkunci.pdf", pdf_document(stream))]) == [
        PDF_DAMAGED.format("terkunci.pdf")
    ]


def test_pdf_object_stream_that_inflates_beyond_reason_is_refused_before_it_is_decoded():
    # 40 KB that would inflate to 48 MB of object-stream data.
    padding = b"<< /Padding (" + b"A" * 48_000_000 + b") >>"
    document = pdf_with_object_stream([OPEN_ACTION_JS, padding])
    assert len(document) < 100_000
    assert refusals([upload("bom.pdf", document)]) == [PDF_DAMAGED.format("bom.pdf")]


def test_pdf_binary_streams_that_happen_to_contain_js_bytes_are_accepted():
    noise = random.Random(7).randbytes(4096)
    data = noise + b"/JS " + noise + b"/JS>" + noise
    stream = pdf_stream(b"/Type /XObject /Subtype /Image /Filter /DCTDecode", data)
    [clean] = clean_uploads([upload("pindaian.pdf", pdf_document(stream))])
    assert clean.content_type == "application/pdf"


def test_pdf_with_a_benign_compressed_object_stream_is_accepted():
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    document = pdf_with_object_stream([font])
    [clean] = clean_uploads([upload("formulir.pdf", document)])
    assert clean.content_type == "application/pdf"


@pytest.mark.parametrize(
    "damage",
    [
        lambda document: document[:-200],  # cut off: no cross-reference table, no trailer
        lambda document: document.replace(b"xref", b"xxxx"),
        lambda document: b"%PDF-1.7\n" + b"\x00" * 500,
    ],
)
def test_damaged_pdf_is_refused_with_a_clear_message(damage):
    assert refusals([upload("potong.pdf", damage(pdf_document()))]) == [
        PDF_DAMAGED.format("potong.pdf")
    ]


# --- Form field -------------------------------------------------------------------------------
class ComplaintForm(forms.Form):
    attachments = AttachmentsField()


def test_field_errors_name_the_file():
    files = MultiValueDict({"attachments": [png("baik.png"), upload("virus.jpg", b"MZ\x90\x00")]})
    form = ComplaintForm(data={}, files=files)
    assert not form.is_valid()
    assert form.errors["attachments"] == [NOT_ACCEPTED.format("virus.jpg")]


def test_field_cleans_to_a_list_of_clean_files():
    files = MultiValueDict(
        {"attachments": [png("a.png"), upload("b.pdf", pdf_document(), "application/pdf")]}
    )
    form = ComplaintForm(data={}, files=files)
    assert form.is_valid(), form.errors
    cleaned = form.cleaned_data["attachments"]
    assert [type(item) for item in cleaned] == [CleanFile, CleanFile]
    assert [item.original_name for item in cleaned] == ["a.png", "b.pdf"]
    assert [item.content_type for item in cleaned] == ["image/png", "application/pdf"]


def test_field_is_optional_by_default():
    form = ComplaintForm(data={}, files=MultiValueDict())
    assert form.is_valid()
    assert form.cleaned_data["attachments"] == []


def test_required_field_needs_a_file():
    class Form(forms.Form):
        attachments = AttachmentsField(required=True)

    form = Form(data={}, files=MultiValueDict())
    assert not form.is_valid()
    assert form.errors["attachments"] == ["This field is required."]


def test_field_counts_the_sixth_file():
    files = MultiValueDict({"attachments": [png(f"{n}.png") for n in range(1, 7)]})
    form = ComplaintForm(data={}, files=files)
    assert form.errors["attachments"] == [
        "You can attach at most 5 files; “6.png” is one too many."
    ]


def test_widget_allows_several_files_of_the_accepted_types():
    field = ComplaintForm().fields["attachments"]
    assert isinstance(field.widget, MultipleFileInput)
    html = str(ComplaintForm()["attachments"])
    assert "multiple" in html
    assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in html
    assert "required" not in html


# --- PDF: decompression bombs, time limit, links -----------------------------------------------
PDF_COMPLEX = "“{}” is a PDF too large or too complex to check."


def pdf_page_with(content: bytes) -> bytes:
    """A one-page PDF whose page shows the content stream ``content`` (object 4)."""
    return pdf_raw(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /MediaBox [0 0 595 842] >>",
        content,
    )


def zeros_deflated(megabytes: int) -> bytes:
    """A zlib stream of ``megabytes`` MB of zero bytes, built without compressing them all: one
    fully flushed block repeated, and the Adler-32 of that many zeros."""
    chunk = 1 << 20
    compressor = zlib.compressobj(9)
    zeros = b"\x00" * chunk
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    unit = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)[:-4]
    adler = ((megabytes * chunk) % 65521) << 16 | 1
    return first + unit * (megabytes - 1) + tail + struct.pack(">I", adler)


def test_a_14_kb_pdf_that_decodes_to_gigabytes_is_refused_within_seconds():
    # A page content stream: ASCIIHex -> Flate -> Flate, two gigabytes of zeros when decoded.
    packed = binascii.hexlify(zlib.compress(zeros_deflated(2048), 9)) + b">"
    content = pdf_stream(b"/Filter [/ASCIIHexDecode /FlateDecode /FlateDecode]", packed)
    document = pdf_page_with(content)
    assert len(document) < 16_000
    assert refusals([upload("bom.pdf", document)]) == [PDF_COMPLEX.format("bom.pdf")]


def test_a_pdf_stream_that_inflates_past_its_budget_is_refused():
    # One Flate layer only, 200 MB of zeros: over the per-stream budget.
    content = pdf_stream(b"/Filter /FlateDecode", zeros_deflated(200))
    document = pdf_page_with(content)
    assert refusals([upload("besar.pdf", document)]) == [PDF_COMPLEX.format("besar.pdf")]


def test_pdf_streams_that_together_inflate_past_the_document_budget_are_refused():
    streams = [pdf_stream(b"/Filter /FlateDecode", zeros_deflated(30)) for _ in range(3)]
    assert refusals([upload("banyak.pdf", pdf_document(*streams))]) == [
        PDF_COMPLEX.format("banyak.pdf")
    ]


def test_a_pdf_with_an_ordinary_compressed_page_is_accepted():
    text = b"BT /F1 12 Tf 72 720 Td (Jalan rusak di depan pasar) Tj ET\n" * 200
    content = pdf_stream(
        b"/Filter [/ASCIIHexDecode /FlateDecode]", binascii.hexlify(zlib.compress(text))
    )
    document = pdf_page_with(content)
    [clean] = clean_uploads([upload("surat.pdf", document)])
    with pikepdf.open(io.BytesIO(clean.content)) as pdf:
        assert pdf.pages[0].Contents.read_bytes() == text


def test_cleaning_a_pdf_is_bounded_in_time(monkeypatch):
    # The child process that checks a PDF is stopped at the time limit; the file is refused.
    monkeypatch.setattr(attachments, "PDF_CLEAN_SECONDS", 0.001)
    assert refusals([upload("lambat.pdf", pdf_document())]) == [PDF_COMPLEX.format("lambat.pdf")]


@pytest.mark.parametrize(
    "uri",
    [b"file:///etc/passwd", b"smb://10.0.0.1/share/x", b"  FILE://c:/windows", b"javascript:x()"],
)
def test_pdf_link_to_anything_but_a_web_address_is_refused(uri):
    action = b"<< /Type /Action /S /URI /URI (%s) >>" % uri
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A 4 0 R >>"
    assert refusals([upload("tautan.pdf", pdf_document(action, link))]) == [
        PDF_ACTIVE.format("tautan.pdf")
    ]


def test_pdf_link_base_that_is_not_a_web_address_is_refused():
    document = pdf_document(catalog=b"/URI << /Base (file:///C:/) >> ")
    assert refusals([upload("dasar.pdf", document)]) == [PDF_ACTIVE.format("dasar.pdf")]


def test_pdf_link_to_a_web_address_is_accepted():
    action = b"<< /Type /Action /S /URI /URI (https://banjarbarukota.go.id/) >>"
    [clean] = clean_uploads([upload("tautan.pdf", pdf_document(action))])
    assert clean.content_type == "application/pdf"
