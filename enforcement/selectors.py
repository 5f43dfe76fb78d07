"""Reads for enforcement: policies and ladders, strikes, the decision panel, approvals, the support
lookup and the subject status the platform asks for.

The support lookup and the subject status build plain dicts from an explicit list of columns, so
a template or serializer cannot reach rationale, notes, evidence, reporters, signals or names.
"""

import re

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from cases.models import Case, CaseStatus, Category, Subject
from tsconsole.reusable import ReusableQuery
from tsconsole.slots import facts_for

from .models import (
    ACCOUNT_ONLY,
    CONTENT_ONLY,
    ActionStatus,
    ActionType,
    EnforcementAction,
    Macro,
    Policy,
    PolicyVersion,
    Strike,
    duration_text,
    status_label,
)

# Statuses of a case in which a decision can be taken.
DECIDABLE = (CaseStatus.IN_REVIEW, CaseStatus.ESCALATED)
# Outcomes people outside the team may learn about (pending or rejected proposals are not outcomes).
OUTCOME_STATUSES = (ActionStatus.ACTIVE, ActionStatus.EXPIRED, ActionStatus.REVERSED)
# Strikes count only while their action stands.
COUNTING_STATUSES = (ActionStatus.ACTIVE, ActionStatus.EXPIRED)
APPROVALS_PAGE_SIZE = 25
LOOKUP_MAX_SUBJECTS = 10
MIN_APPEAL_WINDOW_MONTHS = 6
LOOKUP_MAX_OUTCOMES = 100
SUBJECT_STATUS_MAX_RESTRICTIONS = 100
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------- policies


def policies_active():
    return Policy.objects.filter(is_active=True).select_related("category").order_by("name")


_POLICIES_OF = ReusableQuery("policies_of_categories",
                             lambda ids: Policy.objects.filter(is_active=True, category_id__any=ids))


def policy_for_category(category: Category | None) -> Policy | None:
    """The active policy of the category, else of its parent group (one query)."""
    if category is None:
        return None
    ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    found = {p.category_id: p for p in _POLICIES_OF(ids=ids)}
    return found.get(category.pk) or found.get(category.parent_id)


def policy_current_version(policy: Policy) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(policy=policy, version=policy.version).first()


def macros_for(category: Category | None) -> list[Macro]:
    """Active macros: those for the case's category (or its group) first, then general ones."""
    ids = [c for c in ([category.pk, category.parent_id] if category else []) if c]
    macros = list(Macro.objects.filter(Q(category__isnull=True) | Q(category_id__in=ids), is_active=True))
    macros.sort(key=lambda m: (m.category_id is None, m.name))
    return macros


def placeholders(text: str) -> list[str]:
    """The distinct `{name}` placeholders of a text, in order of appearance."""
    seen = []
    for name in PLACEHOLDER.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def fill_placeholders(text: str, values: dict) -> str:
    """Replace each `{name}` that has a non-blank value; leave the others in place.

    A plain substitution, not str.format: a macro must not be able to reach attributes
    (`{x.__class__}`) and stray braces in it are just text.
    """
    def sub(match):
        value = values.get(match.group(1))
        return str(value) if value not in (None, "") else match.group(0)

    return PLACEHOLDER.sub(sub, text or "")


def statement_values(case: Case, policy: Policy | None) -> dict:
    """Placeholder values the console knows for a case, so macros fill them without typing."""
    subject = case.subject
    account = responsible_account(subject)
    values = {
        "subject": "account" if subject.kind == Subject.Kind.ACCOUNT else (subject.get_content_type_display().lower() or "content"),
        "handle": f"@{account.handle}" if account is not None and account.handle else "",
        "category": case.category.name,
    }
    if policy is not None:
        values["policy"] = policy.name
        values["rule"] = policy.rule_text
    return values


# Placeholders whose values exist only once the decision is taken: the preview leaves them in place
# and the service fills them (in a macro or in typed text) when it records the decision.
DECISION_TIME_PLACEHOLDERS = ("end_date", "appeal_deadline")


def decision_time_values(*, end, applied_at) -> dict:
    """{end_date} (when the decision has a timed action) and {appeal_deadline}, as users read them."""
    values = {}
    if end is not None:
        values["end_date"] = f"{end:%Y-%m-%d %H:%M} UTC"
    deadline = appeal_deadline(applied_at)
    if deadline is not None:
        values["appeal_deadline"] = f"{deadline:%Y-%m-%d}"
    return values


def actions_offered(subject: Subject, account: Subject | None) -> list[str]:
    """The action types that can act on a case about `subject` (account actions on content act on
    its author). The service refuses the others; the panel does not offer them."""
    offered = []
    for kind in ActionType.values:
        if kind in CONTENT_ONLY and subject.kind != Subject.Kind.CONTENT:
            continue
        if kind in ACCOUNT_ONLY and account is None:
            continue
        offered.append(kind)
    return offered


# --------------------------------------------------------------------------- strikes and ladders


def responsible_account(subject: Subject) -> Subject | None:
    """The account that answers for a subject: the account itself, or the content's author."""
    if subject.kind == Subject.Kind.ACCOUNT:
        return subject
    return subject.author if subject.author_id else None


def strikes_counting(account: Subject, *, policy: Policy | None = None, now=None):
    """Strikes on the account that count now: not expired, and their action not reversed."""
    now = now or timezone.now()
    qs = Strike.objects.filter(account=account, expires_at__gt=now, action__status__in=COUNTING_STATUSES)
    if policy is not None:
        qs = qs.filter(policy=policy)
    return qs


_STRIKES_BY_POLICY = ReusableQuery(
    "strikes_by_policy",
    lambda account_id, now: strikes_counting(account_id, now=now).values("policy__slug").annotate(n=Count("id"))
    .values_list("policy__slug", "n").order_by("policy__slug"))


def strike_summary(account: Subject | None, *, now=None) -> dict:
    """Counting strikes of an account, in total and per policy (one query)."""
    if account is None:
        return {"total": 0, "by_policy": {}}
    rows = _STRIKES_BY_POLICY(account_id=account.pk, now=now or timezone.now())
    by_policy = dict(rows)
    return {"total": sum(by_policy.values()), "by_policy": by_policy}


def ladder_suggestion(account: Subject | None, policy: Policy | None, *, now=None) -> dict | None:
    """What the policy's ladder prescribes for the account's next strike, or None without a ladder."""
    if account is None or policy is None or not policy.ladder:
        return None
    strikes = strikes_counting(account, policy=policy, now=now).count()
    step_index = min(strikes, len(policy.ladder) - 1)
    step = policy.ladder[step_index]
    return {
        "policy": policy.slug,
        "policy_version": policy.version,
        "strikes": strikes,
        "step": step_index + 1,
        "action": step["action"],
        "duration_hours": step.get("duration_hours"),
        "account": account.external_id,
    }


def suggestion_label(suggestion: dict | None) -> str:
    if not suggestion:
        return ""
    label = ActionType(suggestion["action"]).label
    hours = suggestion.get("duration_hours")
    return f"{label} for {duration_text(hours)}" if hours else label


# --------------------------------------------------------------------------- the two-person rule


def high_impact_reasons(subject: Subject) -> list[str]:
    """Why actions against this subject (or the account behind it) need a second person, if they do."""
    account = responsible_account(subject)
    if account is None:
        return []
    reasons = []
    threshold = settings.ENFORCEMENT_HIGH_IMPACT_FOLLOWERS
    if (account.follower_count or 0) > threshold:
        reasons.append(f"reach of {account.follower_count:,} followers is above {threshold:,}")
    if settings.ENFORCEMENT_HIGH_IMPACT_VERIFIED and account.verified:
        reasons.append("verified account")
    if account.account_type and account.account_type in settings.ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES:
        reasons.append(f"{account.get_account_type_display().lower()} account")
    return reasons


def appeal_deadline(applied_at):
    """The last moment an action applied at `applied_at` may be appealed."""
    if applied_at is None:
        return None
    # DSA Art. 20: at least six months, whatever a setting says (settings refuse less at start too)
    return applied_at + relativedelta(months=max(MIN_APPEAL_WINDOW_MONTHS, settings.APPEAL_WINDOW_MONTHS))


# --------------------------------------------------------------------------- the decision panel


_CASE_ACTIONS = ReusableQuery(
    "case_actions",
    lambda case_id: EnforcementAction.objects.filter(case_id=case_id).select_related("target")
    .only("id", "case", "target", "action_type", "status", "duration", "ends_at", "created_at",
          "target__kind", "target__external_id", "target__handle", "target__content_type")
    .order_by("created_at", "id"))


def case_actions(case: Case) -> list[EnforcementAction]:
    """The case's actions as the decision panel lists them: type, target, status, end (its target
    is the one relation it shows, so the others are not joined)."""
    return _CASE_ACTIONS(case_id=case.pk)


def may_decide(user, case: Case) -> bool:
    from tsconsole.roles import can

    return (
        can(user, "case.work") and case.status in DECIDABLE and case.kind == "report"
        and (case.assignee_id == user.pk or can(user, "case.reassign"))
    )


def case_panel(user, case: Case, *, now=None) -> dict:
    """What the decision panel shows on the case page, in a fixed number of queries."""
    now = now or timezone.now()
    subject = case.subject
    account = responsible_account(subject)
    policy = policy_for_category(case.category)
    decide = may_decide(user, case)
    suggestion = ladder_suggestion(account, policy, now=now) if decide else None
    return {
        "case": case,
        "actions": case_actions(case),
        "may_decide": decide,
        "account": account,
        "strikes": strike_summary(account, now=now),
        "policy": policy,
        "suggestion": suggestion,
        "suggestion_label": suggestion_label(suggestion),
        "high_impact": high_impact_reasons(subject),
        "macros": macros_for(case.category) if decide else [],
        "offered": actions_offered(subject, account),
        "subject_is_content": subject.kind == Subject.Kind.CONTENT,
        "account_actions": sorted(ACCOUNT_ONLY),
        "content_actions": sorted(CONTENT_ONLY),
    }


def case_panel_offered(case: Case) -> list[str]:
    """The action types the decision form offers for the case (see actions_offered)."""
    subject = Subject.objects.select_related("author").get(pk=case.subject_id)
    return actions_offered(subject, responsible_account(subject))


# --------------------------------------------------------------------------- approvals


def approvers_for(case: Case, *, proposer) -> list:
    """Who is asked to approve a decision on `case`: the queue's leads who may approve decisions,
    else everyone with the lead role; never the proposer."""
    from cases.services.sla import queue_leads
    from tsconsole.roles import LEAD, can, users_with_role

    leads = [u for u in queue_leads(case.queue_id) if u.pk != proposer.pk and can(u, "approval.decide")]
    return leads or [u for u in users_with_role(LEAD) if u.pk != proposer.pk]


def pending_approval_count() -> int:
    """Decisions waiting for a lead (walks the partial index on pending actions)."""
    return (
        EnforcementAction.objects.filter(status=ActionStatus.PENDING_APPROVAL)
        .values("decision_ref").distinct().count()
    )


def approvals_pending(*, after_id: int | None = None, limit: int = APPROVALS_PAGE_SIZE) -> dict:
    """Pending decisions, oldest first, keyset-paginated on each decision's first action id.

    Two queries: the page of decisions (over the small partial index of pending actions), then
    their actions.
    """
    pending = EnforcementAction.objects.filter(status=ActionStatus.PENDING_APPROVAL)
    heads = pending.values("decision_ref").annotate(first_id=Min("id")).order_by("first_id")
    if after_id:
        heads = heads.filter(first_id__gt=after_id)
    heads = list(heads[: limit + 1])
    page_refs = [h["decision_ref"] for h in heads[:limit]]
    actions = (
        pending.filter(decision_ref__in=page_refs)
        .select_related("case", "case__category__parent", "case__subject__author", "target", "policy", "proposer")
        .order_by("id")
    )
    decisions: dict = {ref: None for ref in page_refs}
    for action in actions:
        group = decisions.get(action.decision_ref)
        if group is None:
            group = decisions[action.decision_ref] = {
                "ref": action.decision_ref, "first_id": action.pk, "case": action.case, "policy": action.policy,
                "proposer": action.proposer, "created_at": action.created_at, "rationale": action.rationale,
                "statement": action.statement, "ladder_suggestion": action.ladder_suggestion,
                "suggestion_label": suggestion_label(action.ladder_suggestion),
                "departure_reason": action.departure_reason,
                "high_impact": high_impact_reasons(action.case.subject), "actions": [],
            }
        group["actions"].append(action)
    page = [group for group in decisions.values() if group is not None]
    return {"decisions": page, "next_after": page[-1]["first_id"] if len(heads) > limit and page else None}


def action_detail(action_id: int) -> EnforcementAction | None:
    return (
        EnforcementAction.objects.select_related(
            "case", "case__category", "target", "policy", "policy_version", "proposer", "reviewer", "reversed_by", "macro",
        ).filter(pk=action_id).first()
    )


def decision_actions(action: EnforcementAction) -> list[EnforcementAction]:
    return list(
        EnforcementAction.objects.filter(decision_ref=action.decision_ref).select_related("target").order_by("id")
    )


# --------------------------------------------------------------------------- support lookup


def _subject_match(query: str, kind: str = "") -> Q:
    text = query.strip()
    handle = text.lstrip("@")
    match = Q(external_id=text)
    if handle:
        match |= Q(kind=Subject.Kind.ACCOUNT, handle__in={handle, handle.lower()})
    if kind in (Subject.Kind.ACCOUNT, Subject.Kind.CONTENT):
        match &= Q(kind=kind)
    return match


def _outcome(row: dict, now) -> dict:
    """One outcome as support may see it: built from named columns only."""
    deadline = appeal_deadline(row["applied_at"])
    return {
        "action": ActionType(row["action_type"]).label,
        "action_type": row["action_type"],
        "target": row["target_label"],
        "date": row["applied_at"],
        "duration": duration_text(int(row["duration"].total_seconds() // 3600)) if row["duration"] else "",
        "ends_at": row["ends_at"],
        "status": row["status"],
        "status_label": status_label(row["action_type"], row["status"]),
        "reversed_at": row["reversed_at"],
        "statement": row["statement"],
        "rule": row["policy_version__rule_text"],
        "appealable": row["status"] != ActionStatus.REVERSED and deadline is not None and now < deadline,
        "appeal_until": deadline,
        "decision": str(row["decision_ref"]),
    }


_LOOKUP_COLUMNS = ("id", "decision_ref", "target_id", "target__kind", "target__external_id", "target__content_type",
                   "target__author_id", "action_type", "applied_at", "duration", "ends_at", "status", "reversed_at",
                   "statement", "policy_version__rule_text")


def support_lookup(query: str, *, kind: str = "", now=None) -> list[dict]:
    """Subjects matching an external id or handle, each with its enforcement outcomes (and, for an
    account, those on content it authored). Only outcome columns are read."""
    now = now or timezone.now()
    if not query or not query.strip():
        return []
    subjects = list(
        Subject.objects.filter(_subject_match(query, kind)).order_by("kind", "external_id")
        .values("id", "kind", "external_id", "handle", "content_type")[:LOOKUP_MAX_SUBJECTS]
    )
    if not subjects:
        return []
    ids = [s["id"] for s in subjects]
    account_ids = [s["id"] for s in subjects if s["kind"] == Subject.Kind.ACCOUNT]
    outcomes = EnforcementAction.objects.filter(status__in=OUTCOME_STATUSES).values(*_LOOKUP_COLUMNS)
    newest = ("-applied_at", "-id")
    # The newest outcomes of each subject, and of the content its accounts wrote, each read from the
    # (target, applied_at) index and stopped at the page size, then merged: as one statement over
    # all of them, an account with a million actions had every one read and sorted.
    parts = [outcomes.filter(target_id=subject_id).order_by(*newest)[:LOOKUP_MAX_OUTCOMES] for subject_id in ids]
    if account_ids:
        authored = Subject.objects.filter(author_id__in=account_ids).values("id")
        parts.append(outcomes.filter(target_id__in=authored).order_by(*newest)[:LOOKUP_MAX_OUTCOMES])
    rows = list(parts[0].union(*parts[1:], all=True).order_by(*newest)[:LOOKUP_MAX_OUTCOMES]) if len(parts) > 1 \
        else list(parts[0])
    by_subject: dict[int, list] = {s["id"]: [] for s in subjects}
    for row in rows:
        if row["target__kind"] == Subject.Kind.ACCOUNT:
            row["target_label"] = "the account"
        else:
            row["target_label"] = f"{row['target__content_type'] or 'content'} {row['target__external_id']}"
        owner = row["target_id"] if row["target_id"] in by_subject else row["target__author_id"]
        by_subject.setdefault(owner, []).append(_outcome(row, now))
    strikes = _strike_totals(account_ids, now)
    return [
        {
            "kind": s["kind"], "external_id": s["external_id"], "handle": s["handle"],
            "content_type": s["content_type"], "outcomes": by_subject.get(s["id"], []),
            "strikes": strikes.get(s["id"], 0) if s["kind"] == Subject.Kind.ACCOUNT else None,
        }
        for s in subjects
    ]


def _strike_totals(account_ids: list[int], now) -> dict[int, int]:
    if not account_ids:
        return {}
    rows = (
        Strike.objects.filter(account_id__in=account_ids, expires_at__gt=now, action__status__in=COUNTING_STATUSES)
        .values("account_id").annotate(n=Count("id"))
    )
    return {row["account_id"]: row["n"] for row in rows}


# --------------------------------------------------------------------------- subject status (API)


def subject_status(kind: str, external_id: str, *, now=None) -> dict | None:
    """Active restrictions on a subject and the counting strikes of the account answering for it."""
    now = now or timezone.now()
    subject = Subject.objects.filter(kind=kind, external_id=external_id).select_related("author").first()
    if subject is None:
        return None
    # Newest first and at most SUBJECT_STATUS_MAX_RESTRICTIONS of them (an account can carry thousands
    # of active actions), read from the (target, applied_at) index; `restrictions_truncated` tells.
    restrictions = list(
        EnforcementAction.objects.filter(target=subject, status=ActionStatus.ACTIVE)
        .exclude(action_type=ActionType.NO_VIOLATION)
        .order_by("-applied_at", "-id")
        .values("id", "action_type", "applied_at", "ends_at", "decision_ref", "policy__slug")[:SUBJECT_STATUS_MAX_RESTRICTIONS + 1]
    )
    account = responsible_account(subject)
    summary = strike_summary(account, now=now)
    return {
        # higher apps add what they know about the subject (appeals: their status, outcome and dates)
        **facts_for("subject_status", subject=subject, now=now),
        "kind": subject.kind,
        "external_id": subject.external_id,
        "restrictions": [
            {
                "action_id": r["id"], "type": r["action_type"], "policy": r["policy__slug"],
                "applied_at": r["applied_at"], "ends_at": r["ends_at"], "decision": str(r["decision_ref"]),
            }
            for r in restrictions[:SUBJECT_STATUS_MAX_RESTRICTIONS]
        ],
        "restrictions_truncated": len(restrictions) > SUBJECT_STATUS_MAX_RESTRICTIONS,
        "strikes": summary["total"],
        "strikes_by_policy": summary["by_policy"],
        "strike_account": account.external_id if account is not None else None,
        "as_of": now,
    }
