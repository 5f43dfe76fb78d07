"""Demo mode: the demo users, and a registry of per-app seeders that `manage.py seed_demo` runs in order."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from . import roles
from .models import Team, TeamMembership

DEMO_PASSWORD = "demo"
DEMO_USERS = [
    # username, role, teams (slug, is_lead, oncall order)
    ("analyst", roles.ANALYST, [("trust-safety", False, None)]),
    ("analyst2", roles.ANALYST, [("trust-safety", False, None), ("child-safety", False, 1)]),
    ("analyst3", roles.ANALYST, [("trust-safety", False, None)]),
    ("lead", roles.LEAD, [("leads", True, 1), ("trust-safety", True, None), ("child-safety", True, None)]),
    ("qa", roles.QA_REVIEWER, []),
    ("support", roles.SUPPORT_AGENT, []),
    ("admin", roles.ADMIN, [("leads", True, 2)]),
]

_SEEDERS: list[tuple[int, str, Callable[[], str]]] = []


def register_seeder(name: str, seeder: Callable[[], str], order: int = 100) -> None:
    """`seeder()` creates its demo rows idempotently and returns a one-line summary."""
    if name not in {n for _, n, _ in _SEEDERS}:
        _SEEDERS.append((order, name, seeder))


def seeders() -> list[tuple[str, Callable[[], str]]]:
    return [(name, fn) for _, name, fn in sorted(_SEEDERS)]


@contextmanager
def demo_clock(moment: datetime) -> Iterator[None]:
    """Run the real services as if it were `moment`: the demo replays a working day through them,
    each step at the time it would have happened, so timelines, SLA clocks and figures are real."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def ensure_demo_users() -> list[str]:
    User = get_user_model()
    created = []
    for username, role, teams in DEMO_USERS:
        user, was_created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.invalid"})
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.first_name = username.capitalize()
            if role == roles.ADMIN:
                user.is_staff = True
                user.is_superuser = True
            user.save()
            created.append(username)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        for slug, is_lead, oncall in teams:
            team = Team.objects.get(slug=slug)
            TeamMembership.objects.get_or_create(team=team, user=user, defaults={"is_lead": is_lead, "oncall_order": oncall})
    return created
