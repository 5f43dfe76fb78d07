"""An index of the resolved cases, newest first, for the case list filtered to resolved cases. Built
concurrently: the cases table takes writes all the time."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0014_case_queue_newest'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(condition=models.Q(('status', 'resolved')), fields=['-id'], name='case_resolved_newest'),
        ),
    ]
