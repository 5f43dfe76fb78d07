"""Hourly rollups of the append-only CaseEvent timeline.

`rollup_hours(start, end)` rewrites every whole hour in [start, end), a day's worth per transaction:
delete the hours' rows, then insert them again from the events of those hours (three statements
that group by hour, so a backfill scans the timeline once per day, not once per hour). Rewriting is
idempotent, so the beat task simply rewrites the previous and the current hour every few minutes
(and catches up from its bookmark after downtime); a full rebuild is `manage.py insights_rollup --since`.

What an hour holds (all attributed to the case's queue and priority as they are when rolled up):
- QueueHour: cases opened (an `opened` event), resolved (an event into `resolved`), first touches
  (the case's first_touched_at falls in the hour; met when not after its due time) and resolution
  clocks (resolved in the hour with a due time; met when not after it).
- StateHour: the seconds of each status stint that *ended* in the hour. A stint runs from one
  status-changing event of a case to the next; it belongs to whoever's act started it.
- AnalystHour: resolutions in the hour by the person who resolved them.

Notices per day (NoticeDay) are kept differently: report triggers append each write's counts in
its own transaction (a report may be received, and sent, long before it reaches us, so no hour is
ever final for notices); `notice_days_compact` merges a day's appended rows into one per key.

Events are found by time through the BRIN index on created_at; the stint start is the previous
status-changing event of the same case, one index probe on (case, created_at) per ending stint.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from cases.models import Case, CaseEvent

from .models import AnalystHour, NoticeDay, QueueHour, RollupState, StateHour

ROLLUP_LOCK = 0x7473_524F_4C4C  # "tsROLL"
NOTICE_LOCK = 0x7473_4E4F_5449  # "tsNOTI"
CATCH_UP_HOURS = 72  # one beat run rewrites at most this many hours; the next run goes on

EVENTS = CaseEvent._meta.db_table
CASES = Case._meta.db_table


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


_QUEUE_SQL = f"""
WITH ev AS (
    SELECT e.case_id, e.verb, e.to_status, e.created_at, date_trunc('hour', e.created_at) AS hour
    FROM {EVENTS} e WHERE e.created_at >= %(start)s AND e.created_at < %(end)s
), opened AS (
    SELECT ev.hour, c.queue_id, c.priority, count(*) AS n FROM ev JOIN {CASES} c ON c.id = ev.case_id
    WHERE ev.verb = 'opened' GROUP BY 1, 2, 3
), resolved AS (
    SELECT ev.hour, c.queue_id, c.priority, count(*) AS n,
           count(*) FILTER (WHERE c.resolution_due_at IS NOT NULL) AS due,
           count(*) FILTER (WHERE c.resolution_due_at IS NOT NULL AND ev.created_at <= c.resolution_due_at) AS met
    FROM ev JOIN {CASES} c ON c.id = ev.case_id
    WHERE ev.to_status = 'resolved' GROUP BY 1, 2, 3
), touched AS (
    SELECT t.hour, c.queue_id, c.priority, count(*) AS due,
           count(*) FILTER (WHERE c.first_touched_at <= c.first_touch_due_at) AS met
    FROM (SELECT DISTINCT case_id, hour FROM ev) t JOIN {CASES} c ON c.id = t.case_id
    WHERE date_trunc('hour', c.first_touched_at) = t.hour AND c.first_touch_due_at IS NOT NULL
    GROUP BY 1, 2, 3
), keys AS (
    SELECT hour, queue_id, priority FROM opened UNION SELECT hour, queue_id, priority FROM resolved
    UNION SELECT hour, queue_id, priority FROM touched
)
SELECT k.hour, k.queue_id, k.priority, coalesce(o.n, 0), coalesce(r.n, 0), coalesce(t.due, 0), coalesce(t.met, 0),
       coalesce(r.due, 0), coalesce(r.met, 0)
FROM keys k
LEFT JOIN opened o ON o.hour = k.hour AND o.queue_id = k.queue_id AND o.priority = k.priority
LEFT JOIN resolved r ON r.hour = k.hour AND r.queue_id = k.queue_id AND r.priority = k.priority
LEFT JOIN touched t ON t.hour = k.hour AND t.queue_id = k.queue_id AND t.priority = k.priority
"""

_STATE_SQL = f"""
SELECT date_trunc('hour', e.created_at), c.queue_id, CASE WHEN s.actor_kind = 'user' THEN s.actor_id END,
       e.from_status, sum(EXTRACT(EPOCH FROM e.created_at - s.created_at))::bigint, count(*)
FROM {EVENTS} e
JOIN {CASES} c ON c.id = e.case_id
CROSS JOIN LATERAL (
    SELECT p.created_at, p.actor_id, p.actor_kind FROM {EVENTS} p
    WHERE p.case_id = e.case_id AND p.to_status <> '' AND (p.created_at, p.id) < (e.created_at, e.id)
    ORDER BY p.created_at DESC, p.id DESC LIMIT 1
) s
WHERE e.created_at >= %(start)s AND e.created_at < %(end)s AND e.to_status <> '' AND e.from_status <> ''
GROUP BY 1, 2, 3, 4
"""

_ANALYST_SQL = f"""
SELECT date_trunc('hour', e.created_at), c.queue_id, e.actor_id, count(*)
FROM {EVENTS} e JOIN {CASES} c ON c.id = e.case_id
WHERE e.created_at >= %(start)s AND e.created_at < %(end)s AND e.to_status = 'resolved'
  AND e.actor_id IS NOT NULL AND e.actor_kind = 'user'
GROUP BY 1, 2, 3
"""

CHUNK_HOURS = 24  # hours rewritten by one set of statements (one transaction) when backfilling


def rollup_range(start: datetime, end: datetime) -> dict[str, int]:
    """Rewrite the rollup rows of the whole hours in [start, end) from their events, in three
    statements (call inside a transaction; start and end on the hour, UTC)."""
    params = {"start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # date_trunc('hour') buckets in UTC
        cursor.execute(_QUEUE_SQL, params)
        queue_rows = cursor.fetchall()
        cursor.execute(_STATE_SQL, params)
        state_rows = cursor.fetchall()
        cursor.execute(_ANALYST_SQL, params)
        analyst_rows = cursor.fetchall()
    for model in (QueueHour, StateHour, AnalystHour):
        model.objects.filter(hour__gte=start, hour__lt=end).delete()
    QueueHour.objects.bulk_create([
        QueueHour(hour=h, queue_id=q, priority=p, opened=o, resolved=r, first_touch_total=ft, first_touch_met=fm,
                  resolution_total=rt, resolution_met=rm)
        for h, q, p, o, r, ft, fm, rt, rm in queue_rows
    ], batch_size=2000)
    StateHour.objects.bulk_create([
        StateHour(hour=h, queue_id=q, user_id=u, state=state, seconds=max(seconds, 0), stints=n)
        for h, q, u, state, seconds, n in state_rows
    ], batch_size=2000)
    AnalystHour.objects.bulk_create([AnalystHour(hour=h, queue_id=q, user_id=u, resolved=n)
                                     for h, q, u, n in analyst_rows], batch_size=2000)
    return {"queue": len(queue_rows), "state": len(state_rows), "analyst": len(analyst_rows)}


def rollup_hour(hour: datetime) -> dict[str, int]:
    """Rewrite one hour (call inside a transaction)."""
    return rollup_range(hour, hour + timedelta(hours=1))


def rollup_hours(start: datetime, end: datetime) -> int:
    """Rewrite every hour that [start, end) touches, a day's worth per transaction. Returns hours written."""
    hour = floor_hour(start)
    written = 0
    while hour < end:
        stop = min(hour + timedelta(hours=CHUNK_HOURS), floor_hour(end) + (timedelta(hours=1) if end > floor_hour(end)
                                                                          else timedelta(0)))
        with transaction.atomic():
            rollup_range(hour, stop)
        written += int((stop - hour).total_seconds() // 3600)
        hour = stop
    return written


def rollup_sweep(*, now=None) -> dict:
    """Beat task: rewrite the hours since the bookmark (at most CATCH_UP_HOURS) up to the current
    one, then move the bookmark to the start of the previous hour (events of the last hour may still
    be arriving from slow transactions, so it is rewritten once more next time)."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROLLUP_LOCK])
            if not cursor.fetchone()[0]:
                return {"skipped": 1}
        state, _ = RollupState.objects.select_for_update().get_or_create(key="hourly")
        current = floor_hour(now)
        start = state.complete_before or current - timedelta(hours=1)
        end = min(current + timedelta(hours=1), start + timedelta(hours=CATCH_UP_HOURS))
        hours = rollup_hours(start, end)
        state.complete_before = min(end, current - timedelta(hours=1)) if end > current else end
        state.last_run_at = now
        state.save()
    return {"hours": hours, "complete_before": state.complete_before.isoformat()}


_COMPACT_SQL = f"""
WITH merged AS (
    DELETE FROM {NoticeDay._meta.db_table} WHERE (day, category_id, source) IN (
        SELECT day, category_id, source FROM {NoticeDay._meta.db_table}
        GROUP BY 1, 2, 3 HAVING count(*) > 1 OR sum(notices) = 0)
    RETURNING day, category_id, source, notices
)
INSERT INTO {NoticeDay._meta.db_table} (day, category_id, source, notices)
SELECT day, category_id, source, sum(notices) FROM merged GROUP BY 1, 2, 3 HAVING sum(notices) <> 0
"""


def notice_days_compact() -> dict:
    """Beat task: merge each (day, category, source)'s rows into one and drop keys that sum to
    nothing. Sums are unchanged (rows a concurrent intake appends after this statement's snapshot
    are left for next time), so readers may run at any moment; an advisory lock keeps a second run out."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [NOTICE_LOCK])
            if not cursor.fetchone()[0]:
                return {"skipped": 1}
            cursor.execute(_COMPACT_SQL)
            return {"rows": cursor.rowcount}
