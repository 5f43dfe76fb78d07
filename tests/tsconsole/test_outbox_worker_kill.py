"""Drill: a Celery worker killed with SIGKILL in the middle of a webhook delivery loses nothing.

Real processes: Celery beat and workers against real Redis and the real PostgreSQL test database,
delivering to a local HTTP receiver that stalls on the first request. The worker is killed while
the receiver holds that request; a fresh worker takes over once the claim's lease runs out. The
receiver then sees the same Idempotency-Key (and the same body) again, which is what lets it
apply the effect exactly once.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.factories import WebhookEndpointFactory
from tsconsole import outbox, services
from tsconsole.models import OutboxMessage

from .outbox_receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 6
DRILL_ENV = {
    "OUTBOX_RELAY_INTERVAL_SECONDS": "1",
    "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    "OUTBOX_TIMEOUT_SECONDS": "5",
    "OUTBOX_BATCH_SIZE": "1",
    "OUTBOX_BACKOFF_BASE_SECONDS": "1",
    "OUTBOX_BACKOFF_CAP_SECONDS": "2",
}


def _database_url() -> str:
    """The test database as a URL, for processes started outside pytest."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{quote(s['NAME'], safe='')}"


class Processes:
    """Celery processes, each in its own process group so a kill reaches its pool children too."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ, **DRILL_ENV,
            "DATABASE_URL": _database_url(), "REDIS_URL": os.environ["REDIS_URL"],
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "drill", "DEBUG": "0",
            "CELERY_TASK_ALWAYS_EAGER": "0", "TSCONSOLE_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "tsconsole.settings",
        }
        self.started: dict[str, subprocess.Popen] = {}
        self.log_files = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w")
        self.log_files.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tsconsole", *args, "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.started[name] = process
        return process

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "worker", "--pool", "prefork", "--concurrency", "1", "-n", f"{name}@%h",
                          "--without-gossip", "--without-mingle")

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "beat", "--schedule", str(self.tmp_path / "beat-schedule"))

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.started[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def stop_all(self) -> None:
        for name, process in self.started.items():
            if process.poll() is None:
                self.kill(name, signal.SIGTERM)
        for log in self.log_files:
            log.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text()[-3000:]}" for p in sorted(self.tmp_path.glob("*.log")))


def _wait(condition, timeout: float, what: str, procs: Processes):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{procs.logs()}")


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_redelivery_carries_the_same_key(tmp_path):
    procs = Processes(tmp_path)
    with Receiver(stall_first=60) as receiver:
        endpoint = WebhookEndpointFactory(url=receiver.url, secret="drill-secret")
        messages = [
            services.outbox_enqueue(topic="enforcement.applied", channel=OutboxMessage.Channel.WEBHOOK,
                                    endpoint=endpoint, payload={"action": {"id": i}}, idempotency_key=f"drill:{i}")
            for i in range(3)
        ]
        stalled = messages[0]  # oldest due, so the first one claimed
        try:
            procs.beat()
            procs.worker("worker1")
            _wait(lambda: receiver.first_arrived.is_set(), 60, "the first delivery to reach the receiver", procs)

            procs.kill("worker1")  # SIGKILL to the whole group, while the receiver holds the request
            killed_at = time.monotonic()
            stalled.refresh_from_db()
            assert stalled.status == OutboxMessage.Status.PENDING and stalled.attempts == 1  # claimed, not lost

            procs.worker("worker2")
            _wait(lambda: not OutboxMessage.objects.exclude(status=OutboxMessage.Status.DELIVERED).exists(),
                  60, "every message to be delivered", procs)
            recovered_after = time.monotonic() - killed_at
        finally:
            procs.stop_all()

    rows = {m.pk: m for m in OutboxMessage.objects.all()}
    assert {m.status for m in rows.values()} == {OutboxMessage.Status.DELIVERED}
    assert rows[stalled.pk].attempts == 2  # the killed attempt counted, then one redelivery

    keys = receiver.keys()
    assert sorted(keys) == ["drill:0", "drill:0", "drill:1", "drill:2"], keys
    first, again = [r for r in receiver.requests if r.headers["idempotency-key"] == "drill:0"]
    assert first.body == again.body  # byte-identical: the receiver can compare or just dedupe by key
    assert (first.headers["x-tsconsole-attempt"], again.headers["x-tsconsole-attempt"]) == ("1", "2")
    for request in receiver.requests:
        assert outbox.verify_signature(secret="drill-secret", body=request.body,
                                       timestamp=request.headers["x-tsconsole-timestamp"],
                                       signature=request.headers["x-tsconsole-signature"])
    # What a receiver that dedupes by key applies: each effect once.
    applied = {r.headers["idempotency-key"]: json.loads(r.body)["data"] for r in receiver.requests}
    assert applied == {f"drill:{i}": {"action": {"id": i}} for i in range(3)}
    # The redelivery waited for the lease, not for Redis' hour-long visibility timeout.
    assert recovered_after < LEASE_SECONDS + 30, recovered_after
    print(json.dumps({"drill": "outbox_worker_kill", "recovered_after_kill_s": round(recovered_after, 2),
                      "lease_s": LEASE_SECONDS, "requests_seen": len(keys)}))
