"""Checking and cleaning the files citizens attach to a complaint.

Up to ``MAX_FILES`` files of at most ``MAX_FILE_BYTES`` each: JPEG, PNG and WebP images and PDF
documents. The type is decided from the content, never from the file name or the content type
the browser claims. Images are decoded and re-encoded, which drops EXIF (GPS position, camera
serial number), ICC, XMP and comments, and shrinks photos for readers on slow connections.
PDFs are parsed by qpdf in a child process with time and memory limits, refused when they carry
scripts, embedded files or other active content or decode beyond a budget, and written out
again without opening actions or metadata.

``clean_uploads`` gives one ``CleanFile`` per upload, stored under a random name, or raises a
``ValidationError`` naming every refused file; ``AttachmentsField`` does the same in a form.
"""

import contextlib
import io
import logging
import math
import secrets
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.widgets import FILE_INPUT_CONTRADICTION
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageOps

from . import pdfclean

logger = logging.getLogger(__name__)

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
# Checked from the header, before anything is decoded. A JPEG is decoded at a reduced scale
# (the DCT gives 1/2, 1/4, 1/8 for free), so a 50-megapixel phone photo costs little; PNG and
# WebP have no such shortcut and every pixel is decoded, converted and resampled (a 40-megapixel
# PNG took 1.5 s of server time), so they are held to 4096 x 4096, more than any screenshot.
MAX_IMAGE_PIXELS = 50_000_000
MAX_LOSSLESS_PIXELS = 4096 * 4096
# Longest side of a stored image: plenty for a photo of a pothole, light on a phone's data plan.
MAX_IMAGE_SIDE = 2560
JPEG_QUALITY = 85
WEBP_QUALITY = 85
MAX_NAME_LENGTH = 120

JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
ACCEPTED_CONTENT_TYPES = (JPEG, PNG, WEBP, PDF)
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", WEBP: ".webp", PDF: ".pdf"}
# What Pillow calls each image type. Multi-picture JPEGs, which some phone cameras write,
# open as "MPO"; their first picture is an ordinary JPEG.
PILLOW_FORMATS = {JPEG: ("JPEG", "MPO"), PNG: ("PNG",), WEBP: ("WEBP",)}


@dataclass(frozen=True)
class CleanFile:
    """An accepted attachment, ready to be stored as ``name`` (e.g. with ``ContentFile``)."""

    name: str  # random, with the extension of the detected type
    original_name: str  # the uploader's file name, sanitised, for display only
    content_type: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


class _Refused(Exception):
    """One file refused; ``message`` is a translated text with a ``%(name)s`` placeholder."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


# --- Names ------------------------------------------------------------------------------------
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def sanitise_filename(name: str | None) -> str:
    """The uploader's file name fit for display: no folders, control characters or excess length.

    Format characters (category Cf) go too: a right-to-left override can make ``gpj.exe`` look
    like ``exe.jpg``.
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) not in _UNSAFE_CATEGORIES
    )
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            suffix = dot + extension
            name = stem[: MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name


def random_name(content_type: str) -> str:
    return secrets.token_hex(16) + EXTENSIONS[content_type]


# --- Type detection ---------------------------------------------------------------------------
def sniff_content_type(data: bytes) -> str | None:
    """The accepted type ``data`` starts like, from its signature; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


# --- Images -----------------------------------------------------------------------------------
def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP header (VP8, VP8L or VP8X), without decoding anything."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    return None


def _too_many_pixels(size: tuple[int, int], content_type: str) -> bool:
    width, height = size
    limit = MAX_IMAGE_PIXELS if content_type == JPEG else MAX_LOSSLESS_PIXELS
    return width <= 0 or height <= 0 or width * height > limit


def _refuse_too_large_image() -> _Refused:
    return _Refused(_("“%(name)s” is too large an image to process."), "image_too_large")


def _refuse_unreadable_image() -> _Refused:
    return _Refused(_("“%(name)s” could not be read as an image."), "image_unreadable")


def _open(data: bytes, content_type: str) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=PILLOW_FORMATS[content_type])
    if image.format not in PILLOW_FORMATS[content_type]:
        raise _refuse_unreadable_image()
    # Image.open read only the header: refuse before anything is decoded.
    if _too_many_pixels(image.size, content_type):
        raise _refuse_too_large_image()
    return image


def _output_mode(image: Image.Image, content_type: str) -> str:
    has_alpha = image.has_transparency_data
    if content_type == JPEG:
        return "L" if image.mode == "L" else "RGB"
    if content_type == WEBP:
        return "RGBA" if has_alpha else "RGB"
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image.mode
    if has_alpha:
        return "RGBA"
    return "L" if image.mode in ("1", "I", "I;16", "I;16B", "I;16L", "F") else "RGB"


def clean_image(data: bytes, content_type: str) -> bytes:
    """``data`` decoded, turned upright, shrunk and re-encoded as ``content_type``; no metadata.

    Raises ``_Refused`` for images that cannot be decoded or are too large to decode safely.
    """
    if content_type == WEBP:
        # Pillow's WebP decoder allocates the whole canvas when the file is opened.
        size = _webp_canvas_size(data)
        if size is None:
            raise _refuse_unreadable_image()
        if _too_many_pixels(size, content_type):
            raise _refuse_too_large_image()
    try:
        with _open(data, content_type) as image:
            image.verify()
        with _open(data, content_type) as image:
            if content_type == JPEG:
                # Lets the JPEG decoder skip detail that the downscaling below throws away:
                # ask for the size the thumbnail will have, so the scale can drop to 1/2 or less.
                width, height = image.size
                ratio = min(1.0, MAX_IMAGE_SIDE / max(width, height))
                image.draft(None, (max(1, int(width * ratio)), max(1, int(height * ratio))))
            upright = ImageOps.exif_transpose(image)
            mode = _output_mode(upright, content_type)
            if upright.mode.startswith("I"):
                # 16-bit greyscale PNG: scale to 8 bits, where a plain convert would clip.
                upright = upright.convert("I").point(lambda value: value * (1 / 256))
            if upright.mode != mode:
                upright = upright.convert(mode)
            upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
            # A new image carries no ``info`` (EXIF, ICC profile, XMP, comments, DPI, text
            # chunks), so nothing of the original's metadata can reach the encoder.
            fresh = Image.new(mode, upright.size)
            fresh.paste(upright)
    except _Refused:
        raise
    # Pillow's own limit (Image.MAX_IMAGE_PIXELS) may also fire, and is a refusal too. The
    # warning is only an exception where warnings are turned into errors; it is not changed
    # here, as warning filters are process-wide state.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _refuse_too_large_image() from error
    except Exception as error:  # any failure to decode untrusted bytes is a refusal
        logger.info("Attachment refused: %s could not be decoded", content_type, exc_info=True)
        raise _refuse_unreadable_image() from error

    return _encode(fresh, content_type)


def _encode(fresh: Image.Image, content_type: str) -> bytes:
    """A new image (it carries no ``info``, so no metadata) encoded as ``content_type``."""
    output = io.BytesIO()
    if content_type == JPEG:
        fresh.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif content_type == PNG:
        fresh.save(output, "PNG", optimize=True)
    else:
        fresh.save(output, "WEBP", quality=WEBP_QUALITY)
    return output.getvalue()


@dataclass(frozen=True)
class Rectangle:
    """A region of an image in its pixels: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int

    def within(self, size: tuple[int, int]) -> "Rectangle | None":
        """This rectangle cut to an image of ``size``; None when nothing of it is inside."""
        left, top = max(0, self.x), max(0, self.y)
        right = min(size[0], self.x + self.width)
        bottom = min(size[1], self.y + self.height)
        if right <= left or bottom <= top:
            return None
        return Rectangle(left, top, right - left, bottom - top)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.width, self.height]


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a stored (already cleaned) image, from its header."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def redact_image(data: bytes, content_type: str, rectangles: list[Rectangle]) -> bytes:
    """A copy of a stored image with each rectangle filled black, re-encoded as
    ``content_type`` without any metadata (EXIF, ICC, XMP, comments).

    Only for files that ``clean_image`` has accepted already (bounded in size)."""
    with Image.open(io.BytesIO(data), formats=PILLOW_FORMATS[content_type]) as image:
        image.load()
        mode = _output_mode(image, content_type)
        fresh = Image.new(mode, image.size)
        fresh.paste(image.convert(mode) if image.mode != mode else image)
    draw = ImageDraw.Draw(fresh)
    black = (0, 0, 0, 255)[: len(mode)] if mode != "L" else 0
    for box in rectangles:
        draw.rectangle((box.x, box.y, box.x + box.width - 1, box.y + box.height - 1), fill=black)
    return _encode(fresh, content_type)


# --- PDF --------------------------------------------------------------------------------------
# A PDF is parsed, checked and written out again by qpdf (see complaints/pdfclean.py) in a child
# process of its own, with a CPU-time and memory limit and a wall-clock timeout: whatever a
# crafted file makes qpdf do, this worker answers within seconds and lives on.
PDF_CLEAN_SECONDS = 5.0
_PDFCLEAN = Path(__file__).with_name("pdfclean.py")


def _refuse_damaged_pdf() -> _Refused:
    return _Refused(
        _("“%(name)s” is a damaged or encrypted PDF that cannot be checked."), "pdf_unchecked"
    )


def _refuse_active_pdf() -> _Refused:
    return _Refused(
        _("“%(name)s” is a PDF with scripts or embedded files, which are not accepted."),
        "pdf_active_content",
    )


def _refuse_complex_pdf() -> _Refused:
    return _Refused(_("“%(name)s” is a PDF too large or too complex to check."), "pdf_too_complex")


def clean_pdf(data: bytes) -> bytes:
    """``data`` parsed, checked and written out again by qpdf in a limited child process;
    raises ``_Refused``."""
    try:
        done = subprocess.run(  # noqa: S603 (our own script, the upload on stdin)
            [sys.executable, "-I", str(_PDFCLEAN), str(math.ceil(PDF_CLEAN_SECONDS))],
            input=data,
            capture_output=True,
            timeout=PDF_CLEAN_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        logger.info("Attachment refused: PDF took more than %s s to check", PDF_CLEAN_SECONDS)
        raise _refuse_complex_pdf() from error
    if done.returncode == pdfclean.ACTIVE:
        raise _refuse_active_pdf()
    if done.returncode == pdfclean.DAMAGED:
        raise _refuse_damaged_pdf()
    if done.returncode != pdfclean.CLEAN:
        # Over a budget, nested compression, or killed by its CPU or memory limit.
        logger.info("Attachment refused: PDF check ended with %s", done.returncode)
        raise _refuse_complex_pdf()
    content = done.stdout
    if len(content) > MAX_FILE_BYTES:
        raise _Refused(_("“%(name)s” is larger than 10 MB."), "file_too_large")
    return content


# --- Uploads ----------------------------------------------------------------------------------
def _read(upload: UploadedFile) -> bytes:
    """The upload's content; never more than one byte past the limit."""
    too_large = _Refused(_("“%(name)s” is larger than 10 MB."), "file_too_large")
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise too_large
    with contextlib.suppress(AttributeError, OSError, ValueError):
        upload.seek(0)  # a stream that cannot seek is read from where it is
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise too_large
    if not data:
        raise _Refused(_("“%(name)s” is empty."), "empty")
    return data


def _clean_one(upload: UploadedFile, original_name: str) -> CleanFile:
    data = _read(upload)
    content_type = sniff_content_type(data)
    if content_type is None:
        raise _Refused(
            _("“%(name)s” is not a JPEG, PNG or WebP image or a PDF."), "unsupported_type"
        )
    content = clean_pdf(data) if content_type == PDF else clean_image(data, content_type)
    return CleanFile(
        name=random_name(content_type),
        original_name=original_name,
        content_type=content_type,
        content=content,
    )


def clean_uploads(files: list[UploadedFile]) -> list[CleanFile]:
    """Check and clean every upload; raise one ValidationError that names every refused file."""
    cleaned: list[CleanFile] = []
    errors: list[ValidationError] = []
    for index, upload in enumerate(files):
        original_name = sanitise_filename(upload.name) or "attachment"
        if index >= MAX_FILES:
            errors.append(
                ValidationError(
                    _("You can attach at most 5 files; “%(name)s” is one too many."),
                    code="too_many_files",
                    params={"name": original_name},
                )
            )
            continue
        try:
            cleaned.append(_clean_one(upload, original_name))
        except _Refused as refusal:
            errors.append(
                ValidationError(refusal.message, code=refusal.code, params={"name": original_name})
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- Forms ------------------------------------------------------------------------------------
class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files from one ``<input type="file" multiple>``; cleans to ``list[CleanFile]``.

    Django's documented pattern for multiple files with one field, with ``clean_uploads``
    doing the checks so that every refused file gets its own message.
    """

    def __init__(self, *, required: bool = False, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(ACCEPTED_CONTENT_TYPES)})
        )
        super().__init__(required=required, **kwargs)

    def clean(self, data, initial=None) -> list[CleanFile]:
        if data is FILE_INPUT_CONTRADICTION:
            raise ValidationError(self.error_messages["contradiction"], code="contradiction")
        if isinstance(data, list | tuple):
            uploads = [upload for upload in data if upload]
        else:
            uploads = [data] if data else []
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if not all(hasattr(upload, "name") and hasattr(upload, "size") for upload in uploads):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return clean_uploads(uploads)
