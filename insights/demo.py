"""Demo: the hourly rollups over the demo's history (manage.py seed_demo, after every other seeder).

The beat task keeps the current hours; the days the demo replays happened before it ever ran, so
they are rolled up here once, the way `manage.py insights_rollup --since` would."""

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from cases.models import CaseEvent

from .models import QueueHour, RollupState
from .rollup import floor_hour, rollup_hours


def seed() -> str:
    first = CaseEvent.objects.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return "skipped: no case events"
    if QueueHour.objects.filter(hour__lte=floor_hour(first)).exists():
        return "already present"
    current = floor_hour(timezone.now())
    hours = rollup_hours(first, current + timedelta(hours=1))
    # The beat task goes on from the previous hour (it rewrites the last hour once more).
    RollupState.objects.update_or_create(key="hourly", defaults={"complete_before": current - timedelta(hours=1)})
    return f"{hours} hours rolled up"
