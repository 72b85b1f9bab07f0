"""Set-based fills that follow the models, so that a new column breaks the fill at once.

A benchmark fill writes rows with ``INSERT ... SELECT`` for speed, naming the columns it
computes. ``insert_select`` builds the ``INSERT`` from the model's own fields: every concrete
column the fill does not compute gets the model's default (NULL for a nullable column, the
field's default, or the empty string of a blank text field), and a NOT NULL column with none of
these, or a column the fill names but the model no longer has, stops the fill with an error
naming it. So a migration that adds a required column fails the small CI fill the same day,
instead of the million-row fill months later.
"""

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model
from django.db.models.fields import NOT_PROVIDED


class FillError(Exception):
    """The fill and the model disagree about the columns."""


def _default_for(field):
    """(True, value) when the column can be left to the model's default; (False, None) if not."""
    if field.null:
        return True, None
    if _has_db_default(field):
        return True, _DB_DEFAULT  # left out of the INSERT: the database fills it in
    if field.has_default():
        if field.unique:
            return False, None  # one value for every row would break the unique constraint
        return True, field.get_default()
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return False, None  # the ORM sets them; a set-based fill must say when
    if field.blank and field.empty_strings_allowed and not field.unique:
        return True, ""
    return False, None


_DB_DEFAULT = object()


def _has_db_default(field) -> bool:
    return getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED


def missing_columns(model: type[Model], supplied: Iterable[str]) -> dict[str, object]:
    """The model's columns the fill does not supply, each with the value it gets.

    Raises ``FillError`` naming every NOT NULL column without a default that ``supplied`` lacks
    and every supplied name that is not a column of the model.
    """
    supplied = list(supplied)
    fields = [f for f in model._meta.concrete_fields if f.column]
    columns = {f.column: f for f in fields}
    unknown = [name for name in supplied if name not in columns]
    rest, required = {}, []
    for column, field in columns.items():
        if (
            column in supplied
            or field.primary_key
            and field.get_internal_type().endswith("AutoField")
        ):
            continue
        ok, value = _default_for(field)
        if ok:
            rest[column] = value
        else:
            required.append(column)
    problems = []
    if required:
        problems.append(
            f"{model._meta.db_table}: the fill supplies no value for NOT NULL column(s) "
            f"{', '.join(required)} (no default); add them to the fill"
        )
    if unknown:
        problems.append(
            f"{model._meta.db_table}: the fill names column(s) {', '.join(unknown)} that the "
            "model does not have"
        )
    if problems:
        raise FillError("; ".join(problems))
    return rest


def insert_select(model: type[Model], supplied: Sequence[str], select_sql: str) -> tuple[str, dict]:
    """``INSERT INTO <model's table> (...) SELECT ...`` around ``select_sql``, whose output
    columns are ``supplied``, in that order; the model's other columns get their defaults.

    Returns the statement and the parameters of the defaults (named ``fill_default_<n>``, to be
    merged with ``select_sql``'s own named parameters; ``select_sql`` must escape ``%`` as ``%%``).
    """
    rest = missing_columns(model, supplied)
    quote = connection.ops.quote_name
    fields = {f.column: f for f in model._meta.concrete_fields}
    names, values, params = [], [], {}
    for n, (column, value) in enumerate(rest.items()):
        if value is _DB_DEFAULT:
            continue
        names.append(quote(column))
        key = f"fill_default_{n}"
        db_type = fields[column].cast_db_type(connection)
        values.append(f"CAST(%({key})s AS {db_type})")
        params[key] = fields[column].get_db_prep_save(value, connection)
    columns = ", ".join([*(quote(c) for c in supplied), *names])
    # Each computed column cast to the model's type: a bare NULL in the SELECT would be text.
    computed = [
        f"CAST(fill_source.{quote(c)} AS {fields[c].cast_db_type(connection)})" for c in supplied
    ]
    aliases = ", ".join(quote(c) for c in supplied)
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 - model names
        f"SELECT {', '.join([*computed, *values])} "
        f"FROM ({select_sql}) AS fill_source ({aliases})"
    )
    return statement, params


# The columns the deadline benchmark's fill computes (bench/deadlines.py), in its SELECTs' order.
COMPLAINT_COLUMNS = [
    "id", "tracking_code", "classification", "title", "description", "category_id", "region_id",
    "district", "address", "latitude", "longitude", "incident_date", "channel", "is_anonymous",
    "is_confidential", "reporter_id", "reporter_name", "reporter_email", "reporter_phone",
    "access_key_hash", "idempotency_key", "entered_by_id", "status", "assigned_agency_id",
    "assigned_at", "follow_up_due_at", "completion_due_at", "first_follow_up_at", "triage_due_at",
    "resolved_at", "reply_due_at", "closed_at", "archive_reason", "duplicate_of_id", "rating",
    "rating_comment", "created_at", "updated_at",
]  # fmt: skip
BREACH_COLUMNS = [
    "complaint_id", "kind", "due_at", "agency_id", "region_id", "recorded_at",
    "escalated_to_province_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "complaint_id", "kind", "actor_id", "actor_role", "created_at", "from_status", "to_status",
    "from_agency_id", "to_agency_id", "note", "is_internal", "data",
]  # fmt: skip
