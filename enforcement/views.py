"""Enforcement pages: the decision panel (on the case page) and its form, approvals for leads, an
action's page with the reversal form, and the support lookup.

Views parse input, check the capability, call one service or selector and render. A refused
action shows the service's message with its 4xx status; never a 500 for bad input.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case
from cases.selectors.workspace import case_for_user
from tsconsole.errors import DomainError
from tsconsole.roles import can, capability_required
from tsconsole.slots import panels_for

from . import selectors, services
from .forms import DecisionForm, LookupForm, ReverseForm, ReviewForm, split_hours

# --------------------------------------------------------------------------- the decision panel


def _initial(data: dict) -> dict:
    """The form as the ladder would have it: its step checked with its duration, and the first
    macro written for that step chosen and filled, so the common decision needs only a rationale."""
    initial = {"policy": data["policy"].slug if data["policy"] else ""}
    suggestion = data["suggestion"]
    if not suggestion or suggestion["action"] not in data["offered"]:
        return initial
    kind = suggestion["action"]
    initial[f"act_{kind}"] = True
    if suggestion.get("duration_hours"):
        initial[f"hours_{kind}"], initial[f"unit_{kind}"] = split_hours(suggestion["duration_hours"])
    macro = next((m for m in data["macros"] if m.action_types and m.fits([kind])), None)
    if macro is not None:
        initial["macro"] = macro.slug
        initial["statement"] = selectors.fill_placeholders(
            macro.body, selectors.statement_values(data["case"], data["policy"]))
    return initial


def _panel(request, case: Case, form: DecisionForm | None = None) -> dict:
    data = selectors.case_panel(request.user, case)
    if data["may_decide"] and form is None:
        form = DecisionForm(initial=_initial(data), offered=data["offered"])
    data["form"] = form
    if form is not None:
        names = selectors.placeholders(form["statement"].value() or "")
        data["statement_later"] = [n for n in names if n in selectors.DECISION_TIME_PLACEHOLDERS]
    data["policies"] = list(selectors.policies_active()) if data["may_decide"] else []
    data["may_reverse"] = can(request.user, "action.reverse")
    return data


def case_panel_context(request, case: Case) -> dict:
    """Context of the decision panel in the case page's "case" slot."""
    return _panel(request, case)


def _case_or_404(request, pk) -> Case:
    case = case_for_user(request.user, pk)
    if case is None:
        raise Http404("No such case, or it is not in a queue you may work.")
    return case


@require_http_methods(["GET", "POST"])
@capability_required("case.work")
def decide(request, pk):
    """The decision form on its own page (GET), and where the panel posts (POST)."""
    case = _case_or_404(request, pk)
    if request.method == "GET":
        return render(request, "enforcement/decide.html", {"panel": _panel(request, case), "case": case})
    form = DecisionForm(request.POST, offered=selectors.case_panel_offered(case))
    status, error = 400, ""
    if form.is_valid():
        actions = form.actions()
        data = form.cleaned_data
        try:
            decision = services.case_decide(
                case=case.pk, actions=actions, rationale=data["rationale"], actor=request.user,
                policy=data["policy"] or None, statement=data["statement"], macro=data["macro"] or None,
                departure_reason=data["departure_reason"], ground=data["ground"],
            )
        except DomainError as exc:
            if not form.apply_errors(exc, actions):
                error = exc.message
            status = exc.status_code
        else:
            if decision.requires_approval:
                messages.success(request, f"Decision sent to a lead for approval ({', '.join(decision.approval_reasons)}).")
            else:
                messages.success(request, f"Case {case.pk} decided: {', '.join(a.get_action_type_display() for a in decision.actions)}.")
            url = reverse("case-detail", args=[case.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    case = _case_or_404(request, pk)
    panel = _panel(request, case, form)
    panel["error"] = error
    if request.htmx:
        return render(request, "enforcement/_case_panel.html", {"panel": panel}, status=status)
    return render(request, "enforcement/decide.html", {"panel": panel, "case": case}, status=status)


@require_GET
@capability_required("case.work")
def macro_preview(request, pk):
    """The statement field filled from a macro: known placeholders filled, the rest left to type."""
    case = _case_or_404(request, pk)
    macro = next((m for m in selectors.macros_for(case.category) if m.slug == request.GET.get("macro")), None)
    policy = next((p for p in selectors.policies_active() if p.slug == request.GET.get("policy")), None) \
        or selectors.policy_for_category(case.category)
    text = request.GET.get("statement", "")
    if macro is not None:
        text = selectors.fill_placeholders(macro.body, selectors.statement_values(case, policy))
    names = selectors.placeholders(text)
    return render(request, "enforcement/_statement_field.html", {
        "statement": text, "macro": macro,
        "missing": [n for n in names if n not in selectors.DECISION_TIME_PLACEHOLDERS],
        "later": [n for n in names if n in selectors.DECISION_TIME_PLACEHOLDERS],
    })


# --------------------------------------------------------------------------- approvals


def _after(request) -> int | None:
    value = request.GET.get("after", "")
    return int(value) if value.isdigit() else None


def _approvals_page(request, status=200):
    page = selectors.approvals_pending(after_id=_after(request), limit=selectors.APPROVALS_PAGE_SIZE)
    return render(request, "enforcement/approvals.html", {"page": page, "form": ReviewForm()}, status=status)


@require_GET
@capability_required("approval.decide")
def approvals(request):
    return _approvals_page(request)


def _review(request, pk, service, done: str):
    form = ReviewForm(request.POST)
    comment = form.data.get("comment", "")
    try:
        service(action=pk, actor=request.user, comment=comment)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _approvals_page(request, status=exc.status_code)
    messages.success(request, done)
    return redirect("enforcement-approvals")


@require_POST
@capability_required("approval.decide")
def approve(request, pk):
    return _review(request, pk, services.decision_approve, "Decision approved: the actions are in effect.")


@require_POST
@capability_required("approval.decide")
def reject(request, pk):
    return _review(request, pk, services.decision_reject, "Decision rejected: the case is back with its analyst.")


# --------------------------------------------------------------------------- an action and its reversal


def _action_or_404(request, pk):
    action = selectors.action_detail(pk)
    if action is None or case_for_user(request.user, action.case_id) is None:
        raise Http404("No such action, or its case is not in a queue you may work.")
    return action


def _action_page(request, action, form=None, status=200):
    return render(request, "enforcement/action_detail.html", {
        "action": action,
        "decision": selectors.decision_actions(action),
        "appeal_until": selectors.appeal_deadline(action.applied_at),
        "form": form or ReverseForm(),
        "may_reverse": can(request.user, "action.reverse") and action.status in ("active", "expired")
        and action.action_type != "no_violation",
    }, status=status)


@require_GET
@capability_required("case.view")
def action_detail(request, pk):
    return _action_page(request, _action_or_404(request, pk))


@require_POST
@capability_required("action.reverse")
def action_reverse(request, pk):
    action = _action_or_404(request, pk)
    form = ReverseForm(request.POST)
    try:
        services.action_reverse(action=action.pk, reason=form.data.get("reason", ""), actor=request.user)
    except DomainError as exc:
        form.is_valid()
        form.add_error("reason" if "reason" in exc.field_errors else None, exc.message)
        return _action_page(request, selectors.action_detail(pk), form, status=exc.status_code)
    messages.success(request, f"Action {action.pk} reversed; its strike no longer counts.")
    return redirect("enforcement-action", pk=action.pk)


# --------------------------------------------------------------------------- support lookup


@require_GET
@capability_required("support.lookup")
def support_lookup(request):
    """Outcomes for an account or content item, as support may tell the user; every search is logged."""
    form = LookupForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        results = services.subject_lookup(
            query=form.cleaned_data["q"], kind=form.cleaned_data["kind"], actor=request.user)
    return render(request, "enforcement/support_lookup.html", {
        "form": form, "results": results,
        # higher apps (appeals) show what they hold about the subjects found, and their forms
        "lookup_panels": panels_for("support_lookup", request, results=results),
    })


# --------------------------------------------------------------------------- home panels


def home_approvals_context(request) -> dict:
    return {"pending": selectors.pending_approval_count()}


def home_lookup_context(request) -> dict:
    return {"form": LookupForm()}
