"""A subject's actions, newest first, for the support lookup and the subject status API. Built
concurrently (actions are written all the time); the target's own index goes, as this one and
action_target_status both lead with the target."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('enforcement', '0006_action_created_index'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='enforcementaction',
            index=models.Index(fields=['target', '-applied_at', '-id'], name='action_target_applied'),
        ),
        migrations.AlterField(
            model_name='enforcementaction',
            name='target',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='enforcement_actions', to='cases.subject'),
        ),
    ]
