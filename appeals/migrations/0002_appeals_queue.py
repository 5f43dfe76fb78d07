"""The appeals queue and its SLA targets. DSA Art. 20 asks for decisions "without undue delay":
a termination or high-impact appeal (P1) within two days, others within five."""

from django.db import migrations

# priority → (first touch, resolution) in minutes
TARGETS = {0: (60, 24 * 60), 1: (4 * 60, 2 * 24 * 60), 2: (24 * 60, 5 * 24 * 60), 3: (48 * 60, 7 * 24 * 60)}


def create(apps, schema_editor):
    Queue = apps.get_model("cases", "Queue")
    QueueSla = apps.get_model("cases", "QueueSla")
    queue, _ = Queue.objects.get_or_create(slug="appeals", defaults={
        "name": "Appeals", "position": 90, "claim_timeout_minutes": 60,
        "description": "Appeals against enforcement decisions, reviewed by someone other than the original "
                       "decider and approver.",
    })
    for priority, (touch, resolve) in TARGETS.items():
        QueueSla.objects.get_or_create(queue=queue, priority=priority, defaults={
            "first_touch_minutes": touch, "resolution_minutes": resolve})


def remove(apps, schema_editor):
    Queue = apps.get_model("cases", "Queue")
    Queue.objects.filter(slug="appeals", cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
