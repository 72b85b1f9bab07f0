"""Which regency or city a point or an address lies in, for Open311 requests.

Lapor keeps no regency boundaries, so a point goes to the regency whose seat is nearest: right
for most points, and a guess near a border (Banjarbaru and Martapura are 6 km apart). A client
that knows better sends ``attribute[regency]``, which wins. An address without a point is
matched by the regency's name in it (e.g. "Jl. A. Yani km 33, Banjarbaru").
"""

import math
import re
from decimal import Decimal

from agencies.models import Region, RegionKind
from agencies.reference import REGION_SEATS as SEATS

PREFIXES = re.compile(r"^(kabupaten|kab\.?|kota)\s+", re.IGNORECASE)


def region_for_point(lat: Decimal, lon: Decimal) -> Region | None:
    def distance(code):
        seat_lat, seat_lon = SEATS[code]
        dx = (float(lon) - seat_lon) * math.cos(math.radians(seat_lat))
        return math.hypot(float(lat) - seat_lat, dx)

    code = min(SEATS, key=distance)
    return Region.objects.filter(code=code).first()


def region_for_address(address: str) -> Region | None:
    """The one regency or city named in ``address``; None when none or several are."""
    text = f" {address.lower()} "
    found = []
    regions = Region.objects.exclude(kind=RegionKind.PROVINCE)
    for region in regions:
        bare = PREFIXES.sub("", region.name).lower()
        if re.search(rf"\b{re.escape(bare)}\b", text):
            found.append(region)
    # "Hulu Sungai Selatan" also contains no other name, but "Banjar" is inside "Banjarbaru"
    # only as a word prefix, which \b excludes; two different names stay ambiguous.
    return found[0] if len(found) == 1 else None
