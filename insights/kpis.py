"""The KPIs a Trust & Safety team is judged by, each against a target a lead can set.

A KPI computes its value from the rollups or the source tables for the page's filters, and names
the cases behind its number (`cases_behind`): the misses, the reversals, the gaps, so a lead can
open the list and act. Defaults are the common benchmarks where one exists (SLA first touch ≥ 95 %,
closure ≥ 90 %, macro use ≥ 95 %, Sev1/2 acknowledged within the hour, QA pass rate ≥ 95 %,
documentation ≥ 4.5 of 5, rework ≤ 3 %, calibration variance ≤ 3 %, appeal overturns under 10–15 %);
throughput, appeal rate and false-negative targets depend on the team, so they start unset.

Appeal and QA figures are read through `appeals.selectors` and `qa.selectors` (insights reads the
other apps; none imports insights). Their scope: a queue or team narrows to the queues of the
*contested or audited* case (an appeal's own case always sits in the appeals queue), a policy to
the decision's policy.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Avg, Count, DurationField, Exists, F, OuterRef, Q, Sum, Value
from django.urls import reverse

from appeals import selectors as appeals
from appeals.models import AppellantKind
from appeals.models import Outcome as AppealOutcome
from cases.models import (
    COMMON_SIGNAL_ACCOUNTS,
    Case,
    CaseStatus,
    Escalation,
    EscalationSeverity,
    SubjectSignal,
    accounts_sharing,
)
from enforcement.models import ActionStatus, ActionType, EnforcementAction
from qa import selectors as qa

from . import dsa
from .filters import Filters, filters_from
from .models import AnalystHour, KpiTarget, QueueHour


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str  # "%", "cases/day", "points/day", "cases"
    higher_is_better: bool
    default_target: Decimal | None
    explains: str
    behind: str  # what the linked case list shows


KPIS: dict[str, Kpi] = {k.key: k for k in [
    Kpi("resolved_per_day", "Cases resolved per day", "cases/day", True, None,
        "Cases resolved in the period, per day.", "Cases resolved in the period"),
    Kpi("weighted_throughput", "Weighted throughput", "points/day", True, None,
        "Resolutions weighted by their queue's complexity, per day.", "Cases resolved in the period"),
    Kpi("sla_first_touch", "SLA adherence: first touch", "%", True, Decimal("95"),
        "First touches in the period that met their target.", "Cases first touched late"),
    Kpi("sla_resolution", "SLA adherence: closure", "%", True, Decimal("90"),
        "Resolutions in the period that met their target.", "Cases resolved late"),
    Kpi("backlog_burn", "Backlog burn-down", "cases", True, Decimal("0"),
        "Cases resolved minus cases opened in the period (positive: the backlog shrank).", "Open cases now"),
    Kpi("false_positives", "False positives (actions reversed as incorrect)", "%", False, None,
        "Restrictions applied in the period since reversed because an appeal overturned their decision or a "
        "lead corrected it after QA.", "Cases with a restriction reversed as incorrect"),
    Kpi("repeat_offenders", "Repeat-offender handling", "%", True, None,
        "Actioned accounts with linked accounts (shared email, device, IP or payment signal) whose linked "
        "accounts were actioned too.", "Cases whose linked accounts were not actioned"),
    Kpi("escalation_timeliness", "Escalation timeliness (Sev1/2 within the hour)", "%", True, Decimal("95"),
        "Sev1 and Sev2 escalations raised in the period and acknowledged within 60 minutes.",
        "Cases of Sev1/2 escalations acknowledged late or not at all"),
    Kpi("escalation_completeness", "Escalations complete on first send", "%", True, Decimal("95"),
        "Escalations raised with impacted ids, evidence links and recommended next steps.",
        "Cases of incomplete escalations"),
    Kpi("macro_use", "Macro / playbook use", "%", True, Decimal("95"),
        "Restrictions decided in the period whose statement came from a macro.", "Cases decided without a macro"),
    Kpi("qa_pass_rate", "Enforcement accuracy (QA pass rate)", "%", True, Decimal("95"),
        "Audits recorded in the period whose final outcome is agree or minor.", "Cases whose audit found a major or "
        "critical error"),
    Kpi("documentation_quality", "Documentation quality", "/5", True, Decimal("4.5"),
        "Mean QA rubric score of the audits recorded in the period, on the rubric's 1–5 scale (weighted by "
        "criterion).", "Cases audited below the target score"),
    Kpi("rework_rate", "Rework rate", "%", False, Decimal("3"),
        "Decisions that took effect in the period and were since corrected after QA or overturned on appeal.",
        "Cases whose decision was corrected or overturned"),
    Kpi("false_negatives", "False-negative indicators", "decisions", False, None,
        "No-violation decisions where a QA audit (recorded in the period) or a notifier's appeal (decided in the "
        "period) found a violation, of the no-violation decisions so reviewed.", "Cases where a violation was missed"),
    Kpi("appeal_rate", "Appeal rate", "%", False, None,
        "Appeals filed in the period per restriction applied in the period.", "Cases whose decision was appealed in "
        "the period"),
    Kpi("appeal_overturn_rate", "Appeal overturn rate", "%", False, Decimal("15"),
        "Appeals decided in the period that overturned the decision (common benchmark: under 10–15 %).",
        "Cases whose decision was overturned on appeal"),
    Kpi("calibration_variance", "Policy alignment: variance from calibration consensus", "%", False, Decimal("3"),
        "Answers in calibration sessions closed in the period that differ from the golden answer or the consensus.",
        "Calibration cases answered differently from the consensus"),
]}
SEV12 = [EscalationSeverity.SEV1, EscalationSeverity.SEV2]
_HOUR = Value(timedelta(hours=1), output_field=DurationField())


def targets() -> dict[str, Decimal | None]:
    saved = dict(KpiTarget.objects.values_list("key", "target"))
    return {key: saved.get(key, kpi.default_target) for key, kpi in KPIS.items()}


def _pct(num: int, den: int) -> float | None:
    return None if not den else round(100.0 * num / den, 1)


def _hours(f: Filters):
    qs = QueueHour.objects.filter(hour__gte=f.period.start, hour__lt=f.period.end)
    ids = f.queue_ids()
    return qs if ids is None else qs.filter(queue_id__in=ids)


def _analyst_hours(f: Filters):
    qs = AnalystHour.objects.filter(hour__gte=f.period.start, hour__lt=f.period.end)
    ids = f.queue_ids()
    return qs if ids is None else qs.filter(queue_id__in=ids)


def _scoped_cases(f: Filters):
    ids = f.queue_ids()
    return Case.objects.all() if ids is None else Case.objects.filter(queue_id__in=ids)


def _restrictions(f: Filters):
    qs = EnforcementAction.objects.filter(action_type__in=dsa.RESTRICTIONS)
    ids = f.queue_ids()
    if ids is not None:
        qs = qs.filter(case__queue_id__in=ids)
    if f.policy is not None:
        qs = qs.filter(policy=f.policy)
    return qs


def _applied(f: Filters):
    return _restrictions(f).filter(status__in=dsa.APPLIED_STATUSES, applied_at__gte=f.period.start,
                                   applied_at__lt=f.period.end)


def _escalations(f: Filters):
    qs = Escalation.objects.filter(created_at__gte=f.period.start, created_at__lt=f.period.end)
    if f.team is not None:
        qs = qs.filter(team=f.team)
    elif f.queue is not None:
        qs = qs.filter(case__queue=f.queue)
    return qs


def _repeat_offender_sets(f: Filters):
    """(applied restrictions on accounts with linked accounts, those with a linked account never restricted)."""
    actioned = EnforcementAction.objects.filter(target=OuterRef("subject"), action_type__in=dsa.RESTRICTIONS,
                                                status__in=dsa.APPLIED_STATUSES)
    linked = SubjectSignal.objects.filter(signal__subject_links__subject=OuterRef("target")).exclude(
        subject=OuterRef("target")).alias(sharing=accounts_sharing(F("signal_id"))).filter(
        sharing__lte=COMMON_SIGNAL_ACCOUNTS)  # a signal too common to link by links no one
    accounts = _applied(f).filter(target__kind="account")
    with_links = accounts.filter(Exists(linked))
    gaps = accounts.filter(Exists(linked.filter(~Exists(actioned))))
    return with_links, gaps


def _repeat_offender_counts(f: Filters) -> tuple[int, int]:
    """The two counts of `_repeat_offender_sets` (distinct accounts), in one statement that reads only
    the rows it needs: the accounts restricted in the period, their signal links (one index scan
    for all of them), the other accounts on those signals (one more), and which of those were ever
    restricted (one more), each looked up with `= ANY(array)` so that no step joins against the
    whole signal-link table (hash joins over every link, twice, were most of the KPI page).
    Only accounts carry signals (intake links them to accounts alone), so the targets are not joined
    to their subjects to keep the accounts: a target without signal links adds nothing here. A signal
    too common to link by (cases.models.COMMON_SIGNAL_ACCOUNTS) links no one, as on the case page."""
    targets, params = _applied(f).order_by().values("target_id").distinct().query.sql_with_params()
    signals, actions = SubjectSignal._meta.db_table, EnforcementAction._meta.db_table
    sql = f"""
        WITH targets AS MATERIALIZED ({targets}),
        mine AS MATERIALIZED (
            SELECT subject_id AS target_id, signal_id FROM {signals}
            WHERE subject_id = ANY(ARRAY(SELECT target_id FROM targets))
        ),
        reached AS MATERIALIZED (
            SELECT signal_id, subject_id FROM {signals}
            WHERE signal_id = ANY(ARRAY(SELECT DISTINCT signal_id FROM mine))
        ),
        others AS MATERIALIZED (
            SELECT signal_id, subject_id FROM (
                SELECT signal_id, subject_id, count(*) OVER (PARTITION BY signal_id) AS sharing FROM reached
            ) counted WHERE sharing <= {COMMON_SIGNAL_ACCOUNTS}
        ),
        links AS MATERIALIZED (
            SELECT DISTINCT m.target_id, o.subject_id AS linked_id
            FROM mine m JOIN others o ON o.signal_id = m.signal_id AND o.subject_id <> m.target_id
        ),
        actioned AS MATERIALIZED (
            SELECT DISTINCT target_id FROM {actions}
            WHERE target_id = ANY(ARRAY(SELECT DISTINCT linked_id FROM links))
              AND action_type = ANY(%s) AND status = ANY(%s)
        )
        SELECT count(DISTINCT l.target_id), count(DISTINCT l.target_id) FILTER (WHERE a.target_id IS NULL)
        FROM links l LEFT JOIN actioned a ON a.target_id = l.linked_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list(dsa.RESTRICTIONS), list(dsa.APPLIED_STATUSES)])
        linked, gap = cursor.fetchone()
    return linked, gap


def _scope_appeals(qs, f: Filters):
    ids = f.queue_ids()
    if ids is not None:
        qs = qs.filter(decision_case__queue_id__in=ids)
    return qs if f.policy is None else qs.filter(policy=f.policy)


def _appeals_decided(f: Filters):
    return _scope_appeals(appeals.appeals_decided(since=f.period.start, until=f.period.end), f)


def _appeals_filed(f: Filters):
    return _scope_appeals(appeals.appeals_filed(since=f.period.start, until=f.period.end), f)


def _audits(f: Filters):
    qs = qa.audits_between(since=f.period.start, until=f.period.end)
    ids = f.queue_ids()
    if ids is not None:
        qs = qs.filter(sample__case__queue_id__in=ids)
    return qs if f.policy is None else qs.filter(original_policy=f.policy)


def _decisions(f: Filters):
    """Actions of the decisions that took effect in the period (restrictions, warnings and no-violation
    alike; every decision is applied when decided or approved), read through the action_applied index."""
    qs = EnforcementAction.objects.filter(status__in=dsa.APPLIED_STATUSES, applied_at__gte=f.period.start,
                                          applied_at__lt=f.period.end)
    ids = f.queue_ids()
    if ids is not None:
        qs = qs.filter(case__queue_id__in=ids)
    return qs if f.policy is None else qs.filter(policy=f.policy)


def _reworked(qs):
    return qs.filter(Q(decision_ref__in=appeals.overturned_decision_refs()) | Q(decision_ref__in=qa.corrected_decision_refs()))


def _false_positives(f: Filters):
    return _reworked(_applied(f).filter(status=ActionStatus.REVERSED))


def _notifier_found_violation(f: Filters):
    """Notifiers' appeals against no-violation decisions, decided in the period, that overturned them."""
    return _appeals_decided(f).filter(appellant_kind=AppellantKind.NOTIFIER, action_type=ActionType.NO_VIOLATION)


def _alignment(f: Filters) -> list[dict]:
    rows = qa.calibration_alignment(since=f.period.start, until=f.period.end)
    ids = f.queue_ids()
    if ids is not None:
        in_scope = set(Case.objects.filter(id__in={r["case"] for r in rows}, queue_id__in=ids).values_list("id", flat=True))
        rows = [r for r in rows if r["case"] in in_scope]
    return rows if f.policy is None else [r for r in rows if r["policy"] == f.policy.slug]


def score_of_five(score: float | None) -> float | None:
    """A rubric's weighted 0–100 score back on its 1–5 scale."""
    return None if score is None else 1 + 4 * float(score) / 100


def _appeal_and_qa_values(f: Filters, restrictions: int) -> dict:
    decided = _appeals_decided(f).aggregate(n=Count("id"), overturned=Count("id", filter=Q(outcome=AppealOutcome.OVERTURNED)))
    filed = _appeals_filed(f).count()
    audits = _audits(f).aggregate(n=Count("id"), passed=Count("id", filter=Q(final_outcome__in=qa.PASSING)),
                                  score=Avg("score"))
    decisions = _decisions(f).values("decision_ref").distinct()
    rework = {"n": decisions.count(), "reworked": _reworked(decisions).count()}
    fn_audits = qa.audits_missing_violation(_audits(f)).count()
    no_violation_audits = _audits(f).filter(original_action_types=qa.NO_VIOLATION).count()
    notifier = _notifier_found_violation(f).aggregate(n=Count("id"), found=Count(
        "id", filter=Q(outcome=AppealOutcome.OVERTURNED)))
    alignment = _alignment(f)
    compared, differed = sum(r["compared"] for r in alignment), sum(r["differed"] for r in alignment)
    doc = score_of_five(audits["score"])
    return {
        "qa_pass_rate": (_pct(audits["passed"], audits["n"]), audits["passed"], audits["n"]),
        "documentation_quality": (None if doc is None else round(doc, 2), audits["n"], None),
        "rework_rate": (_pct(rework["reworked"], rework["n"]), rework["reworked"], rework["n"]),
        # a count, shown only when some no-violation decision was reviewed at all (0 of 0 says nothing)
        "false_negatives": (fn_audits + notifier["found"] if no_violation_audits + notifier["n"] else None,
                            fn_audits + notifier["found"], no_violation_audits + notifier["n"]),
        "appeal_rate": (_pct(filed, restrictions), filed, restrictions),
        "appeal_overturn_rate": (_pct(decided["overturned"], decided["n"]), decided["overturned"], decided["n"]),
        "calibration_variance": (_pct(differed, compared), differed, compared),
    }


def values_for(f: Filters) -> dict[str, tuple]:
    """{KPI key: (value, numerator, denominator)} for the filters."""
    days = max((f.period.end - f.period.start).total_seconds() / 86400, 1 / 24)
    hours = _hours(f).aggregate(opened=Sum("opened"), resolved=Sum("resolved"), ft=Sum("first_touch_total"),
                                ftm=Sum("first_touch_met"), rt=Sum("resolution_total"), rtm=Sum("resolution_met"))
    hours = {k: v or 0 for k, v in hours.items()}
    weighted = _analyst_hours(f).aggregate(points=Sum(F("resolved") * F("queue__complexity_weight")))["points"] or 0
    applied = _applied(f).aggregate(n=Count("id"))
    applied["reversed"] = _false_positives(f).count()
    decided = _restrictions(f).filter(created_at__gte=f.period.start, created_at__lt=f.period.end).aggregate(
        n=Count("id"), macro=Count("id", filter=Q(macro__isnull=False)))
    linked, gap = _repeat_offender_counts(f)
    accounts = {"linked": linked, "gap": gap}
    esc = _escalations(f).aggregate(
        sev12=Count("id", filter=Q(severity__in=SEV12)),
        sev12_ok=Count("id", filter=Q(severity__in=SEV12, acknowledged_at__isnull=False,
                                      acknowledged_at__lte=F("created_at") + _HOUR)),
        n=Count("id"),
        complete=Count("id", filter=~Q(impacted_ids=[]) & ~Q(evidence_links=[]) & ~Q(recommended_next_steps="")),
    )
    values = {
        "resolved_per_day": (round(hours["resolved"] / days, 1), hours["resolved"], None),
        "weighted_throughput": (round(float(weighted) / days, 1), float(weighted), None),
        "sla_first_touch": (_pct(hours["ftm"], hours["ft"]), hours["ftm"], hours["ft"]),
        "sla_resolution": (_pct(hours["rtm"], hours["rt"]), hours["rtm"], hours["rt"]),
        "backlog_burn": (hours["resolved"] - hours["opened"], hours["resolved"], hours["opened"]),
        "false_positives": (_pct(applied["reversed"], applied["n"]), applied["reversed"], applied["n"]),
        "repeat_offenders": (_pct(accounts["linked"] - accounts["gap"], accounts["linked"]),
                             accounts["linked"] - accounts["gap"], accounts["linked"]),
        "escalation_timeliness": (_pct(esc["sev12_ok"], esc["sev12"]), esc["sev12_ok"], esc["sev12"]),
        "escalation_completeness": (_pct(esc["complete"], esc["n"]), esc["complete"], esc["n"]),
        "macro_use": (_pct(decided["macro"], decided["n"]), decided["macro"], decided["n"]),
        **_appeal_and_qa_values(f, applied["n"]),
    }
    return values


def compute(f: Filters, values: dict[str, tuple] | None = None) -> list[dict]:
    """Every KPI's value for the filters (`values_for`, unless given), with its target, status and
    the link to its cases. Targets are read afresh: a lead's new target shows at once."""
    values = values_for(f) if values is None else values
    goal = targets()
    query = f.as_query()
    out = []
    for key, kpi in KPIS.items():
        value, numerator, denominator = values[key]
        target = goal[key]
        if value is None or target is None:
            status = "none"
        else:
            ok = value >= float(target) if kpi.higher_is_better else value <= float(target)
            status = "met" if ok else "missed"
        out.append({
            "key": key, "kpi": kpi, "value": value, "numerator": numerator, "denominator": denominator,
            "target": target, "status": status,
            "cases_url": reverse("insights-kpi-cases", args=[key]) + "?" + _urlencode(query),
        })
    return out


def _urlencode(query: dict) -> str:
    return urlencode(query)




def cases_behind(params) -> "Case.objects":
    """The cases behind KPI `params["kpi"]` for the filters in `params` (an unknown key: no cases)."""
    key = params.get("kpi")
    f = filters_from(params)
    start, end = f.period.start, f.period.end
    cases = _scoped_cases(f)
    if key in ("resolved_per_day", "weighted_throughput"):
        return cases.filter(resolved_at__gte=start, resolved_at__lt=end)
    if key == "sla_first_touch":
        return cases.filter(first_touched_at__gte=start, first_touched_at__lt=end,
                            first_touched_at__gt=F("first_touch_due_at"))
    if key == "sla_resolution":
        return cases.filter(resolved_at__gte=start, resolved_at__lt=end, resolved_at__gt=F("resolution_due_at"))
    if key == "backlog_burn":
        return cases.exclude(status=CaseStatus.RESOLVED)
    if key == "false_positives":
        return cases.filter(id__in=_false_positives(f).values("case_id"))
    if key == "repeat_offenders":
        return cases.filter(id__in=_repeat_offender_sets(f)[1].values("case_id"))
    if key == "escalation_timeliness":
        late = _escalations(f).filter(severity__in=SEV12).filter(
            Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gt=F("created_at") + _HOUR))
        return cases.filter(id__in=late.values("case_id"))
    if key == "escalation_completeness":
        incomplete = _escalations(f).filter(Q(impacted_ids=[]) | Q(evidence_links=[]) | Q(recommended_next_steps=""))
        return cases.filter(id__in=incomplete.values("case_id"))
    if key == "macro_use":
        bare = _restrictions(f).filter(created_at__gte=start, created_at__lt=end, macro__isnull=True)
        return cases.filter(id__in=bare.values("case_id"))
    return _appeal_and_qa_cases(key, f, cases)


def _appeal_and_qa_cases(key: str, f: Filters, cases):
    if key == "qa_pass_rate":
        return cases.filter(id__in=_audits(f).exclude(final_outcome__in=qa.PASSING).values("sample__case_id"))
    if key == "documentation_quality":
        target = targets()["documentation_quality"] or KPIS[key].default_target
        below = (float(target) - 1) / 4 * 100  # the target on the rubric's 0–100 scale
        return cases.filter(id__in=_audits(f).filter(score__lt=below).values("sample__case_id"))
    if key == "rework_rate":
        return cases.filter(id__in=_reworked(_decisions(f)).values("case_id"))
    if key == "false_negatives":
        return cases.filter(Q(id__in=qa.audits_missing_violation(_audits(f)).values("sample__case_id"))
                            | Q(id__in=_notifier_found_violation(f).filter(outcome=AppealOutcome.OVERTURNED)
                                .values("decision_case_id")))
    if key == "appeal_rate":
        return cases.filter(id__in=_appeals_filed(f).values("decision_case_id"))
    if key == "appeal_overturn_rate":
        return cases.filter(id__in=_appeals_decided(f).filter(outcome=AppealOutcome.OVERTURNED).values("decision_case_id"))
    if key == "calibration_variance":
        return cases.filter(id__in={r["case"] for r in _alignment(f) if r["differed"]})
    return cases.none()


def case_rows(qs):
    for c in qs.order_by("id").values_list("id", "queue__name", "priority", "status", "opened_at", "resolved_at",
                                          "resolved_by__username", "category__name").iterator(chunk_size=2000):
        yield [c[0], c[1], f"P{c[2]}", c[3], c[4].isoformat() if c[4] else "", c[5].isoformat() if c[5] else "",
               c[6] or "", c[7]]
