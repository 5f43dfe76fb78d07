"""The transparency report (DSA Art. 15 and 24) for a period, read straight from the database.

Every figure is a COUNT or a median over rows of the period; nothing is estimated or cached, so
the report equals what the database holds (tests compare it with hand-counted fixtures). Two
figures read rollups that triggers keep in step with the reports in the same transaction (so they
are never behind): notices per day (NoticeDay, for the period's whole days) and each case's first
notice (CaseFirstNotice, for the median time from notice to action).
Appeal figures (Art. 15(1)(d), 24(1)(a)) come from `appeals.selectors`: complaints received in the
period by their basis (who complained, the contested action, its ground and DSA category),
the decisions taken on complaints in the period, the median time to take them and how many
reversed the original decision.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum

from appeals import selectors as appeals_selectors
from appeals.models import AppellantKind, Outcome
from cases.models import DsaCategory, Report, Source
from enforcement.models import ActionType, AutomatedDecision, DecisionGround, EnforcementAction

from . import dsa
from .models import CaseFirstNotice, NoticeDay


@dataclass
class Period:
    start: datetime
    end: datetime  # exclusive


def _label(choices, value) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value


def applied_restrictions(period: Period):
    """Restrictive actions that took effect in the period (whatever became of them since)."""
    return EnforcementAction.objects.filter(
        action_type__in=dsa.RESTRICTIONS, status__in=dsa.APPLIED_STATUSES,
        applied_at__gte=period.start, applied_at__lt=period.end,
    )


def _notice_counts(period: Period) -> list[tuple[str, str, int]]:
    """(DSA category, source, notices) of the period, in key order: its whole UTC days from the
    NoticeDay rollup, the partial days at either end counted from the reports themselves."""
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    first_day = start.date() if start.time() == time.min else start.date() + timedelta(days=1)
    last_day = end.date()  # exclusive: the day `end` falls in is whole only when `end` is its midnight
    counts: dict[tuple[str, str], int] = defaultdict(int)
    edges = [(start, end)]
    if first_day < last_day:
        rows = (NoticeDay.objects.filter(day__gte=first_day, day__lt=last_day)
                .values_list("category__dsa_category", "source").annotate(n=Sum("notices")).order_by())
        for category, source, n in rows:
            counts[(category, source)] += n
        midnight = datetime.combine(first_day, time.min, tzinfo=UTC), datetime.combine(last_day, time.min, tzinfo=UTC)
        edges = [(a, b) for a, b in ((start, midnight[0]), (midnight[1], end)) if a < b]
    if edges:
        live = Q()
        for a, b in edges:
            live |= Q(received_at__gte=a, received_at__lt=b)
        rows = (Report.objects.filter(live).values_list("category__dsa_category", "source")
                .annotate(n=Count("id")).order_by())
        for category, source, n in rows:
            counts[(category, source)] += n
    return [(category, source, n) for (category, source), n in sorted(counts.items()) if n]


def notices(period: Period) -> dict:
    """Notices received by DSA category and source; trusted flaggers' counted apart (Art. 15(1)(b))."""
    by_category: dict[str, dict] = {}
    by_source: dict[str, int] = {}
    for cat, source, n in _notice_counts(period):
        entry = by_category.setdefault(cat, {"category": cat, "label": _label(DsaCategory, cat), "total": 0,
                                             "trusted_flagger": 0, "by_source": {}})
        entry["total"] += n
        entry["by_source"][source] = n
        if source == Source.TRUSTED_FLAGGER:
            entry["trusted_flagger"] += n
        by_source[source] = by_source.get(source, 0) + n
    total = sum(by_source.values())
    return {
        "total": total,
        "trusted_flagger": by_source.get(Source.TRUSTED_FLAGGER, 0),
        "by_source": [{"source": s, "label": _label(Source, s), "count": by_source.get(s, 0)} for s in Source.values],
        "by_category": sorted(by_category.values(), key=lambda e: -e["total"]),
    }


def actions(period: Period) -> dict:
    """Restrictions by type, ground and category, with how many were detected or decided automatically."""
    # One pass over the period's restrictions, grouped by every column a figure splits on (a few
    # hundred groups at most), instead of one scan per figure.
    suspended = ~Q(decision_account="")
    rows = applied_restrictions(period).order_by().annotate(
        suspended=ExpressionWrapper(suspended, output_field=BooleanField()),
        # Art. 23(1): suspensions of accounts that already had strikes under the policy (repeat misuse)
        misuse=ExpressionWrapper(suspended & Q(ladder_suggestion__strikes__gte=1), output_field=BooleanField()),
    ).values_list("action_type", "decision_ground", "category", "automated_detection", "automated_decision",
                  "suspended", "misuse").annotate(n=Count("id"))
    totals = dict.fromkeys(("total", "automated_detection", "fully_automated", "partially_automated", "illegal",
                            "incompatible", "misuse_suspensions", "account_suspensions"), 0)
    by_type, by_ground = defaultdict(int), defaultdict(int)
    by_category: dict[str, dict] = defaultdict(lambda: {"n": 0, "automated": 0})
    for action_type, ground, category, detected, decided, is_suspension, misuse, n in rows:
        totals["total"] += n
        totals["automated_detection"] += n if detected else 0
        totals["fully_automated"] += n if decided == AutomatedDecision.FULLY else 0
        totals["partially_automated"] += n if decided == AutomatedDecision.PARTIALLY else 0
        totals["illegal"] += n if ground == DecisionGround.ILLEGAL_CONTENT else 0
        totals["incompatible"] += n if ground == DecisionGround.INCOMPATIBLE_CONTENT else 0
        totals["misuse_suspensions"] += n if misuse else 0
        totals["account_suspensions"] += n if is_suspension else 0
        by_type[action_type] += n
        by_ground[ground] += n
        by_category[category]["n"] += n
        by_category[category]["automated"] += n if detected else 0
    by_category = dict(sorted(by_category.items()))
    return {
        **totals,
        "by_type": [{"action_type": t, "label": ActionType(t).label, "count": by_type.get(t, 0)} for t in dsa.RESTRICTIONS],
        "by_ground": [{"decision_ground": g, "label": DecisionGround(g).label, "count": by_ground.get(g, 0)}
                      for g in DecisionGround.values],
        "by_category": sorted(
            ({"category": c, "label": _label(DsaCategory, c), "count": r["n"], "automated_detection": r["automated"]}
             for c, r in by_category.items()), key=lambda e: -e["count"]),
    }


def median_hours_to_action(period: Period) -> float | None:
    """Median hours from a case's first notice to the restriction taking effect (cases with a notice).
    The first notice of each case is kept in CaseFirstNotice: one join, not a search of every
    action's reports for the earliest.

    For a long period the planner prefers hashing the restrictions and scanning every case's first
    notice (a million rows) against them; probing the first-notice key once per restriction (a
    nested loop, or a merge over the key's order) costs about half the CPU at any period length,
    so hash joins are off for this one statement (SET LOCAL: until the end of its transaction)."""
    qs = applied_restrictions(period).order_by()
    sql, params = qs.values("case_id", "applied_at").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute(
            f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a.applied_at - f.received_at)) "
            f"FROM ({sql}) a JOIN {CaseFirstNotice._meta.db_table} f ON f.case_id = a.case_id", params)
        seconds = cursor.fetchone()[0]
        cursor.execute("RESET enable_hashjoin")  # an enclosing transaction goes on with the usual plans
    return None if seconds is None else round(float(seconds) / 3600, 2)


def appeals(period: Period) -> dict:
    """Complaints against decisions (Art. 24(1)(a)): received in the period and their basis,
    decided in the period by outcome, the median days to decide, and how many overturned."""
    filed = appeals_selectors.appeals_filed(since=period.start, until=period.end)
    decided = appeals_selectors.appeals_decided(since=period.start, until=period.end)
    by_kind = {r["appellant_kind"]: r["n"] for r in filed.values("appellant_kind").annotate(n=Count("id")).order_by()}
    by_type = {r["action_type"]: r["n"] for r in filed.values("action_type").annotate(n=Count("id")).order_by()}
    by_category = {r["c"]: r["n"] for r in filed.values(c=F("decision_case__category__dsa_category"))
                   .annotate(n=Count("id")).order_by()}
    ground = EnforcementAction.objects.filter(decision_ref=OuterRef("decision_ref")).order_by("id").values(
        "decision_ground")[:1]
    by_ground = {r["g"]: r["n"] for r in filed.annotate(g=Subquery(ground)).values("g").annotate(n=Count("id"))
                 .order_by()}
    by_outcome = {r["outcome"]: r["n"] for r in decided.values("outcome").annotate(n=Count("id")).order_by()}
    median = appeals_selectors.median_time_to_decide(decided)
    return {
        "received": sum(by_kind.values()),
        "by_appellant": [{"appellant_kind": k, "label": label, "count": by_kind.get(k, 0)}
                         for k, label in AppellantKind.choices],
        "by_action_type": [{"action_type": t, "label": ActionType(t).label, "count": by_type[t]}
                           for t in ActionType.values if t in by_type],
        "by_ground": [{"decision_ground": g, "label": DecisionGround(g).label, "count": by_ground.get(g, 0)}
                      for g in DecisionGround.values],
        "by_category": sorted(({"category": c, "label": _label(DsaCategory, c), "count": n}
                               for c, n in by_category.items()), key=lambda e: (-e["count"], e["category"])),
        "decided": sum(by_outcome.values()),
        "by_outcome": [{"outcome": o, "label": label, "count": by_outcome.get(o, 0)} for o, label in Outcome.choices],
        "overturned": by_outcome.get(Outcome.OVERTURNED, 0),
        "median_days_to_decide": None if median is None else round(median.total_seconds() / 86400, 2),
    }


def transparency_report(period: Period) -> dict:
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "notices": notices(period),
        "actions": actions(period),
        "median_hours_notice_to_action": median_hours_to_action(period),
        "appeals": appeals(period),
    }


def report_rows(report: dict) -> list[list]:
    """The report as CSV rows: section, key, label, count."""
    rows = [["section", "key", "label", "value"]]
    n, a = report["notices"], report["actions"]
    rows.append(["notices", "total", "Notices received", n["total"]])
    rows.append(["notices", "trusted_flagger", "Notices from trusted flaggers", n["trusted_flagger"]])
    rows += [["notices_by_source", s["source"], s["label"], s["count"]] for s in n["by_source"]]
    for c in n["by_category"]:
        rows.append(["notices_by_category", c["category"], c["label"], c["total"]])
        rows.append(["notices_by_category_trusted_flagger", c["category"], c["label"], c["trusted_flagger"]])
    for key, label in (("total", "Restrictions applied"), ("automated_detection", "Detected by automated means"),
                       ("fully_automated", "Decided fully automatically"),
                       ("partially_automated", "Decided partly automatically"),
                       ("account_suspensions", "Account suspensions and terminations"),
                       ("misuse_suspensions", "Suspensions for repeated misuse (Art. 23)")):
        rows.append(["actions", key, label, a[key]])
    rows += [["actions_by_type", t["action_type"], t["label"], t["count"]] for t in a["by_type"]]
    rows += [["actions_by_ground", g["decision_ground"], g["label"], g["count"]] for g in a["by_ground"]]
    rows += [["actions_by_category", c["category"], c["label"], c["count"]] for c in a["by_category"]]
    rows.append(["timing", "median_hours_notice_to_action", "Median hours from notice to action",
                 "" if report["median_hours_notice_to_action"] is None else report["median_hours_notice_to_action"]])
    ap = report["appeals"]
    rows.append(["appeals", "received", "Complaints received", ap["received"]])
    rows += [["appeals_by_appellant", e["appellant_kind"], e["label"], e["count"]] for e in ap["by_appellant"]]
    rows += [["appeals_by_action_type", e["action_type"], e["label"], e["count"]] for e in ap["by_action_type"]]
    rows += [["appeals_by_ground", e["decision_ground"], e["label"], e["count"]] for e in ap["by_ground"]]
    rows += [["appeals_by_category", e["category"], e["label"], e["count"]] for e in ap["by_category"]]
    rows.append(["appeals", "decided", "Complaints decided", ap["decided"]])
    rows += [["appeals_by_outcome", e["outcome"], e["label"], e["count"]] for e in ap["by_outcome"]]
    rows.append(["appeals", "overturned", "Decisions reversed on complaint", ap["overturned"]])
    rows.append(["appeals", "median_days_to_decide", "Median days to decide a complaint",
                 "" if ap["median_days_to_decide"] is None else ap["median_days_to_decide"]])
    return rows
