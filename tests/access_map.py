"""Who may open which URL. test_access.py walks every named URL of the console with every role,
and fails when a URL exists that this map does not mention, so a new page cannot ship unchecked.

Each entry: url name → how to build the path from the `world` fixture, the roles allowed, and
the method. Admin-site URLs are Django's own and are checked by Django's staff rule.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from tests.appeals import access_world as appeal_world
from tests.qa.access_world import REVIEW_BODY, REVIEW_FORM
from tsconsole.roles import ADMIN, ANALYST, INTEGRATION, LEAD, QA_REVIEWER, ROLES, SUPPORT_AGENT

EVERYONE = set(ROLES)
HUMANS = EVERYONE - {INTEGRATION}
CASE_WORKERS = {ANALYST, LEAD, ADMIN}
LEADS = {LEAD, ADMIN}


@dataclass
class UrlCheck:
    name: str
    path: Callable  # (world) -> str
    allowed: set
    method: str = "get"
    data: dict = field(default_factory=dict)
    api: bool = False
    public: bool = False  # answers without a session at all


def _routing_rule_id() -> int:
    from cases.models import RoutingRule

    return RoutingRule.objects.order_by("position", "id").values_list("id", flat=True).first()


def _flagger_id() -> int:
    from cases.models import TrustedFlagger

    return TrustedFlagger.objects.get_or_create(name="Walked flagger", defaults={"awarding_authority": "DSC"})[0].pk


def _export_job(status: str = "running") -> int:
    """An export job of the walker (the user created last): jobs are private to their owner."""
    import os

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from insights.exports import job_path
    from insights.models import ExportJob

    job = ExportJob.objects.create(user=get_user_model().objects.latest("id"), kind="statements", status=status,
                                   created_at=timezone.now())
    if status == "done":
        os.makedirs(settings.INSIGHTS_EXPORT_DIR, exist_ok=True)
        with open(job_path(job), "w") as handle:
            handle.write("puid\n")
    return job.pk


CHECKS: list[UrlCheck] = [
    UrlCheck("home", lambda w: reverse("home"), EVERYONE),
    UrlCheck("healthz", lambda w: reverse("healthz"), EVERYONE, public=True),
    UrlCheck("system-health", lambda w: reverse("system-health"), LEADS),
    UrlCheck("notifications", lambda w: reverse("notifications"), EVERYONE),
    UrlCheck("notifications-read", lambda w: reverse("notifications-read"), EVERYONE, method="post"),
    UrlCheck("preferences", lambda w: reverse("preferences"), EVERYONE),
    UrlCheck("preferences", lambda w: reverse("preferences"), EVERYONE, method="post",
             data={"preview_mode": "greyscale", "time_zone": "", "break_after_minutes": ""}),
    UrlCheck("wellness-break-dismiss", lambda w: reverse("wellness-break-dismiss"), EVERYONE, method="post"),
    UrlCheck("outbox-list", lambda w: reverse("outbox-list"), {ADMIN}),
    UrlCheck("outbox-detail", lambda w: reverse("outbox-detail", args=[w.outbox_message.pk]), {ADMIN}),
    UrlCheck("outbox-retry", lambda w: reverse("outbox-retry", args=[w.outbox_message.pk]), {ADMIN}, method="post"),
    UrlCheck("outbox-retry-dead", lambda w: reverse("outbox-retry-dead"), {ADMIN}, method="post"),
    UrlCheck("login", lambda w: reverse("login"), EVERYONE, public=True),
    UrlCheck("logout", lambda w: reverse("logout"), EVERYONE, method="post", public=True),
    UrlCheck("api-token", lambda w: reverse("api-token"), EVERYONE, method="post", api=True, public=True,
             data={"username": "nobody", "password": "wrong"}),
    UrlCheck("api-schema", lambda w: reverse("api-schema"), EVERYONE, api=True),
    UrlCheck("api-docs", lambda w: reverse("api-docs"), EVERYONE, api=True),
    UrlCheck("api-categories", lambda w: reverse("api-categories"), {INTEGRATION, ANALYST, LEAD, QA_REVIEWER, ADMIN}, api=True),
    # intake (tests/cases/test_intake_api.py, test_routing.py)
    UrlCheck("api-reports", lambda w: reverse("api-reports"), {INTEGRATION, ANALYST, LEAD, ADMIN}, method="post",
             api=True, data={"source": "user_report", "external_id": "walk-1", "category": "spam",
                             "subject": {"kind": "account", "external_id": "walked-account"}}),
    UrlCheck("api-routing-rules", lambda w: reverse("api-routing-rules"), {ADMIN}, api=True),
    UrlCheck("api-routing-rule-detail", lambda w: reverse("api-routing-rule-detail", args=[_routing_rule_id()]),
             {ADMIN}, api=True),
    UrlCheck("api-trusted-flaggers", lambda w: reverse("api-trusted-flaggers"), {ADMIN}, api=True),
    UrlCheck("api-trusted-flagger-detail", lambda w: reverse("api-trusted-flagger-detail", args=[_flagger_id()]),
             {ADMIN}, api=True),
    # analyst workspace (w.workspace: tests/cases/workspace_world.py)
    UrlCheck("queue-list", lambda w: reverse("queue-list"), CASE_WORKERS),
    UrlCheck("queue-claim-next", lambda w: reverse("queue-claim-next", args=[w.workspace.queue.slug]), CASE_WORKERS,
             method="post"),
    UrlCheck("case-list", lambda w: reverse("case-list"), CASE_WORKERS),
    UrlCheck("case-filter-save", lambda w: reverse("case-filter-save"), CASE_WORKERS, method="post",
             data={"name": "walked", "query": "status=open"}),
    UrlCheck("case-filter-delete", lambda w: reverse("case-filter-delete", args=[999_999]), CASE_WORKERS,
             method="post"),
    UrlCheck("case-detail", lambda w: reverse("case-detail", args=[w.case.pk]), CASE_WORKERS),
    UrlCheck("case-exposure", lambda w: reverse("case-exposure", args=[w.case.pk]), CASE_WORKERS, method="post"),
    UrlCheck("case-claim", lambda w: reverse("case-claim", args=[w.case.pk]), CASE_WORKERS, method="post"),
    UrlCheck("case-release", lambda w: reverse("case-release", args=[w.workspace.claimed().pk]), CASE_WORKERS,
             method="post"),
    UrlCheck("case-note-add", lambda w: reverse("case-note-add", args=[w.case.pk]), CASE_WORKERS, method="post",
             data={"body": "walked"}),
    UrlCheck("case-evidence-add", lambda w: reverse("case-evidence-add", args=[w.case.pk]), CASE_WORKERS,
             method="post", data={"text": "walked"}),
    UrlCheck("case-category", lambda w: reverse("case-category", args=[w.case.pk]), CASE_WORKERS, method="post",
             data={"category": "access-other-category", "reason": "walked"}),
    UrlCheck("case-priority", lambda w: reverse("case-priority", args=[w.case.pk]), CASE_WORKERS, method="post",
             data={"priority": "0", "reason": "walked"}),
    UrlCheck("case-tags", lambda w: reverse("case-tags", args=[w.case.pk]), CASE_WORKERS, method="post",
             data={"tags": "walked"}),
    UrlCheck("case-hold", lambda w: reverse("case-hold", args=[w.workspace.claimed().pk]), CASE_WORKERS,
             method="post", data={"helper": "user:access-helper", "reason": "walked"}),
    UrlCheck("case-resume", lambda w: reverse("case-resume", args=[w.workspace.held().pk]), CASE_WORKERS,
             method="post"),
    UrlCheck("case-handoff", lambda w: reverse("case-handoff", args=[w.workspace.claimed().pk]), CASE_WORKERS,
             method="post", data={"to": "access-helper"}),
    UrlCheck("case-resolve", lambda w: reverse("case-resolve", args=[w.workspace.claimed().pk]), CASE_WORKERS,
             method="post", data={"reason": "walked"}),
    UrlCheck("evidence-download", lambda w: reverse("evidence-download", args=[w.workspace.evidence.pk]),
             CASE_WORKERS),
    UrlCheck("evidence-preview", lambda w: reverse("evidence-preview", args=[w.workspace.image.pk]), CASE_WORKERS),
    UrlCheck("evidence-reveal", lambda w: reverse("evidence-reveal", args=[w.workspace.evidence.pk]), CASE_WORKERS,
             method="post"),
    UrlCheck("my-work", lambda w: reverse("my-work"), CASE_WORKERS),
    UrlCheck("case-search", lambda w: reverse("case-search"), CASE_WORKERS, data={"q": "1"}),
    UrlCheck("api-queues", lambda w: reverse("api-queues"), CASE_WORKERS, api=True),
    UrlCheck("api-queues", lambda w: reverse("api-queues"), LEADS, method="post", api=True,
             data={"slug": "walked-queue", "name": "Walked"}),
    UrlCheck("api-queue-detail", lambda w: reverse("api-queue-detail", args=[w.workspace.queue.slug]), CASE_WORKERS,
             api=True),
    UrlCheck("api-queue-claim", lambda w: reverse("api-queue-claim", args=[w.workspace.queue.slug]), CASE_WORKERS,
             method="post", api=True),
    UrlCheck("api-cases", lambda w: reverse("api-cases"), CASE_WORKERS, api=True),
    UrlCheck("api-case-detail", lambda w: reverse("api-case-detail", args=[w.case.pk]), CASE_WORKERS, api=True),
    UrlCheck("api-case-notes", lambda w: reverse("api-case-notes", args=[w.case.pk]), CASE_WORKERS, method="post",
             api=True, data={"body": "walked"}),
    UrlCheck("api-case-evidence", lambda w: reverse("api-case-evidence", args=[w.case.pk]), CASE_WORKERS,
             method="post", api=True, data={"text": "walked"}),
    UrlCheck("api-case-release", lambda w: reverse("api-case-release", args=[w.workspace.claimed().pk]),
             CASE_WORKERS, method="post", api=True),
    UrlCheck("api-case-hold", lambda w: reverse("api-case-hold", args=[w.workspace.claimed().pk]), CASE_WORKERS,
             method="post", api=True, data={"helper": "access-helper", "reason": "walked"}),
    UrlCheck("api-case-resume", lambda w: reverse("api-case-resume", args=[w.workspace.held().pk]), CASE_WORKERS,
             method="post", api=True),
    UrlCheck("api-case-handoff", lambda w: reverse("api-case-handoff", args=[w.workspace.claimed().pk]),
             CASE_WORKERS, method="post", api=True, data={"to": "access-helper"}),
    UrlCheck("api-case-resolve", lambda w: reverse("api-case-resolve", args=[w.workspace.claimed().pk]),
             CASE_WORKERS, method="post", api=True, data={"reason": "walked"}),
    # escalations: analysts see their own teams' escalations (the world's is sent to a team the
    # walker is not in, so only leads reach it); anyone who works cases may escalate one.
    UrlCheck("case-escalate", lambda w: reverse("case-escalate", args=[w.case.pk]), CASE_WORKERS),
    UrlCheck("escalations", lambda w: reverse("escalations"), CASE_WORKERS),
    UrlCheck("escalation-detail", lambda w: reverse("escalation-detail", args=[w.escalation.pk]), LEADS),
    UrlCheck("escalation-ack", lambda w: reverse("escalation-ack", args=[w.escalation.pk]), LEADS, method="post"),
    UrlCheck("escalation-findings", lambda w: reverse("escalation-findings", args=[w.escalation.pk]), LEADS,
             method="post", data={"findings": "Checked the device graph."}),
    UrlCheck("escalation-resolve", lambda w: reverse("escalation-resolve", args=[w.escalation.pk]), LEADS,
             method="post", data={"outcome": "return_to_review", "instructions": "Suspend the ring."}),
    UrlCheck("api-case-escalate", lambda w: reverse("api-case-escalate", args=[w.case.pk]), CASE_WORKERS,
             method="post", api=True, data={"severity": "sev3", "team": "leads", "summary": "Needs a lead"}),
    UrlCheck("api-escalations", lambda w: reverse("api-escalations"), CASE_WORKERS, api=True),
    UrlCheck("api-escalation-detail", lambda w: reverse("api-escalation-detail", args=[w.escalation.pk]), LEADS,
             api=True),
    UrlCheck("api-escalation-ack", lambda w: reverse("api-escalation-ack", args=[w.escalation.pk]), LEADS,
             method="post", api=True),
    UrlCheck("api-escalation-findings", lambda w: reverse("api-escalation-findings", args=[w.escalation.pk]),
             LEADS, method="post", api=True, data={"findings": "Checked the device graph."}),
    UrlCheck("api-escalation-resolve", lambda w: reverse("api-escalation-resolve", args=[w.escalation.pk]),
             LEADS, method="post", api=True, data={"outcome": "return_to_review", "instructions": "Suspend it."}),
    # enforcement (w.enforcement: tests/enforcement/access_world.py). Deciding takes a case the walker holds.
    UrlCheck("enforcement-decide", lambda w: reverse("enforcement-decide", args=[w.workspace.claimed().pk]),
             CASE_WORKERS),
    UrlCheck("enforcement-decide", lambda w: reverse("enforcement-decide", args=[w.workspace.claimed().pk]),
             CASE_WORKERS, method="post",
             data={"policy": "access-policy", "act_warn": "on", "rationale": "walked", "statement": "walked"}),
    UrlCheck("enforcement-macro-preview", lambda w: reverse("enforcement-macro-preview", args=[w.case.pk]),
             CASE_WORKERS, data={"macro": "removed-content"}),
    UrlCheck("enforcement-approvals", lambda w: reverse("enforcement-approvals"), LEADS),
    UrlCheck("enforcement-action", lambda w: reverse("enforcement-action", args=[w.enforcement.action.pk]),
             CASE_WORKERS),
    UrlCheck("enforcement-approve", lambda w: reverse("enforcement-approve", args=[w.enforcement.pending().pk]),
             LEADS, method="post"),
    UrlCheck("enforcement-reject", lambda w: reverse("enforcement-reject", args=[w.enforcement.pending().pk]),
             LEADS, method="post", data={"comment": "walked"}),
    UrlCheck("enforcement-reverse", lambda w: reverse("enforcement-reverse", args=[w.enforcement.active().pk]),
             LEADS, method="post", data={"reason": "walked"}),
    UrlCheck("support-lookup", lambda w: reverse("support-lookup"), {SUPPORT_AGENT, LEAD, ADMIN},
             data={"q": "walked"}),
    UrlCheck("api-case-decide", lambda w: reverse("api-case-decide", args=[w.workspace.claimed().pk]),
             CASE_WORKERS, method="post", api=True,
             data={"policy": "access-policy", "actions": [{"type": "warn"}], "rationale": "walked",
                   "statement": "walked"}),
    UrlCheck("api-action-approve", lambda w: reverse("api-action-approve", args=[w.enforcement.pending().pk]),
             LEADS, method="post", api=True),
    UrlCheck("api-action-reject", lambda w: reverse("api-action-reject", args=[w.enforcement.pending().pk]),
             LEADS, method="post", api=True, data={"comment": "walked"}),
    UrlCheck("api-action-reverse", lambda w: reverse("api-action-reverse", args=[w.enforcement.active().pk]),
             LEADS, method="post", api=True, data={"reason": "walked"}),
    UrlCheck("api-subject-status",
             lambda w: reverse("api-subject-status", args=["account", w.enforcement.action.target.external_id]),
             {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN}, api=True),
    # appeals (w.appeals: tests/appeals/access_world.py). Deciding takes an appeal the walker holds.
    UrlCheck("appeal-decide", lambda w: reverse("appeal-decide", args=[w.appeals.claimed().pk]), CASE_WORKERS,
             method="post", data={"outcome": "upheld", "rationale": "walked", "statement": "walked"}),
    UrlCheck("appeal-file-for-user", lambda w: reverse("appeal-file-for-user"), {SUPPORT_AGENT, LEAD, ADMIN},
             method="post", data=appeal_world.file_form()),
    UrlCheck("api-appeals", lambda w: reverse("api-appeals"), {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN},
             api=True),
    UrlCheck("api-appeals", lambda w: reverse("api-appeals"), {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN},
             method="post", api=True, data=appeal_world.file_body()),
    UrlCheck("api-appeal-detail", lambda w: reverse("api-appeal-detail", args=[w.appeals.appeal.pk]),
             {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN}, api=True),
    UrlCheck("api-appeal-decide", lambda w: reverse("api-appeal-decide", args=[w.appeals.claimed().pk]),
             CASE_WORKERS, method="post", api=True, data={"outcome": "upheld", "rationale": "walked",
                                                          "statement": "walked"}),
    # insights (tests/insights/): analysts see their own figures, leads everything
    UrlCheck("insights-home", lambda w: reverse("insights-home"), CASE_WORKERS),
    UrlCheck("insights-queues", lambda w: reverse("insights-queues"), LEADS),
    UrlCheck("insights-team", lambda w: reverse("insights-team"), CASE_WORKERS),
    UrlCheck("insights-kpis", lambda w: reverse("insights-kpis"), LEADS),
    UrlCheck("insights-kpi-target", lambda w: reverse("insights-kpi-target", args=["sla_first_touch"]), LEADS,
             method="post", data={"target": "95"}),
    UrlCheck("insights-kpi-cases", lambda w: reverse("insights-kpi-cases", args=["sla_resolution"]), LEADS),
    UrlCheck("insights-transparency", lambda w: reverse("insights-transparency"), LEADS),
    UrlCheck("insights-export", lambda w: reverse("insights-export", args=[_export_job()]), CASE_WORKERS),
    UrlCheck("insights-export-download", lambda w: reverse("insights-export-download", args=[_export_job("done")]),
             CASE_WORKERS),
    UrlCheck("api-dsa-statements", lambda w: reverse("api-dsa-statements"), {INTEGRATION, LEAD, ADMIN}, api=True),
    UrlCheck("api-transparency-report", lambda w: reverse("api-transparency-report"), LEADS, api=True),
]

# QA (w.qa: tests/qa/access_world.py)
QA_REVIEWERS = {QA_REVIEWER, LEAD, ADMIN}
PARTICIPANTS = {ANALYST, QA_REVIEWER, LEAD, ADMIN}
FEEDBACK = {ANALYST, LEAD, ADMIN}


# Bodies that name rows made when the path is built (the walk builds the path, then sends the body).
CALIBRATION_BODY = {"title": "walked", "cases": [], "participants": ["access-qa", "access-qa2"]}
ANSWER_BODY = {"case": 0, "decision": {"no_violation": True}}


def _qa_new_calibration(w):
    CALIBRATION_BODY["cases"] = [w.qa.resolved_case().pk]
    return reverse("api-qa-calibrations")


def _qa_session_case(w, name, **kwargs):
    session = w.qa.session()
    ANSWER_BODY["case"] = w.qa.case.pk
    return reverse(name, args=[session.pk, w.qa.case.pk]) if kwargs.get("with_case") else reverse(name, args=[session.pk])


def _qa_evidence(w, name):
    sample = w.qa.sample()
    return reverse(name, args=[sample.pk, w.qa.image(sample).pk])


CHECKS += [
    UrlCheck("qa-queue", lambda w: reverse("qa-queue"), QA_REVIEWERS),
    UrlCheck("qa-sample", lambda w: reverse("qa-sample", args=[w.qa.sample().pk]), QA_REVIEWERS),
    UrlCheck("qa-sample-review", lambda w: reverse("qa-sample-review", args=[w.qa.sample().pk]), QA_REVIEWERS,
             method="post", data=REVIEW_FORM),
    UrlCheck("qa-sample-assign", lambda w: reverse("qa-sample-assign", args=[w.qa.sample().pk]), LEADS, method="post",
             data={"reviewer": "access-qa"}),
    UrlCheck("qa-evidence", lambda w: _qa_evidence(w, "qa-evidence"), QA_REVIEWERS),
    UrlCheck("qa-sample-exposure", lambda w: reverse("qa-sample-exposure", args=[w.qa.sample().pk]), QA_REVIEWERS,
             method="post"),
    UrlCheck("qa-evidence-reveal", lambda w: _qa_evidence(w, "qa-evidence-reveal"), QA_REVIEWERS, method="post"),
    UrlCheck("qa-audit-correct", lambda w: reverse("qa-audit-correct", args=[w.qa.audit().pk]), LEADS, method="post",
             data={"verdict": "no_violation", "reason": "walked"}),
    UrlCheck("qa-audits-csv", lambda w: reverse("qa-audits-csv"), LEADS),
    UrlCheck("qa-overview", lambda w: reverse("qa-overview"), LEADS),
    UrlCheck("qa-rules", lambda w: reverse("qa-rules"), LEADS),
    UrlCheck("qa-rules", lambda w: reverse("qa-rules"), LEADS, method="post",
             data={"name": "walked", "kind": "high_impact"}),
    UrlCheck("qa-rubrics", lambda w: reverse("qa-rubrics"), LEADS),
    UrlCheck("qa-rubric-edit", lambda w: reverse("qa-rubric-edit"), LEADS),
    UrlCheck("qa-rubric-edit", lambda w: reverse("qa-rubric-edit"), LEADS, method="post",
             data={"rows": "1", "label_0": "Walked", "weight_0": "2", "pass_mark": "80"}),
    UrlCheck("qa-rule-toggle", lambda w: reverse("qa-rule-toggle", args=[w.qa.rule.pk]), LEADS, method="post",
             data={"active": "1"}),
    UrlCheck("qa-feedback", lambda w: reverse("qa-feedback"), FEEDBACK),
    UrlCheck("qa-feedback-acknowledge", lambda w: reverse("qa-feedback-acknowledge", args=[w.qa.feedback().pk]),
             FEEDBACK, method="post"),
    UrlCheck("qa-feedback-dispute", lambda w: reverse("qa-feedback-dispute", args=[w.qa.feedback().pk]), FEEDBACK,
             method="post", data={"reason": "walked"}),
    UrlCheck("qa-disputes", lambda w: reverse("qa-disputes"), LEADS),
    UrlCheck("qa-dispute-rule", lambda w: reverse("qa-dispute-rule", args=[w.qa.dispute().pk]), LEADS, method="post",
             data={"ruling": "upheld", "note": "walked"}),
    UrlCheck("qa-calibrations", lambda w: reverse("qa-calibrations"), PARTICIPANTS),
    UrlCheck("qa-calibration-new", lambda w: reverse("qa-calibration-new"), LEADS),
    UrlCheck("qa-calibration", lambda w: _qa_session_case(w, "qa-calibration"), PARTICIPANTS),
    UrlCheck("qa-calibration-case", lambda w: _qa_session_case(w, "qa-calibration-case", with_case=True), PARTICIPANTS),
    UrlCheck("qa-calibration-golden", lambda w: _qa_session_case(w, "qa-calibration-golden"), LEADS, method="post",
             data={"verdict": "no_violation", "rationale": "walked"}),
    UrlCheck("qa-calibration-close", lambda w: _qa_session_case(w, "qa-calibration-close"), LEADS, method="post"),
    UrlCheck("api-qa-samples", lambda w: reverse("api-qa-samples"), QA_REVIEWERS, api=True),
    UrlCheck("api-qa-sample", lambda w: reverse("api-qa-sample", args=[w.qa.sample().pk]), QA_REVIEWERS, api=True),
    UrlCheck("api-qa-sample-review", lambda w: reverse("api-qa-sample-review", args=[w.qa.sample().pk]), QA_REVIEWERS,
             method="post", api=True, data=REVIEW_BODY),
    UrlCheck("api-qa-sampling-rules", lambda w: reverse("api-qa-sampling-rules"), LEADS, api=True),
    UrlCheck("api-qa-sampling-rules", lambda w: reverse("api-qa-sampling-rules"), LEADS, method="post", api=True,
             data={"name": "walked api", "kind": "random", "rate": 0.1}),
    UrlCheck("api-qa-rubrics", lambda w: reverse("api-qa-rubrics"), LEADS, api=True),
    UrlCheck("api-qa-rubrics", lambda w: reverse("api-qa-rubrics"), LEADS, method="post", api=True,
             data={"criteria": [{"key": "accuracy", "label": "Accuracy", "weight": 2, "critical": True}]}),
    UrlCheck("api-qa-calibrations", _qa_new_calibration, LEADS, method="post", api=True, data=CALIBRATION_BODY),
    UrlCheck("api-qa-calibration", lambda w: _qa_session_case(w, "api-qa-calibration"), PARTICIPANTS, api=True),
    UrlCheck("api-qa-calibration-answers", lambda w: _qa_session_case(w, "api-qa-calibration-answers"), PARTICIPANTS,
             method="post", api=True, data=ANSWER_BODY),
    UrlCheck("api-qa-calibration-close", lambda w: _qa_session_case(w, "api-qa-calibration-close"), LEADS,
             method="post", api=True),
]

# Roles referenced so that linters keep the imports meaningful for entries added later.
_ = SUPPORT_AGENT
