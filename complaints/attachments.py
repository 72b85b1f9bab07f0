"""Checking and cleaning the files citizens attach to a complaint.

Up to ``MAX_FILES`` files of at most ``MAX_FILE_BYTES`` each: JPEG, PNG and WebP images and PDF
documents. The type is decided from the content, never from the file name or the content type
the browser claims. Images are decoded and re-encoded, which drops EXIF (GPS position, camera
serial number), ICC, XMP and comments, and shrinks photos for readers on slow connections.
PDFs cannot be re-encoded, so they are screened for scripts and embedded files instead.

``clean_uploads`` gives one ``CleanFile`` per upload, stored under a random name, or raises a
``ValidationError`` naming every refused file; ``AttachmentsField`` does the same in a form.
"""

import contextlib
import io
import logging
import re
import secrets
import unicodedata
import zlib
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.widgets import FILE_INPUT_CONTRADICTION
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
# A 40-megapixel RGBA image takes 160 MB once decoded; anything larger is refused unread.
MAX_IMAGE_PIXELS = 40_000_000
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


def _too_many_pixels(size: tuple[int, int]) -> bool:
    width, height = size
    return width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS


def _refuse_too_large_image() -> _Refused:
    return _Refused(_("“%(name)s” is too large an image to process."), "image_too_large")


def _refuse_unreadable_image() -> _Refused:
    return _Refused(_("“%(name)s” could not be read as an image."), "image_unreadable")


def _open(data: bytes, content_type: str) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=PILLOW_FORMATS[content_type])
    if image.format not in PILLOW_FORMATS[content_type]:
        raise _refuse_unreadable_image()
    # Image.open read only the header: refuse before anything is decoded.
    if _too_many_pixels(image.size):
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
        if _too_many_pixels(size):
            raise _refuse_too_large_image()
    try:
        with _open(data, content_type) as image:
            image.verify()
        with _open(data, content_type) as image:
            if content_type == JPEG:
                # Lets the JPEG decoder skip detail that the downscaling below throws away.
                image.draft(None, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
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

    output = io.BytesIO()
    if content_type == JPEG:
        fresh.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif content_type == PNG:
        fresh.save(output, "PNG", optimize=True)
    else:
        fresh.save(output, "WEBP", quality=WEBP_QUALITY)
    return output.getvalue()


# --- PDF --------------------------------------------------------------------------------------
# PDF is the one type that is stored as uploaded, so it is screened for what makes a document
# act rather than just display: JavaScript (actions and the document-level name tree; /JS also
# appears in rendition actions), /Launch actions that start programs on the reader's computer,
# and embedded files, which can carry any payload past the type check above. Staff open these
# attachments on office computers; a complaint has no need for any of this. The screen works on
# names, not on a full parse, so it is a safety net behind serving PDFs as downloads.
_DANGEROUS_NAMES = frozenset({b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles"})
# The three bytes "/JS" turn up by chance in compressed stream data (a plain byte search would
# refuse about half of all 10 MB scanned documents), so stream data is searched for the long
# names only. Dictionaries, where an action would have to be, are searched for all of them.
_DANGEROUS_LONG_NAMES = _DANGEROUS_NAMES - {b"JS"}
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_PDF_FILTERS = frozenset(
    {
        b"ASCIIHexDecode",
        b"ASCII85Decode",
        b"LZWDecode",
        b"FlateDecode",
        b"RunLengthDecode",
        b"CCITTFaxDecode",
        b"JBIG2Decode",
        b"DCTDecode",
        b"JPXDecode",
        b"Crypt",
    }
)
# Object streams hold only dictionaries and are small; more than this is not a normal file.
_MAX_OBJECT_STREAM_BYTES = 8 * 1024 * 1024
_MAX_OBJECT_STREAMS_TOTAL = 4 * MAX_FILE_BYTES


def _pdf_names(data: bytes) -> set[bytes]:
    """Every name in ``data``, with ``#xx`` escapes decoded (``/J#61vaScript`` is /JavaScript)."""
    return {
        _PDF_NAME_ESCAPE.sub(lambda match: bytes([int(match[1], 16)]), name)
        for name in _PDF_NAME.findall(data)
    }


def _refuse_damaged_pdf() -> _Refused:
    return _Refused(
        _("“%(name)s” is a damaged or encrypted PDF that cannot be checked."), "pdf_unchecked"
    )


def _object_stream_content(header_names: set[bytes], body: bytes) -> bytes | None:
    """The decoded objects of an object stream; None when they cannot be decoded here."""
    filters = header_names & _PDF_FILTERS
    if not filters:
        return body
    if filters != {b"FlateDecode"}:
        return None
    decompressor = zlib.decompressobj()
    try:
        content = decompressor.decompress(body, _MAX_OBJECT_STREAM_BYTES)
    except zlib.error:
        return None  # also what encrypted object streams look like
    if decompressor.unconsumed_tail:
        return None
    return content


def check_pdf(data: bytes) -> None:
    """Raise ``_Refused`` unless ``data`` is a complete PDF without scripts or embedded files."""
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise _refuse_damaged_pdf()

    dictionaries: list[bytes] = []  # everything outside stream data, plus object streams
    stream_data: list[bytes] = []
    decoded_total = 0
    position = 0
    while match := _PDF_STREAM.search(data, position):
        start = match.end()
        end = data.find(b"endstream", start)
        if end == -1:
            break
        dictionaries.append(data[position:start])
        body = data[start:end]
        # The stream's dictionary: from its "N 0 obj" (or at most 4 KB back) to "stream".
        window_start = max(position, match.start() - 4096)
        object_start = data.rfind(b"obj", window_start, match.start())
        header_start = window_start if object_start == -1 else object_start
        header_names = _pdf_names(data[header_start : match.end()])
        if b"ObjStm" in header_names:
            content = _object_stream_content(header_names, body)
            if content is None:
                raise _refuse_damaged_pdf()
            decoded_total += len(content)
            if decoded_total > _MAX_OBJECT_STREAMS_TOTAL:
                raise _refuse_damaged_pdf()
            dictionaries.append(content)
        else:
            stream_data.append(body)
        position = end
    dictionaries.append(data[position:])

    if any(_pdf_names(part) & _DANGEROUS_NAMES for part in dictionaries) or any(
        _pdf_names(part) & _DANGEROUS_LONG_NAMES for part in stream_data
    ):
        raise _Refused(
            _("“%(name)s” is a PDF with scripts or embedded files, which are not accepted."),
            "pdf_active_content",
        )


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
    if content_type == PDF:
        check_pdf(data)
        content = data
    else:
        content = clean_image(data, content_type)
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
