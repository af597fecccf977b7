from django.db import migrations

# Django gives every unique CharField on PostgreSQL a second index, with varchar_pattern_ops,
# for LIKE queries. Nothing searches form tokens or referral codes by prefix, and both are
# random: each submit wrote two more index entries on a random page of a large index.
PATTERN_INDEXED = ("form_token", "referral_code")


def _pattern_index_names(apps, schema_editor):
    Action = apps.get_model("alerts", "Action")
    table = Action._meta.db_table
    for name in PATTERN_INDEXED:
        column = Action._meta.get_field(name).column
        yield column, schema_editor._create_index_name(table, [column], suffix="_like")


def drop_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _column, index in _pattern_index_names(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def create_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("alerts", "Action")._meta.db_table
    for column, index in _pattern_index_names(apps, schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(index)} ON "
            f"{schema_editor.quote_name(table)} ({schema_editor.quote_name(column)} "
            "varchar_pattern_ops)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0015_action_keep_informed_db_default"),
    ]

    operations = [
        migrations.RunPython(drop_pattern_indexes, create_pattern_indexes),
    ]
