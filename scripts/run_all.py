#!/usr/bin/env python3
"""Tiny process supervisor for `make run` (standard library only).

Starts the web server, a Celery worker and Celery beat, prefixes every output line with
the process name, forwards SIGINT/SIGTERM to all of them, and when any one exits stops
the others and exits non-zero.

Each child runs in its own process group so that the whole tree (e.g. Celery's pool
processes) can be signalled at once, and so that a terminal Ctrl-C reaches the
supervisor only, which then shuts everything down in order.

Environment:
  PORT       web port on 127.0.0.1 (default 8000)
  GUNICORN   1 -> serve with gunicorn instead of `manage.py runserver`
  WEB_CONCURRENCY  gunicorn workers (default 2)
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

GRACE_SECONDS = 15
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commands() -> list[tuple[str, list[str]]]:
    py = sys.executable
    port = os.environ.get("PORT") or "8000"
    if os.environ.get("GUNICORN") == "1":
        workers = os.environ.get("WEB_CONCURRENCY") or "2"
        web = [
            py,
            "-m",
            "gunicorn",
            "tsconsole.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            workers,
            "--access-logfile",
            "-",
        ]
    else:
        web = [py, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    return [
        ("web", web),
        ("worker", [py, "-m", "celery", "-A", "tsconsole", "worker", "-l", "info", "--concurrency", "2"]),
        (
            "beat",
            [
                py,
                "-m",
                "celery",
                "-A",
                "tsconsole",
                "beat",
                "-l",
                "info",
                "-s",
                os.path.join("var", "celerybeat-schedule"),
            ],
        ),
    ]


def _set_pdeathsig() -> None:
    """Ask Linux to SIGTERM this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Supervisor:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()
        self.stop_signal: int | None = None
        self.first_signal_at = 0.0
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.width = 6

    def emit(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.width}} | "
        if self.color:
            code = {"web": 36, "worker": 33, "beat": 35}.get(name, 32)
            prefix = f"\033[{code}m{prefix}\033[0m"
        with self.lock:
            sys.stdout.write(prefix + text.rstrip("\r\n") + "\n")
            sys.stdout.flush()

    def pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.emit(name, raw.decode("utf-8", "replace"))
        stream.close()

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        specs = commands()
        self.width = max(len(n) for n, _ in specs + [("run", [])])
        for name, cmd in specs:
            self.emit("run", f"starting {name}: {' '.join(cmd)}")
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=_set_pdeathsig,
            )
            self.procs.append((name, proc))
        # Reader threads only after every fork: preexec_fn is not safe alongside threads.
        for name, proc in self.procs:
            threading.Thread(target=self.pump, args=(name, proc.stdout), daemon=True).start()

    def signal_all(self, sig: int, group: bool = False) -> None:
        """Signal each child; with group=True its whole process group (children included)."""
        for _, proc in self.procs:
            try:
                if group:
                    os.killpg(proc.pid, sig)
                elif proc.poll() is None:
                    proc.send_signal(sig)
            except (ProcessLookupError, PermissionError):
                pass

    def on_signal(self, signum, _frame) -> None:
        now = time.monotonic()
        if self.stop_signal is None:
            self.stop_signal = signum
            self.first_signal_at = now
            return
        # A repeat within a second is the same request delivered twice (e.g. SIGTERM sent to
        # the whole process group reaches us directly and again via make); later repeats
        # (a second Ctrl-C) mean "stop now".
        if now - self.first_signal_at >= 1.0:
            self.emit("run", "second signal: killing everything")
            self.signal_all(signal.SIGKILL, group=True)

    def run(self) -> int:
        parent = os.getppid()
        _set_pdeathsig()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.on_signal)
        self.start()

        exit_code = 0
        while True:
            if self.stop_signal is not None:
                name = signal.Signals(self.stop_signal).name
                self.emit("run", f"received {name}, stopping all processes")
                exit_code = 128 + self.stop_signal
                forward = (
                    self.stop_signal
                    if self.stop_signal in (signal.SIGINT, signal.SIGTERM)
                    else signal.SIGTERM
                )
                break
            if os.getppid() != parent:
                self.emit("run", "parent process went away, stopping all processes")
                exit_code, forward = 1, signal.SIGTERM
                break
            exited = [(n, p) for n, p in self.procs if p.poll() is not None]
            if exited:
                name, proc = exited[0]
                self.emit("run", f"{name} exited with status {proc.returncode}; stopping the others")
                exit_code = proc.returncode if proc.returncode > 0 else 1
                forward = signal.SIGTERM
                break
            time.sleep(0.2)

        self.shutdown(forward)
        return exit_code

    def shutdown(self, sig: int) -> None:
        self.signal_all(sig)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(p.poll() is None for _, p in self.procs):
            time.sleep(0.1)
        for name, proc in self.procs:
            if proc.poll() is None:
                self.emit("run", f"{name} did not stop within {GRACE_SECONDS}s, killing it")
        # SIGKILL the whole groups: also reaps leftovers such as pool children of a dead leader.
        self.signal_all(signal.SIGKILL, group=True)
        for _, proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        time.sleep(0.1)  # let reader threads drain the last lines
        self.emit("run", "all processes stopped")


def main() -> int:
    os.chdir(ROOT)
    return Supervisor().run()


if __name__ == "__main__":
    sys.exit(main())
