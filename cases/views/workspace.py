"""The analyst workspace pages: queues, claim next, the case page and its actions, my work,
search, the case list, and evidence downloads.

Views parse input, check the capability, call one service or selector and render. Every action
works as a plain form POST (redirect with a message) and, when sent by htmx, answers with the
fragments it changed. Service errors become a message and their 4xx status, never a 500.
"""

import mimetypes

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tsconsole.errors import DomainError
from tsconsole.middleware import session_preferences
from tsconsole.roles import can, capability_required
from tsconsole.selectors import exposure_page
from tsconsole.slots import panels_for

from ..filters import CaseFilter
from ..models import CaseStatus, Priority
from ..selectors import workspace as selectors
from ..services import exposure, saved_filters, workflow

# --------------------------------------------------------------------------- queues


@require_GET
@capability_required("case.work")
def queue_list(request):
    """The queues the user's teams may work, with counts and a "Get next case" button each."""
    context = {"summaries": selectors.queue_summaries(request.user)}
    if request.htmx:
        return render(request, "cases/_queue_table.html", context)
    return render(request, "cases/queues.html", context)


@require_POST
@capability_required("case.work")
def queue_claim_next(request, slug):
    try:
        case = workflow.case_claim_next(queue=slug, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        if request.htmx:
            return _messages_fragment(request, exc.status_code)
        context = {"summaries": selectors.queue_summaries(request.user)}
        return render(request, "cases/queues.html", context, status=exc.status_code)
    if case is None:
        messages.info(request, "That queue has no unassigned cases right now.")
        return redirect("queue-list")
    messages.success(request, f"You claimed case {case.pk}.")
    return redirect("case-detail", pk=case.pk)


# --------------------------------------------------------------------------- the case page


def _case_or_404(request, pk):
    case = selectors.case_for_user(request.user, pk)
    if case is None:
        raise Http404("No such case, or it is not in a queue you may work.")
    return case


def _case_context(request, case) -> dict:
    user = request.user
    data = selectors.case_page(user, case)
    data.update(selectors.case_page_choices())
    is_assignee = case.assignee_id == user.pk
    # The user's teams matter only for a case held for a team's help: no query otherwise.
    is_helper = case.status == CaseStatus.ON_HOLD and (
        case.held_for_id == user.pk
        or (case.held_for_team_id is not None and case.held_for_team_id in selectors.user_team_ids(user)))
    may_work = can(user, "case.work")
    lead = can(user, "case.reassign")
    data.update({
        "is_assignee": is_assignee,
        "is_helper": is_helper,
        "may_work": may_work,
        "priorities": Priority.choices,
        "show": {
            "claim": may_work and case.status == CaseStatus.OPEN and case.assignee_id is None,
            "release": may_work and case.status in workflow.CLAIMED and (is_assignee or lead),
            "next": may_work and case.queue.is_active,
            "triage": may_work and case.is_open,
            "hold": may_work and case.status == CaseStatus.IN_REVIEW and is_assignee,
            "resume": may_work and case.status == CaseStatus.ON_HOLD and (is_assignee or is_helper),
            "handoff": may_work and case.status == CaseStatus.IN_REVIEW and (is_assignee or lead),
            "resolve": may_work and case.status in workflow.CLAIMED and is_assignee and case.kind == "report",
        },
        # A sensitive case's page beats once a minute while in view (exposure minutes, break prompt).
        "exposure": _exposure_context(request, case),
        "case_panels": panels_for("case", request, case=case),
        # wide panels above the subject (an appeal beside the decision it contests)
        "case_main_panels": panels_for("case_main", request, case=case),
    })
    return data


def _exposure_context(request, case) -> dict | None:
    if not case.category.sensitive:
        return None
    return exposure_page(request.user, url=reverse("case-exposure", args=[case.pk]),
                         threshold=session_preferences(request).get("break_after"))


@require_POST
@capability_required("case.view")
def case_exposure(request, pk):
    """The case page's heartbeat: count this minute if the case is sensitive; say if a break is due.
    A case the user may not see is a 404, as on the page itself."""
    case = _case_or_404(request, pk)
    return JsonResponse(exposure.case_exposure_tick(case=case, actor=request.user).as_json())


@require_GET
@capability_required("case.view")
def case_detail(request, pk):
    case = _case_or_404(request, pk)
    return render(request, "cases/case_detail.html", _case_context(request, case))


def _render_case_error(request, pk, exc: DomainError):
    """A refused action: the case page again with the message and the error's 4xx status."""
    messages.error(request, exc.message)
    if request.htmx:
        return _messages_fragment(request, exc.status_code)
    case = selectors.case_for_user(request.user, pk)
    if case is None:
        raise Http404(exc.message)
    context = _case_context(request, case)
    context["posted"] = request.POST
    return render(request, "cases/case_detail.html", context, status=exc.status_code)


def _messages_fragment(request, status):
    response = render(request, "cases/_messages.html", {}, status=status)
    # htmx swaps this into the page's message area instead of the form's own target.
    response["HX-Retarget"] = "#case-messages"
    response["HX-Reswap"] = "innerHTML"
    return response


def _case_fragments(request, pk, fragments: list[str]):
    """After an htmx action: re-render the changed sections (swapped out-of-band) and the messages."""
    case = _case_or_404(request, pk)
    context = _case_context(request, case)
    context["oob"] = True
    context["fragments"] = fragments
    return render(request, "cases/_case_fragments.html", context)


def _act(request, pk, action, success: str, *, fragments: list[str] | None = None, anchor: str = ""):
    """Run one service call for the case page and answer for a plain form or for htmx."""
    try:
        result = action()
    except DomainError as exc:
        return _render_case_error(request, pk, exc)
    if success:
        messages.success(request, success.format(result=result))
    if request.htmx and fragments:
        return _case_fragments(request, pk, fragments)
    url = reverse("case-detail", args=[pk]) + (f"#{anchor}" if anchor else "")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
@capability_required("case.work")
def case_claim(request, pk):
    return _act(request, pk, lambda: workflow.case_claim(case=pk, actor=request.user), "You claimed case {result.pk}.")


@require_POST
@capability_required("case.work")
def case_release(request, pk):
    return _act(
        request, pk,
        lambda: workflow.case_release(case=pk, actor=request.user, reason=request.POST.get("reason", "")),
        "Case {result.pk} is back in its queue.",
    )


@require_POST
@capability_required("case.work")
def case_note_add(request, pk):
    return _act(
        request, pk, lambda: workflow.note_add(case=pk, body=request.POST.get("body", ""), actor=request.user),
        "Note added.", fragments=["notes", "timeline", "header"], anchor="notes",
    )


@require_POST
@capability_required("case.work")
def case_evidence_add(request, pk):
    return _act(
        request, pk,
        lambda: workflow.evidence_add(
            case=pk, actor=request.user, upload=request.FILES.get("file"),
            text=request.POST.get("text", ""), description=request.POST.get("description", ""),
        ),
        "Evidence added (SHA-256 {result.sha256}).", fragments=["evidence", "timeline", "header"], anchor="evidence",
    )


@require_POST
@capability_required("case.view")
def evidence_reveal(request, pk):
    try:
        evidence = workflow.evidence_reveal(evidence_id=pk, actor=request.user)
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404(exc.message)
        messages.error(request, exc.message)
        return redirect("home")
    if request.htmx:
        return _case_fragments(request, evidence.case_id, ["evidence", "timeline"])
    return redirect(reverse("case-detail", args=[evidence.case_id]) + f"#evidence-{evidence.pk}")


def _private_file_headers(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@capability_required("case.view")
def evidence_download(request, pk):
    """Evidence content, only through this view: always an attachment, never sniffed, access logged.
    A sensitive image's original is refused (403) until this user has revealed it."""
    try:
        evidence = workflow.evidence_original(evidence_id=pk, actor=request.user)
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404(exc.message)
        return render(request, "403.html", {"exception": exc.message}, status=exc.status_code)
    workflow.evidence_access_log(evidence=evidence, actor=request.user,
                                 purpose="view" if request.GET.get("inline") else "download")
    filename = evidence.original_name or f"evidence-{evidence.pk}{mimetypes.guess_extension(evidence.content_type) or ''}"
    if evidence.kind == evidence.Kind.TEXT:
        response = HttpResponse(evidence.text_extract.encode(), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="evidence-{evidence.pk}.txt"'
    else:
        try:
            handle = evidence.file.open("rb")
        except FileNotFoundError:
            raise Http404("The evidence file is missing from storage.")
        response = FileResponse(handle, as_attachment=True, filename=filename, content_type=evidence.content_type)
    return _private_file_headers(response)


@require_GET
@capability_required("case.view")
def evidence_preview(request, pk):
    """The blurred derivative of an evidence image (made on upload): safe to show before a reveal."""
    try:
        evidence = workflow.evidence_for(evidence_id=pk, actor=request.user)
    except DomainError as exc:
        raise Http404(exc.message)
    if not evidence.preview:
        raise Http404("This evidence has no blurred preview.")
    try:
        handle = evidence.preview.open("rb")
    except FileNotFoundError:
        raise Http404("The preview file is missing from storage.")
    response = FileResponse(handle, content_type="image/jpeg")
    response["Content-Disposition"] = f'inline; filename="evidence-{evidence.pk}-blurred.jpg"'
    return _private_file_headers(response)


@require_POST
@capability_required("case.work")
def case_category(request, pk):
    return _act(
        request, pk,
        lambda: workflow.case_change_category(case=pk, category=request.POST.get("category", ""),
                                              reason=request.POST.get("reason", ""), actor=request.user),
        "Category changed to {result.category}.",
    )


@require_POST
@capability_required("case.work")
def case_priority(request, pk):
    return _act(
        request, pk,
        lambda: workflow.case_change_priority(case=pk, priority=request.POST.get("priority", ""),
                                              reason=request.POST.get("reason", ""), actor=request.user),
        "Priority changed to P{result.priority}; SLA due times follow it.",
    )


@require_POST
@capability_required("case.work")
def case_tags(request, pk):
    return _act(
        request, pk,
        lambda: workflow.case_tags_set(case=pk, names=request.POST.get("tags", ""), actor=request.user),
        "Tags saved.", fragments=["header", "timeline"],
    )


@require_POST
@capability_required("case.work")
def case_hold(request, pk):
    target = request.POST.get("helper", "")
    kind, _, ident = target.partition(":")
    return _act(
        request, pk,
        lambda: workflow.case_hold(
            case=pk, reason=request.POST.get("reason", ""), actor=request.user,
            helper=ident if kind == "user" and ident else None, team=ident if kind == "team" and ident else None,
        ),
        "Case {result.pk} is on hold until your helper answers.",
    )


@require_POST
@capability_required("case.work")
def case_resume(request, pk):
    return _act(request, pk, lambda: workflow.case_resume(case=pk, actor=request.user),
                "Case {result.pk} is back in review with {result.assignee}.")


@require_POST
@capability_required("case.work")
def case_handoff(request, pk):
    return _act(
        request, pk,
        lambda: workflow.case_handoff(case=pk, to_user=request.POST.get("to", ""), actor=request.user,
                                      reason=request.POST.get("reason", "")),
        "Case {result.pk} handed to {result.assignee}.",
    )


@require_POST
@capability_required("case.work")
def case_resolve(request, pk):
    return _act(
        request, pk,
        lambda: workflow.case_resolve_no_violation(case=pk, reason=request.POST.get("reason", ""), actor=request.user),
        "Case {result.pk} resolved as no violation; reporters will be told.",
    )


# --------------------------------------------------------------------------- lists


@require_GET
@capability_required("case.view")
def my_work(request):
    return render(request, "cases/my_work.html", {"work": selectors.my_work(request.user)})


@require_GET
@capability_required("case.view")
def case_search(request):
    query = request.GET.get("q", "").strip()[:200]
    results = selectors.case_search(request.user, query) if query else []
    return render(request, "cases/search.html", {"query": query, "results": results})


# Column → (sort when first clicked, the other direction).
SORT_COLUMNS = {"id": ("-id", "id"), "priority": ("priority", "-priority"), "due": ("due", "-due")}


def _sort_links(params, sort: str) -> dict:
    """Per sortable column: the URL that sorts by it (the other direction when already sorted so),
    and its aria-sort state."""
    links = {}
    for column, (first, second) in SORT_COLUMNS.items():
        query = params.copy()
        query["sort"] = second if sort == first else first
        active = sort in (first, second)
        links[column] = {"url": "?" + query.urlencode(),
                         "state": ("descending" if sort.startswith("-") else "ascending") if active else ""}
    return links


@require_GET
@capability_required("case.view")
def case_list(request):
    """All cases the user may see, filtered with the same FilterSet as GET /api/v1/cases/, sorted by
    a column, with a (capped) count of matches and the user's saved filters."""
    params = request.GET.copy()
    cursor = params.pop("before", [""])[-1]
    sort = params.get("sort") or "-id"
    if sort not in selectors.CASE_SORTS:
        sort = "-id"
    filterset = CaseFilter(params, queryset=selectors.case_queryset(), request=request)
    rows, next_before, count = [], None, None
    if filterset.is_valid():
        rows, next_before = selectors.case_list(request.user, filterset.qs, sort=sort, cursor=cursor,
                                                statuses=filterset.form.cleaned_data.get("status") or ())
        count = selectors.case_count(request.user, filterset.qs)
    context = {
        "filter": filterset, "cases": rows, "next_before": next_before, "query": params.urlencode(),
        "count": count, "sort": sort, "sort_links": _sort_links(params, sort),
        "saved_filters": selectors.saved_filters(request.user), "current_query": saved_filters.clean_query(params.urlencode()),
    }
    if request.htmx:
        return render(request, "cases/_case_rows.html", context)
    return render(request, "cases/case_list.html", context)


@require_POST
@capability_required("case.view")
def saved_filter_save(request):
    try:
        saved = saved_filters.saved_filter_save(user=request.user, name=request.POST.get("name", ""),
                                                query=request.POST.get("query", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("case-list") + "?" + saved_filters.clean_query(request.POST.get("query", "")))
    messages.success(request, f"Filter \u201c{saved.name}\u201d saved.")
    return redirect(reverse("case-list") + ("?" + saved.query if saved.query else ""))


@require_POST
@capability_required("case.view")
def saved_filter_delete(request, pk):
    try:
        saved_filters.saved_filter_delete(user=request.user, filter_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Saved filter deleted.")
    return redirect("case-list")
