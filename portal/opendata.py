"""Open data: the public complaints as GeoJSON and CSV, streamed, filtered like the list.

No personal data leaves here: the rows come from ``complaints.selectors.open_data_rows`` (fixed
columns, nothing about the reporter, no free text but the title) over ``Purpose.PUBLIC`` (never
rahasia). Licence: Creative Commons Attribution 4.0 (see docs/open-data.md).

Anonymous downloads of up to ``lapor.pagecache.MAX_STREAMED_BYTES`` are kept in the page cache
while they are sent, and later ones streamed from it until the next change of public data.
"""

import csv
import io
import json
from urllib.parse import quote

from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.views.decorators.http import require_safe

from complaints.filters import OpenDataFilter
from complaints.selectors import complaints_open_data, open_data_rows
from lapor.pagecache import public_page

LICENSE_NAME = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
COLUMNS = (
    ("tracking_code", "tracking_code"),
    ("title", "title"),
    ("classification", "classification"),
    ("category_code", "category__code"),
    ("category", "category__name_id"),
    ("region_code", "region__code"),
    ("region", "region__name"),
    ("district", "district"),
    ("status", "status"),
    ("agency", "assigned_agency__name"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("supporters", "supporter_count"),
    ("submitted_at", "created_at"),
    ("resolved_at", "resolved_at"),
    ("closed_at", "closed_at"),
)


def _filtered(request):
    filterset = OpenDataFilter(request.GET or None, queryset=complaints_open_data())
    if request.GET and not filterset.is_valid():
        return None, JsonResponse(
            {
                "errors": {
                    k: [e["message"] for e in v]
                    for k, v in filterset.errors.get_json_data().items()
                }
            },
            status=400,
        )
    return filterset.qs, None


def _value(row, key):
    value = row[key]
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if not isinstance(value, str | int) else value


# About 64 KB of rows per chunk of the answer: one write to the socket for a few hundred rows,
# not one per row (a regency's month is thousands of rows).
CHUNK_CHARS = 64 * 1024
_PLACEHOLDER = "TRACKINGCODE"


def _url_maker():
    """``code -> the complaint page's full URL``, as ``reverse`` gives it, resolved once per
    download rather than once per row (a third of a row's formatting time)."""
    head, tail = reverse("complaint-detail", args=[_PLACEHOLDER]).split(_PLACEHOLDER)
    head = settings.LAPOR_SITE_URL + head
    safe = RFC3986_SUBDELIMS + "/~:@"  # what ``reverse`` leaves unquoted in a path

    def url(code: str) -> str:
        return head + quote(code, safe=safe) + tail

    return url


def _headers(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Link"] = f'<{LICENSE_URL}>; rel="license"'
    return response


@public_page
@require_safe
def complaints_csv(request):
    qs, error = _filtered(request)
    if error:
        return error

    def rows():
        url = _url_maker()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([name for name, _key in COLUMNS] + ["url"])
        yield buffer.getvalue()  # the header at once
        buffer.seek(0)
        buffer.truncate()
        for row in open_data_rows(qs):
            writer.writerow(
                [_value(row, key) for _name, key in COLUMNS] + [url(row["tracking_code"])]
            )
            if buffer.tell() >= CHUNK_CHARS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    return _headers(response, "lapor-complaints.csv")


@public_page
@require_safe
def complaints_geojson(request):
    qs, error = _filtered(request)
    if error:
        return error

    def chunks():
        url = _url_maker()
        head = {"type": "FeatureCollection", "license": LICENSE_NAME, "license_url": LICENSE_URL}
        yield json.dumps(head)[:-1] + ', "features": ['
        first = True
        pending: list[str] = []
        size = 0
        for row in open_data_rows(qs.filter(latitude__isnull=False)):
            properties = {name: _value(row, key) for name, key in COLUMNS[:10] + COLUMNS[12:]}
            properties["url"] = url(row["tracking_code"])
            feature = {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(row["longitude"]), float(row["latitude"])],
                },
                "properties": properties,
            }
            text = ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
            first = False
            pending.append(text)
            size += len(text)
            if size >= CHUNK_CHARS:
                yield "".join(pending)
                pending, size = [], 0
        pending.append("]}")
        yield "".join(pending)

    response = StreamingHttpResponse(chunks(), content_type="application/geo+json")
    return _headers(response, "lapor-complaints.geojson")
