from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from insights.filters import parse_instant
from insights.rollup import floor_hour, rollup_hours


class Command(BaseCommand):
    help = "Rebuild the hourly insights rollups from the case timeline, from --since (a date or datetime) to now."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True)

    def handle(self, *args, **options):
        try:
            since = parse_instant(options["since"])
        except ValueError:
            raise CommandError("--since: use YYYY-MM-DD or an ISO 8601 datetime")
        end = floor_hour(timezone.now()) + timedelta(hours=1)
        hours = rollup_hours(since, end)
        self.stdout.write(f"rolled up {hours} hours from {floor_hour(since).isoformat()}")
