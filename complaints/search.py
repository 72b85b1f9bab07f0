"""Search over the title, address and description of complaints (see docs/search.md).

PostgreSQL: every word of the query (3 letters or more) must occur, as a substring, in the
three fields joined; a GIN trigram index (``pg_trgm``) on exactly that expression finds the
matches. SQLite (the embedded default): the same rule with ``icontains``, without an index.
Either way the matches are ranked the same: a word in the title counts 4, in the address 2,
in the description 1; then newest first.
"""

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    F,
    Func,
    IntegerField,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression

MIN_WORD = 3  # a trigram index cannot help with shorter words
MAX_WORDS = 5
WEIGHTS = {"title": 4, "address": 2, "description": 1}
INDEX_NAME = "complaint_search_trgm_idx"


class SearchText(Func):
    """``title || ' ' || address || ' ' || description``: what the trigram index covers."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("title"), F("address"), F("description"))


class ILike(Func):
    template = "%(expressions)s"
    arg_joiner = " ILIKE "
    output_field = BooleanField()


def search_words(value: str) -> list[str]:
    words = [w for w in value.split() if len(w) >= MIN_WORD]
    return list(dict.fromkeys(w.lower() for w in words))[:MAX_WORDS]


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def complaints_search(queryset, words: list[str]):
    """``queryset`` narrowed to complaints with every word, annotated with ``search_rank``."""
    rank: Value | CombinedExpression = Value(0, output_field=IntegerField())
    for word in words:
        if connection.vendor == "postgresql":
            queryset = queryset.filter(ILike(SearchText(), Value(_like_pattern(word))))
        else:
            anywhere = Q()
            for field in WEIGHTS:
                anywhere |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(anywhere)
        for field, weight in WEIGHTS.items():
            rank = rank + Case(
                When(**{f"{field}__icontains": word}, then=Value(weight)),
                default=Value(0),
                output_field=IntegerField(),
            )
    return queryset.annotate(search_rank=rank)


SEARCH_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON complaints_complaint USING gin "
    "((title || ' ' || address || ' ' || description) gin_trgm_ops)"
)
