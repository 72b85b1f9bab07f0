"""Search over the title, address and description of complaints (see docs/search.md).

PostgreSQL: every word of the query (3 letters or more) must occur, as a substring, in the
three fields joined. That text is kept, by triggers, in a table of its own
(``complaints_searchtext``: complaint id, document) whose GIN trigram index (``pg_trgm``) finds
the matches. Not on the complaint row itself: every update of a complaint (a status change, the
thousands the auto-close makes at once) writes a new row version and an entry in each of its
indexes, and the trigram index's entry (hundreds of trigrams) cost more than all the others
together; the side table changes only when one of the three fields does. SQLite (the embedded
default): the same rule with ``icontains``, without an index. Either way the matches are ranked
the same: a word in the title counts 4, in the address 2, in the description 1; then newest first.
"""

# The statements below are built from the module's constants, never from input.
# ruff: noqa: S608

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.expressions import CombinedExpression, RawSQL

MIN_WORD = 3  # a trigram index cannot help with shorter words
MAX_WORDS = 5
WEIGHTS = {"title": 4, "address": 2, "description": 1}
TABLE = "complaints_searchtext"
INDEX_NAME = "searchtext_trgm_idx"
OLD_INDEX_NAME = "complaint_search_trgm_idx"  # on the complaint table, until migration 0013


def search_words(value: str) -> list[str]:
    words = [w for w in value.split() if len(w) >= MIN_WORD]
    return list(dict.fromkeys(w.lower() for w in words))[:MAX_WORDS]


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def complaints_search(queryset, words: list[str]):
    """``queryset`` narrowed to complaints with every word, annotated with ``search_rank``."""
    rank: Value | CombinedExpression = Value(0, output_field=IntegerField())
    if connection.vendor == "postgresql" and words:
        matching = " AND ".join(["document ILIKE %s"] * len(words))
        queryset = queryset.filter(
            pk__in=RawSQL(  # noqa: S611 - the SQL is constants; the words are bound
                f"SELECT complaint_id FROM {TABLE} WHERE {matching}",
                [_like_pattern(word) for word in words],
            )
        )
    for word in words:
        if connection.vendor != "postgresql":
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


SEARCH_INDEX_SQL = (  # what migration 0001 made; 0013 moves the text to TABLE
    f"CREATE INDEX IF NOT EXISTS {OLD_INDEX_NAME} ON complaints_complaint USING gin "
    "((title || ' ' || address || ' ' || description) gin_trgm_ops)"
)
DOCUMENT = "{row}title || ' ' || {row}address || ' ' || {row}description"


def search_text_install(schema_editor) -> None:
    """PostgreSQL: the side table, filled from the complaints, its trigram index, and the
    triggers that keep it (from migration 0013). Inserts and deletes are statement-level (one
    statement for a bulk load); an update is row-level and only of the three fields, so a status
    change never runs it."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE} (complaint_id bigint PRIMARY KEY, document text NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {TABLE} SELECT id, {DOCUMENT.format(row='')} FROM complaints_complaint"
        )
        cursor.execute(f"CREATE INDEX {INDEX_NAME} ON {TABLE} USING gin (document gin_trgm_ops)")
        cursor.execute(
            f"""
            CREATE FUNCTION {TABLE}_sync() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO {TABLE} (complaint_id, document)
                SELECT id, {DOCUMENT.format(row="")} FROM new_rows;
              ELSIF TG_OP = 'UPDATE' THEN
                UPDATE {TABLE} SET document = {DOCUMENT.format(row="NEW.")}
                WHERE complaint_id = NEW.id;
              ELSIF TG_OP = 'DELETE' THEN
                DELETE FROM {TABLE} WHERE complaint_id IN (SELECT id FROM old_rows);
              ELSE
                TRUNCATE {TABLE};
              END IF;
              RETURN NULL;
            END $$;
            """
        )
        changed = " OR ".join(f"OLD.{field} IS DISTINCT FROM NEW.{field}" for field in WEIGHTS)
        for trigger in (
            "AFTER INSERT ON complaints_complaint REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT",
            f"AFTER UPDATE OF {', '.join(WEIGHTS)} ON complaints_complaint FOR EACH ROW "
            f"WHEN ({changed})",
            "AFTER DELETE ON complaints_complaint REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT",
            "AFTER TRUNCATE ON complaints_complaint FOR EACH STATEMENT",
        ):
            event = trigger.split()[1].lower()
            cursor.execute(
                f"CREATE TRIGGER {TABLE}_{event} {trigger} EXECUTE FUNCTION {TABLE}_sync()"
            )
        cursor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX_NAME}")


def search_text_uninstall(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SEARCH_INDEX_SQL)
        for event in ("insert", "update", "delete", "truncate"):
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{event} ON complaints_complaint")
        cursor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_sync()")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
