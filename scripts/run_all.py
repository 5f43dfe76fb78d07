#!/usr/bin/env python3
"""The `make run` supervisor: PostgreSQL, Redis, web, Celery worker and beat in one terminal.

- Starts the checkout's own PostgreSQL and Redis (tsconsole/localservices.py; data in var/pg and
  var/redis) unless DATABASE_URL / REDIS_URL point elsewhere, then migrates, collects static files
  and loads the demo data, then starts web (gunicorn), worker and beat.
- Prefixes every output line with the process name.
- Keeps serving: a child that dies (crash, OOM, kill -9) is restarted with a log line, after a
  backoff that doubles from 1 s up to 30 s while it keeps dying and resets once it has stayed up a
  minute. The web server is never stopped because another process died.
- Ctrl-C (or SIGTERM) stops everything: web, beat and worker first, then Redis, then PostgreSQL,
  each in its own process group, so nothing is left behind.
- One per checkout: a lock file in var/ makes a second `make run` say that one is running.

Why our own loop rather than supervisord or honcho: the console needs ordered start-up (the
database before migrations, migrations before web), restarts with backoff, one merged and
prefixed log in the terminal and a clean stop on Ctrl-C. supervisord can restart but wants a config
file, a control socket and log files, and does not order start-up on readiness; honcho stops every
process when one exits, which is what this supervisor exists to avoid.

Environment: PORT (default 8000), WEB_CONCURRENCY (gunicorn workers, default 3).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tsconsole.localservices import LocalPostgres, LocalRedis, ServiceError  # noqa: E402

GRACE_SECONDS = 15
BACKOFF_FIRST, BACKOFF_CAP, STABLE_AFTER = 1.0, 30.0, 60.0
COLORS = {"web": 36, "worker": 33, "beat": 35, "pg": 34, "redis": 31, "setup": 32}


def _set_pdeathsig() -> None:
    """Ask Linux to SIGTERM this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass
class Child:
    name: str
    command: list[str]
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = BACKOFF_FIRST
    restarts: int = 0
    threads: list = field(default_factory=list)


class Supervisor:
    def __init__(self, var_dir: Path, port: str) -> None:
        self.var_dir = var_dir
        self.port = port
        self.children: list[Child] = []
        self.lock = threading.Lock()
        self.stop_signal: int | None = None
        self.first_signal_at = 0.0
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.width = 6
        self.env = dict(os.environ, PYTHONUNBUFFERED="1")

    # ------------------------------------------------------------------ output

    def emit(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.width}} | "
        if self.color:
            prefix = f"\033[{COLORS.get(name, 32)}m{prefix}\033[0m"
        with self.lock:
            sys.stdout.write(prefix + text.rstrip("\r\n") + "\n")
            sys.stdout.flush()

    def pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.emit(name, raw.decode("utf-8", "replace"))
        stream.close()

    # ------------------------------------------------------------------ children

    def spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            child.command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, process_group=0, preexec_fn=_set_pdeathsig,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        thread = threading.Thread(target=self.pump, args=(child.name, child.proc.stdout), daemon=True)
        thread.start()
        child.threads.append(thread)

    def add(self, child: Child) -> Child:
        self.emit("run", f"starting {child.name}")
        self.spawn(child)
        self.children.append(child)
        return child

    def run_step(self, name: str, command: list[str]) -> None:
        """A set-up command in the foreground; its failure stops `make run`."""
        self.emit("setup", " ".join(command[1:]))
        proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0)
        self.pump("setup", proc.stdout)
        if proc.wait() != 0:
            raise ServiceError(f"{name} failed (exit status {proc.returncode})")

    def watch(self) -> None:
        """Restart children that exited, with a doubling backoff while they keep dying."""
        now = time.monotonic()
        for child in self.children:
            if child.proc.poll() is None:
                if now - child.started_at > STABLE_AFTER:
                    child.backoff = BACKOFF_FIRST
                continue
            if child.restart_at is None:
                child.restart_at = now + child.backoff
                self.emit("run", f"{child.name} exited with status {child.proc.returncode}; "
                                 f"restarting it in {child.backoff:.0f} s")
                child.backoff = min(child.backoff * 2, BACKOFF_CAP)
            elif now >= child.restart_at:
                child.restarts += 1
                self.emit("run", f"restarting {child.name} (restart #{child.restarts})")
                self.spawn(child)

    def signal_children(self, children: list[Child], sig: int | None = None, group: bool = False) -> None:
        for child in children:
            if child.proc is None:
                continue
            try:
                if group:
                    os.killpg(child.proc.pid, sig)
                elif child.proc.poll() is None:
                    child.proc.send_signal(sig or child.stop_signal)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self, children: list[Child]) -> None:
        self.signal_children(children)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(c.proc.poll() is None for c in children if c.proc):
            time.sleep(0.1)
        for child in children:
            if child.proc and child.proc.poll() is None:
                self.emit("run", f"{child.name} did not stop within {GRACE_SECONDS} s, killing it")
        # SIGKILL the whole groups: also reaps leftovers such as pool children of a dead leader.
        self.signal_children(children, signal.SIGKILL, group=True)
        for child in children:
            try:
                child.proc.wait(timeout=5)
            except (subprocess.TimeoutExpired, AttributeError):
                pass

    # ------------------------------------------------------------------ signals

    def on_signal(self, signum, _frame) -> None:
        now = time.monotonic()
        if self.stop_signal is None:
            self.stop_signal = signum
            self.first_signal_at = now
            return
        # A repeat within a second is the same request delivered twice (the terminal's Ctrl-C
        # reaches make and us); a later one (a second Ctrl-C) means "stop now".
        if now - self.first_signal_at >= 1.0:
            self.emit("run", "second signal: killing everything")
            self.signal_children(self.children, signal.SIGKILL, group=True)

    def interrupted(self) -> bool:
        return self.stop_signal is not None

    # ------------------------------------------------------------------ the run

    def start_services(self) -> None:
        """The checkout's own PostgreSQL and Redis, unless the environment names servers."""
        if not os.environ.get("DATABASE_URL"):
            pg = LocalPostgres(self.var_dir / "pg")
            if pg.running_pid():  # started by `make services`: use it, leave it running
                self.emit("run", f"using the PostgreSQL already running on port {pg.port} (make services)")
            else:
                pg.init()
                pg.choose_port()
                self.add(Child("pg", pg.server_command(), stop_signal=signal.SIGINT))  # SIGINT: fast shutdown
            pg.wait_ready()
            pg.create_database()
        if not os.environ.get("REDIS_URL"):
            redis = LocalRedis(self.var_dir / "redis")
            if redis.running_pid():
                self.emit("run", f"using the Redis already running on port {redis.port} (make services)")
            else:
                redis.choose_port()
                self.add(Child("redis", redis.server_command()))
            redis.wait_ready()

    def run(self) -> int:
        _set_pdeathsig()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.on_signal)
        py = sys.executable
        workers = os.environ.get("WEB_CONCURRENCY") or "3"
        exit_code = 0
        try:
            self.start_services()
            for name, command in [
                ("migrate", [py, "manage.py", "migrate", "--noinput"]),
                ("collectstatic", [py, "manage.py", "collectstatic", "--noinput", "-v", "0"]),
                ("seed_demo", [py, "manage.py", "seed_demo"]),
            ]:
                if self.interrupted():
                    break
                self.run_step(name, command)
            if not self.interrupted():
                self.add(Child("web", [py, "-m", "gunicorn", "tsconsole.wsgi", "-b", f"127.0.0.1:{self.port}",
                                       "-w", workers, "--access-logfile", "-", "--graceful-timeout", "5"]))
                self.add(Child("worker", [py, "-m", "celery", "-A", "tsconsole", "worker", "-l", "info",
                                          "--concurrency", "2"]))
                self.add(Child("beat", [py, "-m", "celery", "-A", "tsconsole", "beat", "-l", "info",
                                        "-s", str(self.var_dir / "celerybeat-schedule")]))
                self.emit("run", f"tsconsole is serving on http://127.0.0.1:{self.port}/ ; sign in as analyst, "
                                 "analyst2, analyst3, lead, qa, support or admin, password `demo`. Ctrl-C stops everything.")
            while not self.interrupted():
                self.watch()
                time.sleep(0.2)
            self.emit("run", f"received {signal.Signals(self.stop_signal).name}, stopping")
            exit_code = 128 + self.stop_signal
        except ServiceError as exc:
            self.emit("run", f"error: {exc}")
            exit_code = 1
        apps = [c for c in self.children if c.name in {"web", "worker", "beat"}]
        self.stop(apps)
        self.stop([c for c in self.children if c.name == "redis"])
        self.stop([c for c in self.children if c.name == "pg"])
        time.sleep(0.1)  # let reader threads drain the last lines
        self.emit("run", "all processes stopped")
        return exit_code


def local_secret_key(var_dir: Path) -> None:
    """The demo's SECRET_KEY: made once, kept in var/secret_key (0600), read by the settings."""
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50) + "\n")
        path.chmod(0o600)


def main() -> int:
    os.chdir(ROOT)
    var_dir = Path(os.environ.get("TSCONSOLE_VAR_DIR") or ROOT / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    port = os.environ.get("PORT") or "8000"
    lock_file = open(var_dir / "run.lock", "a+")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.seek(0)
        owner = lock_file.read().strip() or "?"
        print(f"tsconsole is already running in this checkout ({owner}). Use that one, or stop it with "
              "Ctrl-C in its terminal before starting another.", file=sys.stderr)
        return 1
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(f"pid {os.getpid()}, http://127.0.0.1:{port}/")
    lock_file.flush()
    local_secret_key(var_dir)
    return Supervisor(var_dir, port).run()


if __name__ == "__main__":
    sys.exit(main())
