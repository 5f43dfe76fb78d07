"""QA pages: the reviewer's queue, the blinded audit and its reveal, the analyst's feedback inbox,
disputes for leads, the leads' overview and sampling rules, CSV export, and calibration.

Views parse input, check the capability, call one service or selector and render. Blinding is
the selectors' job: a due sample's page is built from `selectors.blinded_case` only.
"""

import csv

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.services.exposure import case_exposure_tick
from cases.services.workflow import evidence_access_log
from enforcement.models import DURATION_OPTIONAL, DURATION_REQUIRED, Policy
from tsconsole import roles
from tsconsole.errors import DomainError
from tsconsole.middleware import session_preferences
from tsconsole.roles import can, capability_required
from tsconsole.selectors import exposure_page

from . import sampling, selectors, services
from .models import Outcome, RuleKind, SampleStatus

REVEALED_KEY = "qa_revealed_evidence"


def _fail(request, exc: DomainError, to: str):
    messages.error(request, exc.message)
    response = redirect(to)
    return response


def decision_from_post(post) -> dict:
    """The review / calibration form's fields → the API's decision shape."""
    if post.get("verdict") == "no_violation":
        return {"no_violation": True, "policy": post.get("policy") or None}
    return {"policy": post.get("policy") or None, "actions": [{"type": t} for t in post.getlist("actions")]}


# --------------------------------------------------------------------------- home panel


def home_panel_context(request) -> dict:
    return selectors.home_panel(request.user)


# --------------------------------------------------------------------------- reviewer


@require_GET
@capability_required("qa.review")
def queue(request):
    """Samples due for me; leads also see everyone's samples, filtered, with reassignment."""
    lead = can(request.user, "qa.manage")
    f = {k: request.GET.get(k, "") for k in ("status", "analyst", "policy", "queue")}
    if f["status"] not in ("", *SampleStatus.values):
        f["status"] = ""
    before = request.GET.get("before")
    page = selectors.sample_list(request.user, before_id=int(before) if before and before.isdigit() else None, **f)
    reviewers = get_user_model().objects.filter(groups__name=roles.QA_REVIEWER, is_active=True).order_by("username") if lead else []
    return render(request, "qa/queue.html", {
        "due": selectors.samples_due(request.user), "page": page, "filters": f, "lead": lead, "now": timezone.now(),
        # the same options on every row of the page: rendered once, not once per row
        "reviewer_options": format_html_join("", '<option value="{}">{}</option>',
                                             ((r.username, r.username) for r in reviewers)),
    })


def _sample_or_404(request, pk, *, with_case=False):
    """The sample (with its case's category and queue when `with_case`), else a 404."""
    sample = (selectors.sample_for if with_case else selectors.sample_page_for)(request.user, pk)
    if sample is None:
        raise Http404("No such sample, or it is not yours to review.")
    return sample


@require_GET
@capability_required("qa.review")
def sample_detail(request, pk):
    """A due sample: the blinded case and the review form. A reviewed one: the reveal."""
    sample = _sample_or_404(request, pk)
    if sample.status == SampleStatus.REVIEWED:
        return render(request, "qa/reveal.html", {"sample": sample, **selectors.revealed(sample), **selectors.decision_choices(),
                                                  "lead": can(request.user, "qa.manage")})
    return _blind_page(request, sample)


def _blind_page(request, sample, *, posted=None, status=200):
    may_review = request.user.pk not in (sample.analyst_id, sample.approver_id) and (
        sample.reviewer_id == request.user.pk or (sample.reviewer_id is None and can(request.user, "qa.manage")))
    blind = selectors.blinded_case(sample)
    # A sensitive case under review counts as exposure, as on the case page (and may prompt a break).
    exposure = exposure_page(request.user, url=reverse("qa-sample-exposure", args=[sample.pk]),
                             threshold=session_preferences(request).get("break_after")) if blind["sensitive"] else None
    return render(request, "qa/audit.html", {
        "sample": sample, "blind": blind, "form": selectors.review_form_data(sample, blind["category"]), "exposure": exposure,
        "revealed": set(request.session.get(REVEALED_KEY, [])), "may_review": may_review, "posted": posted,
        "scores_posted": {k[6:]: v for k, v in (posted or {}).items() if k.startswith("score_")},
    }, status=status)


@require_POST
@capability_required("qa.review")
def sample_exposure(request, pk):
    """The blinded review page's heartbeat: a minute on a sensitive case counts for the reviewer.
    A sample that is not theirs is a 404, as on the page."""
    sample = _sample_or_404(request, pk, with_case=True)
    return JsonResponse(case_exposure_tick(case=sample.case, actor=request.user).as_json())


@require_POST
@capability_required("qa.review")
def sample_review(request, pk):
    sample = _sample_or_404(request, pk)
    if sample.status == SampleStatus.REVIEWED:
        messages.error(request, f"Sample {sample.pk} is reviewed already.")
        return redirect("qa-sample", pk=pk)
    scores = {k[6:]: v for k, v in request.POST.items() if k.startswith("score_")}
    try:
        audit = services.sample_review(sample=sample, decision=decision_from_post(request.POST), scores=scores,
                                       feedback=request.POST.get("feedback", ""), actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        if exc.status_code in (403, 409):
            return redirect("qa-sample", pk=pk)
        return _blind_page(request, sample, posted=request.POST, status=exc.status_code)
    messages.success(request, f"Audit recorded: {audit.get_outcome_display().lower()}.")
    return redirect("qa-sample", pk=pk)


@require_GET
@capability_required("qa.review")
def evidence(request, pk, evidence_id):
    """Evidence of a sample's case from before the decision, for its reviewer: inline images only,
    never sniffed, every access logged as on the case page. `?preview=1` answers the low-detail
    derivative, which is all a sensitive image shows until this reviewer reveals it; its original
    is refused (403) before that."""
    sample = _sample_or_404(request, pk)
    item = selectors.blinded_evidence(sample, evidence_id)
    if item is None or item.kind != item.Kind.FILE or not item.is_image:
        raise Http404("No such evidence image on this sample.")
    preview = bool(request.GET.get("preview"))
    if preview and not item.preview:
        raise Http404("This evidence has no blurred preview.")
    if not preview and item.needs_reveal and item.pk not in request.session.get(REVEALED_KEY, []):
        return render(request, "403.html", {"exception": "Reveal this sensitive image on the sample page first."},
                      status=403)
    if not preview:
        evidence_access_log(evidence=item, actor=request.user, purpose="qa_view")
    try:
        handle = (item.preview if preview else item.file).open("rb")
    except FileNotFoundError:
        raise Http404("The evidence file is missing from storage.")
    response = HttpResponse(handle.read(), content_type="image/jpeg" if preview else item.content_type)
    handle.close()
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@capability_required("qa.review")
def evidence_reveal(request, pk, evidence_id):
    """Unblur a sensitive image for this reviewer; the reveal is logged."""
    sample = _sample_or_404(request, pk)
    item = selectors.blinded_evidence(sample, evidence_id)
    if item is None:
        raise Http404("No such evidence on this sample.")
    evidence_access_log(evidence=item, actor=request.user, purpose="qa_reveal")
    revealed = list(request.session.get(REVEALED_KEY, []))
    if item.pk not in revealed:
        request.session[REVEALED_KEY] = (revealed + [item.pk])[-200:]
    return redirect(reverse("qa-sample", args=[pk]) + f"#evidence-{item.pk}")


# --------------------------------------------------------------------------- leads: samples, rules, overview, CSV


@require_POST
@capability_required("qa.manage")
def sample_assign(request, pk):
    try:
        sample = services.sample_assign(sample=pk, reviewer=request.POST.get("reviewer", ""), actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, "qa-queue")
    messages.success(request, f"Sample {sample.pk} assigned to {sample.reviewer.get_username()}.")
    return redirect("qa-queue")


@require_GET
@capability_required("qa.manage")
def overview(request):
    return render(request, "qa/overview.html", {"data": selectors.overview()})


@require_http_methods(["GET", "POST"])
@capability_required("qa.manage")
def rules(request):
    """The sampling rules with their current version; a form to add one or edit one (new version)."""
    status = 200
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("name", "kind", "queue", "policy", "action_type", "analyst",
                                                     "rate", "first_n", "floor_k", "due_days")}
        rule_id = request.POST.get("rule")
        try:
            rule = services.sampling_rule_save(actor=request.user, data=data, rule=int(rule_id) if rule_id and rule_id.isdigit() else None)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
        else:
            messages.success(request, f"Rule {rule.name} saved as version {rule.version}.")
            return redirect("qa-rules")
    from cases.models import Queue

    return render(request, "qa/rules.html", {
        "rules": sampling.rules_with_versions(), "kinds": RuleKind.choices, "queues": Queue.objects.order_by("name"),
        **selectors.decision_choices(), "posted": request.POST if status != 200 else None,
    }, status=status)


@require_POST
@capability_required("qa.manage")
def rule_toggle(request, pk):
    try:
        rule = services.sampling_rule_set_active(rule=pk, active=request.POST.get("active") == "1", actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, "qa-rules")
    messages.success(request, f"Rule {rule.name} {'is active' if rule.is_active else 'is paused'}.")
    return redirect("qa-rules")


RUBRIC_BLANK_ROWS = 3


@require_GET
@capability_required("qa.manage")
def rubrics(request):
    """The current rubric of each policy that has its own, and the default."""
    return render(request, "qa/rubrics.html", selectors.rubrics_page())


def _criteria_from_post(post) -> list[dict]:
    """The rubric form's rows → criteria; a row left wholly empty is dropped (that is how a
    criterion is removed). The service checks the rest."""
    rows = post.get("rows", "")
    count = min(int(rows), services.RUBRIC_MAX_CRITERIA + RUBRIC_BLANK_ROWS) if rows.isdigit() else 0
    criteria = []
    for i in range(count):
        label, help_text = post.get(f"label_{i}", ""), post.get(f"help_{i}", "")
        if not label.strip() and not help_text.strip():
            continue
        criteria.append({"key": post.get(f"key_{i}", ""), "label": label, "help_text": help_text,
                         "weight": post.get(f"weight_{i}", ""), "critical": f"critical_{i}" in post})
    return criteria


@require_http_methods(["GET", "POST"])
@capability_required("qa.manage")
def rubric_edit(request):
    """A policy's rubric (`?policy=slug`; none: the default) saved as its next version."""
    slug = (request.POST if request.method == "POST" else request.GET).get("policy", "")
    policy = None
    if slug:
        policy = Policy.objects.filter(slug=slug).first()
        if policy is None:
            raise Http404("No such policy.")
    status, rows = 200, None
    if request.method == "POST":
        criteria = _criteria_from_post(request.POST)
        try:
            rubric = services.rubric_save(policy=policy, criteria=criteria, pass_mark=request.POST.get("pass_mark", ""),
                                          actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
            rows = criteria
        else:
            messages.success(request, f"Rubric for {policy.name if policy else 'every policy without its own'} "
                                      f"saved as version {rubric.version}.")
            return redirect("qa-rubrics")
    data = selectors.rubric_edit_data(policy)
    if rows is None:
        rows = [{"key": c.key, "label": c.label, "help_text": c.help_text, "weight": c.weight, "critical": c.critical}
                for c in data["criteria"]]
    rows = rows + [{"key": "", "label": "", "help_text": "", "weight": 1, "critical": False}] * RUBRIC_BLANK_ROWS
    pass_mark = request.POST.get("pass_mark") if status != 200 else (data["start"].pass_mark if data["start"] else 80)
    return render(request, "qa/rubric_edit.html", {
        "policy": policy, **data, "rows": rows, "pass_mark": pass_mark, "limits": {
            "label": services.CRITERION_LABEL_MAX, "help": services.CRITERION_HELP_MAX,
            "weight": services.CRITERION_WEIGHT_MAX, "criteria": services.RUBRIC_MAX_CRITERIA},
    }, status=status)


class _Echo:
    def write(self, value):
        return value


@require_GET
@capability_required("qa.manage")
def audits_csv(request):
    """Every audit as CSV (streamed), optionally `?since=YYYY-MM-DD`."""
    since = None
    if request.GET.get("since"):
        from django.utils.dateparse import parse_date

        day = parse_date(request.GET["since"])
        if day is None:
            return HttpResponse("since must be a date, YYYY-MM-DD.", status=400, content_type="text/plain")
        since = timezone.make_aware(timezone.datetime(day.year, day.month, day.day))
    writer = csv.writer(_Echo())
    rows = (writer.writerow(r) for r in _with_header(selectors.audit_rows(since=since)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="qa-audits-{timezone.now():%Y%m%d}.csv"'
    return response


def _with_header(rows):
    yield selectors.AUDIT_CSV_COLUMNS
    yield from rows


@require_POST
@capability_required("qa.manage")
def audit_correct(request, pk):
    from .models import Audit

    audit = Audit.objects.filter(pk=pk).only("sample_id").first()
    if audit is None:
        raise Http404("No such audit.")
    try:
        decision = decision_from_post(request.POST)
        hours = request.POST.get("duration_hours", "").strip()
        for item in decision.get("actions", []):
            if hours and item["type"] in DURATION_REQUIRED | DURATION_OPTIONAL:
                item["duration_hours"] = hours
        correction = services.audit_correct(audit=pk, decision=decision, reason=request.POST.get("reason", ""),
                                            statement=request.POST.get("statement", ""), actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, reverse("qa-sample", args=[audit.sample_id]))
    told = "the user is told through the platform" if correction.user_notified else "the user's outcome is unchanged"
    messages.success(request, f"Decision corrected; {len(correction.reversed_actions)} action(s) reversed, "
                              f"{len(correction.added_actions)} added, {told}.")
    return redirect("qa-sample", pk=audit.sample_id)


# --------------------------------------------------------------------------- analysts: feedback


@require_GET
@capability_required("qa.feedback")
def feedback(request):
    return render(request, "qa/feedback.html", {**selectors.feedback_inbox(request.user),
                                                "history": selectors.calibration_history(request.user)})


@require_POST
@capability_required("qa.feedback")
def feedback_acknowledge(request, pk):
    try:
        services.feedback_acknowledge(feedback=pk, actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, "qa-feedback")
    messages.success(request, "Feedback acknowledged.")
    return redirect("qa-feedback")


@require_POST
@capability_required("qa.feedback")
def feedback_dispute(request, pk):
    try:
        services.feedback_dispute(feedback=pk, reason=request.POST.get("reason", ""), actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, "qa-feedback")
    messages.success(request, "Dispute sent to the leads.")
    return redirect("qa-feedback")


# --------------------------------------------------------------------------- leads: disputes


@require_GET
@capability_required("qa.manage")
def disputes(request):
    return render(request, "qa/disputes.html", {
        "open": selectors.disputes_open(), "recent": selectors.disputes_recent(), "outcomes": Outcome.choices,
    })


@require_POST
@capability_required("qa.manage")
def dispute_rule(request, pk):
    try:
        d = services.dispute_rule(dispute=pk, ruling=request.POST.get("ruling", ""), note=request.POST.get("note", ""),
                                  outcome=request.POST.get("outcome", ""), actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, "qa-disputes")
    messages.success(request, f"Dispute ruled: {d.get_ruling_display().lower()}.")
    return redirect("qa-disputes")


# --------------------------------------------------------------------------- calibration


@require_GET
@capability_required("calibration.participate")
def calibrations(request):
    return render(request, "qa/calibrations.html", {
        "sessions": selectors.calibrations_for(request.user), "lead": can(request.user, "qa.manage"),
        "history": selectors.calibration_history(request.user),
    })


@require_http_methods(["GET", "POST"])
@capability_required("qa.manage")
def calibration_new(request):
    status = 200
    if request.method == "POST":
        cases = [c for c in request.POST.get("cases", "").replace(",", " ").split() if c]
        people = [p for p in request.POST.get("participants", "").replace(",", " ").split() if p]
        try:
            session = services.calibration_create(title=request.POST.get("title", ""), cases=cases, participants=people,
                                                  actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
        else:
            messages.success(request, f"Session \u201c{session.title}\u201d created; participants were notified.")
            return redirect("qa-calibration", pk=session.pk)
    from .models import Sample

    recent = list(Sample.objects.filter(status=SampleStatus.REVIEWED).order_by("-reviewed_at").values_list("case_id", flat=True)[:10])
    people = get_user_model().objects.filter(groups__name__in=[roles.ANALYST, roles.QA_REVIEWER], is_active=True).distinct().order_by("username")
    return render(request, "qa/calibration_new.html", {"posted": request.POST if status != 200 else None,
                                                        "suggested": recent, "people": people}, status=status)


def _session_or_404(request, pk):
    session = selectors.calibration_for(request.user, pk)
    if session is None:
        raise Http404("No such calibration session among yours.")
    return session


@require_GET
@capability_required("calibration.participate")
def calibration(request, pk):
    session = _session_or_404(request, pk)
    return render(request, "qa/calibration.html", {**selectors.calibration_page(request.user, session),
                                                   "lead": can(request.user, "qa.manage"), **selectors.decision_choices()})


@require_http_methods(["GET", "POST"])
@capability_required("calibration.participate")
def calibration_case(request, pk, case_id):
    """One case of a session, blind; a participant answers once."""
    session = _session_or_404(request, pk)
    status = 200
    if request.method == "POST":
        try:
            services.calibration_answer(session=session, case=case_id, decision=decision_from_post(request.POST),
                                        rationale=request.POST.get("rationale", ""), actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
        else:
            messages.success(request, f"Answer on case {case_id} recorded.")
            return redirect("qa-calibration", pk=pk)
    blind = selectors.calibration_case_blind(session, case_id)
    if blind is None:
        raise Http404("That case is not in this session.")
    page = selectors.calibration_page(request.user, session)
    answer = next((i["answer"] for i in page["items"] if i["item"].case_id == case_id), None)
    return render(request, "qa/calibration_case.html", {
        "session": session, "blind": blind, "answer": answer, "is_participant": page["is_participant"],
        "posted": request.POST if status != 200 else None, **selectors.decision_choices(),
    }, status=status)


@require_POST
@capability_required("qa.manage")
def calibration_close(request, pk):
    try:
        session = services.calibration_close(session=pk, actor=request.user)
    except DomainError as exc:
        return _fail(request, exc, reverse("qa-calibration", args=[pk]))
    messages.success(request, f"Session closed; Fleiss' kappa {session.results['fleiss_kappa']}.")
    return redirect("qa-calibration", pk=pk)


@require_POST
@capability_required("qa.manage")
def calibration_golden(request, pk):
    try:
        services.calibration_golden_set(session=pk, case=request.POST.get("case"), decision=decision_from_post(request.POST),
                                        rationale=request.POST.get("rationale", ""), actor=request.user)
    except (DomainError, ValueError, TypeError) as exc:
        messages.error(request, getattr(exc, "message", "Choose a case of the session."))
        return redirect("qa-calibration", pk=pk)
    messages.success(request, "Golden answer set.")
    return redirect("qa-calibration", pk=pk)

