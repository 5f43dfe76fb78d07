"""The sampler: one INSERT … SELECT per active rule draws resolved decisions into samples.

Set-wise and idempotent:
- a decision is the group of actions sharing a decision_ref that took effect (applied_at set);
  the lookback window's actions are grouped into decisions once per pass, into a temporary
  table every rule reads (by the qa_action_applied index on applied_at);
- "overturned on appeal" reads the decisions whose appeal was decided (overturned or modified)
  in the window, through appeals' selector, whenever the decision itself took effect;
- a random rule keeps a decision when a hash of (decision, rule) falls under its rate, so a
  re-run keeps the same decisions rather than rolling the dice again;
- `ON CONFLICT (rule_id, decision_ref) DO NOTHING` on the unique constraint makes a decision
  sampled at most once per rule, whatever runs at the same time;
- the whole pass holds a transaction-level advisory lock, so a second beat waits and then finds
  nothing left to do (the weekly floor counts samples, so it must not race with itself).

Reviewers are QA reviewers, assigned round-robin from the least loaded, never the decision's
analyst or approver (a CHECK constraint on qa_sample holds that too). With no eligible reviewer
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

from .models import RuleKind, Sample, SampleStatus, SamplingRule, SamplingRuleVersion

LOCK_KEY = 7_211_301  # pg advisory lock id of the sampling pass
HASH_SCALE = 1_000_000

# The pass's window: decisions that took effect in [since, until), one row each, grouped once
# per pass into a temporary table that every rule then reads.
# One decision per row: the actions sharing a decision_ref that took effect, grouped.
_DECISIONS = """
    SELECT min(a.id) AS action_id, a.decision_ref, min(a.case_id) AS case_id,
           min(a.policy_id) AS policy_id, min(a.proposer_id) AS analyst_id,
           min(a.reviewer_id) FILTER (WHERE a.requires_approval) AS approver_id,
           min(a.applied_at) AS decided_at,
           bool_or(a.action_type = 'termination') AS is_termination,
           bool_or(a.requires_approval) AS two_person,
           array_agg(a.action_type) AS types
    FROM enforcement_enforcementaction a
    WHERE {where}
    GROUP BY a.decision_ref
"""

_WINDOW = "CREATE TEMPORARY TABLE qa_window ON COMMIT DROP AS " + _DECISIONS.format(
    where="a.applied_at >= %(since)s AND a.applied_at < %(until)s")

# How many action rows of an analyst's history are enough to find their first N decisions
# (a decision has at most enforcement's MAX_ACTIONS actions).
ACTIONS_PER_DECISION = 8

_INSERT = """
    INSERT INTO qa_sample (rule_id, rule_version_id, decision_ref, action_id, case_id, analyst_id, approver_id,
                           reviewer_id, decided_at, status, due_at, created_at)
    SELECT %(rule)s, %(version)s, p.decision_ref, p.action_id, p.case_id, p.analyst_id, p.approver_id,
           (SELECT r.id FROM unnest(%(reviewers)s::bigint[]) WITH ORDINALITY AS r(id, i)
             WHERE r.id <> p.analyst_id AND r.id IS DISTINCT FROM p.approver_id
             ORDER BY mod(r.i + p.slot, %(n)s) LIMIT 1),
           p.decided_at, 'due', %(due)s, %(now)s
    FROM (SELECT q.*, row_number() OVER (ORDER BY q.decided_at, q.decision_ref) AS slot FROM ({picked}) q) p
    ON CONFLICT (rule_id, decision_ref) DO NOTHING
"""


def _filters(v: SamplingRuleVersion, params: dict, *, window: bool = True) -> str:
    """The rule's scope and window as SQL over `d` (a row of qa_window), skipping decisions the
    rule has drawn already (an index probe on qa_sample_once_per_rule). `window=False`: the rule
    bounds the decisions itself (overturned on appeal: by when the appeal was decided)."""
    where = [
        "NOT EXISTS (SELECT 1 FROM qa_sample s0 WHERE s0.rule_id = %(rule)s AND s0.decision_ref = d.decision_ref)",
    ]
    if window:
        where.insert(0, "d.decided_at >= %(since)s AND d.decided_at < %(until)s")
    if v.queue_id:
        where.append("EXISTS (SELECT 1 FROM cases_case c WHERE c.id = d.case_id AND c.queue_id = %(queue)s)")
        params["queue"] = v.queue_id
    if v.policy_id:
        where.append("d.policy_id = %(policy)s")
        params["policy"] = v.policy_id
    if v.action_type:
        where.append("%(action_type)s = ANY(d.types)")
        params["action_type"] = v.action_type
    if v.analyst_id:
        where.append("d.analyst_id = %(analyst)s")
        params["analyst"] = v.analyst_id
    return " AND ".join(where)


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


def _picked_sql(v: SamplingRuleVersion, params: dict) -> str:
    """SELECT of the decisions this rule version takes from the window."""
    if v.kind == RuleKind.OVERTURNED:
        # Not the window of decisions that took effect lately: a decision appealed weeks after it
        # took effect is drawn when its appeal is decided. The appeals' selector names the
        # decisions (appeal_decided_at index), enforcement's decision_ref index groups their actions.
        overturned = _embed(appeal_selectors.overturned_decisions(since=params["since"], until=params["until"]),
                            params, "appeal_")
        decisions = _DECISIONS.format(where=f"a.applied_at IS NOT NULL AND a.decision_ref IN ({overturned})")
        return f"SELECT d.* FROM ({decisions}) d WHERE {_filters(v, params, window=False)}"
    scope = _filters(v, params)
    if v.kind == RuleKind.RANDOM:
        params["threshold"] = round(v.rate * HASH_SCALE)
        return (
            f"SELECT d.* FROM qa_window d WHERE {scope} AND "
            "mod(hashtextextended(d.decision_ref::text, %(rule)s) & 9223372036854775807, "
            f"{HASH_SCALE}) < %(threshold)s"
        )
    if v.kind == RuleKind.HIGH_IMPACT:
        return f"SELECT d.* FROM qa_window d WHERE {scope} AND (d.is_termination OR d.two_person)"
    if v.kind == RuleKind.NEW_ANALYST:
        params["first_n"] = v.first_n
        params["enough"] = v.first_n * ACTIONS_PER_DECISION
        # Each analyst's first N decisions ever, from at most `enough` of their earliest actions
        # (qa_action_proposer_applied index): a few index probes per analyst, whatever the window.
        return f"""
            WITH firsts AS (
                SELECT f.decision_ref
                FROM (SELECT DISTINCT analyst_id FROM qa_window) a
                CROSS JOIN LATERAL (
                    SELECT x.decision_ref FROM (
                        SELECT e.decision_ref, min(e.applied_at) AS at FROM (
                            SELECT e.decision_ref, e.applied_at FROM enforcement_enforcementaction e
                            WHERE e.proposer_id = a.analyst_id AND e.applied_at IS NOT NULL
                            ORDER BY e.applied_at LIMIT %(enough)s) e
                        GROUP BY e.decision_ref) x
                    ORDER BY x.at, x.decision_ref LIMIT %(first_n)s) f)
            SELECT d.* FROM qa_window d WHERE d.decision_ref IN (SELECT decision_ref FROM firsts) AND {scope}"""
    if v.kind == RuleKind.WEEKLY_FLOOR:
        params["floor_k"] = v.floor_k
        # `since`/`until` are the ISO week here; samples of every rule count towards the floor.
        return f"""
            WITH have AS (SELECT s.analyst_id, count(DISTINCT s.decision_ref) AS n FROM qa_sample s
                          WHERE s.decided_at >= %(since)s AND s.decided_at < %(until)s GROUP BY s.analyst_id),
            ranked AS (
                SELECT d.*, row_number() OVER (
                    PARTITION BY d.analyst_id ORDER BY hashtextextended(d.decision_ref::text, %(rule)s)) AS rn
                FROM qa_window d WHERE {scope}
                  AND NOT EXISTS (SELECT 1 FROM qa_sample s WHERE s.decision_ref = d.decision_ref))
            SELECT r.action_id, r.decision_ref, r.case_id, r.policy_id, r.analyst_id, r.approver_id,
                   r.decided_at, r.is_termination, r.two_person, r.types
            FROM ranked r LEFT JOIN have h ON h.analyst_id = r.analyst_id
            WHERE r.rn <= %(floor_k)s - coalesce(h.n, 0)"""
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


def samples_draw(*, now=None, since=None) -> dict[str, int]:
    """One sampling pass: every active rule's newest version, one INSERT … SELECT each.

    `since` bounds the window of decisions read (default: QA_SAMPLING_LOOKBACK_DAYS ago); the
    weekly floor reads the current and the previous ISO week. Returns new samples per rule name.
    """
    now = now or timezone.now()
    since = since or now - timedelta(days=settings.QA_SAMPLING_LOOKBACK_DAYS)
    drawn: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            reviewers = reviewer_pool()
            versions = (
                SamplingRuleVersion.objects.filter(rule__is_active=True)
                .select_related("rule").order_by("rule_id", "-version").distinct("rule_id")
            )
            versions = sorted(versions, key=lambda v: (v.kind == RuleKind.WEEKLY_FLOOR, v.rule_id))
            this_week = week_start(now)
            weeks = [(this_week - timedelta(days=7), this_week), (this_week, now)]
            window_start = min([since] + ([weeks[0][0]] if any(v.kind == RuleKind.WEEKLY_FLOOR for v in versions) else []))
            # Grouping a large window into decisions wants memory rather than a spill to disk.
            cursor.execute("SET LOCAL work_mem = %s", [settings.QA_SAMPLING_WORK_MEM])
            # (Dropped first and last: inside an outer transaction, ON COMMIT comes too late.)
            cursor.execute("DROP TABLE IF EXISTS qa_window")
            if versions:
                cursor.execute(_WINDOW, {"since": window_start, "until": now})
                cursor.execute("ANALYZE qa_window")
            for v in versions:
                windows = weeks if v.kind == RuleKind.WEEKLY_FLOOR else [(since, now)]
                total = 0
                for start, end in windows:
                    params = {
                        "rule": v.rule_id, "version": v.pk, "since": start, "until": end, "now": now,
                        "window_start": window_start,
                        "due": now + timedelta(days=v.due_days), "reviewers": reviewers, "n": max(len(reviewers), 1),
                    }
                    cursor.execute(_INSERT.format(picked=_picked_sql(v, params)), params)
                    total += cursor.rowcount
                drawn[v.rule.name] = total
            cursor.execute("DROP TABLE IF EXISTS qa_window")
        if any(drawn.values()):
            audit_record(actor=None, verb="qa.samples_drawn", object_type="sampling", object_ref=now.isoformat(),
                         data={"since": since.isoformat(), "drawn": drawn})
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
