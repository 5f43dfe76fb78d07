"""The zero-config default (SQLite + embedded filesystem broker) boots and runs a task through a real worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _env(var_dir):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}}
    env.update({"DEBUG": "1", "TSCONSOLE_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "tsconsole.settings"})
    return env


def _manage(env, *args, timeout=120):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_default_configuration_runs_a_task_through_a_real_worker(tmp_path):
    env = _env(tmp_path)
    migrated = _manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tsconsole", "worker", "--pool", "solo", "-l", "info"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        sent = _manage(env, "shell", "-c", "from tsconsole.tasks import heartbeat; heartbeat.delay('smoke')")
        assert sent.returncode == 0, sent.stderr
        deadline = time.monotonic() + 90
        seen = False
        while time.monotonic() < deadline:
            check = _manage(env, "shell", "-c",
                            "from tsconsole.models import Heartbeat; "
                            "print(Heartbeat.objects.filter(component='smoke').exists())")
            seen = check.stdout.strip().splitlines()[-1:] == ["True"]
            if seen:
                break
            time.sleep(1)
        assert seen, "the worker did not run the task"
        assert (tmp_path / "tsconsole.sqlite3").exists()
        assert (tmp_path / "broker").is_dir()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
