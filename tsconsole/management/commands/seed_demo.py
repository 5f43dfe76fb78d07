from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tsconsole import demo


class Command(BaseCommand):
    help = "Create the demo users and demo data (idempotent). Only in demo mode (TSCONSOLE_DEMO=1) or with --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even when TSCONSOLE_DEMO is not set.")

    def handle(self, *args, force=False, **options):
        if not (settings.DEMO_MODE or force):
            raise CommandError("Demo data is only created in demo mode: set TSCONSOLE_DEMO=1 (or pass --force).")
        with transaction.atomic():
            demo.ensure_demo_users()
        for name, seeder in demo.seeders():
            with transaction.atomic():
                summary = seeder()
            self.stdout.write(f"  {name}: {summary}")
        self.stdout.write(self.style.SUCCESS(
            "Demo users (password 'demo'): " + ", ".join(u for u, _, _ in demo.DEMO_USERS)
        ))
