"""The default rubric and sampling rules, and the index the sampler reads decisions by.

The index is on enforcement's action table but serves only the QA sampler's window
(`applied_at >= since`), so it is created here, as SQL, rather than in enforcement's models.
"""

from django.db import migrations

DEFAULT_CRITERIA = [
    # key, label, help, weight, critical
    ("correct_policy", "Correct policy", "The decision applies the policy that covers the behaviour.", 3, True),
    ("correct_action", "Correct action", "The action (or no violation) fits the policy and the ladder.", 3, True),
    ("evidence", "Evidence sufficient", "The evidence on the case supports the decision.", 2, False),
    ("rationale", "Rationale", "The internal rationale explains the decision to a reviewer.", 2, False),
    ("statement", "Statement of reasons", "The user-facing statement is accurate, clear and complete.", 1, False),
    ("procedure", "Procedure", "SLA kept; escalation and approval used where required.", 1, False),
]

DEFAULT_RULES = [
    # name, kind, parameters
    ("Random 5%", "random", {"rate": 0.05}),
    ("New analysts: first 20 decisions", "new_analyst", {"first_n": 20}),
    ("Terminations and high-impact decisions", "high_impact", {}),
    ("Weekly floor: 3 per analyst", "weekly_floor", {"floor_k": 3}),
]


def seed(apps, schema_editor):
    Rubric = apps.get_model("qa", "Rubric")
    Criterion = apps.get_model("qa", "RubricCriterion")
    Rule = apps.get_model("qa", "SamplingRule")
    Version = apps.get_model("qa", "SamplingRuleVersion")
    if not Rubric.objects.filter(policy__isnull=True).exists():
        rubric = Rubric.objects.create(policy=None, version=1, pass_mark=80)
        for position, (key, label, help_text, weight, critical) in enumerate(DEFAULT_CRITERIA):
            Criterion.objects.create(rubric=rubric, key=key, label=label, help_text=help_text, weight=weight,
                                     critical=critical, position=position)
    for name, kind, params in DEFAULT_RULES:
        rule, created = Rule.objects.get_or_create(name=name, defaults={"version": 1})
        if created:
            Version.objects.create(rule=rule, version=1, kind=kind, **params)


class Migration(migrations.Migration):
    dependencies = [
        ("qa", "0001_initial"),
        ("enforcement", "0002_default_policies"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS qa_action_applied ON enforcement_enforcementaction (applied_at) "
            "WHERE applied_at IS NOT NULL",
            "DROP INDEX IF EXISTS qa_action_applied",
        ),
    ]
