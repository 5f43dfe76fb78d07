"""SLA sweep benchmark against the PostgreSQL in DATABASE_URL. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench_sla .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/tsc_bench_sla .venv/bin/python bench/sla_sweep.py --generate

With --generate, a database holding fewer than --open open cases is first filled with
`manage.py bench_generate` (open fraction 0.75, so --open / 0.75 cases in all). Then, with the
clock frozen at the start of the run (`now` is passed to the sweep, as the beat task passes the
wall clock):

- `catch_up`: the sweeps that record what is due in the freshly generated backlog (open cases are
  generated with up to 90 % of their first-touch target elapsed, so a sixth of them are at risk),
  run until a sweep finds nothing; BATCH crossings per clock and level per run;
- `idle`: the sweep with nothing newly due — the steady state every few seconds — median, p95
  and max of --idle-runs runs, against the target of 10 ms;
- `wave_at_risk` and `wave_breach`: --wave open cases are handed to bench analysts (in review,
  first touch done) with their resolution deadline one second ahead; one sweep records them at
  risk, and one sweep two seconds later records them breached, writes the events and queues the
  notifications (in-app and email to each assignee). The breach wave's target is 5 s;
- `idle_after`: the idle sweep again, with the wave's marks on file.

Every sweep runs in its own transaction, as in production, and commits: use a database made for
benchmarks. A rerun picks --wave other cases.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key")

from bench.harness import emit, percentile  # noqa: E402

WAVE_ANALYSTS = 50


def _setup():
    import django

    django.setup()


def _open_cases() -> int:
    from cases.models import Case, CaseStatus

    return Case.objects.exclude(status=CaseStatus.RESOLVED).count()


def _generate(open_cases: int) -> None:
    have = _open_cases()
    if have >= open_cases:
        emit(step="generate", skipped=True, open_cases=have)
        return
    total = int(open_cases / 0.75) + 1
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "bench_generate", "--cases", str(total), "--reports-per-case", "1",
         "--open-fraction", "0.75", "--prefix", f"sla{int(time.time())}"],
        cwd=ROOT, check=True,
    )
    emit(step="generate", seconds=round(time.perf_counter() - started, 1), open_cases=_open_cases())


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")


def _sweep(now):
    from cases.services.sla import sla_sweep

    return sla_sweep(now=now)


def _catch_up(now) -> None:
    from tsconsole.models import OutboxMessage

    runs, totals, started = 0, {"at_risk": 0, "breached": 0}, time.perf_counter()
    outbox_before = OutboxMessage.objects.count()
    while True:
        result = _sweep(now)
        runs += 1
        totals["at_risk"] += result.at_risk
        totals["breached"] += result.breached
        if not (result.at_risk or result.breached):
            break
    emit(step="catch_up", runs=runs, seconds=round(time.perf_counter() - started, 2), **totals,
         notifications_queued=OutboxMessage.objects.count() - outbox_before)


def _idle(name: str, now, runs: int) -> None:
    seconds = []
    for _ in range(runs):
        result = _sweep(now)
        assert not (result.at_risk or result.breached), result.as_dict()
        seconds.append(result.seconds)
    ms = [s * 1000 for s in seconds]
    emit(step=name, runs=runs, median_ms=round(statistics.median(ms), 2), p95_ms=round(percentile(ms, 95), 2),
         max_ms=round(max(ms), 2), target_ms=10, met=statistics.median(ms) < 10)


def _analysts():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tsconsole import roles

    group = Group.objects.get_or_create(name=roles.ANALYST)[0]
    users = []
    for i in range(WAVE_ANALYSTS):
        username = f"bench-sla-analyst-{i}"
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.test"},
        )
        if created:
            user.groups.add(group)
        users.append(user)
    return users


def _prepare_wave(size: int, now) -> list[int]:
    """Hand `size` open, unassigned cases to the bench analysts, due one second after `now`."""
    from django.db import connection, transaction

    from cases.models import Case, CaseStatus, QueueSla

    analysts = _analysts()
    targeted = {(t.queue_id, t.priority) for t in QueueSla.objects.all()}
    ids = []
    for row in Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True).values_list(
        "id", "queue_id", "priority"
    ).order_by("-id").iterator(chunk_size=5000):
        if (row[1], row[2]) in targeted:
            ids.append(row[0])
            if len(ids) == size:
                break
    if len(ids) < size:
        raise SystemExit(f"only {len(ids)} open unassigned cases left for a wave of {size}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_case c SET status = 'in_review', assignee_id = a.user_id, claimed_at = %(now)s,
                   first_touched_at = %(now)s - interval '1 minute', last_activity_at = %(now)s,
                   resolution_due_at = %(due)s, sla_paused_at = NULL
            FROM (SELECT id, (row_number() OVER (ORDER BY id)) %% %(n)s AS k FROM unnest(%(ids)s::bigint[]) id) w
            JOIN (SELECT user_id, (row_number() OVER (ORDER BY user_id)) - 1 AS k
                  FROM unnest(%(users)s::int[]) user_id) a ON a.k = w.k
            WHERE c.id = w.id
            """,
            {"now": now, "due": now + timedelta(seconds=1), "ids": ids, "n": len(analysts),
             "users": [u.pk for u in analysts]},
        )
    return ids


def _wave(size: int, now) -> None:
    from tsconsole.models import OutboxMessage

    ids = _prepare_wave(size, now)
    _vacuum()
    for name, at in (("wave_at_risk", now), ("wave_breach", now + timedelta(seconds=2))):
        before = OutboxMessage.objects.count()
        result = _sweep(at)
        queued = OutboxMessage.objects.count() - before
        figures = result.as_dict()
        emit(step=name, cases=len(ids), crossings_recorded=result.at_risk + result.breached,
             at_risk=result.at_risk, breached=result.breached, events=result.events, notifications_queued=queued,
             seconds=figures["seconds"], **({"target_s": 5, "met": figures["seconds"] < 5} if "breach" in name else {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", action="store_true", help="Fill the database first when it is short of cases.")
    parser.add_argument("--open", type=int, default=1_000_000, help="Open cases to generate (with --generate).")
    parser.add_argument("--wave", type=int, default=10_000, help="Cases that breach at once.")
    parser.add_argument("--idle-runs", type=int, default=30)
    args = parser.parse_args()
    _setup()
    if args.generate:
        _generate(args.open)
    from django.utils import timezone

    now = timezone.now()
    emit(step="dataset", open_cases=_open_cases())
    _catch_up(now)
    _vacuum()
    _idle("idle", now, args.idle_runs)
    _wave(args.wave, now)
    _idle("idle_after", now + timedelta(seconds=2), args.idle_runs)


if __name__ == "__main__":
    main()
