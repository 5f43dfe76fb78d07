#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        if os.environ.get("DATABASE_URL"):
            raise
        # No DATABASE_URL: the checkout's own PostgreSQL, which may simply not be running.
        from django.conf import settings

        from tsconsole.localservices import LocalPostgres, not_running_hint

        if LocalPostgres(settings.VAR_DIR / "pg").ready():
            raise
        sys.stderr.write(f"{not_running_hint(settings.VAR_DIR)}\n({str(exc).strip().splitlines()[0]})\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
