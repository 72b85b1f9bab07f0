"""GeoReport v2 bodies in XML and JSON, as the specification's examples show them.

JSON lists are bare arrays; XML wraps them in the spec's root and item elements. Empty values
are present and empty: ``""`` in JSON, an empty element in XML.
"""

import json
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from lapor.text import xml_safe

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# Child element names of the lists nested in a body.
LIST_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A second line behind the input's cleaning: XML cannot carry every character.
    return xml_safe(str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        child_tag = LIST_ITEMS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, child_tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, body, item: str | None = None) -> bytes:
    """``body`` (a dict, or a list of dicts each in an ``item`` element) under ``root``."""
    element = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _fill(ET.SubElement(element, item), entry)
    else:
        _fill(element, body)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, body, *, root: str, item: str | None = None, status: int = 200):
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False).encode()
    else:
        content = to_xml(root, body, item)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, description: str, headers: dict | None = None):
    """The spec's error body: ``errors``/``error`` with ``code`` and ``description``."""
    response = respond(
        fmt,
        [{"code": status, "description": str(description)}],
        root="errors",
        item="error",
        status=status,
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response
