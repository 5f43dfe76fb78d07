"""The KPIs a Trust & Safety team is judged by, each against a target a lead can set.

A KPI computes its value from the rollups or the source tables for the page's filters, and names
the cases behind its number (`cases_behind`): the misses, the reversals, the gaps, so a lead can
open the list and act. Defaults are the common benchmarks where one exists (SLA first touch ≥ 95 %,
closure ≥ 90 %, macro use ≥ 95 %, Sev1/2 acknowledged within the hour); throughput targets depend
on the team, so they start unset.

Not here yet, because their data lives in modules this build does not include: QA pass rate,
calibration variance, documentation quality, rework, false negatives found by QA or appeals, and
the appeal overturn rate.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, DurationField, Exists, F, OuterRef, Q, Sum, Value
from django.urls import reverse

from cases.models import Case, CaseStatus, Escalation, EscalationSeverity, SubjectSignal
from enforcement.models import ActionStatus, EnforcementAction

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
    Kpi("false_positives", "False positives (actions reversed)", "%", False, None,
        "Restrictions applied in the period that a lead has since reversed as incorrect.", "Cases with a reversed action"),
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
        subject=OuterRef("target"))
    accounts = _applied(f).filter(target__kind="account")
    with_links = accounts.filter(Exists(linked))
    gaps = accounts.filter(Exists(linked.filter(~Exists(actioned))))
    return with_links, gaps


def compute(f: Filters) -> list[dict]:
    """Every KPI's value for the filters, with its target, status and the link to its cases."""
    days = max((f.period.end - f.period.start).total_seconds() / 86400, 1 / 24)
    hours = _hours(f).aggregate(opened=Sum("opened"), resolved=Sum("resolved"), ft=Sum("first_touch_total"),
                                ftm=Sum("first_touch_met"), rt=Sum("resolution_total"), rtm=Sum("resolution_met"))
    hours = {k: v or 0 for k, v in hours.items()}
    weighted = _analyst_hours(f).aggregate(points=Sum(F("resolved") * F("queue__complexity_weight")))["points"] or 0
    applied = _applied(f).aggregate(n=Count("id"), reversed=Count("id", filter=Q(status=ActionStatus.REVERSED)))
    decided = _restrictions(f).filter(created_at__gte=f.period.start, created_at__lt=f.period.end).aggregate(
        n=Count("id"), macro=Count("id", filter=Q(macro__isnull=False)))
    with_links, gaps = _repeat_offender_sets(f)
    accounts = {"linked": with_links.values("target").distinct().count(),
                "gap": gaps.values("target").distinct().count()}
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
    }
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
        return cases.filter(id__in=_applied(f).filter(status=ActionStatus.REVERSED).values("case_id"))
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
    return cases.none()


def case_rows(qs):
    for c in qs.order_by("id").values_list("id", "queue__name", "priority", "status", "opened_at", "resolved_at",
                                          "resolved_by__username", "category__name").iterator(chunk_size=2000):
        yield [c[0], c[1], f"P{c[2]}", c[3], c[4].isoformat() if c[4] else "", c[5].isoformat() if c[5] else "",
               c[6] or "", c[7]]
