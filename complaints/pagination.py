"""Keyset ("cursor") pagination, the one pager of every HTML list: the next page starts after the
last row shown, found through an index, so a page costs the same on page 1 and page 5,000 and
nothing counts every match.

An order is a tuple of ``Key``: each ascending or descending, nullable keys with their nulls
last, annotated keys (``is_overdue``, ``next_due``, ``search_rank``) as well as columns; the last
key is unique (``id``), so the order is total and a page neither repeats nor skips a row while
complaints come in. A cursor is the last (or first) row's key values, signed with the order's
name (``django.core.signing``): opaque to the visitor, refused when changed or when it belongs
to another order, and its moments read through ``lapor.dates.parse_moment``. A cursor that is
not ours is no cursor: the first page.

In the URL: ``?after=`` (the next page) or ``?before=`` (the previous one), with a prefix when
one page shows two lists; ``page_from_query`` keeps the other parameters (the filters) in the
links it makes.
"""

import binascii
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import QueryDict

from lapor.dates import parse_moment

MAX_CURSOR = 400  # characters; ours are well under 200


@dataclass(frozen=True)
class Key:
    """One key of an order: a column or an annotation of the rows, its type (``int``,
    ``float``, ``bool`` or ``datetime``), its direction and whether it may be null (nulls come
    last in the order's direction; backwards, first)."""

    name: str
    kind: type = int
    descending: bool = False
    nullable: bool = False
    nulls_first: bool = field(default=False, repr=False)  # only when walking backwards

    @property
    def ordering(self) -> str | OrderBy:
        """This key in ``order_by``: a plain name where nulls cannot occur (an index answers
        it), or ``NULLS LAST`` made explicit."""
        if not self.nullable:
            return f"-{self.name}" if self.descending else self.name
        expr = F(self.name)
        nulls = {"nulls_first": True} if self.nulls_first else {"nulls_last": True}
        return expr.desc(**nulls) if self.descending else expr.asc(**nulls)

    def reversed(self) -> "Key":
        return replace(self, descending=not self.descending, nulls_first=not self.nulls_first)

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def beyond(self, value: Any, *, inclusive: bool = False) -> Q | None:
        """Rows past ``value`` in this key's direction (None: there are none)."""
        if value is None:
            if self.nulls_first:
                return Q(**{f"{self.name}__isnull": False})
            return None
        op = ("lt" if self.descending else "gt") + ("e" if inclusive else "")
        q = Q(**{f"{self.name}__{op}": value})
        if self.nullable and not self.nulls_first:
            q |= Q(**{f"{self.name}__isnull": True})
        return q

    def dump(self, value: Any) -> Any:
        if value is None:
            return None
        if self.kind is datetime:
            return value.isoformat()
        return self.kind(value)

    def load(self, value: Any) -> Any:
        """The value read back from a cursor; raises ValueError when it is not one of ours."""
        if value is None:
            if self.nullable:
                return None
            raise ValueError(f"{self.name} is never null")
        loaded = _LOADERS[self.kind](value)
        if loaded is None:
            raise ValueError(f"bad value for {self.name}")
        return loaded


def _load_int(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
    return value if ok else None


def _load_float(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _load_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_LOADERS: dict[type, Callable[[Any], Any]] = {
    datetime: parse_moment,  # bounded to 2000-2100, offsets within ±14 hours
    bool: _load_bool,
    int: _load_int,
    float: _load_float,
}


Keys = Sequence[Key]


def ordering(keys: Keys) -> tuple[str | OrderBy, ...]:
    """The ``order_by`` arguments of an order."""
    return tuple(key.ordering for key in keys)


# The public list's and "my complaints"' order, newest first; the API cursor shares it.
NEWEST_FIRST = (Key("created_at", datetime, descending=True), Key("id", descending=True))
OLDEST_FIRST = (Key("created_at", datetime), Key("id"))
# The staff queue by "me too": the most supported first, then as above.
MOST_SUPPORTED_FIRST = (Key("supporter_count", descending=True), *NEWEST_FIRST)
# When searching: the most relevant first (a whole-number weight), then as above.
RELEVANT_FIRST = (Key("search_rank", descending=True), *NEWEST_FIRST)
# Triage: the verification that runs out first (set whenever a complaint is in triage).
TRIAGE_DUE_FIRST = (Key("triage_due_at", datetime, nullable=True), Key("id"))


def _signer(keys: Keys) -> signing.Signer:
    name = ",".join(
        f"{'-' if key.descending else ''}{key.name}{'?' if key.nullable else ''}" for key in keys
    )
    # "." never occurs in the URL-safe base64 on either side: a cursor needs no escaping.
    return signing.Signer(salt=f"complaints.pagination:{name}", sep=".")


def encode_cursor(row: Model, keys: Keys) -> str:
    """The cursor of ``row`` (which carries every key, annotations included) in ``keys``."""
    return _signer(keys).sign_object([key.dump(getattr(row, key.name)) for key in keys])


def decode_cursor(cursor: str | None, keys: Keys) -> list[Any] | None:
    """The key values in ``cursor``, or None when it is missing or not one of ours."""
    if not cursor or not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
        return None
    try:
        values = _signer(keys).unsign_object(cursor)
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        return [key.load(value) for key, value in zip(keys, values, strict=True)]
    except (signing.BadSignature, ValueError, TypeError, binascii.Error, zlib.error):
        return None


def _after(keys: Keys, values: list[Any]) -> Q:
    """Rows strictly after the row with ``values``, in the order of ``keys``."""
    q = Q(pk__in=[])
    for i, key in enumerate(keys):
        step = key.beyond(values[i])
        if step is None:
            continue
        for j in range(i):
            step &= keys[j].equal(values[j])
        q |= step
    # The first key bounded on its own as well, so the database walks its index from there.
    first = keys[0]
    if values[0] is None:
        lead = first.equal(None) if not first.nulls_first else Q()
    else:
        lead = first.beyond(values[0], inclusive=True) or Q()  # never None for a value
    return lead & q


def _first_rows(queryset: QuerySet[Any], limit: int) -> list[Any]:
    """The first ``limit`` rows of an ordered ``queryset``, in two steps: their ids, ordered by
    the keys alone (no joins, no wide columns: where an index covers the filter and the keys,
    an index-only scan that never reads the table), then only those rows, with their joins and
    annotations. Ordering every match with all its columns and joins before the ``LIMIT`` was
    what made a staff queue slow."""
    ids = list(queryset.values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    found = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]  # a row deleted in between is left out


@dataclass
class KeysetPage:
    object_list: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    # Query strings of the links (filters kept), set by ``page_from_query``.
    next_query: str = ""
    previous_query: str = ""
    first_query: str = ""

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def keyset_page(
    queryset: QuerySet[Any],
    *,
    keys: Keys,
    after: str | None = None,
    before: str | None = None,
    size: int = 20,
) -> KeysetPage:
    """One page of ``queryset`` in ``keys`` order, after or before a cursor (the first page
    when neither is one of ours)."""
    start = decode_cursor(after, keys)
    end = None if start is not None else decode_cursor(before, keys)
    if end is not None:
        backwards = tuple(key.reversed() for key in keys)
        qs = queryset.filter(_after(backwards, end)).order_by(*ordering(backwards))
        rows = _first_rows(qs, size + 1)
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows,
            next_cursor=encode_cursor(rows[-1], keys) if rows else None,
            previous_cursor=encode_cursor(rows[0], keys) if rows and more_before else None,
        )
    qs = queryset.order_by(*ordering(keys))
    if start is not None:
        qs = qs.filter(_after(keys, start))
    rows = _first_rows(qs, size + 1)
    more_after = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        next_cursor=encode_cursor(rows[-1], keys) if rows and more_after else None,
        previous_cursor=encode_cursor(rows[0], keys) if rows and start is not None else None,
    )


def page_from_query(
    queryset: QuerySet[Any], query: QueryDict, *, keys: Keys, size: int, prefix: str = ""
) -> KeysetPage:
    """The page a query string (a ``QueryDict``) asks for, with the query strings of its links:
    every other parameter kept (the filters, another list's cursor), an old ``page`` dropped."""
    after, before = f"{prefix}after", f"{prefix}before"
    page = keyset_page(
        queryset, keys=keys, after=query.get(after), before=query.get(before), size=size
    )
    kept = query.copy()
    for name in (after, before, f"{prefix}page"):
        kept.pop(name, None)
    page.first_query = kept.urlencode()
    if page.next_cursor:
        kept[after] = page.next_cursor
        page.next_query = kept.urlencode()
        kept.pop(after)
    if page.previous_cursor:
        kept[before] = page.previous_cursor
        page.previous_query = kept.urlencode()
    return page
