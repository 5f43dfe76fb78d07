"""Settings from the environment, read in one place.

Every variable is parsed here; a malformed value stops start-up with a message that names the
variable, instead of failing later in some request or worker.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured


class SettingsError(ImproperlyConfigured):
    """A configuration variable is missing or malformed."""


_env = environ.Env()


def _raw(name: str) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    file_var = f"{name}_FILE"
    if os.environ.get(file_var):
        path = Path(os.environ[file_var])
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise SettingsError(f"{file_var}: cannot read {path}: {exc.strerror}") from exc
    return os.environ.get(name)


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}: expected a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}")
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise SettingsError(f"{name}: {value} is outside the allowed range {minimum}..{maximum}")
    return value


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    raw = _raw(name)
    if raw is None or raw == "":
        if required:
            raise SettingsError(f"{name} is required")
        return default
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _raw(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_site_url(name: str, default: str) -> str:
    """An http(s) address such as https://tsconsole.example.com (no trailing slash), or ""."""
    raw = (_raw(name) or default).strip()
    if not raw:
        return ""
    parsed = urlsplit(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.query or parsed.fragment:
        raise SettingsError(f"{name}: not an http(s) address ({raw!r}); e.g. https://tsconsole.example.com")
    return raw.rstrip("/")


def env_database(name: str, default: str) -> dict:
    """A PostgreSQL URL: the one engine the console runs on, in the demo, the tests and production."""
    raw = _raw(name) or default
    try:
        config = _env.db_url_config(raw)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise SettingsError(f"{name}: not a database URL ({exc}); e.g. postgres://user:pass@host:5432/db")
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise SettingsError(
            f"{name}: {raw!r} is not a PostgreSQL URL; tsconsole runs on PostgreSQL only "
            "(postgres://user:pass@host:5432/db), or leave it unset to use the checkout's own server"
        )
    if not config.get("NAME"):
        raise SettingsError(f"{name}: the URL names no database: {raw!r}")
    return config


def env_redis_url(name: str, default: str) -> str:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"{name}: expected a redis:// or rediss:// URL, got {raw!r}")
    return raw


def env_email(name: str, default: str) -> dict:
    raw = _raw(name) or default
    try:
        config = _env.email_url_config(raw)
    except Exception as exc:
        raise SettingsError(f"{name}: not an email URL ({exc}); e.g. smtp://user:pass@host:587 or consolemail://")
    if not config.get("EMAIL_BACKEND"):
        raise SettingsError(f"{name}: unsupported scheme in {raw!r}")
    return config
