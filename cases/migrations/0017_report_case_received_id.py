"""A case's newest reports by (received_at, id): the id settles ties, so the case page reads its
page of reports from the index instead of sorting every report of a large case. The new index is
built concurrently before the old one goes."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0016_case_report_facts'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='report',
            index=models.Index(fields=['case', 'received_at', 'id'], name='report_case_received_id'),
        ),
        RemoveIndexConcurrently(
            model_name='report',
            name='report_case_received',
        ),
    ]
