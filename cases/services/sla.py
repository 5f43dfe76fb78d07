"""The SLA sweep: cases past 75 % of a target become *at risk*, past 100 % *breached*.

One run is a handful of set-wise statements, however many cases cross:

1. Take a PostgreSQL advisory lock for the transaction; a second beat (or a slow run that
   overlaps the next one) gets nothing and returns at once. SQLite (the demo) has one writer and
   just runs.
2. For each clock (first touch while the case is untouched, resolution while it is open) and
   each level, read the cases whose mark is still to make and is due, lock them (SKIP LOCKED),
   `INSERT … ON CONFLICT DO NOTHING RETURNING` their crossings and mark the cases done. The
   columns Case.sla_*_for hold the due time each mark was made for, and the sweep's partial
   indexes hold only cases where that differs from the current due time: a sweep reads what is
   newly due, never the backlog of cases already marked, and a deadline moved by anyone (priority,
   queue, hold) makes its case pending again without that writer knowing about the sweep. The
   unique constraint `sla_crossing_once` makes a re-run, or a concurrent run without the lock,
   record nothing twice.
3. For the rows actually inserted: one CaseEvent each (bulk), outbox notifications in the same
   transaction, and the optional priority raise when the queue asks for it.

A crossing is keyed by the case's due time *with time on hold taken out* (``due - paused``): a
hold moves the deadline later and keeps the key, so a case that was at risk before a hold is not
announced again when it resumes; a priority or queue change sets a new deadline and a new key, so
the new deadline gets its own marks.
"""

import datetime as dt
import functools
import itertools
import time
import weakref
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import BooleanField, DateTimeField, F, Func, IntegerField, Q, Value, When
from django.db.models import Case as SqlCase
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from tsconsole.links import absolute_url
from tsconsole.models import OutboxMessage, Team, TeamMembership
from tsconsole.prepared import Placeholder
from tsconsole.services import Notice, users_notify

from ..models import Case, CaseEvent, CaseStatus, Queue, QueueSla, SlaCrossing, sla_pending_q
from ..sla import apply_due_times, target_usable
from .events import EventRow, Verb, events_record

Clock = SlaCrossing.Clock
Level = SlaCrossing.Level

# The advisory lock key of the SLA sweep (any fixed 64-bit number unique to this sweep).
SLA_SWEEP_LOCK = zlib.crc32(b"tsconsole.cases.sla_sweep")
AT_RISK_FRACTION = 0.75
LEADS_TEAM = "leads"
DIGEST_MAX_LINES = 20


def case_url(case_id: int) -> str:
    """Where a notification about a case points: the case page. (Sweeps ask for thousands at a
    time, so the path is reversed once and the id put in.)"""
    head, tail = _case_path()
    return f"{head}{case_id}{tail}"


@functools.cache
def _case_path() -> tuple[str, str]:
    head, _, tail = reverse("case-detail", args=[2**31 - 1]).partition(str(2**31 - 1))
    return head, tail


@dataclass(frozen=True)
class _ClockSpec:
    due_field: str
    target_field: str  # QueueSla minutes


CLOCKS = {
    Clock.FIRST_TOUCH: _ClockSpec("first_touch_due_at", "first_touch_minutes"),  # runs until first touched
    Clock.RESOLUTION: _ClockSpec("resolution_due_at", "resolution_minutes"),  # runs until resolved
}
# The Case column that says which due time a mark was recorded for (see Case.sla_*_for).
MARKS = {
    (Clock.FIRST_TOUCH, Level.AT_RISK): "sla_first_touch_at_risk_for",
    (Clock.FIRST_TOUCH, Level.BREACHED): "sla_first_touch_breach_for",
    (Clock.RESOLUTION, Level.AT_RISK): "sla_resolution_at_risk_for",
    (Clock.RESOLUTION, Level.BREACHED): "sla_resolution_breach_for",
}
CHUNK = 2000  # rows per multi-row INSERT statement
# Crossings of one clock and level recorded per run; a larger wave (the first run over an imported
# backlog) is worked off over the next runs, seconds apart, keeping each transaction short.
BATCH = 20_000


class SecondsBefore(Func):
    """``moment - seconds`` as a timestamp, where both may be columns.

    Django has no "timestamp minus an integer column of seconds"; this is that one expression, so
    the sweep's candidate queries stay single statements.
    """

    output_field = DateTimeField()

    def __init__(self, moment, seconds):
        super().__init__(moment, seconds)

    def _parts(self, compiler):
        moment_sql, moment_params = compiler.compile(self.source_expressions[0])
        seconds_sql, seconds_params = compiler.compile(self.source_expressions[1])
        return moment_sql, seconds_sql, (*moment_params, *seconds_params)

    def as_sql(self, compiler, connection, **extra):
        moment_sql, seconds_sql, params = self._parts(compiler)
        return f"({moment_sql} - ({seconds_sql}) * INTERVAL '1 second')", params


@dataclass
class NewCrossing:
    id: int
    case_id: int
    clock: str
    level: str
    due_at: dt.datetime
    crossed_at: dt.datetime
    silent: bool = False  # recorded after a priority raise: on the timeline, not announced again


@dataclass
class SweepResult:
    skipped: bool = False
    at_risk: int = 0
    breached: int = 0
    raised: int = 0
    events: int = 0
    notifications: int = 0
    seconds: float = 0.0
    crossings: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {
            "skipped": self.skipped, "at_risk": self.at_risk, "breached": self.breached, "raised": self.raised,
            "events": self.events, "notifications": self.notifications, "seconds": round(self.seconds, 4),
        }


def advisory_xact_lock(key: int) -> bool:
    """Try the transaction-scoped advisory lock `key`; True when this transaction holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


# --------------------------------------------------------------------------- candidates
#
# A run finds the cases to mark in two steps, each built so its plan does not depend on estimates
# the planner cannot make (it has no statistics for "mark differs from due time", so it cannot tell
# that the cases in a due-time range are nearly all marked already):
#
# 1. ids: per index range, the pending cases in due order, at most BATCH. Each range is an ordered
#    walk of a pending-only partial index that stops at the first case not yet due; any other plan
#    would have to sort, so the planner takes the walk. At risk has one range per (queue,
#    priority) target, because 75 % of the target is "due minus a quarter of the target".
# 2. lock, mark, record: those ids only, re-checked and locked with SKIP LOCKED (a case someone is
#    saving right now waits for the next run), then marked and their crossings inserted.
#
# When nothing is due, a run is step 1 alone: a few index probes that find nothing.


def _pending(clock: str, level: str, case_ids=None):
    """Unresolved cases whose clock runs and whose `level` mark is not on file for the current due
    time: the condition of the sweep's partial indexes, from the same function."""
    qs = Case.objects.filter(sla_pending_q(
        CLOCKS[clock].due_field, MARKS[(clock, level)], first_touch=clock == Clock.FIRST_TOUCH,
    ))
    if case_ids is not None:
        qs = qs.filter(id__in=case_ids)
    return qs.order_by()


def _quarters(clock: str, targets: dict) -> dict:
    """A quarter of each (queue, priority) target of `clock`, in seconds."""
    field = CLOCKS[clock].target_field
    return {key: int(getattr(t, field) * 60 * (1 - AT_RISK_FRACTION)) for key, t in targets.items()}


def _ranges(clock: str, level: str, now: dt.datetime, targets: dict, case_ids=None) -> list:
    """The pending cases of each index range that may hold a due mark, one queryset per range."""
    due = CLOCKS[clock].due_field
    pending = _pending(clock, level, case_ids)
    if level == Level.BREACHED:
        return [pending.filter(**{f"{due}__lte": now})]
    return [
        pending.filter(queue_id=queue_id, priority=priority, **{f"{due}__lte": now + dt.timedelta(seconds=quarter)})
        for (queue_id, priority), quarter in _quarters(clock, targets).items()
    ]


def _ids_select(clock: str, level: str, now: dt.datetime, targets: dict, case_ids=None):
    """Step 1 as one SELECT (sql, params) of ids, or None when no target applies."""
    due = CLOCKS[clock].due_field
    ranges = _ranges(clock, level, now, targets, case_ids)
    if not ranges:
        return None
    if len(ranges) > 1 and not connection.features.supports_slicing_ordering_in_compound:
        # SQLite (the demo) cannot order the members of a UNION; one OR query is fine at its size.
        combined = Q()
        for qs in ranges:
            combined |= Q(pk__in=qs.values("pk"))
        ranges = [Case.objects.filter(combined)]
    walks = [qs.order_by(due).values_list("id", flat=True)[:BATCH] for qs in ranges]
    query = walks[0].union(*walks[1:], all=True) if len(walks) > 1 else walks[0]
    return query.query.sql_with_params()


def _lock_select(clock: str, level: str, now: dt.datetime, targets: dict, ids):
    """Step 2's SELECT (sql, params): the cases `ids` whose mark is still pending and has passed
    while their clock ran (before `now`, and before the pause if paused), locked, with the
    crossing's key and time."""
    spec = CLOCKS[clock]
    due = F(spec.due_field)
    if level == Level.BREACHED:
        threshold = due
    else:
        quarters = _quarters(clock, targets)
        threshold = SecondsBefore(due, SqlCase(
            *[When(queue_id=q, priority=p, then=Value(seconds)) for (q, p), seconds in quarters.items()],
            output_field=IntegerField(),
        ))
    # One array parameter, so the statement compiles once and takes any list of ids.
    chosen = RawSQL(f'"{Case._meta.db_table}"."id" = ANY(%s::bigint[])', (list(ids),), output_field=BooleanField())
    qs = (
        _pending(clock, level).filter(chosen)
        .annotate(sla_key=SecondsBefore(due, F("sla_paused_seconds")), sla_crossed=threshold)
        .filter(sla_crossed__lte=now)
        .filter(Q(sla_paused_at__isnull=True) | Q(sla_paused_at__gte=F("sla_crossed")))
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", "sla_key", "sla_crossed")
    )
    return qs.query.sql_with_params()


# Compiled statements per targets configuration (PostgreSQL). Building the ORM queries costs more
# than running them when nothing is due, and the idle sweep runs every few seconds. They are
# compiled with `now` = _EPOCH and one placeholder id; every timestamp parameter is `now` plus a
# constant, so shifting it by (now - _EPOCH) gives the statement for any `now`, and the one list
# parameter (step 2) takes the ids.
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_compiled: dict = {}


def _bind(compiled, now: dt.datetime, ids=None):
    sql, params = compiled
    shift = now - _EPOCH
    return sql, tuple(
        list(ids) if isinstance(p, list) else p + shift if isinstance(p, dt.datetime) else p for p in params
    )


def _statements(targets: dict) -> list:
    """[(clock, level, ids select, lock select)] compiled at _EPOCH, cached per targets. The ids
    select is a _Prepared statement."""
    key = tuple(sorted((k, t.first_touch_minutes, t.resolution_minutes) for k, t in targets.items()))
    if key not in _compiled:
        _compiled.clear()
        generation = next(_generations)
        _compiled[key] = [
            (clock, level, _Prepared.of(f"tsconsole_sla_{generation}_{clock}_{level}", ids),
             _lock_select(clock, level, _EPOCH, targets, [0]))
            for clock in CLOCKS for level in (Level.AT_RISK, Level.BREACHED)
            if (ids := _ids_select(clock, level, _EPOCH, targets)) is not None
        ]
    return _compiled[key]


# Step 1 runs every few seconds and nearly always finds nothing. Planning its UNION of one index
# walk per (queue, priority) target costs more than running it, so on PostgreSQL it is a prepared
# statement with a generic plan, planned once per connection. Only its timestamps are parameters:
# the constants are inlined, so the planner still sees that the partial indexes' conditions hold.
_generations = itertools.count(1)
_prepared_on: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # psycopg2 connection -> names


@dataclass(frozen=True)
class _Prepared:
    name: str
    compiled: tuple  # (sql, params) at _EPOCH
    timestamps: tuple[int, ...]  # positions of the timestamp parameters

    @classmethod
    def of(cls, name: str, compiled) -> "_Prepared":
        _, params = compiled
        return cls(name, compiled, tuple(i for i, p in enumerate(params) if isinstance(p, dt.datetime)))

    def rows(self, now: dt.datetime) -> list[tuple]:
        sql, params = self.compiled
        shift = now - _EPOCH
        with connection.cursor() as cursor:
            prepared = _prepared_on.setdefault(connection.connection, set())
            if self.name not in prepared:
                args = list(params)
                for n, i in enumerate(self.timestamps, 1):
                    args[i] = Placeholder(n)
                text = cursor.cursor.mogrify(sql, args).decode()
                cursor.execute(f"PREPARE {self.name} AS {text}")
                prepared.add(self.name)
            cursor.execute(f"EXECUTE {self.name} ({', '.join(['%s'] * len(self.timestamps))})",
                           [params[i] + shift for i in self.timestamps])
            return cursor.fetchall()


def _to_datetime(value) -> dt.datetime:
    """RETURNING gives datetimes on PostgreSQL and text on SQLite."""
    if isinstance(value, str):
        value = DateTimeField().to_python(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _record(lock_select, clock: str, level: str) -> list[NewCrossing]:
    """Step 2: lock the selected cases, mark them and record their crossings; returns the new ones.

    The cases are locked, so their due times cannot move between reading and marking them. A
    crossing that is on file already (a case back from a hold has a new due time but the same key)
    is a conflict: nothing is inserted, the case is only marked. PostgreSQL does it all in one
    statement (data-modifying CTEs); SQLite in three.
    """
    spec = CLOCKS[clock]
    table = SlaCrossing._meta.db_table
    marked = MARKS[(clock, level)]
    insert = (
        f"INSERT INTO {table} (case_id, clock, level, due_at, crossed_at) {{rows}} "
        f"ON CONFLICT (case_id, clock, level, due_at) DO NOTHING RETURNING id, case_id, due_at, crossed_at"
    )
    select_sql, params = lock_select
    sql = (
        f"WITH cand AS ({select_sql}), "
        f"marked AS (UPDATE {Case._meta.db_table} c SET {marked} = c.{spec.due_field} FROM cand "
        f"WHERE c.id = cand.id RETURNING cand.id, cand.sla_key, cand.sla_crossed), "
        f"new AS ({insert.format(rows='SELECT id, %s, %s, sla_key, sla_crossed FROM marked ORDER BY id')}) "
        f"SELECT id, case_id, due_at, crossed_at FROM new"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, clock, level))
        returned = cursor.fetchall()
    return [
        NewCrossing(id=r[0], case_id=r[1], clock=clock, level=level, due_at=_to_datetime(r[2]),
                    crossed_at=_to_datetime(r[3]))
        for r in returned
    ]


def _due_ids(ids_select=None, *, rows=None) -> list[int]:
    if rows is None:
        with connection.cursor() as cursor:
            cursor.execute(*ids_select)
            rows = cursor.fetchall()
    return sorted({row[0] for row in rows})[:BATCH]


def _record_due_crossings(now: dt.datetime, targets: dict, case_ids=None) -> list[NewCrossing]:
    crossings = []
    if case_ids is None:
        for clock, level, ids_select, lock_select in _statements(targets):
            ids = _due_ids(rows=ids_select.rows(now))
            if ids:
                crossings += _record(_bind(lock_select, now, ids), clock, level)
        return crossings
    # Runs restricted to some cases are rare: compile their statements afresh.
    for clock in CLOCKS:
        for level in (Level.AT_RISK, Level.BREACHED):
            ids_select = _ids_select(clock, level, now, targets, case_ids)
            ids = _due_ids(ids_select) if ids_select is not None else []
            if ids:
                crossings += _record(_lock_select(clock, level, now, targets, ids), clock, level)
    return crossings


# --------------------------------------------------------------------------- the sweep


def sla_sweep(*, now: dt.datetime | None = None, exclusive: bool = True) -> SweepResult:
    """Record every SLA crossing that is due at `now`, once, with its event and notifications.

    `exclusive=False` skips the advisory lock (the unique constraint alone then keeps crossings
    single; the concurrency tests use it to prove that).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    result = SweepResult()
    with transaction.atomic():
        if exclusive and not advisory_xact_lock(SLA_SWEEP_LOCK):
            result.skipped = True
            return result
        # The planner cannot tell how few cases are pending, so the candidate statements look
        # costly and PostgreSQL would JIT-compile them on every run: 50-100 ms to find nothing.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_generic_plan")
        # A target out of bounds (saved before the bounds, or behind the service) is logged and
        # skipped; every other queue's clocks are swept as usual.
        targets = {(t.queue_id, t.priority): t for t in QueueSla.objects.all() if target_usable(t)}
        crossings = _record_due_crossings(now, targets)
        if crossings:
            cases = {
                row["id"]: row
                for row in Case.objects.filter(id__in={c.case_id for c in crossings}).values(
                    "id", "assignee_id", "queue_id", "priority", "status"
                )
            }
            queues = Queue.objects.in_bulk({row["queue_id"] for row in cases.values()})
            raised, after_raise = _raise_priorities(crossings, cases, queues, targets, now)
            crossings += after_raise
            result.raised = len(raised)
            result.events = _record_events(crossings, now) + len(raised)
            result.notifications = _notify(crossings, cases, queues, raised, now)
        result.crossings = crossings
        result.at_risk = sum(1 for c in crossings if c.level == Level.AT_RISK and not c.silent)
        result.breached = sum(1 for c in crossings if c.level == Level.BREACHED and not c.silent)
    result.seconds = time.perf_counter() - started
    return result


def _record_events(crossings: list[NewCrossing], now: dt.datetime) -> int:
    events_record([
        EventRow(c.case_id, None, CaseEvent.ActorKind.SYSTEM, f"sla_{c.level}", "", "", {
            "clock": c.clock, "due_at": c.due_at.isoformat(), "crossed_at": c.crossed_at.isoformat(),
            **({"after_priority_raise": True} if c.silent else {}),
        }, now)
        for c in crossings
    ])
    return len(crossings)


def _raise_priorities(crossings, cases, queues, targets, now):
    """Raise by one step the priority of cases that breached in a queue that asks for it.

    Due times are recomputed for the new priority; the new deadline has usually passed already,
    so its crossings are recorded at once, silently: otherwise the next sweep would see a "new"
    breach, raise again, and walk every breach up to P0.
    """
    breached_ids = {
        c.case_id for c in crossings
        if c.level == Level.BREACHED and queues[cases[c.case_id]["queue_id"]].raise_priority_on_breach
        and cases[c.case_id]["priority"] > 0
    }
    if not breached_ids:
        return [], []
    raised = []
    locked = Case.objects.select_for_update().filter(id__in=breached_ids, priority__gt=0)
    for case in locked.exclude(status=CaseStatus.RESOLVED).order_by("id"):
        before = case.priority
        case.priority = before - 1
        case.priority_reasons = [*case.priority_reasons, f"Raised from P{before} after an SLA breach"]
        case.save(update_fields=["priority", "priority_reasons", "updated_at", *apply_due_times(case, targets=targets)])
        cases[case.id]["priority"] = case.priority
        raised.append(EventRow(
            case.id, None, CaseEvent.ActorKind.SYSTEM, Verb.PRIORITY_CHANGED, "", "",
            {"from": before, "to": case.priority, "reason": "sla_breach",
             "first_touch_due_at": case.first_touch_due_at and case.first_touch_due_at.isoformat(),
             "resolution_due_at": case.resolution_due_at and case.resolution_due_at.isoformat()},
            now,
        ))
    events_record(raised)
    after = _record_due_crossings(now, targets, case_ids=[e.case_id for e in raised]) if raised else []
    for crossing in after:
        crossing.silent = True
    return raised, after


# --------------------------------------------------------------------------- notifications


def queue_leads(queue_id: int) -> list:
    """The leads of one queue (see `_queue_recipients`)."""
    return _queue_recipients({queue_id})[0][queue_id]


def _queue_recipients(queue_ids) -> tuple[dict, dict]:
    """Per queue: the leads to tell about unassigned cases, and the teams whose chat channel
    hears about breaches. Leads are the `is_lead` members of the queue's allowed teams; a queue
    open to everyone, or whose teams have no lead, falls back to the `leads` team."""
    through = Queue.allowed_teams.through
    teams_by_queue = defaultdict(list)
    for queue_id, team_id in through.objects.filter(queue_id__in=queue_ids).values_list("queue_id", "team_id"):
        teams_by_queue[queue_id].append(team_id)
    fallback_team = Team.objects.filter(slug=LEADS_TEAM).first()
    team_ids = {t for ids in teams_by_queue.values() for t in ids} | ({fallback_team.id} if fallback_team else set())
    teams = Team.objects.in_bulk(team_ids)
    members = defaultdict(list)
    for membership in TeamMembership.objects.filter(team_id__in=team_ids, user__is_active=True).select_related("user"):
        members[membership.team_id].append(membership)

    leads_by_queue, channels_by_queue = {}, {}
    for queue_id in queue_ids:
        allowed = teams_by_queue.get(queue_id, [])
        leads = {m.user_id: m.user for t in allowed for m in members[t] if m.is_lead}
        if not leads and fallback_team:
            leads = {m.user_id: m.user for m in members[fallback_team.id]}
        leads_by_queue[queue_id] = list(leads.values())
        channels = [teams[t] for t in allowed if teams[t].chat_webhook_url]
        if not channels and fallback_team and fallback_team.chat_webhook_url:
            channels = [fallback_team]
        channels_by_queue[queue_id] = channels
    return leads_by_queue, channels_by_queue


def _describe(c: NewCrossing) -> str:
    clock = "first touch" if c.clock == Clock.FIRST_TOUCH else "resolution"
    if c.level == Level.BREACHED:
        return f"missed its {clock} target (due {c.due_at:%Y-%m-%d %H:%M} UTC)"
    return f"is past 75% of its {clock} target"


def _notify(crossings, cases, queues, raised, now) -> int:
    """Outbox rows for the new crossings, written in the sweep's transaction.

    The assignee hears about each of their cases (in-app; email too on a breach). Crossings of
    unassigned cases go to the queue's leads as one digest per queue, clock and level per run, so
    a spike of breaches is one message, not hundreds. Breaches are also posted to the queue
    teams' chat channels, one digest per queue per run. Keys derive from crossing ids, which are
    new rows, so a re-run enqueues nothing.
    """
    announced = [c for c in crossings if not c.silent]
    # A case that crossed both marks of a clock in one run is announced once, as breached.
    breached_keys = {(c.case_id, c.clock) for c in announced if c.level == Level.BREACHED}
    announced = [c for c in announced if c.level == Level.BREACHED or (c.case_id, c.clock) not in breached_keys]
    if not announced:
        return 0
    raised_ids = {e.case_id for e in raised}
    from django.contrib.auth import get_user_model

    assignees = get_user_model().objects.in_bulk(
        {cases[c.case_id]["assignee_id"] for c in announced if cases[c.case_id]["assignee_id"]}
    )
    leads_by_queue, channels_by_queue = _queue_recipients({cases[c.case_id]["queue_id"] for c in announced})
    notices, messages = [], []

    def tell(user, *, topic, key, title, body, url, email):
        notices.append(Notice(user=user, kind=topic, key=f"{key}:u{user.pk}", title=title, body=body, url=url,
                              email=email))

    digests = defaultdict(list)
    for c in announced:
        case = cases[c.case_id]
        assignee = assignees.get(case["assignee_id"])
        if assignee is not None and assignee.is_active:
            title = f"Case #{c.case_id} {_describe(c)}"
            body = f"P{case['priority']} in {queues[case['queue_id']].name}."
            if c.case_id in raised_ids:
                body += f" Its priority was raised to P{case['priority']}."
            tell(assignee, topic=f"sla.{c.level}", key=f"sla:{c.id}", title=title, body=body,
                 url=case_url(c.case_id), email=c.level == Level.BREACHED)
        else:
            digests[(case["queue_id"], c.clock, c.level)].append(c)

    for (queue_id, clock, level), group in digests.items():
        first = min(c.id for c in group)
        queue = queues[queue_id]
        if len(group) == 1:
            title = f"Unassigned case #{group[0].case_id} {_describe(group[0])}"
            url = case_url(group[0].case_id)
        else:
            what = "missed their" if level == Level.BREACHED else "are past 75% of their"
            title = f"{len(group)} unassigned cases in {queue.name} {what} {Clock(clock).label.lower()} target"
            url = case_url(min(group, key=lambda c: c.due_at).case_id)
        body = _digest_lines(group, cases)
        for lead in leads_by_queue.get(queue_id, []):
            tell(lead, topic=f"sla.{level}", key=f"sla:q{queue_id}:{clock}:{level}:{first}", title=title, body=body,
                 url=url, email=level == Level.BREACHED)

    breaches_by_queue = defaultdict(list)
    for c in announced:
        if c.level == Level.BREACHED:
            breaches_by_queue[cases[c.case_id]["queue_id"]].append(c)
    for queue_id, group in breaches_by_queue.items():
        first = min(c.id for c in group)
        text = f"SLA breached: {len(group)} case(s) in {queues[queue_id].name}\n{_digest_lines(group, cases)}"
        for team in channels_by_queue.get(queue_id, []):
            messages.append(dict(
                topic="sla.breached", channel=OutboxMessage.Channel.SLACK, recipient=team.chat_webhook_url,
                idempotency_key=f"sla:q{queue_id}:breached:{first}:slack:t{team.pk}", payload={"text": text},
            ))
    return users_notify(notices, also=messages)


def _digest_lines(group, cases) -> str:
    ordered = sorted(group, key=lambda c: (cases[c.case_id]["priority"], c.due_at))
    lines = [
        f"- Case #{c.case_id} (P{cases[c.case_id]['priority']}) {_describe(c)}: {absolute_url(case_url(c.case_id))}"
        for c in ordered[:DIGEST_MAX_LINES]
    ]
    if len(ordered) > DIGEST_MAX_LINES:
        lines.append(f"… and {len(ordered) - DIGEST_MAX_LINES} more.")
    return "\n".join(lines)
