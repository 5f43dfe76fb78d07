"""Memory of the web and Celery workers over a long run, against the PostgreSQL in DATABASE_URL and the
Redis in REDIS_URL. Prints JSON lines. Use a database of its own (the run posts reports and makes
SLA waves), filled with `manage.py bench_generate` first.

    DATABASE_URL=postgres://…/tsc_peer REDIS_URL=redis://… .venv/bin/python bench/memory.py

- `web`: gunicorn (--workers sync workers) serves --rounds rounds of --per-round mixed requests from
  --clients concurrent clients: queue list, case list, case pages, my work, search, the queue and
  case APIs, and a few single-report POSTs. After each round every worker's RSS (VmRSS) is printed;
  the targets are at most --target-mb after the first round and no growth (beyond
  --growth-tolerance-mb) between the last two rounds.
- `celery`: a real Celery worker (solo pool, a queue of its own so that no other worker on the
  broker takes its tasks) runs the SLA sweep task once idle and then after each of --waves waves
  of --wave cases due at once (the waves of bench/sla_sweep.py, swept at the wall clock like the
  beat task does); its RSS before and after each.

With --tracemalloc the web workers trace their allocations (bench/gunicorn_tracemalloc.py) and the
run ends with the allocation sites that grew most between the end of the second-to-last and the
last round: that answers *why* RSS grows. Tracing costs time and memory, so its RSS figures are
flagged and are not the ones to hold against the target.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/claim.py sets the environment every benchmark shares (settings, plain HTTP) on import.
from claim import load_average, request  # noqa: E402
from harness import emit, free_port, group_pids, percentile, rss_mb, start_server, stop_server  # noqa: E402

# Share of each request kind in a round (POSTs are "a few").
MIX = {"queue_list": 12, "case_list": 8, "case_page": 35, "my_work": 10, "search": 10, "api_queues": 10,
       "api_cases": 13, "post_report": 2}


# --------------------------------------------------------------------------- pure helpers


def plan_round(n: int, rng: random.Random, mix: dict[str, int] = MIX) -> list[str]:
    """n request kinds drawn with the weights of `mix` (every kind at least once when n allows)."""
    kinds = list(mix)
    plan = kinds[: min(n, len(kinds))]
    plan += rng.choices(kinds, weights=[mix[k] for k in kinds], k=n - len(plan))
    rng.shuffle(plan)
    return plan


def growth(rounds: list[dict[int, float]]) -> dict[int, float]:
    """RSS change (MB) of each worker between the last two rounds."""
    if len(rounds) < 2:
        return {}
    before, after = rounds[-2], rounds[-1]
    return {pid: round(after[pid] - before[pid], 1) for pid in after if pid in before and after[pid] is not None
            and before[pid] is not None}


def web_verdict(rounds: list[dict[int, float]], target_mb: float, tolerance_mb: float) -> dict:
    first = rounds[0] if rounds else {}
    grew = growth(rounds)
    first_max = max((v for v in first.values() if v is not None), default=None)
    return {"max_rss_mb_after_first_round": first_max, "target_mb": target_mb,
            "first_round_met": first_max is not None and first_max <= target_mb,
            "growth_last_rounds_mb": {str(k): v for k, v in grew.items()}, "growth_tolerance_mb": tolerance_mb,
            "no_growth_met": bool(grew) and max(grew.values()) <= tolerance_mb}


def parse_task_log(text: str, task_id: str) -> dict | None:
    """Celery's INFO line for a finished task: runtime and return value (a dict for the SLA sweep)."""
    match = re.search(rf"\[{re.escape(task_id)}\] succeeded in ([\d.]+)s: (.*)", text)
    if not match:
        return None
    value = match.group(2).strip()
    try:
        import ast

        returned = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        returned = value
    return {"seconds": float(match.group(1)), "returned": returned}


# --------------------------------------------------------------------------- web workers


def web_workers(server) -> list[int]:
    return sorted(pid for pid in group_pids(server.pid) if pid != server.pid)


def integration_token() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from tsconsole import roles

    user, _ = get_user_model().objects.get_or_create(username="bench-memory-intake")
    user.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])
    return Token.objects.get_or_create(user=user)[0].key


def serve_round(port: int, jobs: list[tuple[str, str | None]], clients: int, cookie: str, token: str,
                workload) -> tuple[list[float], dict[str, int], float]:
    """Send the jobs (GET path, or POST of one report) from `clients` threads: latencies, failures, seconds."""
    from ingest import post

    lock = threading.Lock()
    latencies: list[float] = []
    failures: dict[str, int] = {}
    jobs = list(jobs)

    def client():
        while True:
            with lock:
                if not jobs:
                    return
                method, path = jobs.pop()
                body = json.dumps(workload.report()).encode() if method == "POST" else None
            try:
                if method == "POST":
                    status, _data, seconds = post(port, token, body)
                    ok = status in (200, 201)  # created, or joined an open case
                else:
                    status, _data, seconds = request(port, "GET", path, {"Cookie": f"sessionid={cookie}"})
                    ok = status == 200
            except OSError as exc:
                status, seconds, ok = type(exc).__name__, 0.0, False
            with lock:
                latencies.append(seconds)
                if not ok:
                    failures[str(status)] = failures.get(str(status), 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures, time.perf_counter() - started


def bench_web(args) -> None:
    from ingest import Workload
    from pages import reader_session, sample_case_ids

    from cases.models import Subject

    _user, cookie = reader_session()
    token = integration_token()
    case_ids = sample_case_ids(args.case_sample)
    subjects = list(Subject.objects.filter(cases__pk__in=case_ids[:100]).values_list("external_id", flat=True))
    workload = Workload(f"mem{uuid.uuid4().hex[:6]}", [], 0.2)
    rng = random.Random(17)
    paths = {
        "queue_list": lambda: "/queues/",
        "case_list": lambda: rng.choice(["/cases/", "/cases/?status=open", "/cases/?status=in_review"]),
        "case_page": lambda: f"/cases/{rng.choice(case_ids)}/",
        "my_work": lambda: "/my-work/",
        "search": lambda: f"/search/?q={rng.choice(subjects)}",
        "api_queues": lambda: "/api/v1/queues/",
        "api_cases": lambda: rng.choice(["/api/v1/cases/", "/api/v1/cases/?status=open"]),
    }
    extra_args, extra_env, snap_dir = (), {}, None
    if args.tracemalloc:
        snap_dir = tempfile.mkdtemp(prefix="tsc-tracemalloc-")
        extra_args = ("--config", str(ROOT / "bench" / "gunicorn_tracemalloc.py"))
        extra_env = {"TSC_TRACEMALLOC_DIR": snap_dir}
    port = free_port()
    server = start_server(port, args.workers, 1, extra_args=extra_args, extra_env=extra_env)
    rounds: list[dict[int, float]] = []
    try:
        deadline = time.monotonic() + 60
        while len(web_workers(server)) < args.workers and time.monotonic() < deadline:
            time.sleep(0.2)  # gunicorn forks its workers after it listens
        workers = web_workers(server)
        emit(bench="memory", case="web_start", workers=len(workers), tracemalloc=args.tracemalloc,
             rss_mb={str(p): rss_mb(p) for p in workers}, load_average=load_average())
        for number in range(1, args.rounds + 1):
            plan = plan_round(args.per_round, rng)
            jobs = [("POST", None) if kind == "post_report" else ("GET", paths[kind]()) for kind in plan]
            latencies, failures, elapsed = serve_round(port, jobs, args.clients, cookie, token, workload)
            now_workers = web_workers(server)
            rss = {p: rss_mb(p) for p in now_workers}
            rounds.append(rss)
            if snap_dir:
                for pid in now_workers:
                    os.kill(pid, signal.SIGUSR2)
            emit(bench="memory", case="web_round", round=number, requests=len(plan), seconds=round(elapsed, 1),
                 requests_per_s=round(len(plan) / elapsed, 1), p95_ms=round(percentile(latencies, 95) * 1000, 1),
                 failures=failures, workers_restarted=sorted(set(now_workers) - set(workers)),
                 rss_mb={str(p): v for p, v in rss.items()}, tracemalloc=args.tracemalloc,
                 load_average=load_average())
        emit(bench="memory", case="web_verdict", tracemalloc=args.tracemalloc,
             **web_verdict(rounds, args.target_mb, args.growth_tolerance_mb))
        if snap_dir:
            report_tracemalloc(snap_dir, web_workers(server), args.rounds)
    finally:
        stop_server(server)


def report_tracemalloc(snap_dir: str, workers: list[int], rounds: int, top: int = 12) -> None:
    """The allocation sites that grew most between the last two rounds, per worker."""
    import tracemalloc

    deadline = time.monotonic() + 60
    for pid in workers:
        before, after = Path(snap_dir, f"{pid}-{rounds - 1}.snap"), Path(snap_dir, f"{pid}-{rounds}.snap")
        while not after.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        if not (before.exists() and after.exists()):
            emit(bench="memory", case="tracemalloc", worker=pid, error="snapshots missing")
            continue
        filters = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
        old = tracemalloc.Snapshot.load(str(before)).filter_traces(filters)
        new = tracemalloc.Snapshot.load(str(after)).filter_traces(filters)
        diff = new.compare_to(old, "traceback")
        total = sum(stat.size_diff for stat in diff)
        emit(bench="memory", case="tracemalloc", worker=pid, traced_growth_kb=round(total / 1024, 1),
             traced_now_mb=round(sum(s.size for s in new.statistics("filename")) / 2**20, 1),
             top=[{"size_diff_kb": round(s.size_diff / 1024, 1), "count_diff": s.count_diff,
                   "where": [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in s.traceback][-4:]}
                  for s in diff[:top]])


# --------------------------------------------------------------------------- Celery worker


class CeleryWorker:
    """A Celery worker process (solo pool) on a queue of its own, its log in a temporary file."""

    def __init__(self):
        self.queue = f"bench-memory-{os.getpid()}"
        self.log = Path(tempfile.mkdtemp(prefix="tsc-memory-celery-")) / "worker.log"
        self.proc = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "celery", "-A", "tsconsole", "worker", "--pool", "solo", "-Q", self.queue,
               "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "INFO",
               "--logfile", str(self.log), "-n", f"{self.queue}@%h"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"celery worker exited with {self.proc.returncode}: {self._log()[-2000:]}")
            if " ready." in self._log():
                return
            time.sleep(0.3)
        raise SystemExit("celery worker not ready within 90 s")

    def _log(self) -> str:
        try:
            return self.log.read_text()
        except OSError:
            return ""

    def rss(self) -> float | None:
        return rss_mb(self.proc.pid)

    def run(self, task: str, timeout: float = 600) -> dict:
        from tsconsole.celery import app

        task_id = app.send_task(task, queue=self.queue).id
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = parse_task_log(self._log(), task_id)
            if done:
                return done
            if re.search(rf"\[{re.escape(task_id)}\] (raised|failed)", self._log()):
                raise SystemExit(f"{task} failed in the worker: {self._log()[-3000:]}")
            time.sleep(0.2)
        raise SystemExit(f"{task} did not finish within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc)


def ensure_wave_supply(needed: int, generate: bool) -> None:
    """Each SLA wave hands its cases to analysts for good: with `generate`, add open cases when fewer
    than the waves need are left open and unassigned (a run of three waves of 10,000 uses 30,000)."""
    from cases.models import Case, CaseStatus

    have = Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True).count()
    if have >= needed or not generate:
        return
    emit(bench="memory", case="generate_open_cases", open_unassigned=have, needed=needed)
    cases = int((needed - have) * 1.1 / 0.75) + 1  # bench_generate opens at most three in four
    subprocess.run([sys.executable, "manage.py", "bench_generate", "--cases", str(cases),
                    "--reports-per-case", "1", "--open-fraction", "0.75", "--prefix", f"wave{uuid.uuid4().hex[:6]}"],
                   cwd=ROOT, check=True, stdout=sys.stderr)


def bench_celery(args) -> None:
    from django.utils import timezone
    from sla_sweep import _catch_up, _prepare_wave, _vacuum

    # The generated backlog's crossings first, in this process: the waves then measure the sweep alone.
    _catch_up(timezone.now())
    worker = CeleryWorker()
    worker.start()
    try:
        emit(bench="memory", case="celery_start", rss_mb=worker.rss(), queue=worker.queue, load_average=load_average())
        idle = worker.run("cases.tasks.sla_sweep")
        idle_rss = worker.rss()
        emit(bench="memory", case="celery_idle_sweep", rss_mb=idle_rss, task_seconds=idle["seconds"],
             returned=idle["returned"])
        sizes = []
        for number in range(1, args.waves + 1):
            now = timezone.now()
            _prepare_wave(args.wave, now)
            _vacuum()
            time.sleep(max(0.0, (now - timezone.now()).total_seconds() + 2.5))  # resolution due 1 s after `now`
            done = worker.run("cases.tasks.sla_sweep")
            sizes.append(worker.rss())
            emit(bench="memory", case="celery_wave", wave=number, cases=args.wave, rss_mb=sizes[-1],
                 task_seconds=done["seconds"], returned=done["returned"], load_average=load_average())
        emit(bench="memory", case="celery_verdict", rss_mb_after_idle=idle_rss,
             rss_mb_after_waves=sizes, growth_last_waves_mb=round(sizes[-1] - sizes[-2], 1) if len(sizes) > 1 else None)
    finally:
        worker.stop()


def trace_sweep_waves(args) -> None:
    """The sweep task's code run in this process, wave after wave, under tracemalloc: which allocation
    sites grew between the last two waves (what the worker's RSS growth is made of, if anything)."""
    import gc
    import tracemalloc

    from django.utils import timezone
    from sla_sweep import _prepare_wave, _vacuum

    from cases.tasks import sla_sweep

    tracemalloc.start(8)
    snapshots, sizes = [], []
    for number in range(1, args.trace_waves + 1):
        now = timezone.now()
        _prepare_wave(args.trace_wave, now)
        _vacuum()
        time.sleep(max(0.0, (now - timezone.now()).total_seconds() + 2.5))
        returned = sla_sweep()  # the Celery task's function, called directly
        gc.collect()
        snapshots.append(tracemalloc.take_snapshot())
        sizes.append(rss_mb(os.getpid()))
        traced, peak = tracemalloc.get_traced_memory()
        emit(bench="memory", case="sweep_traced_wave", wave=number, cases=args.trace_wave, rss_mb=sizes[-1],
             traced_mb=round(traced / 2**20, 1), traced_peak_mb=round(peak / 2**20, 1),
             breached=returned.get("breached"))
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = snapshots[-1].filter_traces(filters).compare_to(snapshots[-2].filter_traces(filters), "traceback")
    emit(bench="memory", case="sweep_tracemalloc", traced_growth_kb=round(sum(d.size_diff for d in diff) / 1024, 1),
         top=[{"size_diff_kb": round(d.size_diff / 1024, 1), "count_diff": d.count_diff,
               "where": [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in d.traceback][-4:]}
              for d in diff[:12]])
    tracemalloc.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=10_000, help="Requests per round.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers.")
    parser.add_argument("--case-sample", type=int, default=500, help="Distinct cases the case pages cycle through.")
    parser.add_argument("--target-mb", type=float, default=150)
    parser.add_argument("--growth-tolerance-mb", type=float, default=2)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="Trace the web workers' allocations, and run --trace-waves sweep waves in-process "
                             "under tracemalloc after the Celery worker's.")
    parser.add_argument("--trace-waves", type=int, default=3)
    parser.add_argument("--trace-wave", type=int, default=5_000, help="Cases per traced in-process wave.")
    parser.add_argument("--waves", type=int, default=3, help="SLA waves through the Celery worker (0: skip).")
    parser.add_argument("--wave", type=int, default=10_000, help="Cases per SLA wave.")
    parser.add_argument("--generate", action="store_true", help="Fill the database to --cases cases first.")
    parser.add_argument("--cases", type=int, default=100_000, help="Cases the database should hold (--generate).")
    parser.add_argument("--skip", default="", help="Comma-separated: web,celery.")
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (growth is measured between the last two)")
    if args.per_round < 1 or args.clients < 1 or args.workers < 1:
        parser.error("--per-round, --clients and --workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database made for benchmarks.")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    from peer import ensure_cases

    ensure_cases(os.environ["DATABASE_URL"], args.cases, args.generate)
    import django

    django.setup()
    skip = set(filter(None, args.skip.split(",")))
    if "web" not in skip:
        bench_web(args)
    if "celery" not in skip and args.waves:
        ensure_wave_supply(args.waves * args.wave, args.generate)
        bench_celery(args)
    if "celery" not in skip and args.tracemalloc and args.trace_waves >= 2:
        ensure_wave_supply(args.trace_waves * args.trace_wave, args.generate)
        trace_sweep_waves(args)


if __name__ == "__main__":
    main()
