"""The "overturned on appeal" sampling rule kind, in the default rules; corrections that add
actions record them."""

from django.db import migrations, models

DEFAULT_RULES = [
    # name, kind, parameters (as in 0002: a rule of that name already there is left alone)
    ("Overturned on appeal", "overturned", {}),
]


def seed(apps, schema_editor):
    Rule = apps.get_model("qa", "SamplingRule")
    Version = apps.get_model("qa", "SamplingRuleVersion")
    for name, kind, params in DEFAULT_RULES:
        rule, created = Rule.objects.get_or_create(name=name, defaults={"version": 1})
        if created:
            Version.objects.create(rule=rule, version=1, kind=kind, **params)


def unseed(apps, schema_editor):
    Rule = apps.get_model("qa", "SamplingRule")
    Version = apps.get_model("qa", "SamplingRuleVersion")
    Sample = apps.get_model("qa", "Sample")
    for name, kind, _params in DEFAULT_RULES:
        rule = Rule.objects.filter(name=name).first()
        if rule is not None and not Sample.objects.filter(rule=rule).exists():
            Version.objects.filter(rule=rule).delete()
            rule.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('qa', '0003_decision_history_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='samplingruleversion',
            name='qa_rule_parameters',
        ),
        migrations.AddField(
            model_name='correction',
            name='added_actions',
            field=models.JSONField(default=list, help_text='Ids of the actions added.'),
        ),
        migrations.AddField(
            model_name='correction',
            name='new_decision_ref',
            field=models.UUIDField(blank=True, help_text='The decision the added actions share.', null=True),
        ),
        migrations.AlterField(
            model_name='samplingruleversion',
            name='kind',
            field=models.CharField(choices=[('random', 'Random rate'), ('new_analyst', 'First decisions of new analysts'), ('high_impact', 'Terminations and high-impact decisions'), ('weekly_floor', 'Weekly floor per analyst'), ('overturned', 'Decisions overturned on appeal')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='samplingruleversion',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'random'), ('rate__isnull', False), ('rate__gt', 0), ('rate__lte', 1)), models.Q(('first_n__gte', 1), ('first_n__isnull', False), ('kind', 'new_analyst')), ('kind', 'high_impact'), ('kind', 'overturned'), models.Q(('floor_k__gte', 1), ('floor_k__isnull', False), ('kind', 'weekly_floor')), _connector='OR'), name='qa_rule_parameters'),
        ),
        migrations.RunPython(seed, unseed),
    ]
