"""Shared by the benchmarks: a gunicorn on a free local port, percentiles, JSON-line output.

Benchmarks talk plain HTTP to 127.0.0.1, so the production HTTPS redirect and HSTS are switched off
for the server they start (and nowhere else).
"""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on_bench_database() -> None:
    """Set Django up against DATABASE_URL, which must be a PostgreSQL database made for benchmarks."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database made for benchmarks.")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()


def emit(**line) -> None:
    print(json.dumps(line), flush=True)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The web servers a benchmark can start (`--server`): gunicorn's sync workers (what the console runs),
# gunicorn's threaded workers, or granian (a Rust HTTP server running the same WSGI application in
# blocking threads; measured for comparison, not a dependency).
SERVERS = ("gunicorn", "gthread", "granian")


def server_command(server: str, port: int, workers: int, threads: int = 1) -> list[str]:
    """The command line that serves tsconsole.wsgi on 127.0.0.1:port with the given server."""
    if server == "granian":
        if importlib.util.find_spec("granian") is None:
            raise SystemExit("granian is not installed (it is not a dependency): .venv/bin/pip install granian")
        return [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--blocking-threads", str(threads), "--backlog", "512",
                "--log-level", "warning", "--no-access-log", "tsconsole.wsgi:application"]
    if server not in ("gunicorn", "gthread"):
        raise SystemExit(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    return [sys.executable, "-m", "gunicorn", "tsconsole.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads), "--log-level", "warning", "--timeout", "120",
            "--backlog", "512", *(["--worker-class", "gthread"] if server == "gthread" else [])]


def start_server(port: int, workers: int, threads: int = 1, server: str = "gunicorn", *,
                 extra_args: tuple[str, ...] = (), extra_env: dict | None = None) -> subprocess.Popen:
    """The web server serving the project on 127.0.0.1:port, in its own process group; waits until it listens."""
    env = dict(os.environ, DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING",
               SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", **(extra_env or {}))
    cmd = [*server_command(server, port, workers, threads), *extra_args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{server} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit(f"{server} did not start within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ----------------------------------------------------------------- CPU accounting (Linux /proc)
#
# On a shared machine wall-clock rates say as much about the neighbours as about the code. The CPU
# time the server side spends (web workers plus the PostgreSQL backends serving them) does not
# depend on contention, and 2 cores ÷ CPU per request is the rate two dedicated cores would reach.

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, 0 when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mb(pid: int) -> float | None:
    """Resident set size of a process in MB (VmRSS), None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def group_pids(pgid: int) -> list[int]:
    """Processes of a process group (a gunicorn master and its workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return pids


class CpuMeter:
    """CPU seconds used between start() and stop() by given processes and by the database's backends.

    With `poll` (seconds) a thread reads every process's CPU that often in between, so that processes
    that end inside the window still count up to their last reading: a backend whose connection
    Django closes after CONN_MAX_AGE, or one that served a single long request. Without it only the
    processes alive at stop() count.
    """

    def __init__(self, pids_fn, backend_pids_fn, poll: float | None = None):
        self.pids_fn, self.backend_pids_fn, self.poll = pids_fn, backend_pids_fn, poll
        self._thread = None

    def _read(self) -> None:
        for pid in {*self.pids_fn(), *self.backend_pids_fn()}:
            cpu = proc_cpu(pid)
            if cpu:
                self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def start(self):
        self.last: dict[int, float] = {}
        self._read()
        self.before = dict(self.last)
        if self.poll:
            self._stop = threading.Event()

            def watch():
                while not self._stop.wait(self.poll):
                    self._read()

            self._thread = threading.Thread(target=watch, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> float | None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self._read()
        used = sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.last.items())
        return used if os.path.exists("/proc/self/stat") else None
