"""Cases get a kind: report cases (one open per subject, as before) and appeal cases, which sit beside
the subject's report case in the appeals queue. The unique index now covers report cases only.
Recusals name people who must not work a case (an appeal's original decider and approver)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_evidence_preview'),
        ('tsconsole', '0004_team_chat_webhook_url'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='case',
            name='one_open_case_per_subject',
        ),
        migrations.AddField(
            model_name='case',
            name='kind',
            field=models.CharField(choices=[('report', 'Reports'), ('appeal', 'Appeal')], db_default='report', default='report', editable=False, max_length=10),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(models.Q(('status', 'resolved'), _negated=True), ('kind', 'report')), fields=('subject',), name='one_open_case_per_subject'),
        ),
        migrations.CreateModel(
            name='CaseRecusal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=200)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recusals', to='cases.case')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('case', 'user'), name='case_recusal_once')],
            },
        ),
    ]
