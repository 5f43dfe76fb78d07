"""Appeal pages: the appeal panel on the case page and its decision form, the appeals panel of the
support lookup (status, deadline, and filing on the user's behalf), and the home count.

Views parse input, check the capability, call one service or selector and render.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.selectors.workspace import case_for_user
from enforcement import services as enforcement_services
from enforcement.forms import LookupForm
from tsconsole.errors import DomainError
from tsconsole.roles import can, capability_required

from . import selectors, services
from .forms import AppealDecisionForm, AppealFileForm
from .models import Appeal, AppealStatus


def _panel(request, case, form=None, error: str = "") -> dict:
    data = selectors.appeal_panel(request.user, case)
    if data.get("may_decide") and form is None:
        form = AppealDecisionForm(initial={"policy": data["appeal"].policy.slug})
    data["form"] = form
    data["error"] = error
    data["case"] = case
    return data


def case_panel_context(request, case) -> dict:
    """The case page's appeal panel (the "case" slot)."""
    return _panel(request, case)


@require_POST
@capability_required("appeal.decide")
def decide(request, pk):
    appeal = Appeal.objects.filter(pk=pk).values("case_id").first()
    case = case_for_user(request.user, appeal["case_id"]) if appeal else None
    if case is None:
        raise Http404("No such appeal, or it is not in a queue you may work.")
    form = AppealDecisionForm(request.POST)
    status, error = 400, ""
    if form.is_valid():
        data = form.cleaned_data
        actions = form.actions()
        try:
            decided = services.appeal_decide(
                appeal=pk, outcome=data["outcome"], rationale=data["rationale"], statement=data["statement"],
                actions=actions or None, policy=data["policy"] or None, actor=request.user,
            )
        except DomainError as exc:
            if not form.apply_errors(exc, actions):
                error = exc.message
            status = exc.status_code
        else:
            messages.success(request, f"Appeal #{decided.pk} decided: {decided.get_outcome_display().lower()}. "
                                      f"The appellant is told.")
            url = reverse("case-detail", args=[case.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    panel = _panel(request, case, form, error)
    if request.htmx:
        return render(request, "appeals/_case_panel.html", {"panel": panel}, status=status)
    messages.error(request, error or "The appeal decision needs fixing; see the form.")
    return render(request, "appeals/decide.html", {"panel": panel, "case": case}, status=status)


# --------------------------------------------------------------------------- support lookup


def lookup_panel_context(request, results) -> dict:
    found = selectors.lookup_appeals(results)
    found["form"] = AppealFileForm()
    found["q"] = request.GET.get("q", "")
    found["may_file"] = can(request.user, "appeal.create")
    found["results"] = results
    return found


@require_POST
@capability_required("support.lookup")
def file_for_user(request):
    """Support enters an appeal for a user who contacted them, in the user's words; the lookup page
    shows it at once. A refusal shows the lookup again with the form as typed and the reason."""
    form = AppealFileForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    query = data.get("q", "")
    try:
        filed = services.appeal_file(
            decision=data.get("decision", ""), appellant_kind=data.get("appellant_kind") or "subject",
            appellant_ref=data.get("appellant", ""), source="support", external_id=f"support-{uuid.uuid4()}",
            statement=data.get("statement", ""), channel=data.get("channel") or "email", actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        results = enforcement_services.subject_lookup(query=query, actor=request.user) if query.strip() else None
        panel = lookup_panel_context(request, results)
        panel.update({"form": form, "q": query})
        return render(request, "enforcement/support_lookup.html", {
            "form": LookupForm(data={"q": query}), "results": results,
            "lookup_panels": [{"key": "appeals.lookup", "template": "appeals/_lookup_panel.html", "context": panel}],
        }, status=exc.status_code)
    appeal = filed.appeal
    messages.success(request, f"Appeal #{appeal.pk} filed for {appeal.appellant_ref}; due by "
                              f"{appeal.case.resolution_due_at:%Y-%m-%d %H:%M} UTC.")
    return redirect(reverse("support-lookup") + "?" + urlencode({"q": query}))


# --------------------------------------------------------------------------- home


def home_context(request) -> dict:
    return {"open": Appeal.objects.filter(status=AppealStatus.OPEN).count()}
