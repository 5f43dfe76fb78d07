"""Stored actions carry the Transparency Database API v2 category values (see cases 0010)."""

from django.db import migrations, models


CATEGORY_V1_TO_V2 = {
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
}


def forwards(apps, schema_editor):
    Action = apps.get_model("enforcement", "EnforcementAction")
    for old, new in CATEGORY_V1_TO_V2.items():
        Action.objects.filter(category=old).update(category=new)


class Migration(migrations.Migration):

    dependencies = [
        ('enforcement', '0002_default_policies'),
        ('cases', '0010_dsa_v2_categories'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='enforcementaction',
            name='category',
            field=models.CharField(choices=[('STATEMENT_CATEGORY_ANIMAL_WELFARE', 'Animal welfare'), ('STATEMENT_CATEGORY_CONSUMER_INFORMATION', 'Consumer information infringements'), ('STATEMENT_CATEGORY_CYBER_VIOLENCE', 'Cyber violence'), ('STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN', 'Cyber violence against women'), ('STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS', 'Data protection and privacy violations'), ('STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH', 'Illegal or harmful speech'), ('STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS', 'Intellectual property infringements'), ('STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS', 'Civic discourse or elections'), ('STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE', 'Not specified by the notifier'), ('STATEMENT_CATEGORY_OTHER_VIOLATION_TC', 'Other violation of the terms and conditions'), ('STATEMENT_CATEGORY_PROTECTION_OF_MINORS', 'Protection of minors'), ('STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY', 'Risk for public security'), ('STATEMENT_CATEGORY_SCAMS_AND_FRAUD', 'Scams and fraud'), ('STATEMENT_CATEGORY_SELF_HARM', 'Self-harm'), ('STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS', 'Unsafe, non-compliant or prohibited products'), ('STATEMENT_CATEGORY_VIOLENCE', 'Violence')], max_length=80),
        ),
        migrations.AddIndex(
            model_name='enforcementaction',
            index=models.Index(condition=models.Q(('applied_at__isnull', False)), fields=['applied_at'], name='action_applied'),
        ),
    ]
