from celery import shared_task

from . import services


@shared_task(name="enforcement.tasks.expire_actions", acks_late=True)
def expire_actions() -> int:
    """Beat sweep: end temporary actions whose time is up. Safe to run twice or concurrently
    (services.actions_expire skips rows another run holds and re-checks the status)."""
    return services.actions_expire()
