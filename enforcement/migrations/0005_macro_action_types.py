"""Macros say which action types they describe, so "Account suspended" is not sent with a warning.
The shipped macros get their types, and the ladder steps without a macro get one."""

from django.db import migrations, models

import enforcement.models

TYPES = {
    "removed-content": ["remove_content"],
    "account-suspended": ["suspension"],
    "visibility-limited": ["restrict_visibility"],
    "warning": ["warn"],
    "listing-removed": ["remove_content"],
    "private-info-removed": ["remove_content"],
}
NEW = [
    ("features-restricted", "Features restricted", ["feature_restriction"],
     "Some features of your account {handle} are restricted until {end_date} because your {subject} broke our "
     "rule on {policy}: {rule} You can appeal this decision until {appeal_deadline}."),
    ("account-terminated", "Account terminated", ["termination"],
     "Your account {handle} is closed because it broke our rule on {policy}: {rule} "
     "You can appeal this decision until {appeal_deadline}."),
    ("payments-held", "Payments held", ["transaction_hold"],
     "We are holding payments to your account {handle} because of our rule on {policy}: {rule}"),
]


def forwards(apps, schema_editor):
    Macro = apps.get_model("enforcement", "Macro")
    for slug, types in TYPES.items():
        Macro.objects.filter(slug=slug, action_types=[]).update(action_types=types)
    for slug, name, types, body in NEW:
        Macro.objects.get_or_create(slug=slug, defaults={"name": name, "body": body, "action_types": types})


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0004_dsa_v2_categories")]
    operations = [
        migrations.AddField(
            model_name="macro", name="action_types",
            field=models.JSONField(
                blank=True, default=list, validators=[enforcement.models.validate_macro_action_types],
                help_text='The action types this statement describes, e.g. ["suspension"]; empty: any decision.'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
