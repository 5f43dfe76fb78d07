from django.db import migrations

ROLES = ["analyst", "lead", "qa_reviewer", "support_agent", "admin", "integration"]
TEAMS = [
    ("trust-safety", "Trust & Safety", "Generalist analysts who work the main queues."),
    ("leads", "Leads on call", "Shift leads: approvals, escalations, reassignment."),
    ("child-safety", "Child safety", "Specialists for child sexual exploitation and grooming."),
    ("legal", "Legal", "Legal requests, court orders, law enforcement."),
    ("security", "Security", "Account takeover, compromised infrastructure, credible threats."),
    ("policy", "Policy", "Policy interpretation and novel cases."),
]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Team = apps.get_model("tsconsole", "Team")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for slug, name, description in TEAMS:
        Team.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})


class Migration(migrations.Migration):
    dependencies = [("tsconsole", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
