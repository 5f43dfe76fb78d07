"""Malformed configuration stops start-up with a message that names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _boot(tmp_path, then="print('booted')", **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    env.update({"TSCONSOLE_VAR_DIR": str(tmp_path), "DEBUG": "1"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {then}"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "tsconsole.settings"},
        capture_output=True, text=True, timeout=60,
    )


def test_defaults_boot(tmp_path):
    result = _boot(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "booted" in result.stdout


@pytest.mark.parametrize("name,value,fragment", [
    ("PORT", "eighty", "PORT"),
    ("PORT", "70000", "PORT"),
    ("DEBUG", "maybe", "DEBUG"),
    ("DATABASE_URL", "mongodb://host/db", "DATABASE_URL"),
    ("REDIS_URL", "http://localhost:6379", "REDIS_URL"),
    ("EMAIL_URL", "pigeon://coop", "EMAIL_URL"),
    ("SWEEP_INTERVAL_SECONDS", "0", "SWEEP_INTERVAL_SECONDS"),
    ("SITE_URL", "tsconsole.example.com", "SITE_URL"),
    ("COMMON_SIGNAL_ACCOUNTS", "1", "COMMON_SIGNAL_ACCOUNTS"),
])
def test_malformed_values_stop_start_up(tmp_path, name, value, fragment):
    result = _boot(tmp_path, **{name: value})
    assert result.returncode != 0
    assert fragment in result.stderr
    assert "booted" not in result.stdout


def test_secret_key_is_required_without_debug(tmp_path):
    result = _boot(tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**{k: v for k, v in os.environ.items() if k not in {"SECRET_KEY"}}, "DEBUG": "0",
             "SECRET_KEY_FILE": str(secret), "TSCONSOLE_VAR_DIR": str(tmp_path),
             "DJANGO_SETTINGS_MODULE": "tsconsole.settings"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-file"


def test_the_common_signal_threshold_comes_from_the_environment(tmp_path):
    result = _boot(tmp_path, "from cases.models import COMMON_SIGNAL_ACCOUNTS; print(COMMON_SIGNAL_ACCOUNTS)",
                   COMMON_SIGNAL_ACCOUNTS="250")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "250"
