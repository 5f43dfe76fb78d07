"""Samples as a first pass over a million decisions writes them (some 60,000 in one transaction):
no database FK constraints on their references (copied from rows the pass has just read, pointing
at rows never deleted; Django's PROTECT still guards ORM deletes), no indexes nothing reads by;
the reviewer's queue index covers its order and the due counts; the high-impact rule's partial
index on qa_decision; the calibration form's latest reviewed samples."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_saved_filter'),
        ('enforcement', '0005_macro_action_types'),
        ('qa', '0005_decision_projection_and_watermarks'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='sample',
            name='qa_sample_due',
        ),
        migrations.RemoveIndex(
            model_name='sample',
            name='qa_sample_recent',
        ),
        migrations.AlterField(
            model_name='sample',
            name='action',
            field=models.ForeignKey(db_constraint=False, db_index=False, help_text="The decision's first action.", on_delete=django.db.models.deletion.PROTECT, related_name='+', to='enforcement.enforcementaction'),
        ),
        migrations.AlterField(
            model_name='sample',
            name='analyst',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='sample',
            name='approver',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='sample',
            name='case',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.case'),
        ),
        migrations.AlterField(
            model_name='sample',
            name='reviewer',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='sample',
            name='rule',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='samples', to='qa.samplingrule'),
        ),
        migrations.AlterField(
            model_name='sample',
            name='rule_version',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='samples', to='qa.samplingruleversion'),
        ),
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(condition=models.Q(('is_termination', True), ('two_person', True), _connector='OR'), fields=['decided_at'], name='qa_decision_high_impact'),
        ),
        migrations.AddIndex(
            model_name='sample',
            index=models.Index(condition=models.Q(('status', 'due')), fields=['reviewer', 'due_at', 'id'], name='qa_sample_due_queue'),
        ),
        migrations.AddIndex(
            model_name='sample',
            index=models.Index(condition=models.Q(('status', 'reviewed')), fields=['-reviewed_at'], name='qa_sample_reviewed'),
        ),
    ]
