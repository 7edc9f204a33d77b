"""PostgreSQL: a covering index (record id, then its match data) so a conflict check reads
its candidates' match data from the index alone instead of visiting a table page for each
(docs/benchmarks.md, people conflicts). SQLite keeps its records in a table ordered by id
already, so the index would only duplicate it there; this migration does nothing on SQLite.
The model does not declare the index: Django warns about covering indexes on SQLite."""

from typing import Any

from django.db import migrations

INDEX = "person_record_match"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("people", "PersonRecord")._meta.db_table)
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} (id) INCLUDE (match_data)"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
