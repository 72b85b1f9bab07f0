"""Checking and rewriting one uploaded PDF with qpdf (through pikepdf), in a process of its own.

``complaints.attachments.clean_pdf`` runs this file as a script: the upload on stdin, the clean
copy on stdout, and the exit code says what was found (``CLEAN``, ``ACTIVE``, ``DAMAGED``,
``TOO_COMPLEX``). The script first limits its own CPU time and address space, so a file crafted
to make qpdf work for minutes or allocate gigabytes kills only this process; the caller's
timeout covers the rest. No Django here: the child starts in a fraction of a second.

What is checked. The rewritten copy is stored, never the uploaded bytes, so what staff and the
public download is exactly what was checked (no second parser reading the file differently, no
bytes after the end, no objects that nothing refers to). Refused:

- anything qpdf cannot parse (including object streams that do not decode);
- anything that makes a document act instead of display: JavaScript, /Launch and other actions
  that start programs or load files, embedded files, RichMedia (Flash, 3D), XFA forms, and links
  (/URI) to anything but an http(s) address (``file://``, ``smb://`` leak credentials or open
  local files);
- streams that decode beyond a budget: every stream's decoded size is measured (Flate with a
  bounded inflater, before qpdf decodes anything) against a limit per stream and one for the
  whole file, and a chain of filters that compresses twice (``ASCIIHex`` -> ``Flate`` ->
  ``Flate`` turns 14 KB into gigabytes) is refused outright.

/OpenAction and /AA (actions run on opening a document, a page or a field) are removed even
when they only jump to a page. The author's name and other document metadata go too, like EXIF
from photos.
"""

import base64
import binascii
import io
import re
import sys
import zlib

import pikepdf

CLEAN, ACTIVE, DAMAGED, TOO_COMPLEX = 0, 10, 11, 12

# Decoded bytes: per stream (a scanned page stored as Flate-compressed pixels is ~25 MB), and for
# the whole document, object streams included.
MAX_STREAM_DECODED = 32 * 1024 * 1024
MAX_DOCUMENT_DECODED = 64 * 1024 * 1024
# Object streams hold only dictionaries and are small; qpdf decodes each whole into memory.
MAX_OBJECT_STREAMS_DECODED = 40 * 1024 * 1024
# The child's own limits; the caller's wall-clock timeout stops it earlier in most cases.
MAX_ADDRESS_SPACE = 1024 * 1024 * 1024
# More objects than a complaint's document needs; walking them would cost seconds.
MAX_PDF_OBJECTS = 200_000
MAX_FILTERS = 4

_ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/EF",
        "/XFA",
        "/RichMediaContent",
        "/RichMediaSettings",
    }
)
_ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/EmbeddedFile",
        "/FileAttachment",
        "/GoToE",
        "/GoToR",  # opens another file, e.g. on a network share (leaks Windows credentials)
        "/ImportData",
        "/SubmitForm",
        "/RichMedia",
        "/RichMediaExecute",
    }
)
_STRIPPED_KEYS = ("/OpenAction", "/AA")
_WEB_ADDRESS = re.compile(rb"^https?://", re.IGNORECASE)

_FILTER_NAMES = {
    "/AHx": "/ASCIIHexDecode",
    "/A85": "/ASCII85Decode",
    "/LZW": "/LZWDecode",
    "/Fl": "/FlateDecode",
    "/RL": "/RunLengthDecode",
    "/CCF": "/CCITTFaxDecode",
    "/DCT": "/DCTDecode",
}
# Filters that expand what they decode; a chain may hold one of them, not two.
_EXPANDING = frozenset(
    {
        "/FlateDecode",
        "/LZWDecode",
        "/RunLengthDecode",
        "/CCITTFaxDecode",
        "/DCTDecode",
        "/JPXDecode",
        "/JBIG2Decode",
    }
)
# Decoded by qpdf when it rewrites streams; image codecs are copied as they are.
_QPDF_DECODES = frozenset(
    {"/ASCIIHexDecode", "/ASCII85Decode", "/FlateDecode", "/LZWDecode", "/RunLengthDecode"}
)


class Refused(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


# --- decoded size -----------------------------------------------------------------------------
def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    values = value if isinstance(value, pikepdf.Array) else [value]
    if not all(isinstance(v, pikepdf.Name) for v in values):
        raise Refused(DAMAGED)
    return [_FILTER_NAMES.get(str(v), str(v)) for v in values]


def _ascii_hex(data: bytes) -> bytes:
    data = re.sub(rb"\s", b"", data.split(b">", 1)[0])
    if len(data) % 2:
        data += b"0"
    return binascii.unhexlify(data)


def _ascii_85(data: bytes) -> bytes:
    data = re.sub(rb"\s", b"", data.split(b"~>", 1)[0])
    if data.startswith(b"<~"):
        data = data[2:]
    return base64.a85decode(data)


def _inflate(data: bytes, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``data`` inflated: enough to tell it is over the limit."""
    inflater = zlib.decompressobj()
    return inflater.decompress(data, limit + 1)


def _decoded_size(stream: pikepdf.Stream, limit: int) -> int:
    """The size ``stream`` decodes to as qpdf would decode it, measured without letting it grow
    past ``limit`` (refused beyond)."""
    filters = _filters(stream)
    if len(filters) > MAX_FILTERS or sum(f in _EXPANDING for f in filters) > 1:
        raise Refused(TOO_COMPLEX)
    if not filters or not set(filters) <= _QPDF_DECODES:
        return len(stream.read_raw_bytes())  # stored as it is
    if set(filters) & {"/LZWDecode", "/RunLengthDecode"}:
        # Rare today; decoded by qpdf itself, within this process's memory and CPU limits.
        size = len(stream.read_bytes())
    else:
        data = stream.read_raw_bytes()
        try:
            for name in filters:
                if name == "/ASCIIHexDecode":
                    data = _ascii_hex(data)
                elif name == "/ASCII85Decode":
                    data = _ascii_85(data)
                else:
                    data = _inflate(data, limit)
        except (ValueError, binascii.Error, zlib.error):
            raise Refused(DAMAGED) from None
        size = len(data)
    if size > limit:
        raise Refused(TOO_COMPLEX)
    return size


def check_streams(pdf: pikepdf.Pdf) -> None:
    """Every stream's decoded size within its budget and the document's, before qpdf decodes
    any of them (object streams are decoded as the file is read, so they come first)."""
    objstm_budget = MAX_OBJECT_STREAMS_DECODED
    containers = {
        entry.obj_stream_number
        for entry in pdf.get_xref_table().values()
        if entry.type == 2  # an object stored in an object stream
        and entry.obj_stream_number is not None
    }
    for number in sorted(containers):
        stream = pdf.get_object((number, 0))
        if not isinstance(stream, pikepdf.Stream):
            raise Refused(DAMAGED)
        objstm_budget -= _object_stream_size(stream, objstm_budget)
    if len(pdf.objects) > MAX_PDF_OBJECTS:
        raise Refused(TOO_COMPLEX)
    budget = MAX_DOCUMENT_DECODED - (MAX_OBJECT_STREAMS_DECODED - objstm_budget)
    for stream in pdf.objects:
        if not isinstance(stream, pikepdf.Stream) or stream.objgen[0] in containers:
            continue
        if stream.get("/Type") == "/ObjStm":
            # Unused by qpdf, but a damaged one is still damage.
            objstm_budget -= _object_stream_size(stream, objstm_budget)
            budget = MAX_DOCUMENT_DECODED - (MAX_OBJECT_STREAMS_DECODED - objstm_budget)
        elif stream.get("/Type") != "/XRef":
            budget -= _decoded_size(stream, min(MAX_STREAM_DECODED, budget))
        if budget < 0:
            raise Refused(TOO_COMPLEX)


def _object_stream_size(stream: pikepdf.Stream, budget: int) -> int:
    """An object stream holds only dictionaries: plain or Flate, nothing else, and it must
    decode (qpdf reads objects out of it)."""
    filters = _filters(stream)
    if filters not in ([], ["/FlateDecode"]):
        raise Refused(DAMAGED)  # no writer compresses object streams otherwise
    raw = stream.read_raw_bytes()
    try:
        size = len(_inflate(raw, budget)) if filters else len(raw)
    except zlib.error:
        raise Refused(DAMAGED) from None
    if size > budget:
        raise Refused(DAMAGED)
    stream.read_bytes()  # raises when qpdf cannot decode it either
    return size


# --- active content ---------------------------------------------------------------------------
def _uri_is_web(value) -> bool:
    if not isinstance(value, pikepdf.String):
        return False
    return bool(_WEB_ADDRESS.match(bytes(value).strip()))


def _dictionary_is_active(dictionary) -> bool:
    keys = set(dictionary.keys())
    if _ACTIVE_KEYS.intersection(keys):
        return True
    if "/URI" in keys:
        uri = dictionary.get("/URI")
        if dictionary.get("/S") == "/URI" and not _uri_is_web(uri):
            return True
        # The catalog's /URI << /Base … >> makes relative links resolve against it.
        if isinstance(uri, pikepdf.Dictionary) and "/Base" in uri:
            return not _uri_is_web(uri.get("/Base"))
    return False


def is_active(pdf: pikepdf.Pdf) -> bool:
    """Whether any object of ``pdf`` (reachable or not) holds active content."""
    for indirect in pdf.objects:
        stack = [indirect]
        while stack:
            current = stack.pop()
            if isinstance(current, pikepdf.Name):
                if str(current) in _ACTIVE_NAMES:
                    return True
            elif isinstance(current, pikepdf.Stream):
                if current.get("/Type") in ("/ObjStm", "/XRef"):
                    continue
                stack.extend(_direct_children(current.stream_dict))
                if _dictionary_is_active(current.stream_dict):
                    return True
            elif isinstance(current, pikepdf.Dictionary):
                if _dictionary_is_active(current):
                    return True
                stack.extend(_direct_children(current))
            elif isinstance(current, pikepdf.Array):
                stack.extend(_direct_children(current))
    return False


def _direct_children(container) -> list:
    """The values of a dictionary or array that may hold names: direct objects only (indirect
    ones are visited on their own, once, as members of ``pdf.objects``); pikepdf gives numbers
    and booleans as plain Python values, which hold nothing."""
    values = container.values() if isinstance(container, pikepdf.Dictionary) else container
    return [
        value for value in values if isinstance(value, pikepdf.Object) and not value.is_indirect
    ]


def strip(pdf: pikepdf.Pdf) -> None:
    """Remove opening and page/field actions and the document's metadata."""
    for indirect in pdf.objects:
        if isinstance(indirect, pikepdf.Dictionary | pikepdf.Stream):
            for key in _STRIPPED_KEYS:
                if key in indirect:
                    del indirect[key]
    for key in ("/Metadata", "/OpenAction", "/AA"):
        if key in pdf.Root:
            del pdf.Root[key]
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]


def clean(data: bytes) -> bytes:
    """``data`` checked and written out again; raises ``Refused``."""
    try:
        with pikepdf.open(io.BytesIO(data), attempt_recovery=False) as pdf:
            check_streams(pdf)
            if is_active(pdf):
                raise Refused(ACTIVE)
            strip(pdf)
            output = io.BytesIO()
            pdf.save(
                output,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                compress_streams=True,
                fix_metadata_version=False,
            )
    except Refused:
        raise
    except MemoryError:
        raise Refused(TOO_COMPLEX) from None
    except Exception:  # pikepdf.PdfError, PasswordError, and anything a bad file raises
        raise Refused(DAMAGED) from None
    return output.getvalue()


def _limit_self(cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE))


def main(argv: list[str]) -> int:
    _limit_self(max(1, int(argv[1])) if len(argv) > 1 else 5)
    data = sys.stdin.buffer.read()
    try:
        content = clean(data)
    except Refused as refusal:
        return refusal.code
    sys.stdout.buffer.write(content)
    return CLEAN


if __name__ == "__main__":
    sys.exit(main(sys.argv))
