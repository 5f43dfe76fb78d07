"""One way to notify a person: tsconsole.services.users_notify (in-app row, email through the outbox)."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tsconsole.models import Notification, OutboxMessage
from tsconsole.services import Notice, users_notify

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tsconsole" / "services.py"
WRITES = re.compile(
    r"Notification\.objects\.(create|bulk_create|get_or_create|update_or_create)|(?<![\w.])(?<!class )Notification\("
    r"|Channel\.IN_APP,|channel=\"in_app\"",
)


def test_no_module_but_the_writer_notifies_people():
    offenders = []
    for app in ("tsconsole", "cases", "enforcement", "appeals", "qa", "insights"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path == WRITER:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if WRITES.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.django_db
def test_in_app_email_and_chat_are_written_in_one_statement_and_only_once():
    alice, bob = UserFactory(email="alice@example.test"), UserFactory(email="")
    gone = UserFactory(is_active=False)
    notices = [
        Notice(user=alice, kind="sla.breached", key="k1", title="Case 1 missed", body="P1", url="/cases/1/", email=True),
        Notice(user=bob, kind="sla.breached", key="k2", title="Case 1 missed", url="/cases/1/", email=True),
        Notice(user=gone, kind="sla.breached", key="k3", title="Case 1 missed"),
    ]
    chat = {"topic": "sla.breached", "channel": "slack", "recipient": "http://127.0.0.1:9/chat",
            "idempotency_key": "k:slack", "payload": {"text": "Case 1 missed"}}
    with CaptureQueriesContext(connection) as queries:
        assert users_notify(notices, also=[chat]) == 4  # two in-app, one email (bob has no address), one chat
    assert len(queries) == 1
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == sorted([alice.username, bob.username])
    assert set(OutboxMessage.objects.values_list("channel", "recipient")) == {
        ("email", "alice@example.test"), ("slack", "http://127.0.0.1:9/chat")}
    assert OutboxMessage.objects.get(channel="email").payload["body"].endswith("/cases/1/")

    users_notify(notices, also=[chat])  # a re-run (a retried sweep) adds nothing
    assert Notification.objects.count() == 2 and OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_nothing_to_say_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert users_notify([]) == 0
    assert len(queries) == 0
