"""tsconsole beside django-helpdesk, measured back to back on this machine. Prints JSON lines.

    eval "$(.venv/bin/python -m tsconsole.localservices start --dir /tmp/tsconsole-bench --db tsc_bench)"
    .venv/bin/python bench/peer.py --peer-dir ../shared/peers/helpdesk \\
        --intake-database-url postgres://…/tsc_bench_peer --generate

The peer is django-helpdesk as installed by the peer scripts in --peer-dir (their README: setup.sh,
gendata.py; everything under --helpdesk-bench, default /tmp/helpdesk-bench). Both sides run under
gunicorn with the same number of sync workers on 127.0.0.1 and are driven by the same closed-loop
client (one HTTP connection per request, signed-in sessions), one pair of measures right after the
other so that both see the same neighbours:

- `list_rows`: the case list with its rows (GET /cases/?status=open) and the same rows as JSON
  (GET /api/v1/cases/?status=open) against helpdesk's ticket-list DataTables JSON, first page of
  its default filter (open + reopened), which is what carries the rows of its ticket list;
- `list_shell`: the queue list (GET /queues/) against helpdesk's ticket list HTML shell
  (GET /helpdesk/tickets/, rows come later by AJAX);
- `case_page`: case pages (/cases/<id>/) of random cases against ticket pages
  (/helpdesk/tickets/<id>/) of random tickets that have follow-ups;
- `single_create` and `bulk_intake`: bench/ingest.py against --intake-database-url (a database of
  its own: the run adds reports and cases) for single-report POSTs and lists of --list-size,
  against helpdesk's DRF create (POST /helpdesk/api/tickets/, 201) per ticket.

The primary figure is server CPU per request: the gunicorn processes plus the PostgreSQL backends
serving their database (from /proc), which does not depend on the neighbours; p95 latency is
printed beside it. Parallel query workers live for one statement only, so the meter would never see
their CPU: both servers connect with PGOPTIONS `-c max_parallel_workers_per_gather=0` (unless
--parallel-sql), which puts every statement's work in a backend the meter reads. Each pair prints the ratio helpdesk ÷ tsconsole and whether the product's goal
for it is met. The setup line says which PostgreSQL build each side runs (helpdesk's env.sh
follows PGBIN, which `localservices env` sets to the embedded PostgreSQL's binaries).

Tickets the create measure adds are deleted afterwards, so the peer's data stays as generated.
"""

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/claim.py sets the environment every benchmark shares (settings, plain HTTP) on import.
from claim import cpu_figures, load_average, ms  # noqa: E402
from harness import CpuMeter, emit, free_port, group_pids, percentile, start_server, stop_server  # noqa: E402

# The goals the product has set, as helpdesk ÷ tsconsole server CPU per request (or per item).
GOALS = {"list_rows": 100, "list_rows_api": 100, "list_shell": 100, "case_page": 3, "single_create": 5,
         "bulk_intake": 100}
CSRF_FORM_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DATATABLES_RE = re.compile(r'"url":\s*"(/[^"]*datatables_ticket_list/[^"]*)"')
PEER_PREFIX = "peerbench "
SERIAL_SQL = "-c max_parallel_workers_per_gather=0"
POLL = 0.25  # seconds between the CPU meter's readings


# --------------------------------------------------------------------------- pure helpers


def ratio(peer: float | None, ours: float | None) -> float | None:
    """How many times the peer's figure is ours (peer ÷ ours), rounded to what the noise allows."""
    if not peer or not ours:
        return None
    value = peer / ours
    return round(value, 1) if value >= 10 else round(value, 2)


def verdict(cpu_ratio: float | None, goal: float) -> bool | None:
    return None if cpu_ratio is None else cpu_ratio >= goal


def pair_line(measure: str, ours: dict, peer: dict, *, goal: float, note: str | None = None) -> dict:
    """One comparison: both sides' figures, the CPU and p95 ratios (helpdesk ÷ tsconsole), the goal."""
    cpu_key = next((k for k in ours if k.startswith("server_cpu_ms_per_")), None)
    peer_cpu_key = next((k for k in peer if k.startswith("server_cpu_ms_per_")), None)
    cpu_ratio = ratio(peer.get(peer_cpu_key), ours.get(cpu_key))
    line = {"bench": "peer", "case": "ratio", "measure": measure, "tsconsole": ours, "helpdesk": peer,
            "cpu_ratio": cpu_ratio, "p95_ratio": ratio(peer.get("p95_ms"), ours.get("p95_ms")),
            "goal_cpu_ratio": goal, "met": verdict(cpu_ratio, goal), "load_average": load_average()}
    if note:
        line["note"] = note
    return line


def datatables_url(list_html: str) -> str:
    """The DataTables JSON URL helpdesk's ticket list page embeds, with DataTables' basic parameters."""
    match = DATATABLES_RE.search(list_html)
    if not match:
        raise SystemExit("helpdesk: datatables URL not found in the ticket list page")
    return match.group(1) + "?draw=1&search%5Bvalue%5D=&search%5Bregex%5D=false"


def cookies_from(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.msg.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sql_env(parallel: bool) -> dict[str, str]:
    """libpq environment for the servers under test: serial statements unless `parallel`."""
    if parallel:
        return {}
    return {"PGOPTIONS": " ".join(filter(None, [os.environ.get("PGOPTIONS", ""), SERIAL_SQL]))}


def with_db_name(url: str, name: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{name}").geturl()


# --------------------------------------------------------------------------- the client


def call(port: int, method: str, path: str, headers: dict, body: bytes | None = None,
         timeout: float = 900) -> tuple[int, bytes, float, http.client.HTTPResponse]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started, response
    finally:
        conn.close()


def drive(port: int, jobs: list[tuple[str, str, dict, bytes | None]], *, clients: int, expect: int,
          meter: CpuMeter) -> dict:
    """Send every job (method, path, headers, body) from `clients` closed-loop threads; latency,
    statuses and the server CPU per request."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    work = list(reversed(jobs))

    def client():
        mine = []
        while True:
            with lock:
                if not work:
                    break
                method, path, headers, body = work.pop()
            try:
                status, _data, seconds, _ = call(port, method, path, headers, body)
            except OSError:
                status, seconds = -1, 0.0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            if status == expect:
                mine.append(seconds)
        with lock:
            latencies.extend(mine)

    meter.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    ok = statuses.get(expect, 0)
    return {"requests": len(jobs), "clients": clients, **cpu_figures(cpu if ok else None, ok, "request"),
            "p50_ms": ms(percentile(latencies, 50)) if latencies else None,
            "p95_ms": ms(percentile(latencies, 95)) if latencies else None,
            "requests_per_s": round(len(jobs) / elapsed, 2), "failures": len(jobs) - ok,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


# --------------------------------------------------------------------------- the peer


class Helpdesk:
    """django-helpdesk as the peer scripts install it: its PostgreSQL, its gunicorn, a staff session."""

    def __init__(self, args):
        self.peer_dir = Path(args.peer_dir).resolve()
        self.bench = args.helpdesk_bench
        self.db = args.helpdesk_db
        self.workers = args.workers
        self.parallel_sql = args.parallel_sql
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "SECRET_KEY",
                                 "VIRTUAL_ENV", "DEBUG", "ALLOWED_HOSTS"}}
        self.env.update(BENCH=self.bench, HD_DB=self.db)
        self.pg_started = False
        self.server = None
        self.port = None
        self._conn = None
        self._backends = None
        self.settings = self.shell('printf "%s\\n%s\\n" "$PGPORT" "$PGBIN"').split("\n")

    def shell(self, script: str, **kwargs) -> str:
        """Run `script` with the peer's env.sh sourced (its venv, project, ports, PGBIN)."""
        out = subprocess.run(["bash", "-c", f'. "{self.peer_dir}/env.sh"; {script}'], env=self.env,
                             capture_output=True, text=True, **kwargs)
        if out.returncode != 0:
            raise SystemExit(f"helpdesk: `{script}` failed: {(out.stdout + out.stderr).strip()[-2000:]}")
        return out.stdout.strip()

    @property
    def pg_port(self) -> int:
        return int(self.settings[0])

    def start_pg(self) -> None:
        if not Path(self.bench, "venv/bin/python").exists():
            emit(bench="peer", case="helpdesk_setup", peer_dir=str(self.peer_dir))
            subprocess.run([str(self.peer_dir / "setup.sh")], env=self.env, check=True, stdout=sys.stderr)
        status = subprocess.run(["bash", "-c", f'"{self.peer_dir}/pg.sh" status'], env=self.env, capture_output=True,
                                text=True)
        if "server is running" not in status.stdout:
            self.shell(f'"{self.peer_dir}/pg.sh" start')
            self.pg_started = True

    def stop_pg(self) -> None:
        for conn in (self._conn, self._backends):
            if conn is not None:
                conn.close()
        if self.pg_started:
            self.shell(f'"{self.peer_dir}/pg.sh" stop')

    def sql(self, statement: str, params=None) -> list[tuple]:
        import psycopg2

        if self._conn is None:
            self._conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname=self.db)
            self._conn.autocommit = True
        with self._conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def ensure_data(self, tickets: int, generate: bool) -> int:
        exists = subprocess.run(["bash", "-c", f'. "{self.peer_dir}/env.sh"; "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" '
                                 f'-U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = \'{self.db}\'" postgres'],
                                env=self.env, capture_output=True, text=True).stdout.strip() == "1"
        if not exists:
            if not generate:
                raise SystemExit(f"helpdesk: database {self.db} missing (run with --generate, or the peer's setup.sh)")
            subprocess.run([str(self.peer_dir / "setup.sh")], env=self.env, check=True, stdout=sys.stderr)
        have = self.sql("SELECT count(*) FROM helpdesk_ticket")[0][0]
        if have < tickets and generate:
            emit(bench="peer", case="helpdesk_generate", existing=have, target=tickets)
            self.shell(f'cd "$PROJ" && "$PY" "{self.peer_dir}/gendata.py" --tickets {tickets} --reset')
            have = self.sql("SELECT count(*) FROM helpdesk_ticket")[0][0]
        return have

    def delete_created(self) -> int:
        """Delete the tickets the create measure added, through helpdesk's models (follow-ups cascade)."""
        script = ("import django; django.setup(); from helpdesk.models import Ticket; "
                  f"print(Ticket.objects.filter(title__startswith={PEER_PREFIX + 'ticket '!r}).delete()[1].get('helpdesk.Ticket', 0))")
        return int(self.shell(f'cd "$PROJ" && "$PY" -W ignore -c "{script}"').split()[-1])

    def versions(self) -> dict:
        return {"postgresql": self.sql("SHOW server_version")[0][0], "pgbin": self.settings[1],
                "django_helpdesk": self.shell('"$PY" -c "import importlib.metadata as m; print(m.version(\'django-helpdesk\'))"'),
                "django": self.shell('"$PY" -c "import django; print(django.get_version())"')}

    def start(self) -> None:
        self.port = free_port()
        # the flags of the peer's serve.sh, on a free port and in a process group of our own
        script = (f'cd "$PROJ" && exec "$VENV/bin/gunicorn" benchsite.wsgi:application -w {self.workers} -k sync '
                  f'-b 127.0.0.1:{self.port} --timeout 900 --backlog 256 --log-level warning')
        self.server = subprocess.Popen(["bash", "-c", f'. "{self.peer_dir}/env.sh"; {script}'],
                                       env={**self.env, **sql_env(self.parallel_sql)}, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"helpdesk gunicorn exited with {self.server.returncode}")
            try:
                if call(self.port, "GET", "/helpdesk/login/", {})[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("helpdesk gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.server is not None:
            stop_server(self.server)

    def login(self, username: str = "admin", password: str = "benchpass") -> dict[str, str]:
        """A staff session through the login form: returns its cookies (sessionid, csrftoken)."""
        status, body, _, response = call(self.port, "GET", "/helpdesk/login/", {})
        jar = cookies_from(response)
        token = CSRF_FORM_RE.search(body.decode()).group(1)
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token,
                          "next": "/helpdesk/tickets/"}).encode()
        status, _, _, response = call(self.port, "POST", "/helpdesk/login/", {
            "Cookie": f"csrftoken={jar['csrftoken']}", "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{self.port}/helpdesk/login/"}, form)
        jar.update(cookies_from(response))
        if status != 302 or "sessionid" not in jar:
            raise SystemExit(f"helpdesk login failed: {status}")
        return jar

    def meter(self) -> CpuMeter:
        if self._backends is None:
            self._backends = Backends(host="127.0.0.1", port=self.pg_port, user="postgres", dbname=self.db)
        return CpuMeter(lambda: group_pids(self.server.pid), self._backends, poll=POLL)


class Backends:
    """PostgreSQL backends of a database other than this connection's own, read on one connection of
    ours (the CPU meter calls it from its polling thread)."""

    def __init__(self, **connect):
        import psycopg2

        self.conn = psycopg2.connect(**connect)
        self.conn.autocommit = True
        self.lock = threading.Lock()

    def __call__(self) -> list[int]:
        with self.lock, self.conn.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            return [row[0] for row in cursor.fetchall()]

    def close(self) -> None:
        self.conn.close()


def cookie_header(jar: dict[str, str]) -> dict:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


# --------------------------------------------------------------------------- tsconsole side


def ensure_cases(url: str, cases: int, generate: bool) -> None:
    """Migrate the database at `url` and, with `generate`, fill it to `cases` cases (half of them open)."""
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                          "from cases.models import Case; print(Case.objects.count())"],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    have = int(out.split()[-1])
    if have < cases and generate:
        emit(bench="generate", database=urlparse(url).path.lstrip("/"), existing=have, target=cases)
        subprocess.run([sys.executable, "manage.py", "bench_generate", "--cases", str(cases - have),
                        "--reports-per-case", "3", "--open-fraction", "0.5", "--prefix", f"peer{have}"],
                       cwd=ROOT, env=env, check=True, stdout=sys.stderr)


def run_ingest(args) -> dict[str, dict]:
    """bench/ingest.py against the intake database: its bulk_http and single_http lines by case."""
    env = dict(os.environ, DATABASE_URL=args.intake_database_url, **sql_env(args.parallel_sql))
    cmd = [sys.executable, str(ROOT / "bench" / "ingest.py"), "--workers", str(args.workers),
           "--lists", str(args.bulk_lists), "--list-size", str(args.list_size), "--bulk-clients", str(args.clients),
           "--single-requests", str(args.reports), "--single-clients", str(args.clients),
           "--single-seconds", "600", "--service-lists", "0"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = {}
    for text in out.stdout.splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            lines[line.get("case")] = line
    if out.returncode != 0 or "single_http" not in lines or "bulk_http" not in lines:
        raise SystemExit(f"bench/ingest.py failed ({out.returncode}): {(out.stdout + out.stderr)[-2000:]}")
    return lines


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None):
    args = parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the tsconsole benchmark database (tsc_bench).")
    if not args.intake_database_url:
        args.intake_database_url = with_db_name(os.environ["DATABASE_URL"],
                                                urlparse(os.environ["DATABASE_URL"]).path.lstrip("/") + "_peer")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    skip = set(filter(None, args.skip.split(",")))
    import django

    django.setup()
    from django.db import connection
    from pages import reader_session, sample_case_ids

    from cases.models import Case

    peer = Helpdesk(args)
    peer.start_pg()
    ours_server = ours_backends = None
    try:
        tickets = peer.ensure_data(args.helpdesk_tickets, args.generate)
        if "create" not in skip:
            ensure_cases(args.intake_database_url, args.intake_cases, args.generate)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            our_pg = cursor.fetchone()[0]
        emit(bench="peer", case="setup", tsconsole={"cases": Case.objects.count(), "postgresql": our_pg,
                                                    "pgbin": os.environ.get("PGBIN"),
                                                    "intake_db": urlparse(args.intake_database_url).path.lstrip("/")},
             helpdesk={"tickets": tickets, "db": args.helpdesk_db, **peer.versions()},
             workers=args.workers, clients=args.clients, cores=os.cpu_count(), load_average=load_average(),
             server_pgoptions=sql_env(args.parallel_sql).get("PGOPTIONS", "(parallel query allowed: its workers' "
                                                                            "CPU is not counted)"))

        user, session = reader_session()
        ours_cookie = {"Cookie": f"sessionid={session}"}
        case_ids = sample_case_ids(args.requests)
        ticket_ids = [row[0] for row in peer.sql(
            "SELECT id FROM (SELECT DISTINCT ticket_id AS id FROM helpdesk_followup) s "
            "ORDER BY md5(id::text || '7') LIMIT %s", [args.requests])]

        ours_port = free_port()
        ours_server = start_server(ours_port, args.workers, 1, extra_env=sql_env(args.parallel_sql))
        ours_backends = Backends(dsn=os.environ["DATABASE_URL"])
        ours_meter = CpuMeter(lambda: group_pids(ours_server.pid), ours_backends, poll=POLL)
        peer.start()
        peer_jar = peer.login()
        peer_headers = cookie_header(peer_jar)
        status, html, _, _ = call(peer.port, "GET", "/helpdesk/tickets/", peer_headers)
        dt_path = datatables_url(html.decode()) + "&start=0&length=25"

        def ours(paths, expect=200):
            drive(ours_port, [("GET", p, ours_cookie, None) for p in paths[:8]], clients=args.clients, expect=expect,
                  meter=ours_meter)  # warm-up: imports, connections, caches
            return {"path": paths[0], **drive(ours_port, [("GET", p, ours_cookie, None) for p in paths],
                                               clients=args.clients, expect=expect, meter=ours_meter)}

        def theirs(paths, expect=200, warm=2):
            drive(peer.port, [("GET", p, peer_headers, None) for p in paths[:warm]], clients=1, expect=expect,
                  meter=peer.meter())
            return {"path": paths[0], **drive(peer.port, [("GET", p, peer_headers, None) for p in paths],
                                               clients=args.clients, expect=expect, meter=peer.meter())}

        n = args.requests
        if "list" not in skip:
            dt = theirs([dt_path] * args.dt_requests, warm=1)
            emit(**pair_line("list_rows", ours(["/cases/?status=open"] * args.list_requests), dt, goal=GOALS["list_rows"],
                             note="tsconsole: case list HTML with its first page of open cases; helpdesk: the "
                                  "DataTables JSON of its ticket list, first page of open+reopened tickets"))
            emit(**pair_line("list_rows_api", ours(["/api/v1/cases/?status=open"] * args.list_requests), dt,
                             goal=GOALS["list_rows_api"],
                             note="tsconsole: GET /api/v1/cases/?status=open (JSON rows); helpdesk: DataTables JSON "
                                  "(same helpdesk run as list_rows)"))
            emit(**pair_line("list_shell", ours(["/queues/"] * n), theirs(["/helpdesk/tickets/"] * n),
                             goal=GOALS["list_shell"],
                             note="tsconsole: queue list (counts over every unresolved case); helpdesk: ticket list "
                                  "HTML shell (no ticket rows)"))
        if "case" not in skip:
            emit(**pair_line("case_page", ours([f"/cases/{i}/" for i in case_ids]),
                             theirs([f"/helpdesk/tickets/{i}/" for i in ticket_ids]), goal=GOALS["case_page"]))
        stop_server(ours_server)
        ours_server = None
        if "create" not in skip:
            ingest = run_ingest(args)
            queues = [row[0] for row in peer.sql("SELECT id FROM helpdesk_queue ORDER BY id")]
            rng = random.Random(5)
            post_headers = {**peer_headers, "Content-Type": "application/json", "X-CSRFToken": peer_jar["csrftoken"],
                            "Referer": f"http://127.0.0.1:{peer.port}/helpdesk/"}
            bodies = [json.dumps({"queue": rng.choice(queues), "title": f"{PEER_PREFIX}ticket {i}",
                                  "description": "created by the tsconsole peer benchmark " + "lorem ipsum " * 20,
                                  "submitter_email": f"peer{i}@example.org", "priority": rng.randint(1, 5)}).encode()
                      for i in range(args.creates + 2)]
            jobs = [("POST", "/helpdesk/api/tickets/", post_headers, body) for body in bodies]
            drive(peer.port, jobs[:2], clients=1, expect=201, meter=peer.meter())
            created = {"path": "/helpdesk/api/tickets/",
                       **drive(peer.port, jobs[2:], clients=args.clients, expect=201, meter=peer.meter())}
            removed = peer.delete_created()
            single = {k: ingest["single_http"][k] for k in ingest["single_http"] if k not in {"bench", "case"}}
            emit(**pair_line("single_create", {"path": "POST /api/v1/reports/ (one report)", **single}, created,
                             goal=GOALS["single_create"]))
            bulk = {k: ingest["bulk_http"][k] for k in ingest["bulk_http"] if k not in {"bench", "case"}}
            emit(**pair_line("bulk_intake", {"path": f"POST /api/v1/reports/ (lists of {args.list_size})", **bulk},
                             created, goal=GOALS["bulk_intake"],
                             note=f"CPU per report in lists of {args.list_size} against CPU per ticket created "
                                  "through helpdesk's API (it has no bulk create); no p95 ratio (a list of "
                                  f"{args.list_size} against one ticket). Peer tickets deleted afterwards: {removed}"))
    finally:
        if ours_server is not None:
            stop_server(ours_server)
        if ours_backends is not None:
            ours_backends.close()
        peer.stop()
        peer.stop_pg()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-dir", default=os.environ.get("HELPDESK_PEER_DIR", str(ROOT.parent / "shared/peers/helpdesk")),
                        help="The django-helpdesk peer scripts (env.sh, pg.sh, setup.sh, gendata.py).")
    parser.add_argument("--helpdesk-bench", default=os.environ.get("HELPDESK_BENCH", "/tmp/helpdesk-bench"),
                        help="Where the peer keeps its venv, project and PostgreSQL cluster.")
    # A million tickets beside tsconsole's million cases; `--helpdesk-db helpdesk --helpdesk-tickets
    # 100000` measures the peer's smaller database.
    parser.add_argument("--helpdesk-db", default="helpdesk_1m", help="The peer's database.")
    parser.add_argument("--helpdesk-tickets", type=int, default=1_000_000,
                        help="Tickets the peer's database should hold (generated with --generate).")
    parser.add_argument("--intake-database-url", help="tsconsole database for the create measures "
                        "(default: DATABASE_URL's database + _peer, on the same server).")
    parser.add_argument("--intake-cases", type=int, default=100_000, help="Cases in the intake database (--generate).")
    parser.add_argument("--generate", action="store_true", help="Fill the peer's and the intake database when short.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers on each side.")
    parser.add_argument("--clients", type=int, default=2, help="Concurrent clients on each side.")
    parser.add_argument("--requests", type=int, default=200, help="Requests per page measure.")
    parser.add_argument("--list-requests", type=int, default=60, help="Requests per tsconsole case-list measure.")
    parser.add_argument("--dt-requests", type=int, default=10,
                        help="Requests to helpdesk's DataTables JSON (seconds each at a million tickets).")
    parser.add_argument("--creates", type=int, default=300, help="Tickets created through helpdesk's API.")
    # A report costs a quarter of a ticket: as many would be over in a second, too short to read CPU from /proc.
    parser.add_argument("--reports", type=int, default=2000, help="Single reports posted to tsconsole.")
    parser.add_argument("--bulk-lists", type=int, default=20)
    parser.add_argument("--list-size", type=int, default=500)
    parser.add_argument("--skip", default="", help="Comma-separated measures to skip: list,case,create.")
    parser.add_argument("--parallel-sql", action="store_true",
                        help="Let PostgreSQL run parallel workers (the CPU meter cannot see them).")
    args = parser.parse_args(argv)
    for name in ("workers", "clients", "requests", "list_requests", "dt_requests", "creates", "bulk_lists", "list_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


if __name__ == "__main__":
    main()
