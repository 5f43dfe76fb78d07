"""Drop the foreign-key indexes that a composite index with the same leading column already serves
(case: subject, queue, assignee; report and case event: case), and index helpers only on the cases
that have one. Each claim, intake batch and sweep writes every index of these tables.

The indexes are dropped by name: left to itself, AlterField(db_index=False) drops every single-column
index on the column that Meta.indexes does not name, and that includes the partial unique index
behind the one-open-case-per-subject constraint."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The foreign-key indexes Django created for these columns (its names are the same on every database).
REDUNDANT = {
    "cases_case_assignee_id_28343c2e": ("cases_case", "assignee_id"),
    "cases_case_held_for_id_c27ef751": ("cases_case", "held_for_id"),
    "cases_case_held_for_team_id_ab705031": ("cases_case", "held_for_team_id"),
    "cases_case_queue_id_fd6d0e3b": ("cases_case", "queue_id"),
    "cases_case_subject_id_072eedb7": ("cases_case", "subject_id"),
    "cases_caseevent_case_id_6c6031ac": ("cases_caseevent", "case_id"),
    "cases_report_case_id_c8f0bfd9": ("cases_report", "case_id"),
}


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_sla_due_indexes_pending_only'),
        ('tsconsole', '0004_team_chat_webhook_url'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='assignee',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_cases', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='held_for',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='held_cases', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='held_for_team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='held_cases', to='tsconsole.team'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='queue',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='cases.queue'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='subject',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='cases.subject'),
                ),
                migrations.AlterField(
                    model_name='caseevent',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='cases.case'),
                ),
                migrations.AlterField(
                    model_name='report',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='cases.case'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in REDUNDANT],
                    reverse_sql=[f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
                                 for name, (table, column) in REDUNDANT.items()],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('held_for__isnull', False)), fields=['held_for'], name='case_held_for'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('held_for_team__isnull', False)), fields=['held_for_team'], name='case_held_for_team'),
        ),
    ]
