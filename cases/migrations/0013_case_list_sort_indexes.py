"""Indexes for the case list's priority and due sorts (cases.models.due_sort_key), so a page of
either is read in index order, of every case or of the unresolved ones. Built concurrently: the
cases table takes writes all the time."""

import datetime

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Coalesce

NO_DUE = models.Value(datetime.datetime(9999, 1, 1, 0, 0, tzinfo=datetime.UTC))
RESOLVED_DUE = models.Value(datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.UTC))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0012_case_open_cover'),
        ('tsconsole', '0005_user_preferences_and_exposure'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(fields=['priority', '-id'], name='case_priority_sort'),
        ),
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(condition=models.Q(('status', 'resolved'), _negated=True), fields=['priority', '-id'],
                               name='case_open_priority_sort'),
        ),
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(models.Case(models.When(status='resolved', then=RESOLVED_DUE),
                                           default=Coalesce('resolution_due_at', NO_DUE)),
                               models.F('id'), name='case_due_sort'),
        ),
    ]
