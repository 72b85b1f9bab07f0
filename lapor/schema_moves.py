"""Migration operations for a model that moved to another app.

When ``complaints`` was split into apps by job (docs/architecture.md), some models changed app:
the outbox to ``notifications``, citizen profiles and the sign-in policy to ``accounts``, API
credentials to ``api``. A database created before the split already holds their tables under
the old app's name, with their rows; a new database has none. ``CreateOrAdoptModel`` serves
both: it renames the old table (and the content type, so permissions and admin history follow)
when it exists, and creates the table otherwise. The migration state is the same either way.
"""

from django.db import migrations


class CreateOrAdoptModel(migrations.CreateModel):
    def __init__(self, name, fields, *, old_table: str, old_app_label: str, **kwargs):
        self.old_table = old_table
        self.old_app_label = old_app_label
        super().__init__(name, fields, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs.update(old_table=self.old_table, old_app_label=self.old_app_label)
        return "lapor.schema_moves.CreateOrAdoptModel", args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        tables = schema_editor.connection.introspection.table_names()
        new_table = model._meta.db_table
        if self.old_table in tables and new_table not in tables:
            schema_editor.alter_db_table(model, self.old_table, new_table)
            _content_type_move(schema_editor, self.old_app_label, app_label, model._meta.model_name)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Create model {self.name}, or adopt its table {self.old_table}"


def _content_type_move(schema_editor, old_label: str, new_label: str, model_name: str) -> None:
    table = "django_content_type"
    if table not in schema_editor.connection.introspection.table_names():
        return
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(table)} WHERE app_label = %s AND model = %s",  # noqa: S608
            [new_label, model_name],
        )
        if cursor.fetchone():
            return
        cursor.execute(
            f"UPDATE {quote(table)} SET app_label = %s WHERE app_label = %s AND model = %s",  # noqa: S608
            [new_label, old_label, model_name],
        )
