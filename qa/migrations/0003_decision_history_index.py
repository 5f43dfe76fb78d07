"""The index the new-analyst rule reads an analyst's earliest decisions by (proposer, applied_at),
on enforcement's action table but serving only the QA sampler, so created here as SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("qa", "0002_defaults_and_decision_index")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS qa_action_proposer_applied ON enforcement_enforcementaction (proposer_id, applied_at) "
            "WHERE applied_at IS NOT NULL",
            "DROP INDEX IF EXISTS qa_action_proposer_applied",
        ),
    ]
