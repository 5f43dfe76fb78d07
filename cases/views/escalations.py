"""Escalation pages: the escalations list, one escalation (acknowledge, findings, resolve), and
the escalate form (a compact one in the case page panel, the full one on its own page).

Views parse the form, call one service or selector and render; a refused action shows the same
page again with the message, the posted values and the error's 4xx status.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tsconsole.errors import DomainError
from tsconsole.roles import capability_required

from ..models import EscalationSeverity
from ..selectors import escalations as selectors
from ..selectors.workspace import case_for_user
from ..services import escalations as services


@require_GET
@capability_required("escalation.view")
def escalation_list(request):
    """Unresolved escalations, most severe and nearest deadline first (filters: status, severity, team)."""
    page = selectors.escalation_page(request.user, request.GET, after=request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "cases/escalations.html", {
        **page,
        "counts": selectors.open_counts_by_severity(request.user),
        "query": query.urlencode(),
        "now": timezone.now(),
    })


def _escalation_or_404(request, pk):
    escalation = selectors.escalation_for(request.user, pk)
    if escalation is None:
        raise Http404("No such escalation, or it was not sent to one of your teams.")
    return escalation


def _detail(request, pk, *, status=200, posted=None):
    escalation = _escalation_or_404(request, pk)
    return render(request, "cases/escalations_detail.html", {
        "escalation": escalation,
        "paging_log": selectors.escalation_paging_log(escalation),
        "may_respond": services.may_respond(request.user, escalation),
        "seconds_left": selectors.seconds_to_deadline(escalation),
        "outcomes": services.Outcome.CHOICES,
        "posted": posted or {},
    }, status=status)


@require_GET
@capability_required("escalation.view")
def escalation_detail(request, pk):
    return _detail(request, pk)


def _respond(request, pk, action, success: str):
    _escalation_or_404(request, pk)
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return _detail(request, pk, status=exc.status_code, posted=request.POST)
    messages.success(request, success)
    return redirect("escalation-detail", pk=pk)


@require_POST
@capability_required("escalation.view")
def escalation_ack(request, pk):
    return _respond(request, pk, lambda: services.escalation_acknowledge(escalation=pk, actor=request.user),
                    "You acknowledged the escalation; paging has stopped.")


@require_POST
@capability_required("escalation.view")
def escalation_findings(request, pk):
    return _respond(request, pk, lambda: services.escalation_add_findings(
        escalation=pk, findings=request.POST.get("findings", ""), actor=request.user,
    ), "Your findings were added.")


@require_POST
@capability_required("escalation.view")
def escalation_resolve(request, pk):
    escalation = _escalation_or_404(request, pk)
    outcome = request.POST.get("outcome", "")
    response = _respond(request, pk, lambda: services.escalation_resolve(
        escalation=pk, outcome=outcome, instructions=request.POST.get("instructions", ""), actor=request.user,
    ), "The escalation is resolved and the case is back in review.")
    if response.status_code == 302 and outcome == services.Outcome.DECIDE:
        return redirect("case-detail", pk=escalation.case_id)  # the responder decides it there
    return response


@require_http_methods(["GET", "POST"])
@capability_required("case.work")
def case_escalate(request, pk):
    """The full escalate form; the case page panel posts its compact form here too."""
    case = case_for_user(request.user, pk)
    if case is None:
        raise Http404("No such case, or it is not in a queue you may work.")
    status, posted = 200, {}
    if request.method == "POST":
        try:
            escalation = services.case_escalate(
                case=case, actor=request.user, severity=request.POST.get("severity", ""),
                team=request.POST.get("team", ""), summary=request.POST.get("summary", ""),
                impacted_ids=request.POST.get("impacted_ids", ""),
                evidence_links=request.POST.get("evidence_links", ""),
                recommended_next_steps=request.POST.get("recommended_next_steps", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            status, posted = exc.status_code, {"values": request.POST, "errors": exc.field_errors}
        else:
            messages.success(
                request, f"Case {case.pk} is escalated to {escalation.team.name} "
                f"({escalation.get_severity_display()}); acknowledgement is due by {escalation.ack_due_at:%H:%M} UTC.",
            )
            return redirect("case-detail", pk=case.pk)
    return render(request, "cases/escalations_form.html", {
        "case": case,
        "teams": selectors.escalation_teams(),
        "severities": EscalationSeverity.choices,
        "may_escalate": selectors.may_escalate(request.user, case),
        "posted": posted,
    }, status=status)
