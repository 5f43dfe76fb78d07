"""QA's decision projection (qa_decision), kept by triggers on enforcement's action table, and
the sampler's per-rule watermarks.

- `qa_decision_refresh(refs)` regroups the named decisions from their applied actions and
  upserts them, stamping the writing transaction's id; a rewrite that changes nothing keeps the
  old stamp, so an action's later status changes (reversal, expiry) do not make it new again.
- After INSERT (per statement, over the transition table: a bulk load is one set operation) and
  after an UPDATE of a field the projection reads (per row, filtered by WHEN in C).
- Existing decisions are grouped once here.
- The two indexes QA had put on the action table (applied_at, duplicating enforcement's
  action_applied; and proposer, applied_at) served only the old per-pass grouping: dropped.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


REFRESH = """
CREATE OR REPLACE FUNCTION qa_decision_refresh(refs uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO qa_decision AS q (decision_ref, action_id, case_id, policy_id, analyst_id, approver_id, decided_at,
                                  is_termination, two_person, types, txid)
    SELECT a.decision_ref, min(a.id), min(a.case_id), min(a.policy_id), min(a.proposer_id),
           min(a.reviewer_id) FILTER (WHERE a.requires_approval), min(a.applied_at),
           bool_or(a.action_type = 'termination'), bool_or(a.requires_approval),
           array_agg(DISTINCT a.action_type::varchar ORDER BY a.action_type::varchar),
           pg_current_xact_id()::text::bigint
    FROM enforcement_enforcementaction a
    WHERE a.decision_ref IN (SELECT unnest(refs)) AND a.applied_at IS NOT NULL
    GROUP BY a.decision_ref
    ON CONFLICT (decision_ref) DO UPDATE SET
        action_id = EXCLUDED.action_id, case_id = EXCLUDED.case_id, policy_id = EXCLUDED.policy_id,
        analyst_id = EXCLUDED.analyst_id, approver_id = EXCLUDED.approver_id, decided_at = EXCLUDED.decided_at,
        is_termination = EXCLUDED.is_termination, two_person = EXCLUDED.two_person, types = EXCLUDED.types,
        txid = EXCLUDED.txid
    WHERE (q.action_id, q.case_id, q.policy_id, q.analyst_id, q.approver_id, q.decided_at, q.is_termination,
           q.two_person, q.types)
          IS DISTINCT FROM (EXCLUDED.action_id, EXCLUDED.case_id, EXCLUDED.policy_id, EXCLUDED.analyst_id,
                            EXCLUDED.approver_id, EXCLUDED.decided_at, EXCLUDED.is_termination, EXCLUDED.two_person,
                            EXCLUDED.types)
$$;

CREATE OR REPLACE FUNCTION qa_decision_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM qa_decision_refresh(ARRAY(SELECT DISTINCT c.decision_ref FROM qa_changed c WHERE c.applied_at IS NOT NULL));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION qa_decision_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM qa_decision_refresh(ARRAY[NEW.decision_ref, OLD.decision_ref]);
    RETURN NULL;
END $$;

CREATE TRIGGER qa_decision_on_insert AFTER INSERT ON enforcement_enforcementaction
    REFERENCING NEW TABLE AS qa_changed FOR EACH STATEMENT EXECUTE FUNCTION qa_decision_inserted();

CREATE TRIGGER qa_decision_on_update AFTER UPDATE ON enforcement_enforcementaction FOR EACH ROW
    WHEN (NEW.applied_at IS NOT NULL AND
          (OLD.applied_at, OLD.decision_ref, OLD.case_id, OLD.policy_id, OLD.proposer_id, OLD.reviewer_id,
           OLD.requires_approval, OLD.action_type)
          IS DISTINCT FROM (NEW.applied_at, NEW.decision_ref, NEW.case_id, NEW.policy_id, NEW.proposer_id,
                            NEW.reviewer_id, NEW.requires_approval, NEW.action_type))
    EXECUTE FUNCTION qa_decision_updated();

SELECT qa_decision_refresh(ARRAY(SELECT DISTINCT decision_ref FROM enforcement_enforcementaction
                                  WHERE applied_at IS NOT NULL));

DROP INDEX IF EXISTS qa_action_applied;
DROP INDEX IF EXISTS qa_action_proposer_applied;
"""

UNREFRESH = """
DROP TRIGGER IF EXISTS qa_decision_on_insert ON enforcement_enforcementaction;
DROP TRIGGER IF EXISTS qa_decision_on_update ON enforcement_enforcementaction;
DROP FUNCTION IF EXISTS qa_decision_inserted();
DROP FUNCTION IF EXISTS qa_decision_updated();
DROP FUNCTION IF EXISTS qa_decision_refresh(uuid[]);
CREATE INDEX IF NOT EXISTS qa_action_applied ON enforcement_enforcementaction (applied_at) WHERE applied_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS qa_action_proposer_applied ON enforcement_enforcementaction (proposer_id, applied_at)
    WHERE applied_at IS NOT NULL;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_saved_filter'),
        ('enforcement', '0005_macro_action_types'),
        ('qa', '0004_overturned_rule_and_added_corrections'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SamplingWatermark',
            fields=[
                ('rule', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='watermark', serialize=False, to='qa.samplingrule')),
                ('txid', models.BigIntegerField(help_text='The oldest transaction still running when the pass read (pg_snapshot_xmin).')),
                ('passed_at', models.DateTimeField()),
                ('rule_version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='qa.samplingruleversion')),
            ],
        ),
        migrations.CreateModel(
            name='Decision',
            fields=[
                ('decision_ref', models.UUIDField(primary_key=True, serialize=False)),
                ('decided_at', models.DateTimeField(help_text="When the decision took effect (its first action's applied_at).")),
                ('is_termination', models.BooleanField()),
                ('two_person', models.BooleanField()),
                ('types', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=24), size=None)),
                ('txid', models.BigIntegerField(help_text='The transaction that last wrote this row (pg_current_xact_id).')),
                ('action', models.ForeignKey(db_constraint=False, db_index=False, help_text="The decision's first action.", on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='enforcement.enforcementaction')),
                ('analyst', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('approver', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cases.case')),
                ('policy', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='enforcement.policy')),
            ],
            options={
                'db_table': 'qa_decision',
                'indexes': [models.Index(fields=['decided_at'], name='qa_decision_decided'), models.Index(fields=['analyst', 'decided_at', 'decision_ref'], name='qa_decision_analyst'), models.Index(fields=['txid'], name='qa_decision_txid')],
            },
        ),
        migrations.RunSQL(REFRESH, UNREFRESH),
    ]
