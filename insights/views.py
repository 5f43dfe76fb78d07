"""Insights pages: queue health, team, KPIs, the cases behind a KPI, the transparency report, and
export jobs. Views parse filters, check the role, call one read, render; every table exports CSV
with `?export=<table>` (streamed), and the case lists become a background job when they are large.
"""

import os
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases.models import Queue
from enforcement.models import Policy
from tsconsole.errors import DomainError
from tsconsole.models import Team
from tsconsole.roles import can, capability_required

from . import charts, dashboards, exports, kpis, selectors, services
from .filters import filters_from, shared_period_figures
from .models import ExportJob
from .transparency import transparency_report

CASE_PAGE = 100


def _filter_context(request, params, *, default_days=7):
    """(filters or None, context with the filter form's choices and any errors)."""
    context = {
        "queues": Queue.objects.filter(is_active=True).order_by("position", "name"),
        "teams": Team.objects.order_by("name"),
        "policies": Policy.objects.filter(is_active=True).order_by("name"),
        "params": params, "filter_errors": {},
    }
    try:
        f = filters_from(params, default_days=default_days)
    except DomainError as exc:
        context["filter_errors"] = exc.field_errors
        context["filter_message"] = exc.message
        return None, context
    context["f"] = f
    context["from_value"] = f.period.start.strftime("%Y-%m-%d")
    context["to_value"] = (f.period.end - timedelta(microseconds=1)).strftime("%Y-%m-%d")
    return f, context


def _export_table(request, tables: dict, name: str):
    table = tables.get(request.GET.get("export", ""))
    if table is None:
        return None
    return exports.table_csv(f"{name}-{request.GET['export']}.csv", table)


@capability_required("insights.view")
def home(request):
    return redirect("insights-queues" if can(request.user, "insights.lead") else "insights-team")


@capability_required("insights.lead")
def queues(request):
    f, context = _filter_context(request, request.GET, default_days=1)
    if f is None:
        return render(request, "insights/queues.html", context, status=400)
    data = dashboards.queue_health(f)
    csv = _export_table(request, {"backlog": data["backlog"], "ages": data["ages"], "flow": data["flow"],
                                  "sla": data["sla"], "forecast": data["forecast"]}, "queue-health")
    if csv is not None:
        return csv
    flow_rows = data["flow"]["rows"]
    context.update(
        data=data, tab="queues",
        age_chart=charts.bars(data["age_total"], chart_id="backlog-age", title="Open cases by age"),
        flow_chart=charts.grouped_bars([(r[0], [r[1], r[2]]) for r in flow_rows], series=["Inflow", "Outflow"],
                                       chart_id="flow", title="Inflow and outflow"),
        forecast_chart=charts.bars(data["forecast_total"], chart_id="forecast", title="Breaches expected",
                                   color=charts.PALETTE[3]),
    )
    return render(request, "insights/queues.html", context)


@capability_required("insights.view")
def team(request):
    f, context = _filter_context(request, request.GET)
    lead = can(request.user, "insights.lead")
    context.update(tab="team", lead=lead)
    if f is None:
        return render(request, "insights/team.html", context, status=400)
    data, computed_at = shared_period_figures("team" if lead else f"team-of-{request.user.pk}", request.GET,
                                              lambda: dashboards.team(f, user=None if lead else request.user))
    csv = _export_table(request, {k: data[k] for k in ("analysts", "states", "decisions", "escalations", "quality")},
                        "team")
    if csv is not None:
        return csv
    context.update(
        data=data, computed_at=computed_at,
        throughput_chart=charts.grouped_bars([(r[0], [r[1], r[2]]) for r in data["analysts"]["rows"]],
                                             series=["Resolved", "Weighted"], chart_id="throughput",
                                             title="Throughput"),
        state_chart=charts.bars([(r[0], r[2]) for r in data["states"]["rows"]], chart_id="time-in-state",
                                title="Average minutes in each state", color=charts.PALETTE[2]),
    )
    return render(request, "insights/team.html", context)


@capability_required("insights.lead")
def kpi_list(request):
    f, context = _filter_context(request, request.GET)
    context["tab"] = "kpis"
    if f is None:
        return render(request, "insights/kpis.html", context, status=400)
    values, computed_at = shared_period_figures("kpi-values", request.GET, lambda: kpis.values_for(f))
    rows = kpis.compute(f, values)
    table = {"columns": ["KPI", "Value", "Unit", "Target", "Status"],
             "rows": [[r["kpi"].label, r["value"], r["kpi"].unit, r["target"], r["status"]] for r in rows]}
    csv = _export_table(request, {"kpis": table}, "kpis")
    if csv is not None:
        return csv
    context.update(kpis=rows, computed_at=computed_at)
    return render(request, "insights/kpis.html", context)


@require_POST
@capability_required("insights.lead")
def kpi_target(request, key):
    try:
        services.kpi_target_set(key=key, target=request.POST.get("target", ""), actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Target of “{kpis.KPIS[key].label}” saved.")
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/insights/") else reverse("insights-kpis"))


@capability_required("insights.lead")
def kpi_cases(request, key):
    kpi = kpis.KPIS.get(key)
    if kpi is None:
        raise Http404("No such KPI.")
    params = request.GET.copy()
    params["kpi"] = key
    f, context = _filter_context(request, params)
    context.update(tab="kpis", kpi=kpi)
    if f is None:
        return render(request, "insights/kpi_cases.html", context, status=400)
    cases = kpis.cases_behind(params)
    if request.GET.get("export") == "csv":
        return _export_or_job(request, "kpi_cases", params, cases.count(), f"kpi-{key}.csv")
    after = request.GET.get("after", "")
    page = cases.order_by("-id")
    if after.isdigit():
        page = page.filter(id__lt=int(after))
    rows = list(page.select_related("queue", "category", "resolved_by").only(
        "id", "priority", "status", "opened_at", "resolved_at", "queue__name", "category__name",
        "resolved_by__username")[: CASE_PAGE + 1])
    context.update(cases=rows[:CASE_PAGE], more=len(rows) > CASE_PAGE,
                   next_after=rows[CASE_PAGE - 1].pk if len(rows) > CASE_PAGE else None)
    return render(request, "insights/kpi_cases.html", context)


def _export_or_job(request, kind: str, params, total: int, filename: str):
    """Stream a small export at once; start a background job for a large one."""
    clean = {k: v for k, v in params.items() if k not in ("export", "after")}
    if total <= settings.INSIGHTS_EXPORT_INLINE_MAX:
        export = exports.EXPORTS[kind]
        return exports.stream_csv(filename, export.header, export.rows(clean))
    job = services.export_job_start(user=request.user, kind=kind, params=clean, total=total)
    messages.info(request, f"{total:,} rows: the export runs in the background. This page shows its progress.")
    return redirect("insights-export", pk=job.pk)


@capability_required("insights.transparency")
def transparency(request):
    f, context = _filter_context(request, request.GET, default_days=365)
    context["tab"] = "transparency"
    if f is None:
        return render(request, "insights/transparency.html", context, status=400)
    if request.GET.get("export") == "statements":
        params = {"from": f.period.start.isoformat(), "to": f.period.end.isoformat()}
        total = selectors.statement_status(f.period)["total"]
        return _export_or_job(request, "statements", params, total, "statements-of-reasons.csv")
    report, computed_at = shared_period_figures("transparency", request.GET, lambda: transparency_report(f.period))
    # Counting a year of statements reads every one of them (a million a year on a large platform):
    # the counts and the refused ones are shared for a minute too, taken together so that they agree.
    (sor, invalid), sor_counted_at = shared_period_figures("transparency_statements", request.GET, lambda: (
        selectors.statement_status(f.period), selectors.invalid_statements(f.period)))
    context.update(
        report=report, computed_at=computed_at, sor=sor, invalid=invalid, sor_counted_at=sor_counted_at,
        api_query=f"from={f.period.start.isoformat()}&to={f.period.end.isoformat()}".replace("+", "%2B"),
        type_chart=charts.bars([(t["label"], t["count"]) for t in report["actions"]["by_type"]],
                               chart_id="actions-by-type", title="Restrictions by type"),
    )
    return render(request, "insights/transparency.html", context)


@capability_required("insights.view")
def export_detail(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user)
    template = "insights/_export_progress.html" if request.htmx else "insights/export.html"
    return render(request, template, {"job": job, "tab": ""})


@capability_required("insights.view")
def export_download(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user, status=ExportJob.Status.DONE)
    path = exports.job_path(job)
    if not os.path.exists(path):
        raise Http404("The export file is gone; start the export again.")
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=f"{job.kind}-{job.pk}.csv",
                            content_type="text/csv; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def home_action_now_context(request) -> dict:
    """The leads' home panel: the numbers a lead acts on now."""
    return selectors.action_now_counts(now=timezone.now())
