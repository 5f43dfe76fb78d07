"""The dashboards' reads: queue health and team figures.

History comes from the hourly rollups (a handful of rows per hour, whatever the case count); the
"now" figures (backlog, ages, at risk, breached, due soon) come from open cases through the indexes
the SLA sweep and the queue lists already use. Each table is {"columns", "rows"} so the page, the
CSV export and the tests read the same structure.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from appeals import selectors as appeals
from appeals.models import Outcome as AppealOutcome
from cases.models import Case, CaseStatus, Escalation, Priority, Queue
from enforcement.models import ActionType, EnforcementAction
from qa import selectors as qa
from tsconsole.shared import shared_for

from . import dsa
from .filters import Filters
from .models import AnalystHour, QueueHour, StateHour

OPEN_STATES = [CaseStatus.OPEN, CaseStatus.IN_REVIEW, CaseStatus.ON_HOLD, CaseStatus.ESCALATED,
               CaseStatus.AWAITING_APPROVAL]
AGE_BUCKETS = [("< 1 h", 0, 1), ("1–4 h", 1, 4), ("4–24 h", 4, 24), ("1–3 d", 24, 72), ("3–7 d", 72, 168),
               ("> 7 d", 168, None)]
FORECAST_HOURS = 6
STATE_LABELS = dict(CaseStatus.choices)


def _queues(f: Filters) -> list[Queue]:
    ids = f.queue_ids()
    qs = Queue.objects.filter(is_active=True) if ids is None else Queue.objects.filter(id__in=ids)
    return list(qs.order_by("position", "name"))


def _pct(num, den):
    return None if not den else round(100.0 * num / den, 1)


# ------------------------------------------------------------------------------------ queue health


# The open-case figures of queue health are shared by every lead for this long (0: count afresh):
# one aggregate over the whole open backlog, tens of milliseconds at tens of thousands of open cases.
OPEN_FIGURES_CACHE_SECONDS = 10


def _open_case_figures(ids: list[int], now) -> dict:
    """Per queue: backlog, unassigned, breached, at risk, due within 1…FORECAST_HOURS hours and the
    age buckets of its open cases, in one pass over them."""
    age_filters = {}
    for i, (_label, low, high) in enumerate(AGE_BUCKETS):
        cond = Q(opened_at__lte=now - timedelta(hours=low))
        if high is not None:
            cond &= Q(opened_at__gt=now - timedelta(hours=high))
        age_filters[f"age{i}"] = Count("id", filter=cond)
    breached = Q(resolution_due_at__lte=now) | Q(first_touched_at__isnull=True, first_touch_due_at__lte=now)
    at_risk = ~breached & (
        Q(sla_resolution_at_risk_for=F("resolution_due_at"))
        | Q(first_touched_at__isnull=True, sla_first_touch_at_risk_for=F("first_touch_due_at")))
    open_cases = Case.objects.filter(queue_id__in=ids, status__in=OPEN_STATES)
    return {r["queue_id"]: r for r in open_cases.values("queue_id").annotate(
        backlog=Count("id"),
        unassigned=Count("id", filter=Q(status=CaseStatus.OPEN)),
        breached=Count("id", filter=breached), at_risk=Count("id", filter=at_risk),
        **{f"due{h}": Count("id", filter=Q(resolution_due_at__gt=now, resolution_due_at__lte=now + timedelta(hours=h)))
           for h in range(1, FORECAST_HOURS + 1)},
        **age_filters,
    ).order_by()}


def queue_health(f: Filters, *, now=None) -> dict:
    """Queue health now and over the filter's period. Without `now` (the live page) the open-case
    figures may come from the shared cache, counted up to OPEN_FIGURES_CACHE_SECONDS ago; `now` in
    the result says when they were counted."""
    queues = _queues(f)
    ids = [q.pk for q in queues]
    names = {q.pk: q.name for q in queues}
    if now is None:
        def count():
            counted_at = timezone.now()
            return counted_at, _open_case_figures(ids, counted_at)

        now, per_queue = shared_for("insights:open-figures:" + ",".join(map(str, ids)), OPEN_FIGURES_CACHE_SECONDS, count)
    else:
        per_queue = _open_case_figures(ids, now)

    # the current rate: resolutions per hour over the last 24 hours
    day_ago = now - timedelta(hours=24)
    rate = {r["queue_id"]: (r["n"] or 0) / 24.0 for r in QueueHour.objects.filter(
        queue_id__in=ids, hour__gte=day_ago.replace(minute=0, second=0, microsecond=0)).values("queue_id").annotate(
        n=Sum("resolved")).order_by()}

    backlog_rows, age_rows, forecast_rows = [], [], []
    totals = {"backlog": 0, "breached": 0, "at_risk": 0}
    forecast_total = [0] * FORECAST_HOURS
    age_total = [0] * len(AGE_BUCKETS)
    for q in queues:
        r = per_queue.get(q.pk, {})
        backlog_rows.append([q.name, r.get("backlog", 0), r.get("unassigned", 0), r.get("at_risk", 0), r.get("breached", 0)])
        ages = [r.get(f"age{i}", 0) for i in range(len(AGE_BUCKETS))]
        age_rows.append([q.name, *ages])
        per_hour = rate.get(q.pk, 0.0)
        # breaches ahead: cases falling due within h hours beyond what the current rate clears
        forecast = [max(0, r.get(f"due{h}", 0) - int(per_hour * h)) for h in range(1, FORECAST_HOURS + 1)]
        forecast_rows.append([q.name, round(per_hour, 1), *forecast])
        for key in totals:
            totals[key] += r.get(key, 0)
        forecast_total = [a + b for a, b in zip(forecast_total, forecast, strict=False)]
        age_total = [a + b for a, b in zip(age_total, ages, strict=False)]

    return {
        "now": now,
        "totals": totals,
        "backlog": {"columns": ["Queue", "Backlog", "Unassigned", "At risk", "Breached"], "rows": backlog_rows},
        "ages": {"columns": ["Queue", *[b[0] for b in AGE_BUCKETS]], "rows": age_rows},
        "age_total": list(zip([b[0] for b in AGE_BUCKETS], age_total, strict=False)),
        "forecast": {"columns": ["Queue", "Resolved / h (24 h)", *[f"+{h} h" for h in range(1, FORECAST_HOURS + 1)]],
                     "rows": forecast_rows},
        "forecast_total": [(f"+{h} h", n) for h, n in zip(range(1, FORECAST_HOURS + 1), forecast_total, strict=False)],
        "flow": flow(f, ids),
        "sla": sla_attainment(f, ids, names),
    }


def flow(f: Filters, queue_ids: list[int]) -> dict:
    """Inflow and outflow per hour (periods up to three days) or per day."""
    hourly = f.period.end - f.period.start <= timedelta(days=3)
    trunc = TruncHour("hour") if hourly else TruncDay("hour")
    rows = (QueueHour.objects.filter(queue_id__in=queue_ids, hour__gte=f.period.start, hour__lt=f.period.end)
            .annotate(slot=trunc).values("slot").annotate(opened=Sum("opened"), resolved=Sum("resolved"))
            .order_by("slot"))
    by_slot = {r["slot"]: (r["opened"], r["resolved"]) for r in rows}
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    slot = f.period.start.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        slot = slot.replace(hour=0)
    out = []
    while slot < f.period.end:
        opened, resolved = by_slot.get(slot, (0, 0))
        out.append([slot.strftime("%Y-%m-%d %H:00" if hourly else "%Y-%m-%d"), opened, resolved, opened - resolved])
        slot += step
    return {"columns": ["Hour" if hourly else "Day", "Inflow", "Outflow", "Net"], "rows": out, "hourly": hourly}


def sla_attainment(f: Filters, queue_ids: list[int], names: dict) -> dict:
    rows = (QueueHour.objects.filter(queue_id__in=queue_ids, hour__gte=f.period.start, hour__lt=f.period.end)
            .values("queue_id", "priority").annotate(ft=Sum("first_touch_total"), ftm=Sum("first_touch_met"),
                                                     rt=Sum("resolution_total"), rtm=Sum("resolution_met"))
            .order_by("queue_id", "priority"))
    out = []
    order = list(names)
    for r in sorted(rows, key=lambda r: (order.index(r["queue_id"]), r["priority"])):
        out.append([names[r["queue_id"]], f"P{r['priority']}", r["ft"], _pct(r["ftm"], r["ft"]), r["rt"],
                    _pct(r["rtm"], r["rt"])])
    return {"columns": ["Queue", "Priority", "First touches", "First touch met %", "Resolutions", "Closure met %"],
            "rows": out}


# ------------------------------------------------------------------------------------ team


def team(f: Filters, *, user=None) -> dict:
    """Team figures; with `user`, only that person's (an analyst's own page)."""
    ids = f.queue_ids()
    members = [user.pk] if user is not None else f.member_ids()
    hours = AnalystHour.objects.filter(hour__gte=f.period.start, hour__lt=f.period.end)
    states = StateHour.objects.filter(hour__gte=f.period.start, hour__lt=f.period.end)
    actions = EnforcementAction.objects.filter(created_at__gte=f.period.start, created_at__lt=f.period.end)
    escalations = Escalation.objects.filter(created_at__gte=f.period.start, created_at__lt=f.period.end)
    if ids is not None:
        hours, states = hours.filter(queue_id__in=ids), states.filter(queue_id__in=ids)
        actions = actions.filter(case__queue_id__in=ids)
    if members is not None:
        hours, states = hours.filter(user_id__in=members), states.filter(user_id__in=members)
        actions = actions.filter(proposer_id__in=members)
        escalations = escalations.filter(created_by_id__in=members)
    if f.team is not None and user is None:
        escalations = escalations.filter(team=f.team)
    if f.policy is not None:
        actions = actions.filter(policy=f.policy)

    per_user = {r["user_id"]: r for r in hours.values("user_id").annotate(
        n=Sum("resolved"), points=Sum(F("resolved") * F("queue__complexity_weight"))).order_by()}
    review = {r["user_id"]: r for r in states.filter(state=CaseStatus.IN_REVIEW).values("user_id").annotate(
        seconds=Sum("seconds"), stints=Sum("stints")).order_by()}
    people = {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=set(per_user) | set(review))}
    analyst_rows = []
    for uid in sorted(people, key=lambda u: people[u]):
        r, rv = per_user.get(uid, {}), review.get(uid, {})
        resolved = r.get("n") or 0
        seconds = rv.get("seconds") or 0
        analyst_rows.append([
            people[uid], resolved, round(float(r.get("points") or 0), 1),
            round(seconds / 60 / resolved, 1) if resolved else None,
            round(seconds / 60 / rv["stints"], 1) if rv.get("stints") else None,
        ])
    total_resolved = sum(row[1] for row in analyst_rows)
    total_points = round(sum(row[2] for row in analyst_rows), 1)

    state_rows = []
    for r in states.values("state").annotate(seconds=Sum("seconds"), stints=Sum("stints")).order_by("state"):
        state_rows.append([STATE_LABELS.get(r["state"], r["state"]), r["stints"],
                           round(r["seconds"] / 60 / r["stints"], 1) if r["stints"] else None,
                           round(r["seconds"] / 3600, 1)])

    decision_rows = [
        [r["policy__name"], ActionType(r["action_type"]).label, r["n"]]
        for r in actions.exclude(status="rejected").values("policy__name", "action_type").annotate(n=Count("id"))
        .order_by("policy__name", "-n")
    ]
    esc_rows = []
    for r in escalations.values("severity").annotate(
            n=Count("id"), acked=Count("id", filter=Q(acknowledged_at__isnull=False)),
            on_time=Count("id", filter=Q(acknowledged_at__lte=F("ack_due_at"))),
            avg_ack=Avg(F("acknowledged_at") - F("created_at"))).order_by("severity"):
        avg = r["avg_ack"]
        esc_rows.append([r["severity"].upper(), r["n"], r["acked"], r["on_time"],
                         round(avg.total_seconds() / 60, 1) if avg is not None else None])
    return {
        "quality": appeals_and_qa(f, ids=ids, members=members),
        "totals": {"resolved": total_resolved, "points": total_points, "analysts": len(analyst_rows)},
        "analysts": {"columns": ["Analyst", "Resolved", "Weighted points", "Review min / resolved case",
                                 "Avg review stint (min)"], "rows": analyst_rows},
        "states": {"columns": ["State", "Stints ended", "Avg minutes", "Total hours"], "rows": state_rows},
        "decisions": {"columns": ["Policy", "Action", "Decisions"], "rows": decision_rows},
        "escalations": {"columns": ["Severity", "Raised", "Acknowledged", "Acknowledged on time",
                                    "Avg minutes to acknowledge"], "rows": esc_rows},
    }


def appeals_and_qa(f: Filters, *, ids: list[int] | None, members: list[int] | None) -> dict:
    """Per analyst (the decider): restrictions applied and appeals filed in the period (appeal rate),
    appeals decided and overturned (overturn rate), audits recorded with their mean rubric score (on
    1–5), agreement (final outcome agree) and pass rate (agree or minor); and agreement with the
    golden answer or consensus in calibration sessions closed in the period."""
    since, until = f.period.start, f.period.end
    restrictions = EnforcementAction.objects.filter(action_type__in=dsa.RESTRICTIONS, status__in=dsa.APPLIED_STATUSES,
                                                    applied_at__gte=since, applied_at__lt=until)
    filed = appeals.appeals_filed(since=since, until=until)
    decided = appeals.appeals_decided(since=since, until=until)
    audits = qa.audits_between(since=since, until=until)
    if ids is not None:
        restrictions = restrictions.filter(case__queue_id__in=ids)
        filed, decided = filed.filter(decision_case__queue_id__in=ids), decided.filter(decision_case__queue_id__in=ids)
        audits = audits.filter(sample__case__queue_id__in=ids)
    if members is not None:
        restrictions = restrictions.filter(proposer_id__in=members)
        filed = filed.filter(original_decider_id__in=members)
        decided = decided.filter(original_decider_id__in=members)
        audits = audits.filter(sample__analyst_id__in=members)
    if f.policy is not None:
        restrictions, filed, decided = (restrictions.filter(policy=f.policy), filed.filter(policy=f.policy),
                                        decided.filter(policy=f.policy))
        audits = audits.filter(original_policy=f.policy)
    figures: dict[int, dict] = {}

    def put(rows, user_key, **names):
        for r in rows:
            figures.setdefault(r[user_key], {}).update({k: r[v] for k, v in names.items()})

    put(restrictions.values("proposer_id").annotate(n=Count("id")).order_by(), "proposer_id", restrictions="n")
    put(filed.values("original_decider_id").annotate(n=Count("id")).order_by(), "original_decider_id", filed="n")
    put(decided.values("original_decider_id").annotate(
        n=Count("id"), o=Count("id", filter=Q(outcome=AppealOutcome.OVERTURNED))).order_by(),
        "original_decider_id", decided="n", overturned="o")
    put(audits.values("sample__analyst_id").annotate(
        n=Count("id"), score=Avg("score"), agree=Count("id", filter=Q(final_outcome=qa.Outcome.AGREE)),
        passed=Count("id", filter=Q(final_outcome__in=qa.PASSING))).order_by(),
        "sample__analyst_id", audits="n", score="score", agree="agree", passed="passed")
    calibration = qa.calibration_agreement_by_person(since=since, until=until)
    users = get_user_model().objects.filter(Q(pk__in=set(figures)) | Q(username__in=list(calibration)))
    if members is not None:
        users = users.filter(pk__in=members)
    people = {u.pk: u.get_username() for u in users}
    rows = []
    for uid in sorted(people, key=lambda u: people[u]):
        r = figures.get(uid, {})
        cal = calibration.get(people[uid], {"compared": 0, "agreed": 0})
        restricted, appealed = r.get("restrictions", 0), r.get("filed", 0)
        n_decided, overturned, n_audits = r.get("decided", 0), r.get("overturned", 0), r.get("audits", 0)
        score = r.get("score")
        rows.append([
            people[uid], restricted, appealed, _pct(appealed, restricted), n_decided, overturned,
            _pct(overturned, n_decided), n_audits, None if score is None else round(1 + 4 * score / 100, 2),
            _pct(r.get("agree", 0), n_audits), _pct(r.get("passed", 0), n_audits),
            _pct(cal["agreed"], cal["compared"]),
        ])
    return {"columns": ["Analyst", "Restrictions applied", "Appeals filed", "Appeal rate %", "Appeals decided",
                        "Overturned", "Overturn rate %", "QA audits", "QA score (of 5)", "QA agreement %",
                        "QA pass %", "Calibration agreement %"], "rows": rows}


PRIORITY_LABELS = dict(Priority.choices)
