"""Keyset ("cursor") pagination: the next page starts after the last row shown, found through
an index, so a page costs the same on page 1 and page 5,000 and nothing counts every match.

Every key is descending (newest, or most relevant, first) and the last key is unique (``id``),
so the order is total and stable while complaints come in. A cursor is the last (or first)
row's key values, in the URL as ``?after=`` (older) or ``?before=`` (newer).
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from lapor.dates import parse_moment

# The public list's keys, newest first: the pages' keyset and the API's cursor share them.
NEWEST_FIRST = ("created_at", "id")
# When searching: the most relevant first, then as above.
RELEVANT_FIRST = ("search_rank", *NEWEST_FIRST)


@dataclass
class KeysetPage:
    object_list: list
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def _encode(row, keys) -> str:
    values = []
    for key in keys:
        value = getattr(row, key)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str | None, keys) -> list | None:
    """The key values in ``cursor``, or None when it is missing or not one of ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    decoded = []
    for key, value in zip(keys, values, strict=True):
        if key.endswith("_at"):
            value = parse_moment(value)
        elif not isinstance(value, int) or isinstance(value, bool):
            value = None
        if value is None:
            return None
        decoded.append(value)
    return decoded


def _beyond(keys, values, *, older: bool) -> Q:
    """Rows strictly after (``older``) or before the row with ``values``, in key order."""
    op = "lt" if older else "gt"
    q = Q()
    for i, key in enumerate(keys):
        step = Q(**{f"{key}__{op}": values[i]})
        for j in range(i):
            step &= Q(**{keys[j]: values[j]})
        q |= step
    # The first key bounded on its own as well, so the database walks its index from there.
    return Q(**{f"{keys[0]}__{op}e": values[0]}) & q


def keyset_page(queryset, *, keys: tuple[str, ...], after=None, before=None, size=20):
    """One page of ``queryset`` in descending ``keys`` order, after or before a cursor."""
    older = _decode(after, keys)
    newer = None if older else _decode(before, keys)
    if newer is not None:
        qs = queryset.filter(_beyond(keys, newer, older=False)).order_by(*keys)
        rows = list(qs[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows,
            next_cursor=_encode(rows[-1], keys) if rows else None,
            previous_cursor=_encode(rows[0], keys) if rows and more_newer else None,
        )
    qs = queryset.order_by(*(f"-{key}" for key in keys))
    if older is not None:
        qs = qs.filter(_beyond(keys, older, older=True))
    rows = list(qs[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        next_cursor=_encode(rows[-1], keys) if rows and more_older else None,
        previous_cursor=_encode(rows[0], keys) if rows and older is not None else None,
    )
