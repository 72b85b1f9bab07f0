"""Open data: the public complaints as GeoJSON and CSV, streamed, filtered like the list.

No personal data leaves here: the rows come from ``complaints.selectors.open_data_rows`` (fixed
columns, nothing about the reporter, no free text but the title) over ``Purpose.PUBLIC`` (never
rahasia). Licence: Creative Commons Attribution 4.0 (see docs/open-data.md).
"""

import csv
import json

from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from complaints.filters import OpenDataFilter
from complaints.selectors import complaints_open_data, open_data_rows

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


def _url(code: str) -> str:
    return settings.LAPOR_SITE_URL + reverse("complaint-detail", args=[code])


def _headers(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Link"] = f'<{LICENSE_URL}>; rel="license"'
    return response


class _Echo:
    def write(self, value):
        return value


@require_safe
def complaints_csv(request):
    qs, error = _filtered(request)
    if error:
        return error

    def rows():
        writer = csv.writer(_Echo())
        yield writer.writerow([name for name, _key in COLUMNS] + ["url"])
        for row in open_data_rows(qs):
            yield writer.writerow(
                [_value(row, key) for _name, key in COLUMNS] + [_url(row["tracking_code"])]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    return _headers(response, "lapor-complaints.csv")


@require_safe
def complaints_geojson(request):
    qs, error = _filtered(request)
    if error:
        return error

    def chunks():
        head = {"type": "FeatureCollection", "license": LICENSE_NAME, "license_url": LICENSE_URL}
        yield json.dumps(head)[:-1] + ', "features": ['
        first = True
        for row in open_data_rows(qs.filter(latitude__isnull=False)):
            properties = {name: _value(row, key) for name, key in COLUMNS[:10] + COLUMNS[12:]}
            properties["url"] = _url(row["tracking_code"])
            feature = {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(row["longitude"]), float(row["latitude"])],
                },
                "properties": properties,
            }
            yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
            first = False
        yield "]}"

    response = StreamingHttpResponse(chunks(), content_type="application/geo+json")
    return _headers(response, "lapor-complaints.geojson")
