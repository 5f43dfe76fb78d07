"""Cases keep what priority needs of their reports (report_facts), and reports are indexed by case
and reporter, so that a report joining a large case reads neither all its reports nor all their
reporters. The column is added without a default (no table rewrite); the index is built
concurrently. Cases stored before have no facts until their next report reads them once."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0015_case_resolved_newest'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='report_facts',
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        AddIndexConcurrently(
            model_name='report',
            index=models.Index(condition=models.Q(('reporter_ref', ''), _negated=True), fields=['case', 'reporter_ref'], name='report_case_reporter'),
        ),
    ]
