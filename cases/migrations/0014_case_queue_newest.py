"""An index of each queue's cases, newest first, for the case list filtered by a queue. Built
concurrently: the cases table takes writes all the time."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0013_case_list_sort_indexes'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(fields=['queue', '-id'], name='case_queue_newest'),
        ),
    ]
