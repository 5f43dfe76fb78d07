"""Demo: minutes on sensitive material, derived from the replayed workday (manage.py seed_demo,
after the workday seeder). Each analyst is counted as having a sensitive case page in view from
their claim of it to their last act on it (at most an hour a case), one minute at a time through
the real counter, so the figures obey the same rules as live heartbeats."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from tsconsole.models import ExposureDay
from tsconsole.services import exposure_record

from .models import CaseEvent
from .services.events import Verb

ANALYSTS = ["analyst", "analyst2", "analyst3", "lead"]
DAYS = 7
MAX_MINUTES_PER_CASE = 60


def _minutes_in_view(user, since) -> list:
    """Start of every minute `user` had a sensitive case of theirs open, in time order."""
    claims = (CaseEvent.objects.filter(actor=user, verb=Verb.CLAIMED, created_at__gte=since, case__category__sensitive=True)
              .values_list("case_id", "created_at"))
    minutes = set()
    for case_id, claimed_at in claims:
        last = (CaseEvent.objects.filter(case_id=case_id, actor=user, created_at__gt=claimed_at)
                .order_by("-created_at").values_list("created_at", flat=True).first())
        end = min(last or claimed_at + timedelta(minutes=10), claimed_at + timedelta(minutes=MAX_MINUTES_PER_CASE))
        moment = claimed_at.replace(second=0, microsecond=0)
        while moment <= end:
            minutes.add(moment)
            moment += timedelta(minutes=1)
    return sorted(minutes)


def seed() -> str:
    users = list(get_user_model().objects.filter(username__in=ANALYSTS).order_by("username"))
    if not users:
        return "skipped: demo users missing"
    if ExposureDay.objects.filter(user__in=users).exists():
        return "already present"
    since = timezone.now() - timedelta(days=DAYS)
    counted = 0
    for user in users:
        for minute in _minutes_in_view(user, since):
            counted += exposure_record(user=user, now=minute, zone=timezone.get_default_timezone()).counted
    return f"{counted} minutes on sensitive cases for {len(users)} people"
