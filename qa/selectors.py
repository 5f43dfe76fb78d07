"""QA reads. Blinding lives here, on the server: `blinded_case` builds the case as the analyst saw it
when deciding — reports, subject, history, linked accounts, evidence and notes from before the
decision — from the rows themselves, and never reads the decision (its actions, rationale,
statement, the case's resolution) or who made it (note authors, evidence capturers, assignee).
`revealed` is the only reader of the original decision, and views call it only for a reviewed
sample. The sample list and a single sample carry the rule that drew a sample to a reviewer only
once they have reviewed it, and the list never carries the analyst to a reviewer (`_rule_shown`,
`SampleRow`): what a page, the API or an export receives is already blinded.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case as SqlCase
from django.db.models import Count, F, Min, OuterRef, Q, Subquery, When
from django.utils import timezone

from cases.models import Case, Evidence, Note, Report, Subject
from cases.selectors.workspace import AUTHORED_CONTENT_LIMIT, linked_accounts, subject_signals
from enforcement.models import EnforcementAction
from tsconsole.filters import BIGINT_MAX
from tsconsole.reusable import ReusableQuery
from tsconsole.roles import can

from .models import (
    Audit,
    CalibrationAnswer,
    CalibrationCase,
    CalibrationParticipant,
    CalibrationSession,
    Correction,
    Dispute,
    Feedback,
    FeedbackStatus,
    Outcome,
    Rubric,
    Sample,
    SampleStatus,
    SamplingRule,
)
from .services import original_decision, rubric_criteria_for_category

PAGE_SIZE = 50
BLIND_REPORTS = 25
BLIND_HISTORY = 20


# --------------------------------------------------------------------------- samples


def samples_for(user):
    """Samples the user may open: their own as reviewer; every sample for leads."""
    qs = Sample.objects.select_related("case__category", "case__queue", "reviewer")
    if can(user, "qa.manage"):
        return qs
    if can(user, "qa.review"):
        return qs.filter(reviewer=user)
    return qs.none()


def _rule_shown(lead: bool):
    """The name of the rule that drew a sample, as its reader may see it. The rule hints at the
    decision ("terminations…"), so a reviewer gets it only for a reviewed sample, and it is read
    only then (a subquery per reviewed row, not a join): NULL otherwise. A lead always gets it."""
    if lead:
        return F("rule__name")
    rule_name = SamplingRule.objects.filter(pk=OuterRef("rule_id")).order_by().values("name")[:1]
    return SqlCase(When(status=SampleStatus.REVIEWED, then=Subquery(rule_name)))


# The sample's own columns the QA pages read (the blinded page, its reveal, heartbeat and evidence).
_SAMPLE_PAGE_COLUMNS = ("id", "decision_ref", "case", "analyst", "approver", "reviewer", "decided_at", "status", "due_at")


def sample_for(user, sample_id: int) -> Sample | None:
    """The sample with its case, if the user may open it, with what the sample list shows of it:
    `rule_name`, its rule as the user may see it (see _rule_shown; the rule itself is not loaded),
    and `reviewer_name`."""
    return samples_for(user).annotate(rule_name=_rule_shown(can(user, "qa.manage")),
                                      reviewer_name=F("reviewer__username")).filter(pk=sample_id).first()


def sample_page_for(user, sample_id: int) -> Sample | None:
    """The sample for its pages (blinded, reveal, heartbeat, evidence), if the user may open it: its
    own columns and when its decision was proposed (`decision_at`, see decision_time), in one
    statement. Not its case: the blinded page reads what it shows of that in `blinded_case` (joined
    here too, the case's five relations cost PostgreSQL more to plan than a second statement)."""
    first_action = EnforcementAction.objects.filter(decision_ref=OuterRef("decision_ref")).order_by("created_at")
    return (
        samples_for(user).select_related(None).only(*_SAMPLE_PAGE_COLUMNS)
        .annotate(decision_at=Subquery(first_action.values("created_at")[:1]))
        .filter(pk=sample_id).order_by().first()
    )


# The due lists show the sample, its case's id and category, and the due date (the qa_sample_due index).
_samples_due = ReusableQuery("qa_samples_due", lambda limit, reviewer_id: (
    Sample.objects.filter(reviewer_id=reviewer_id, status=SampleStatus.DUE).select_related("case__category")
    .only("id", "case", "status", "due_at", "case__category", "case__category__name")
    .order_by("due_at", "id")[:limit]))


def samples_due(user, *, limit: int = PAGE_SIZE) -> list[Sample]:
    """The reviewer's due samples, soonest due first."""
    return _samples_due(limit, reviewer_id=user.pk)


def home_panel(user, *, now=None) -> dict:
    now = now or timezone.now()
    due = Sample.objects.filter(reviewer=user, status=SampleStatus.DUE)
    data = due.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)), next_due=Min("due_at"))
    data["samples"] = samples_due(user, limit=5)
    if can(user, "qa.manage"):
        data["unassigned"] = Sample.objects.filter(status=SampleStatus.DUE, reviewer__isnull=True).count()
        data["open_disputes"] = Dispute.objects.filter(ruling="").count()
    return data


@dataclass(frozen=True, slots=True)
class SampleRow:
    """A sample as the sample list gives it to its reader: already blinded. `rule_name` is None
    while the rule is withheld (a reviewer's sample not yet reviewed; a sample always has a rule),
    `analyst_name` is None for everyone but a lead, `reviewer_name` None while unassigned."""

    pk: int
    case_id: int
    status: str
    due_at: datetime
    created_at: datetime
    reviewer_name: str | None
    rule_name: str | None
    analyst_name: str | None = None


_LIST_FILTERS = {"status": "status", "analyst": "analyst__username", "policy": "action__policy__slug",
                 "queue": "case__queue__slug", "before_id": "pk__lt"}
_LIST_COLUMNS = ("id", "case_id", "status", "due_at", "created_at", "reviewer__username")


def _sample_page(lead: bool, present: tuple, limit: int, **values):
    # The list shows ids, rule, people, status and due date: read only those, as plain values (50 rows
    # of seven joined models were most of the QA queue's time at a million samples). A reviewer's
    # statement reads no analyst and, for a sample not yet reviewed, no rule (_rule_shown).
    shown = {"rule_name": _rule_shown(lead), **({"analyst_name": F("analyst__username")} if lead else {})}
    qs = Sample.objects.all() if lead else Sample.objects.filter(reviewer_id=values["reviewer_id"])
    qs = qs.filter(**{_LIST_FILTERS[name]: values[name] for name in present}).annotate(**shown)
    return qs.order_by("-id").values_list(*_LIST_COLUMNS, *shown)[:limit + 1]


# One statement per combination of filters in use, compiled once (the queue is every reviewer's home).
_sample_pages = ReusableQuery("qa_sample_page", _sample_page)


def sample_list(user, *, status: str = "", analyst: str = "", policy: str = "", queue: str = "",
                before_id: int | None = None, limit: int = PAGE_SIZE) -> dict:
    """A keyset page of samples (newest first) as `SampleRow`s, filtered; leads see all, with the
    analyst and the rule; reviewers their own, with the rule once reviewed and no analyst (nor a
    filter by analyst, which would tell it as well)."""
    if not can(user, "qa.review"):
        return {"samples": [], "next_before": None}
    lead = can(user, "qa.manage")
    if before_id is not None and before_id > BIGINT_MAX:
        before_id = None  # every sample is before it
    given = {"status": status, "analyst": analyst if lead else "", "policy": policy, "queue": queue,
             "before_id": before_id}
    values = {name: value for name, value in given.items() if value}
    present = tuple(sorted(values))
    if not lead:
        values["reviewer_id"] = user.pk
    rows = [SampleRow(*row) for row in _sample_pages(lead, present, limit, **values)]
    return {"samples": rows[:limit], "next_before": rows[limit - 1].pk if len(rows) > limit else None}


def overview(*, weeks: int = 8, now=None) -> dict:
    """The lead's QA overview: audits by analyst, policy and queue, and a weekly trend."""
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    audits = Audit.objects.filter(created_at__gte=since)
    def grouped(field):
        return list(
            audits.values(label=F(field)).annotate(
                audits=Count("id"), agree=Count("id", filter=Q(final_outcome=Outcome.AGREE)),
                minor=Count("id", filter=Q(final_outcome=Outcome.MINOR)),
                major=Count("id", filter=Q(final_outcome=Outcome.MAJOR)),
                critical=Count("id", filter=Q(final_outcome=Outcome.CRITICAL)),
            ).order_by("label")
        )
    from django.db.models.functions import TruncWeek

    trend = list(
        audits.annotate(week=TruncWeek("created_at")).values("week").annotate(
            audits=Count("id"), agree=Count("id", filter=Q(final_outcome=Outcome.AGREE))).order_by("week")
    )
    for rows in (trend,):
        for row in rows:
            row["rate"] = round(100 * row["agree"] / row["audits"], 1) if row["audits"] else None
    by = {name: grouped(field) for name, field in (
        ("analyst", "sample__analyst__username"), ("policy", "original_policy__name"), ("queue", "sample__case__queue__name"))}
    for rows in by.values():
        for row in rows:
            row["rate"] = round(100 * row["agree"] / row["audits"], 1) if row["audits"] else None
    return {"by": by, "trend": trend, "weeks": weeks, **samples_due_counts(now=now)}


def samples_due_counts(*, now=None) -> dict:
    """Every due sample: how many, how many overdue, how many nobody has been assigned."""
    now = now or timezone.now()
    return Sample.objects.filter(status=SampleStatus.DUE).aggregate(
        due=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)), unassigned=Count("id", filter=Q(reviewer__isnull=True)))


# --------------------------------------------------------------------------- the blinded case


def decision_time(sample: Sample):
    """When the analyst decided: the decision's proposal, before any approval (read with the sample
    by sample_page_for), else the sample's decision time."""
    at = sample.decision_at if hasattr(sample, "decision_at") else (
        EnforcementAction.objects.filter(decision_ref=sample.decision_ref).aggregate(t=Min("created_at"))["t"])
    return at or sample.decided_at


# What the blinded page shows of the case (never its resolution, assignee or who resolved it) and
# of the rows it joins: its subject and the subject's author, category and group, queue.
_BLIND_CASE_JOINS = ("subject", "subject__author", "category", "category__parent", "queue")
_BLIND_CASE_COLUMNS = (
    "id", "priority", "opened_at", *_BLIND_CASE_JOINS,
    *(f"{account}__{column}" for account in ("subject", "subject__author") for column in (
        "kind", "external_id", "handle", "follower_count", "verified", "account_type", "platform_created_at",
        "content_type", "text", "url", "author")),
    *(f"{category}__{column}" for category in ("category", "category__parent") for column in (
        "name", "parent", "sensitive")),
    "queue__name", "queue__slug",
)

# What the blinded page shows of a report (not who sent it).
_BLIND_REPORT_COLUMNS = ("id", "case", "source", "category", "category__name", "trusted_flagger", "description",
                         "classifier_label", "classifier_score", "explanation", "received_at")


# The blinded page's reads of the case, compiled once per process (tsconsole.reusable): compiling
# them cost the ORM several times what PostgreSQL takes to run them, on every page.
_blind_case_row = ReusableQuery("qa_blind_case", lambda case_id: (
    Case.objects.select_related(*_BLIND_CASE_JOINS).only(*_BLIND_CASE_COLUMNS).filter(pk=case_id).order_by()[:1]))
_blind_reports = ReusableQuery("qa_blind_reports", lambda case_id, cutoff: (
    Report.objects.filter(case_id=case_id, received_at__lte=cutoff).select_related("category")
    .only(*_BLIND_REPORT_COLUMNS).order_by("-received_at", "-id")[:BLIND_REPORTS]))
_blind_notes = ReusableQuery("qa_blind_notes", lambda case_id, cutoff: (
    Note.objects.filter(case_id=case_id, created_at__lte=cutoff).order_by("created_at", "id")
    .values_list("body", "created_at")))
_blind_evidence = ReusableQuery("qa_blind_evidence", lambda case_id, cutoff: (
    Evidence.objects.filter(case_id=case_id, captured_at__lte=cutoff).order_by("captured_at", "id")
    .only("id", "kind", "original_name", "text_extract", "description", "content_type", "size", "sha256",
          "sensitive", "captured_at", "preview")))


def _history_rows(subject_ids: list[int], case_id: int, cutoff) -> list[tuple]:
    if len(subject_ids) == 1:
        return _blind_history_rows("one", subject_id=subject_ids[0], case_id=case_id, cutoff=cutoff)
    return _blind_history_rows("many", subject_ids=subject_ids, case_id=case_id, cutoff=cutoff)


# One subject: its newest cases straight from the (subject, opened_at) index; several: `= ANY`.
_blind_history_rows = ReusableQuery("qa_blind_history", lambda shape, case_id, cutoff, subject_id=None, subject_ids=None: (
    Case.objects.filter(**({"subject_id__any": subject_ids} if shape == "many" else {"subject_id": subject_id}),
                        opened_at__lte=cutoff).exclude(pk=case_id)
    .order_by("-opened_at", "-id").values_list(
        "id", "opened_at", "category__name", "resolution", "resolved_at",
        "subject__kind", "subject__external_id", "subject__handle", "subject__content_type")[:BLIND_HISTORY]))


def _history_subject_ids(subject) -> list[int]:
    """The subjects whose earlier cases the blinded page lists: an account and the content it wrote
    (its newest, capped), or a content item and its author. Looked up first (not a subquery of the
    history's statement): for a subject with many cases PostgreSQL then reads the newest few from the
    (subject, opened_at) index instead of every case of the subject, then sorting them."""
    if subject.kind == subject.Kind.ACCOUNT:
        return [subject.pk, *subject.authored_content.order_by("-pk").values_list("pk", flat=True)[:AUTHORED_CONTENT_LIMIT]]
    return [subject.pk, subject.author_id] if subject.author_id else [subject.pk]


def _blind_history(subject, *, case_id: int, cutoff) -> list[dict]:
    """The newest earlier cases about the subject (see _history_subject_ids) opened by the cut-off,
    with their outcome as it stood then; plain values (twenty rows of three models cost more to
    build than to read)."""
    resolutions = dict(Case.Resolution.choices)
    rows = _history_rows(_history_subject_ids(subject), case_id, cutoff)
    return [
        {"id": pk, "opened_at": opened_at, "category": category,
         "subject": str(Subject(kind=kind, external_id=external_id, handle=handle, content_type=content_type)),
         "outcome": resolutions.get(resolution, resolution) if resolved_at and resolved_at <= cutoff else "open then"}
        for pk, opened_at, category, resolution, resolved_at, kind, external_id, handle, content_type in rows
    ]


def blinded_case(sample: Sample) -> dict:
    """The case as the analyst saw it when deciding, without the decision or who made it."""
    found = _blind_case_row(case_id=sample.case_id)
    if not found:
        raise Case.DoesNotExist(f"Case {sample.case_id} of sample {sample.pk} does not exist.")
    case = found[0]
    cutoff = decision_time(sample)
    subject = case.subject
    reports = _blind_reports(case_id=case.pk, cutoff=cutoff)
    # counted only when there may be more than the page shows
    report_total = Report.objects.filter(case_id=case.pk, received_at__lte=cutoff).count() \
        if len(reports) == BLIND_REPORTS else len(reports)
    notes = [{"body": body, "created_at": created_at} for body, created_at in _blind_notes(case_id=case.pk, cutoff=cutoff)]
    evidence = _blind_evidence(case_id=case.pk, cutoff=cutoff)
    history = _blind_history(subject, case_id=case.pk, cutoff=cutoff)
    signals = subject_signals(subject)
    linked = []
    for link in linked_accounts(subject, signals=signals):
        before = [c for c in link["cases"] if c.opened_at <= cutoff and c.pk != case.pk]
        linked.append({
            "account": link["account"], "shared_kinds": link["shared_kinds"], "cases": len(before),
            "actioned": sum(1 for c in before if c.resolution == Case.Resolution.ACTIONED and c.resolved_at and c.resolved_at <= cutoff),
        })
    return {
        "case_id": case.pk, "category": case.category, "queue": case.queue, "priority": case.get_priority_display(),
        "opened_at": case.opened_at, "decided_at": cutoff, "subject": subject, "signals": signals,
        "reports": reports, "report_total": report_total, "notes": notes, "evidence": evidence,
        "sensitive": case.category.sensitive, "history": history, "linked": linked,
    }


def blinded_evidence(sample: Sample, evidence_id: int) -> Evidence | None:
    """Evidence of the sample's case from before the decision (what the blinded page may show)."""
    return Evidence.objects.filter(pk=evidence_id, case_id=sample.case_id, captured_at__lte=decision_time(sample)).first()


def decision_choices() -> dict:
    """What a reviewer's (or participant's) decision is chosen from: the active policies (their slug
    and name, as plain values) and the action types."""
    from enforcement.models import ActionType
    from enforcement.selectors import policies_active

    return {
        "policies": list(policies_active().select_related(None).values("slug", "name")),
        "action_types": [(v, label) for v, label in ActionType.choices if v != ActionType.NO_VIOLATION],
    }


def review_form_data(sample: Sample, category=None) -> dict:
    """What the reviewer's form offers: policies, action types and the rubric's criteria to score.

    The rubric is the default one unless the *category's* policy has its own: choosing it by the
    decision's policy would hint at the decision."""
    if category is None:  # (the blinded page passes the category it has read already)
        category = Case.objects.select_related("category").only("category__id", "category__parent").get(
            pk=sample.case_id).category
    return {**decision_choices(), "criteria": rubric_criteria_for_category(category)}


def revealed(sample: Sample) -> dict:
    """The reviewed sample: the original decision beside the reviewer's, with the agreement."""
    audit = Audit.objects.select_related("policy", "original_policy", "rubric", "reviewer").get(sample=sample)
    original = original_decision(sample)
    criteria = list(audit.rubric.criteria.all())
    feedback = Feedback.objects.filter(audit=audit).select_related("dispute").first()
    return {
        "audit": audit, "original": original,
        "scores": [{"criterion": c, "score": audit.scores.get(c.key)} for c in criteria],
        "feedback": feedback, "dispute": getattr(feedback, "dispute", None) if feedback else None,
        "correction": getattr(audit, "correction", None) if hasattr(audit, "correction") else None,
    }


# --------------------------------------------------------------------------- feedback and disputes


def feedback_inbox(user, *, limit: int = PAGE_SIZE) -> dict:
    items = list(
        Feedback.objects.filter(analyst=user).select_related("audit__sample__case", "audit__original_policy", "audit__policy")
        .order_by("-created_at", "-id")[:limit]
    )
    disputes = {d.feedback_id: d for d in Dispute.objects.filter(feedback__in=items)}
    for item in items:
        item.dispute_row = disputes.get(item.pk)
    return {"items": items, "new": sum(1 for i in items if i.status == FeedbackStatus.NEW)}


def disputes_open(*, limit: int = PAGE_SIZE) -> list[Dispute]:
    return list(
        Dispute.objects.filter(ruling="").select_related(
            "feedback__analyst", "feedback__audit__sample__case", "feedback__audit__reviewer",
            "feedback__audit__policy", "feedback__audit__original_policy")
        .order_by("created_at", "id")[:limit]
    )


def disputes_recent(*, limit: int = 20) -> list[Dispute]:
    return list(
        Dispute.objects.exclude(ruling="").select_related("feedback__analyst", "feedback__audit__sample", "arbiter")
        .order_by("-ruled_at", "-id")[:limit]
    )


# --------------------------------------------------------------------------- CSV


AUDIT_CSV_COLUMNS = [
    "audit_id", "sample_id", "case_id", "decision", "rule", "analyst", "reviewer", "decided_at", "audited_at",
    "original_policy", "original_actions", "reviewer_policy", "reviewer_actions", "policy_match", "actions_match",
    "score", "critical_miss", "outcome", "final_outcome", "feedback_status",
]


def audit_rows(*, since=None, until=None, batch: int = 2000):
    """Audit results as CSV rows, streamed by keyset so a large export never sits in memory."""
    qs = Audit.objects.select_related(
        "sample__rule", "sample__analyst", "reviewer", "original_policy", "policy", "feedback_item")
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last).order_by("pk")[:batch])
        for a in chunk:
            fb = getattr(a, "feedback_item", None) if hasattr(a, "feedback_item") else None
            yield [
                a.pk, a.sample_id, a.sample.case_id, str(a.sample.decision_ref), a.sample.rule.name,
                a.sample.analyst.get_username(), a.reviewer.get_username(), a.sample.decided_at.isoformat(),
                a.created_at.isoformat(), a.original_policy.slug, "+".join(a.original_action_types),
                a.policy.slug if a.policy else "", "+".join(a.action_types), a.policy_match, a.actions_match,
                a.score, a.critical_miss, a.outcome, a.final_outcome, fb.status if fb else "",
            ]
        if len(chunk) < batch:
            return
        last = chunk[-1].pk


# --------------------------------------------------------------------------- calibration


def calibrations_for(user, *, limit: int = PAGE_SIZE) -> list[CalibrationSession]:
    """Sessions the user runs (leads see all) or takes part in, newest first."""
    qs = CalibrationSession.objects.select_related("created_by")
    if not can(user, "qa.manage"):
        qs = qs.filter(participants__user=user)
    return list(qs.annotate(cases=Count("items", distinct=True), people=Count("participants", distinct=True))
                .order_by("-created_at", "-id")[:limit])


def calibration_for(user, session_id: int) -> CalibrationSession | None:
    qs = CalibrationSession.objects.select_related("created_by")
    if not can(user, "qa.manage"):
        qs = qs.filter(participants__user=user)
    return qs.filter(pk=session_id).first()


def calibration_page(user, session: CalibrationSession) -> dict:
    """A participant's view: each case blind (as in an audit) with their answer if given; the
    lead's view adds who has answered; once closed, the results."""
    items = list(CalibrationCase.objects.filter(session=session).select_related("case__category").order_by("position"))
    mine = {a.item_id: a for a in CalibrationAnswer.objects.filter(item__session=session, user=user)}
    participants = list(CalibrationParticipant.objects.filter(session=session).select_related("user").order_by("user__username"))
    answered = Counter(CalibrationAnswer.objects.filter(item__session=session).values_list("user_id", flat=True))
    is_participant = any(p.user_id == user.pk for p in participants)
    return {
        "session": session, "items": [{"item": i, "answer": mine.get(i.pk)} for i in items],
        "participants": [{"user": p.user, "answered": answered.get(p.user_id, 0)} for p in participants],
        "is_participant": is_participant, "total": len(items),
        "done": len(mine),
    }


def calibration_case_blind(session: CalibrationSession, case_id: int) -> dict | None:
    """A calibration case, blinded as for an audit (as it stood when it was decided)."""
    item = CalibrationCase.objects.filter(session=session, case_id=case_id).first()
    if item is None:
        return None
    action = EnforcementAction.objects.filter(case_id=case_id).order_by("created_at", "id").first()
    pseudo = Sample(case_id=case_id, decision_ref=action.decision_ref if action else None,
                    decided_at=action.created_at if action else timezone.now())
    return blinded_case(pseudo)


def calibration_history(user, *, limit: int = 20) -> list[dict]:
    """A person's closed sessions and their agreement in each."""
    sessions = list(CalibrationSession.objects.filter(participants__user=user, status=CalibrationSession.Status.CLOSED)
                    .order_by("-closed_at")[:limit])
    return [{"session": s, "agreement": (s.results or {}).get("participants", {}).get(user.get_username(), {}).get("agreement")}
            for s in sessions]


def rubrics_current() -> list[Rubric]:
    """The newest rubric per policy (and the default, policy empty)."""
    return list(
        Rubric.objects.select_related("policy", "created_by").prefetch_related("criteria")
        .order_by("policy_id", "-version").distinct("policy_id")
    )


def rubrics_page() -> dict:
    """The rubrics page: the default rubric, each policy's own, and the active policies that
    use the default (a lead may give them their own)."""
    from enforcement.models import Policy

    current = rubrics_current()
    own = {r.policy_id for r in current if r.policy_id}
    return {
        "default": next((r for r in current if r.policy_id is None), None),
        "own": sorted((r for r in current if r.policy_id), key=lambda r: r.policy.name),
        "without": list(Policy.objects.filter(is_active=True).exclude(pk__in=own).order_by("name")),
    }


def rubric_edit_data(policy) -> dict:
    """What the rubric form starts from: the policy's current rubric, else (its first version)
    the default one's criteria."""
    from .services import rubric_current

    own = (Rubric.objects.filter(policy=policy) if policy else Rubric.objects.filter(policy__isnull=True)) \
        .prefetch_related("criteria").order_by("-version").first()
    start = own or rubric_current(None)
    return {"rubric": own, "start": start, "criteria": list(start.criteria.all()) if start else []}



# --------------------------------------------------------------------------- figures (insights draws them)

PASSING = (Outcome.AGREE, Outcome.MINOR)
NO_VIOLATION = ["no_violation"]


def audits_between(*, since, until):
    """Audits recorded in [since, until). `final_outcome` (after any dispute ruling) is the verdict;
    agree or minor passes. `score` is the rubric's weighted 0–100 (1..5 mapped onto 0..100)."""
    return Audit.objects.filter(created_at__gte=since, created_at__lt=until)


def audits_missing_violation(qs):
    """Audits where the original decided no violation and the reviewer found one."""
    return qs.filter(original_action_types=NO_VIOLATION).exclude(action_types=NO_VIOLATION)


def corrected_decision_refs():
    """The decisions (refs) a lead corrected after QA: a subquery for `decision_ref__in`."""
    return Correction.objects.values("audit__sample__decision_ref")


def calibration_alignment(*, since, until) -> list[dict]:
    """Per case of the calibration sessions closed in [since, until): how many answers were
    compared with the reference (the golden answer, else the single modal answer) and how many
    differed, read from the results computed when each session closed."""
    sessions = CalibrationSession.objects.filter(status=CalibrationSession.Status.CLOSED, closed_at__gte=since,
                                                 closed_at__lt=until).order_by("closed_at", "id")
    out = []
    for session_id, results in sessions.values_list("id", "results"):
        for case in (results or {}).get("cases", []):
            reference = case.get("golden") or case.get("consensus")
            if not reference:
                continue
            answers = sum(case["spread"].values())
            out.append({"session": session_id, "case": case["case"], "policy": case["policy"], "compared": answers,
                        "differed": answers - case["spread"].get(reference, 0)})
    return out


def calibration_agreement_by_person(*, since, until) -> dict[str, dict]:
    """Per participant (username) over the sessions closed in [since, until): answers compared with
    the reference and how many agreed, from each session's stored results."""
    out: dict[str, dict] = {}
    sessions = CalibrationSession.objects.filter(status=CalibrationSession.Status.CLOSED, closed_at__gte=since,
                                                 closed_at__lt=until)
    for results in sessions.values_list("results", flat=True):
        for name, row in ((results or {}).get("participants") or {}).items():
            if not row.get("compared"):
                continue
            mine = out.setdefault(name, {"compared": 0, "agreed": 0})
            mine["compared"] += row["compared"]
            mine["agreed"] += round(row["compared"] * row["agreement"])
    return out
