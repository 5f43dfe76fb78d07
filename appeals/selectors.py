"""Reads for appeals: the appeal panel of the case page, the list (API), what the platform and
support may see of a subject's appeals, and the figures insights draws (appeal rate, overturn rate
by policy, action type and original decider, time to decide).

Public reads (`public_appeal`) build dicts from named columns: no rationale, reviewer, decider,
notes or evidence can reach the platform or a support agent through them.
"""

from datetime import timedelta

from django.db.models import Aggregate, Avg, Count, DurationField, Exists, F, OuterRef, Q
from django.utils import timezone

from cases.models import Case, CaseKind, CaseStatus, Evidence
from cases.selectors.workspace import case_events, case_evidence, evidence_revealed_ids, unshown_columns
from enforcement import selectors as enforcement_selectors
from enforcement.models import ActionStatus, EnforcementAction
from tsconsole.reusable import ReusableQuery
from tsconsole.roles import can

from .models import Appeal, AppealStatus, AppellantKind, Channel, Outcome
from .services import lead_reasons, reviewer_refusal

LIST_PAGE_SIZE = 50
EARLIER_APPEALS = 10
ORIGINAL_EVENTS = 20
PUBLIC_COLUMNS = ["id", "decision_ref", "appellant_kind", "status", "outcome", "filed_at", "decided_at",
                  "window_closes_at", "response", "case__resolution_due_at", "subject_id"]


def appeal_queryset():
    """Appeals with what the API shows of them. Each joined table costs PostgreSQL planning time
    on every request (ten of them took 11 ms to plan, an empty list included), so only the ones the
    answer reads are joined, and only the columns it reads."""
    return Appeal.objects.select_related(
        "case__queue", "policy", "decided_by", "original_decider", "original_approver",
    ).only(
        *[f.name for f in Appeal._meta.concrete_fields],
        "case__queue__slug", "case__resolution_due_at", "case__status", "policy__slug",
        "decided_by__username", "original_decider__username", "original_approver__username",
    )


def appeal_get(appeal_id: int) -> Appeal | None:
    return appeal_queryset().filter(pk=appeal_id).first()


def appeal_list(qs, *, after_id: int | None = None, limit: int = LIST_PAGE_SIZE) -> tuple[list, int | None]:
    """A page of a filtered appeal queryset, newest first, keyset-paginated on id."""
    qs = qs.order_by("-id")
    if after_id:
        qs = qs.filter(id__lt=after_id)
    rows = list(qs[: limit + 1])
    page = rows[:limit]
    return page, (page[-1].pk if len(rows) > limit and page else None)


# --------------------------------------------------------------------------- what outsiders may see


def _public(row: dict) -> dict:
    return {
        "id": row["id"],
        "decision": str(row["decision_ref"]),
        "appellant_kind": row["appellant_kind"],
        "status": row["status"],
        "outcome": row["outcome"] or None,
        "filed_at": row["filed_at"],
        "due_at": row["case__resolution_due_at"] if row["status"] == AppealStatus.OPEN else None,
        "decided_at": row["decided_at"],
    }


def subject_appeals(subject, now=None) -> list[dict]:
    """Appeals against decisions on a subject (the subject status API): status, outcome, dates."""
    rows = Appeal.objects.filter(subject_id=subject.pk).order_by("-filed_at", "-id").values(*PUBLIC_COLUMNS)[:20]
    return [_public(row) for row in rows]


def lookup_appeals(results: list[dict] | None) -> dict:
    """For the support lookup: the appeals about the subjects found (and content their accounts
    wrote), with the outcome statement sent to the appellant; and the decisions still appealable."""
    if not results:
        return {"appeals": [], "appealable": []}
    decisions = {}
    for subject in results:
        for outcome in subject["outcomes"]:
            if outcome["appealable"] and outcome.get("decision"):
                decisions.setdefault(outcome["decision"], {
                    "decision": outcome["decision"], "label": f"{outcome['action']} on {outcome['target']}",
                    "date": outcome["date"], "until": outcome["appeal_until"],
                    "account": subject["external_id"] if subject["kind"] == "account" else "",
                })
    refs = {o["decision"] for s in results for o in s["outcomes"] if o.get("decision")}
    rows = (
        Appeal.objects.filter(decision_ref__in=refs).order_by("-filed_at", "-id")
        .values(*PUBLIC_COLUMNS, "channel", "appellant_ref")[:50]
    )
    appeals = []
    for row in rows:
        item = _public(row)
        item.update({"window_closes_at": row["window_closes_at"], "response": row["response"],
                     "channel": row["channel"], "channel_label": dict(Channel.choices).get(row["channel"], row["channel"]),
                     "appellant": row["appellant_ref"] if
                     row["appellant_kind"] == AppellantKind.SUBJECT else "a notifier"})
        appeals.append(item)
    return {"appeals": appeals, "appealable": list(decisions.values())}


# --------------------------------------------------------------------------- the case page


_POLICY_TEXTS = ("policy__guidance", "policy__rule_text", "policy__ladder")


_DECISION = ReusableQuery(
    "appeal_decision_actions",
    lambda ref: EnforcementAction.objects.filter(decision_ref=ref)
    .select_related("target", "policy", "policy_version", "proposer")
    .defer(*_POLICY_TEXTS, "policy_version__guidance", "policy_version__rule_text", "policy_version__ladder",
           *unshown_columns(proposer="user"))
    .order_by("id"))


def _decision(ref) -> list[EnforcementAction]:
    """A decision's actions as the appeal panel shows them: target, policy and version, proposer
    (the other people and the policies' long texts are not joined or loaded)."""
    return _DECISION(ref=ref)


_CASE_APPEAL = ReusableQuery(
    "case_appeal",
    lambda case_id: Appeal.objects.filter(case_id=case_id)
    .select_related("policy", "decided_by", "original_approver", "filed_by")
    .defer(*_POLICY_TEXTS, *unshown_columns(decided_by="user", original_approver="user", filed_by="user"))
    # whether there are earlier appeals and evidence on the decided case: most appeals have neither,
    # and an index probe here costs less than a query that finds nothing
    .annotate(has_earlier=Exists(Appeal.objects.filter(subject_id=OuterRef("subject_id")).exclude(pk=OuterRef("pk"))),
              decision_has_evidence=Exists(Evidence.objects.filter(case_id=OuterRef("decision_case_id"))))
    .order_by()[:1])  # one appeal per appeal case: no ORDER BY over the wide join


def _case_appeal(case) -> Appeal | None:
    """The appeal an appeal case is about, with the people and the policy its panel names."""
    found = _CASE_APPEAL(case_id=case.pk)
    return found[0] if found else None


_EARLIER = ReusableQuery(
    "appeals_earlier",
    lambda subject_id, appeal_id: Appeal.objects.filter(subject_id=subject_id).exclude(pk=appeal_id)
    .select_related("decided_by").only("id", "case", "filed_at", "outcome", "decided_by", "decided_by__username")
    .order_by("-filed_at")[:EARLIER_APPEALS])
_SENSITIVITY = ReusableQuery(
    "appeal_decision_case_sensitivity",
    lambda case_id: Case.objects.filter(pk=case_id).select_related("category").only("id", "category__sensitive")
    .order_by()[:1])
_AGAINST = ReusableQuery(
    "appeals_against_case",
    lambda case_id: Appeal.objects.filter(decision_case_id=case_id).select_related("case")
    .only("id", "case", "appellant_kind", "filed_at", "outcome", "case__status").order_by("-filed_at")[:20])


def appeal_panel(user, case) -> dict:
    """The appeal side by side with the decision it contests (on an appeal case), or the appeals
    against this case's decisions (on a report case)."""
    if case.kind != CaseKind.APPEAL:
        return {"appeal": None, "against": _AGAINST(case_id=case.pk)}
    appeal = _case_appeal(case)
    if appeal is None:
        return {"appeal": None, "against": []}
    if appeal.subject_id == case.subject_id:
        appeal.subject = case.subject  # the appeal case is about the appeal's subject, loaded with its author
    original = _decision(appeal.decision_ref)
    new = _decision(appeal.new_decision_ref) if appeal.new_decision_ref else []
    earlier = _EARLIER(subject_id=appeal.subject_id, appeal_id=appeal.pk) if appeal.has_earlier else []
    refusal = reviewer_refusal(appeal, user)
    needs_lead = lead_reasons(appeal, appeal.subject)
    if not refusal and needs_lead and not can(user, "approval.decide"):
        refusal = f"This appeal needs a lead ({', '.join(needs_lead)})."
    holds = case.assignee_id == user.pk or can(user, "case.reassign")
    decidable = appeal.is_open and case.status in (CaseStatus.IN_REVIEW, CaseStatus.ESCALATED) and holds
    first = original[0] if original else None
    decision_case = appeal.decision_case_id
    original_events = case_events(decision_case, limit=ORIGINAL_EVENTS)
    original_evidence = case_evidence(decision_case) if appeal.decision_has_evidence else []
    # Sensitive images show as the reviewer chose (Preferences) and, until they reveal them on the
    # original case (a timeline event there), only as the low-detail derivative.
    revealed = set()
    if original_evidence:
        original_case = _SENSITIVITY(case_id=decision_case)[0]
        for item in original_evidence:
            item.case = original_case  # needs_reveal reads the case's category
        revealed = evidence_revealed_ids(user, original_case, original_evidence)
    return {
        "original_events": original_events,
        "original_evidence": original_evidence,
        "original_revealed": revealed,
        "appeal": appeal,
        "original": original,
        "first": first,
        "new_actions": new,
        "earlier": earlier,
        "needs_lead": needs_lead,
        "refusal": refusal if appeal.is_open else "",
        "may_decide": decidable and not refusal,
        "wants_actions_on_overturn": appeal.appellant_kind == AppellantKind.NOTIFIER,
        "policies": list(enforcement_selectors.policies_active()) if decidable and not refusal else [],
        "show_internal": can(user, "case.view"),
    }


# --------------------------------------------------------------------------- figures (insights draws them)


def appeal_rate(*, since, until=None) -> dict:
    """Decisions that took effect in [since, until) and how many of them were appealed."""
    until = until or timezone.now()
    decided = (
        EnforcementAction.objects.filter(applied_at__gte=since, applied_at__lt=until,
                                         status__in=(ActionStatus.ACTIVE, ActionStatus.EXPIRED, ActionStatus.REVERSED))
        .values("decision_ref").distinct().count()
    )
    appealed = Appeal.objects.filter(decision_applied_at__gte=since, decision_applied_at__lt=until) \
        .values("decision_ref").distinct().count()
    return {"decisions": decided, "appealed": appealed, "rate": (appealed / decided) if decided else None}


def overturn_rates(*, since, until=None, by: str = "policy") -> list[dict]:
    """Decided appeals in [since, until) grouped by policy, action type or original decider, with
    how many were overturned or modified."""
    column = {"policy": "policy__slug", "action_type": "action_type", "decider": "original_decider__username"}[by]
    until = until or timezone.now()
    rows = (
        Appeal.objects.filter(status=AppealStatus.DECIDED, decided_at__gte=since, decided_at__lt=until)
        .values(key=F(column))
        .annotate(decided=Count("id"), overturned=Count("id", filter=Q(outcome=Outcome.OVERTURNED)),
                  modified=Count("id", filter=Q(outcome=Outcome.MODIFIED)))
        .order_by("key")
    )
    return [{**row, "overturn_rate": row["overturned"] / row["decided"]} for row in rows]


# Outcomes that found the contested decision wrong: it was reversed, and replaced when modified.
OVERTURNING = (Outcome.OVERTURNED, Outcome.MODIFIED)


def overturned_decisions(*, since, until):
    """The refs of decisions overturned (or modified) on an appeal decided in [since, until): a
    queryset of `decision_ref` values, read by the appeal_decided_at index. QA's sampler embeds it
    in its one INSERT … SELECT for the "overturned on appeal" rule."""
    return (
        Appeal.objects.filter(status=AppealStatus.DECIDED, outcome__in=OVERTURNING, decided_at__gte=since,
                              decided_at__lt=until)
        .values("decision_ref")
    )


def decision_overturned_by(decision_ref) -> Appeal | None:
    """The appeal that overturned or modified this decision, if one did (the newest)."""
    return (
        Appeal.objects.filter(decision_ref=decision_ref, status=AppealStatus.DECIDED, outcome__in=OVERTURNING)
        .order_by("-decided_at", "-id").first()
    )


def time_to_decide(*, since, until=None) -> timedelta | None:
    """Mean time from filing to decision of the appeals decided in [since, until)."""
    until = until or timezone.now()
    return (
        Appeal.objects.filter(status=AppealStatus.DECIDED, decided_at__gte=since, decided_at__lt=until)
        .aggregate(mean=Avg(F("decided_at") - F("filed_at")))["mean"]
    )


def appeals_filed(*, since, until):
    """Appeals filed in [since, until): complaints received (Art. 24(1)(a)) and the appeal rate."""
    return Appeal.objects.filter(filed_at__gte=since, filed_at__lt=until)


def appeals_decided(*, since, until):
    """Appeals decided in [since, until) (the appeal_decided_at index): decisions taken on
    complaints, overturn rate, notifiers' appeals that found a violation."""
    return Appeal.objects.filter(status=AppealStatus.DECIDED, decided_at__gte=since, decided_at__lt=until)


def overturned_decision_refs():
    """The decisions (refs) an appeal has overturned, whenever: a subquery for `decision_ref__in`."""
    return Appeal.objects.filter(status=AppealStatus.DECIDED, outcome=Outcome.OVERTURNED).values("decision_ref")


class _Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def median_time_to_decide(qs) -> timedelta | None:
    """The median time from filing to decision over a queryset of decided appeals."""
    return qs.aggregate(median=_Median(F("decided_at") - F("filed_at")))["median"]
