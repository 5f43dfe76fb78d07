"""The zero-config default (the checkout's own PostgreSQL and Redis, started from the wheels) boots and
runs a task through a real worker."""

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


def _services(env, command):
    return subprocess.run([sys.executable, "-m", "tsconsole.localservices", command, "--dir", env["TSCONSOLE_VAR_DIR"],
                           "--throwaway"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_without_urls_manage_py_names_the_servers_to_start(tmp_path):
    env = _env(tmp_path)
    result = _manage(env, "migrate", "--noinput")
    assert result.returncode == 1
    assert "is not running" in result.stderr and "make run" in result.stderr
    assert "Traceback" not in result.stderr


def test_default_configuration_runs_a_task_through_a_real_worker(tmp_path):
    env = _env(tmp_path)
    started = _services(env, "start")
    assert started.returncode == 0, started.stderr
    try:
        _migrate_and_run_a_task(env)
    finally:
        _services(env, "stop")
    assert not (tmp_path / "tsconsole.sqlite3").exists()


def _migrate_and_run_a_task(env):
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
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
