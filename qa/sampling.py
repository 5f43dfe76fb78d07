"""The sampler: one INSERT … SELECT per active rule draws resolved decisions into samples.

Set-wise, incremental and idempotent:
- a decision is a row of `qa_decision` (models.Decision): the actions sharing a decision_ref that
  took effect, grouped by triggers as they are written, so no pass groups actions itself;
- each rule's version remembers how far it has read (`SamplingWatermark.txid`): a pass reads
  only the decisions written by transactions from that mark on (the qa_decision_txid index),
  then moves the mark to the oldest transaction still running when it started, in the same
  transaction as its samples. A transaction id rather than a time: a decision whose transaction
  began before a pass and committed after it is read by the next one, whatever its decided_at.
  A rule without a mark for its current version (new, or just edited) reads its lookback
  window instead (decided_at, the qa_decision_decided index), as does a pass given `since`;
- every rule keeps to decisions that took effect in the lookback window;
- "overturned on appeal" reads the decisions whose appeal was decided (overturned or modified)
  in the lookback window, through appeals' selector, whenever the decision itself took effect
  (appeals are few and carry no transaction mark: it re-reads that window, by its index);
- the weekly floor looks, for each analyst with a decision new to the pass (every analyst of
  the weeks when the rule has no mark), at their week through the qa_decision_analyst index:
  an analyst without new decisions was topped up by an earlier pass and has nothing to add;
- a random rule keeps a decision when a hash of (decision, rule) falls under its rate, so a
  re-read keeps the same decisions rather than rolling the dice again;
- `ON CONFLICT (rule_id, decision_ref) DO NOTHING` on the unique constraint makes a decision
  sampled at most once per rule, whatever runs at the same time;
- the whole pass holds a transaction-level advisory lock, so a second beat waits and then finds
  nothing left to do (the weekly floor counts samples, so it must not race with itself).

Reviewers are QA reviewers, assigned round-robin from the least loaded (the slot's reviewer, else
the next, else the one after: at most two of them took part), never the decision's analyst or approver (a CHECK constraint on qa_sample holds that too). With no eligible reviewer
the sample waits unassigned for a lead to assign it.
"""

import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from appeals import selectors as appeal_selectors
from tsconsole import roles
from tsconsole.services import audit_record

from .models import RuleKind, Sample, SampleStatus, SamplingRule, SamplingRuleVersion, SamplingWatermark

LOCK_KEY = 7_211_301  # pg advisory lock id of the sampling pass
HASH_SCALE = 1_000_000

_INSERT = """
    INSERT INTO qa_sample (rule_id, rule_version_id, decision_ref, action_id, case_id, analyst_id, approver_id,
                           reviewer_id, decided_at, status, due_at, created_at)
    SELECT %(rule)s, %(version)s, p.decision_ref, p.action_id, p.case_id, p.analyst_id, p.approver_id,
           (SELECT CASE WHEN r.c0 <> p.analyst_id AND r.c0 IS DISTINCT FROM p.approver_id THEN r.c0
                        WHEN r.c1 <> p.analyst_id AND r.c1 IS DISTINCT FROM p.approver_id THEN r.c1
                        WHEN r.c2 <> p.analyst_id AND r.c2 IS DISTINCT FROM p.approver_id THEN r.c2 END
            FROM (SELECT rv[1 + mod(p.slot - 1, %(n)s)] AS c0, rv[1 + mod(p.slot, %(n)s)] AS c1,
                         rv[1 + mod(p.slot + 1, %(n)s)] AS c2 FROM (SELECT %(reviewers)s::bigint[] AS rv) a) r),
           p.decided_at, 'due', %(due)s, %(now)s
    FROM (SELECT q.*, row_number() OVER (ORDER BY q.decided_at, q.decision_ref) AS slot FROM ({picked}) q) p
    ON CONFLICT (rule_id, decision_ref) DO NOTHING
"""

# Decisions new to the rule: written since its mark, or (no mark) in its window; in either case
# only those that took effect since the window's start.
_FRESH_MARK = "d.txid >= %(mark)s AND d.decided_at >= %(since)s"
_FRESH_WINDOW = "d.decided_at >= %(since)s"


def _scope(v: SamplingRuleVersion, params: dict, alias: str = "d") -> list[str]:
    """The rule version's filters (queue, policy, action type, analyst) as SQL over `alias`."""
    where = []
    if v.queue_id:
        where.append(f"EXISTS (SELECT 1 FROM cases_case c WHERE c.id = {alias}.case_id AND c.queue_id = %(queue)s)")
        params["queue"] = v.queue_id
    if v.policy_id:
        where.append(f"{alias}.policy_id = %(policy)s")
        params["policy"] = v.policy_id
    if v.action_type:
        where.append(f"%(action_type)s = ANY({alias}.types)")
        params["action_type"] = v.action_type
    if v.analyst_id:
        where.append(f"{alias}.analyst_id = %(analyst)s")
        params["analyst"] = v.analyst_id
    return where


def _not_drawn(alias: str = "d") -> str:
    """Not drawn by this rule yet (an index probe on qa_sample_once_per_rule)."""
    return f"NOT EXISTS (SELECT 1 FROM qa_sample s0 WHERE s0.rule_id = %(rule)s AND s0.decision_ref = {alias}.decision_ref)"


def _embed(queryset, params: dict, prefix: str) -> str:
    """Another app's queryset as SQL inside the sampler's statement, its parameters renamed into
    the statement's named ones (psycopg takes one placeholder style per statement)."""
    sql, args = queryset.query.sql_with_params()
    keys = [f"{prefix}{i}" for i in range(len(args))]
    names = iter(keys)
    sql, count = re.subn(r"(?<!%)%s", lambda _m: f"%({next(names)})s", sql)
    if count != len(args):
        raise ValueError("the embedded queryset's placeholders do not match its parameters")
    params.update(zip(keys, args, strict=True))
    return sql


def _analysts_cte(fresh: str, where: str, *, incremental: bool) -> str:
    """`analysts(id)`: the analysts with a decision matching `fresh` and `where` (SQL over `d`).

    Incremental, the few new decisions say who; over a whole window, a loose index scan of
    qa_decision_analyst lists every analyst (two index probes each) rather than reading the
    window's million rows to find a few hundred names."""
    if incremental:
        return f"analysts(id) AS (SELECT DISTINCT d.analyst_id FROM qa_decision d WHERE {fresh} AND {where})"
    return f"""everyone(id) AS (
                SELECT min(analyst_id) FROM qa_decision
                UNION ALL
                SELECT (SELECT min(x.analyst_id) FROM qa_decision x WHERE x.analyst_id > e.id)
                FROM everyone e WHERE e.id IS NOT NULL),
            analysts(id) AS (
                SELECT e.id FROM everyone e WHERE e.id IS NOT NULL
                  AND EXISTS (SELECT 1 FROM qa_decision d WHERE d.analyst_id = e.id AND {fresh} AND {where}))"""


def _picked_sql(v: SamplingRuleVersion, params: dict, *, incremental: bool) -> str:
    """SELECT of the decisions (rows of qa_decision) this rule version takes in this pass."""
    fresh = _FRESH_MARK if incremental else _FRESH_WINDOW
    scope = " AND ".join([fresh, *_scope(v, params), _not_drawn()])
    if v.kind == RuleKind.OVERTURNED:
        # Not the decisions that took effect lately: a decision appealed weeks after it took effect
        # is drawn when its appeal is decided (appeal_decided_at index, then qa_decision's key).
        overturned = _embed(appeal_selectors.overturned_decisions(since=params["since"], until=params["now"]),
                            params, "appeal_")
        where = " AND ".join([*_scope(v, params), _not_drawn()])
        return f"SELECT d.* FROM qa_decision d WHERE d.decision_ref IN ({overturned}) AND {where}"
    if v.kind == RuleKind.RANDOM:
        params["threshold"] = round(v.rate * HASH_SCALE)
        return (
            f"SELECT d.* FROM qa_decision d WHERE {scope} AND "
            "mod(hashtextextended(d.decision_ref::text, %(rule)s) & 9223372036854775807, "
            f"{HASH_SCALE}) < %(threshold)s"
        )
    if v.kind == RuleKind.HIGH_IMPACT:
        # (the qa_decision_high_impact partial index: a window holds few of them)
        return f"SELECT d.* FROM qa_decision d WHERE {scope} AND (d.is_termination OR d.two_person)"
    if v.kind == RuleKind.NEW_ANALYST:
        params["first_n"] = v.first_n
        # Each analyst's first N decisions ever (qa_decision_analyst index: N rows per analyst),
        # kept when new to the pass.
        return f"""
            WITH RECURSIVE {_analysts_cte(fresh, "TRUE", incremental=incremental)}
            SELECT d.* FROM analysts a CROSS JOIN LATERAL (
                SELECT x.* FROM qa_decision x WHERE x.analyst_id = a.id
                ORDER BY x.decided_at, x.decision_ref LIMIT %(first_n)s) d
            WHERE {scope}"""
    if v.kind == RuleKind.WEEKLY_FLOOR:
        params["floor_k"] = v.floor_k
        # `week_start`/`week_end` bound one ISO week; samples of every rule count towards the floor.
        # Only an analyst with a decision new to the pass in the week can be short of it now.
        week = "d.decided_at >= %(week_start)s AND d.decided_at < %(week_end)s"
        in_week = " AND ".join([week, *_scope(v, params)])
        fresh = "d.txid >= %(mark)s" if incremental else "TRUE"
        return f"""
            WITH RECURSIVE {_analysts_cte(fresh, in_week, incremental=incremental)},
            have AS (
                SELECT a.id AS analyst_id, (SELECT count(DISTINCT s.decision_ref) FROM qa_sample s
                                            WHERE s.analyst_id = a.id AND s.decided_at >= %(week_start)s
                                              AND s.decided_at < %(week_end)s) AS n
                FROM analysts a)
            SELECT c.* FROM have h CROSS JOIN LATERAL (
                SELECT d.* FROM qa_decision d
                WHERE d.analyst_id = h.analyst_id AND {in_week}
                  AND NOT EXISTS (SELECT 1 FROM qa_sample s WHERE s.decision_ref = d.decision_ref)
                ORDER BY hashtextextended(d.decision_ref::text, %(rule)s)
                LIMIT greatest(%(floor_k)s - h.n, 0)) c
            WHERE h.n < %(floor_k)s"""
    raise ValueError(f"unknown rule kind {v.kind!r}")


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding `moment`."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def reviewer_pool() -> list[int]:
    """Active QA reviewers, the least loaded (fewest due samples) first."""
    users = get_user_model().objects.filter(groups__name=roles.QA_REVIEWER, is_active=True).values_list("pk", flat=True)
    due = dict(
        Sample.objects.filter(status=SampleStatus.DUE, reviewer__isnull=False).values_list("reviewer_id")
        .annotate(n=Count("id")).order_by()
    )
    return sorted(set(users), key=lambda pk: (due.get(pk, 0), pk))


def pass_statements(*, now, since=None, reviewers: list[int]) -> tuple[list, dict[str, str]]:
    """The pass's statements, in order: [(rule version, SQL, parameters)], and how each rule
    reads ("since mark" or "window"). Run them under the pass's lock (samples_draw)."""
    window_start = now - timedelta(days=settings.QA_SAMPLING_LOOKBACK_DAYS)
    versions = (
        SamplingRuleVersion.objects.filter(rule__is_active=True)
        .select_related("rule").order_by("rule_id", "-version").distinct("rule_id")
    )
    # the floor last: it counts what the other rules drew
    versions = sorted(versions, key=lambda v: (v.kind == RuleKind.WEEKLY_FLOOR, v.rule_id))
    marks = {m.rule_id: m for m in SamplingWatermark.objects.filter(rule_id__in=[v.rule_id for v in versions])}
    this_week = week_start(now)
    weeks = [(this_week - timedelta(days=7), this_week), (this_week, this_week + timedelta(days=7))]
    statements, read = [], {}
    for v in versions:
        mark = marks.get(v.rule_id)
        incremental = since is None and mark is not None and mark.rule_version_id == v.pk
        read[v.rule.name] = "since mark" if incremental else "window"
        base = {
            "rule": v.rule_id, "version": v.pk, "since": since or window_start, "now": now,
            "mark": mark.txid if incremental else None,
            "due": now + timedelta(days=v.due_days), "reviewers": reviewers, "n": max(len(reviewers), 1),
        }
        windows = [{"week_start": start, "week_end": end} for start, end in weeks] if v.kind == RuleKind.WEEKLY_FLOOR else [{}]
        for window in windows:
            params = {**base, **window}
            statements.append((v, _INSERT.format(picked=_picked_sql(v, params, incremental=incremental)), params))
    return statements, read


def samples_draw(*, now=None, since=None) -> dict[str, int]:
    """One sampling pass: every active rule's newest version, one INSERT … SELECT each.

    Each rule reads the decisions written since its mark; one with no mark for its current
    version reads the lookback window (QA_SAMPLING_LOOKBACK_DAYS). `since` makes every rule read
    from that time instead (a replay: what is drawn already stays drawn). The weekly floor reads
    the current and the previous ISO week. Returns new samples per rule name.
    """
    now = now or timezone.now()
    drawn: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            # Every transaction older than the oldest one running now has committed or aborted: its
            # decisions are all visible to what follows, so the next pass may start from here.
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            horizon = cursor.fetchone()[0]
            statements, read = pass_statements(now=now, since=since, reviewers=reviewer_pool())
            # A full read of the window sorts and hashes in memory rather than spilling to disk.
            cursor.execute("SET LOCAL work_mem = %s", [settings.QA_SAMPLING_WORK_MEM])
            versions = {}
            for v, sql, params in statements:
                cursor.execute(sql, params)
                drawn[v.rule.name] = drawn.get(v.rule.name, 0) + cursor.rowcount
                versions[v.rule_id] = v
            SamplingWatermark.objects.bulk_create(
                [SamplingWatermark(rule_id=v.rule_id, rule_version=v, txid=horizon, passed_at=now) for v in versions.values()],
                update_conflicts=True, unique_fields=["rule"], update_fields=["rule_version", "txid", "passed_at"])
        if any(drawn.values()):
            since_text = (since or now - timedelta(days=settings.QA_SAMPLING_LOOKBACK_DAYS)).isoformat()
            audit_record(actor=None, verb="qa.samples_drawn", object_type="sampling", object_ref=now.isoformat(),
                         data={"since": since_text, "drawn": drawn, "read": read})
    return drawn


def rules_with_versions():
    """Every rule with its current version (for pages and the API)."""
    rules = list(SamplingRule.objects.order_by("name"))
    current = {
        v.rule_id: v for v in SamplingRuleVersion.objects.filter(rule__in=rules)
        .select_related("queue", "policy", "analyst").order_by("rule_id", "-version").distinct("rule_id")
    }
    for rule in rules:
        rule.current = current.get(rule.pk)
    return rules
