"""A covering partial index of the open cases for the backlog counts (home panels, queue health).
Built concurrently: the cases table takes writes all the time."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0011_saved_filter'),
        ('tsconsole', '0004_team_chat_webhook_url'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(
                condition=models.Q(('status', 'resolved'), _negated=True), fields=['queue', 'status'],
                include=('id', 'assignee', 'opened_at', 'resolution_due_at', 'first_touch_due_at', 'first_touched_at',
                         'sla_resolution_at_risk_for', 'sla_first_touch_at_risk_for'),
                name='case_open_cover',
            ),
        ),
    ]
