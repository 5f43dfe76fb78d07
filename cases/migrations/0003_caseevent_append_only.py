"""In PostgreSQL the case timeline is append-only: a trigger refuses UPDATE and DELETE.

TRUNCATE stays possible on purpose: it is a whole-table administrative act (and the test
suite's way of resetting between transactional tests), never something the application does."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cases_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only: % refused on cases_caseevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS caseevent_append_only ON cases_caseevent;
CREATE TRIGGER caseevent_append_only BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS caseevent_append_only ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_default_taxonomy_and_queues")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
