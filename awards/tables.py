"""The ranking as a table (the page and the CSV share it cell for cell) and as a bar chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import get_format
from django.utils.translation import gettext as _

from .models import Indicator, Level, Result, ResultRow, in_english

PALETTE = ("#0b5394", "#b45f06", "#38761d", "#741b47", "#45818e", "#7f6000", "#444444")
CHART_LIMIT = 30


def decimal_mark() -> str:
    """The active language's decimal mark: "," on Indonesian pages (2,01), "." on English."""
    return get_format("DECIMAL_SEPARATOR")


def localised(text: str, mark: str | None = None) -> str:
    """A number written with "." (as the tables build it) in the active language's form."""
    mark = mark or decimal_mark()
    return text.replace(".", mark) if mark != "." else text


def fixed(value: Decimal | None, places: int) -> str:
    if value is None:
        return "–"
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def exact(value: Decimal | None, min_places: int = 4) -> str:
    """All the digits there are, but at least ``min_places``: 0.29997, 1.0000."""
    if value is None:
        return "–"
    value = Decimal(value).normalize()
    places = max(min_places, -value.as_tuple().exponent)
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def TOO_LITTLE_DATA() -> str:  # noqa: N802 - reads like the constant it stands for
    return _("too little data")


def rank_text(rank: int | None) -> str:
    return TOO_LITTLE_DATA() if rank is None else str(rank)


def raw_text(indicator: str, raw: Decimal | None) -> str:
    if indicator == Indicator.RECEIVED:
        return "–" if raw is None else str(int(raw))
    if indicator in (Indicator.MEDIAN_HOURS, Indicator.MEAN_RATING, Indicator.PER_10K):
        return fixed(raw, 2)
    return fixed(raw, 4)


def weight_text(weight) -> str:
    return exact(Decimal(weight), 2)


def movement(row: ResultRow, *, has_previous: bool) -> tuple[str, str]:
    """(short text, words for screen readers) for the rank movement of ``row``."""
    if row.rank is None:
        return "–", _("not ranked: too little data")
    if not has_previous:
        return "–", _("no earlier published year")
    if row.previous_rank is None:
        return _("new"), _("new in the ranking")
    change = row.previous_rank - row.rank
    if change > 0:
        return f"▲{change}", _("up %(n)s from %(year)s") % {"n": change, "year": row.previous_year}
    if change < 0:
        return f"▼{-change}", _("down %(n)s from %(year)s") % {
            "n": -change,
            "year": row.previous_year,
        }
    return "=", _("unchanged from %(year)s") % {"year": row.previous_year}


def bands(result: Result) -> list[dict]:
    english = in_english()
    return [
        {
            "name": b["name_en"] if english else b["name_id"],
            "min_score": localised(exact(Decimal(b["min_score"]), 2)),
        }
        for b in result.scheme_snapshot.get("bands", [])
    ]


def thin(result: Result) -> dict | None:
    """The scheme's minimums as the page states them; None when it has none."""
    snap = result.scheme_snapshot
    if not snap.get("min_received") and not snap.get("min_rated"):
        return None
    return {
        "min_received": snap.get("min_received", 0),
        "min_rated": snap.get("min_rated", 0),
        "thin_data": snap.get("thin_data", "unranked"),
    }


def criteria(result: Result) -> list[dict]:
    english = in_english()
    out = []
    for index, c in enumerate(result.scheme_snapshot.get("criteria", [])):
        out.append(
            {
                **c,
                "name": c["name_en"] if english else c["name_id"],
                "weight_text": localised(weight_text(c["weight"])),
                "best_text": localised(c["best"]) if c.get("best") is not None else "–",
                "color": PALETTE[index % len(PALETTE)],
            }
        )
    return out


@dataclass
class Cell:
    """One cell of the full table. ``text`` writes a number with "." (the plain CSV's form);
    ``number`` is the value itself (the XLSX writes it as a number), with ``places`` decimals."""

    text: str
    label: str = ""  # words for screen readers when the text is a symbol
    number: Decimal | int | None = None
    places: int = 0

    def shown(self, mark: str) -> str:
        """The text with ``mark`` as the decimal mark (numbers only)."""
        return localised(self.text, mark) if self.number is not None else self.text

    def in_language(self, mark: str | None = None) -> Cell:
        return Cell(self.shown(mark or decimal_mark()), self.label, self.number, self.places)


def number_cell(value, places: int, text: str | None = None) -> Cell:
    """A numeric cell; None (no value) is the text "–"."""
    if value is None:
        return Cell("–")
    if places == 0:
        return Cell(text or str(int(value)), number=int(value))
    text = text or fixed(value, places)
    return Cell(text, number=Decimal(text), places=places)  # the number as shown


def exact_places(value: Decimal) -> int:
    return max(0, -Decimal(exact(value)).as_tuple().exponent)


def header(result: Result, *, by_region: bool = False) -> list[str]:
    cols = [
        _("Rank in the regency") if by_region else _("Rank"),
        _("Movement"),
        _("Agency") if result.level == Level.AGENCY else _("Regency/city"),
    ]
    if result.level == Level.AGENCY:
        cols.append(_("Regency/city"))
    cols += [_("Score"), _("Exact score"), _("Predicate")]
    for c in criteria(result):
        cols += [
            _("%(criterion)s: raw value") % {"criterion": c["name"]},
            _("%(criterion)s: normalised") % {"criterion": c["name"]},
            _("%(criterion)s: weight") % {"criterion": c["name"]},
            _("%(criterion)s: points") % {"criterion": c["name"]},
        ]
    return cols


def row_cells(
    result: Result, row: ResultRow, *, has_previous: bool, by_region: bool = False
) -> list[Cell]:
    text, words = movement(row, has_previous=has_previous)
    rank = row.region_rank if by_region else row.rank
    cells = [
        Cell(rank_text(rank)) if rank is None else number_cell(rank, 0),
        Cell(text, words),
        Cell(row.name),
    ]
    if result.level == Level.AGENCY:
        cells.append(Cell(row.region_name))
    cells += [
        number_cell(row.score, 2),
        number_cell(row.score, exact_places(row.score), exact(row.score)),
        Cell(TOO_LITTLE_DATA() if row.insufficient else (row.band or "–")),
    ]
    for value in row.values.all():
        cells += [
            raw_cell(value.indicator, value.raw),
            number_cell(value.normalised, 4),
            number_cell(value.weight, exact_places(value.weight), weight_text(value.weight)),
            number_cell(value.points, exact_places(value.points), exact(value.points)),
        ]
    return cells


def raw_cell(indicator: str, raw: Decimal | None) -> Cell:
    if indicator == Indicator.RECEIVED:
        return number_cell(raw, 0)
    if indicator in (Indicator.MEDIAN_HOURS, Indicator.MEAN_RATING, Indicator.PER_10K):
        return number_cell(raw, 2)
    return number_cell(raw, 4)


def weakest(row: ResultRow):
    """The criterion where the row lost the most points (weight − points); ties: the first in
    the scheme's order. None for a row without criteria."""
    values = list(row.values.all())
    if not values:
        return None
    return max(values, key=lambda v: (Decimal(v.weight) - Decimal(v.points), -v.order))


def compact(result: Result, rows: list[ResultRow], *, has_previous: bool, by_region=False):
    """The page's compact table: rank, name, score, predicate, movement, weakest criterion, and
    each row's breakdown (criterion: raw → normalised × weight = points), numbers in the active
    language's form."""
    mark = decimal_mark()
    out = []
    for row in rows:
        text, words = movement(row, has_previous=has_previous)
        rank = row.region_rank if by_region else row.rank
        weak = weakest(row)
        out.append(
            {
                "row": row,
                "rank": rank_text(rank),
                "movement": Cell(text, words),
                "score": localised(fixed(row.score, 2), mark),
                "exact": localised(exact(row.score), mark),
                "band": TOO_LITTLE_DATA() if row.insufficient else (row.band or "–"),
                "weakest": weak.name if weak is not None else "–",
                "breakdown": [
                    {
                        "name": v.name,
                        "raw": localised(raw_text(v.indicator, v.raw), mark),
                        "normalised": localised(fixed(v.normalised, 4), mark),
                        "weight": localised(weight_text(v.weight), mark),
                        "points": localised(exact(v.points), mark),
                    }
                    for v in row.values.all()
                ],
            }
        )
    return out


def has_previous_year(rows: list[ResultRow]) -> bool:
    return any(r.previous_year is not None for r in rows) or any(
        r.previous_rank is not None for r in rows
    )


def chart(result: Result, rows: list[ResultRow], *, by_region: bool = False) -> dict:
    """Geometry of an inline SVG bar chart: one bar per row, one segment per criterion's
    points, against the highest possible score. Works without JavaScript. Coordinates are
    strings, so that no locale turns 4.5 into "4,5" in an SVG attribute."""
    shown = rows[:CHART_LIMIT]
    top = Decimal(result.scheme_snapshot.get("max_score") or 0) or Decimal(1)
    width, label_w, left, line = 400, 0, 4, 40
    bar_w = width - left - 56
    colors = [c["color"] for c in criteria(result)]
    bars = []
    for index, row in enumerate(shown):
        y = 8 + index * line
        x = Decimal(left)
        segments = []
        for value, color in zip(row.values.all(), colors, strict=False):
            w = (Decimal(value.points) / top * bar_w).quantize(Decimal("0.1"))
            if w > 0:
                segments.append({"x": str(x), "w": str(w), "color": color})
            x += w
        rank = row.region_rank if by_region else row.rank
        bars.append(
            {
                "label": f"{rank}. {row.name}" if rank else f"({TOO_LITTLE_DATA()}) {row.name}",
                "score": localised(fixed(row.score, 2)),
                "label_y": y + 13,
                "bar_y": y + 18,
                "segments": segments,
                "end_x": str(x + 4),
                "text_y": y + 29,
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": 8 + len(shown) * line + 4,
        "left": left + label_w,
        "bar_w": bar_w,
        "max_score": localised(fixed(top, 2)),
        "truncated": len(rows) > len(shown),
        "limit": CHART_LIMIT,
        "description": "; ".join(f"{b['label']}: {b['score']}" for b in bars),
    }


def line_chart(points: list[tuple[int, Decimal]], *, top: Decimal, invert=False, places=2):
    """Geometry of a small inline SVG line chart: one point per year. ``invert``: lower is
    better (a rank), drawn with 1 at the top. Coordinates are strings (no locale)."""
    width, height, left, right, pad = 320, 120, 34, 12, 16
    span = max(len(points) - 1, 1)
    top = Decimal(top) or Decimal(1)
    out = []
    for index, (year, value) in enumerate(points):
        x = Decimal(left) + Decimal(width - left - right) * index / span
        share = Decimal(value) / top if not invert else (Decimal(value) - 1) / max(top - 1, 1)
        share = min(max(share, Decimal(0)), Decimal(1))
        y = pad + (height - 2 * pad) * (share if invert else 1 - share)
        text = str(int(value)) if places == 0 else localised(fixed(Decimal(value), places))
        out.append(
            {
                "year": year,
                "x": str(x.quantize(Decimal("0.1"))),
                "y": str(Decimal(y).quantize(Decimal("0.1"))),
                "text": text,
            }
        )
    return {
        "width": width,
        "height": height,
        "points": out,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in out),
        "description": "; ".join(f"{p['year']}: {p['text']}" for p in out),
    }
