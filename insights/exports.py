"""CSV exports: every table streams as CSV; an export of many rows runs as a Celery job.

An export kind names a header and a row generator over its parameters (the page's filters). Small
ones stream straight from a server-side cursor (`iterator()`), so memory stays flat; more rows than
INSIGHTS_EXPORT_INLINE_MAX become an ExportJob whose file the requester downloads when ready.
"""

import csv
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import ExportJob, StatementOfReasons

PROGRESS_EVERY = 1000


class _Echo:
    def write(self, value):
        return value


def stream_csv(filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A CSV download produced row by row."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # spreadsheet programs read UTF-8 only with a BOM
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def table_csv(filename: str, table: dict) -> StreamingHttpResponse:
    """Stream a dashboard table ({"columns": [...], "rows": [[...], ...]}) as CSV."""
    return stream_csv(filename, table["columns"], table["rows"])


@dataclass(frozen=True)
class Export:
    header: list[str]
    count: Callable[[dict], int]
    rows: Callable[[dict], Iterable[list]]


# ---------------------------------------------------------------------------------------- kinds

STATEMENT_FIELDS = [
    "puid", "application_date", "category", "decision_ground", "decision_visibility", "decision_account",
    "decision_provision", "decision_monetary", "content_type", "source_type", "automated_detection",
    "automated_decision", "end_date_visibility_restriction", "end_date_account_restriction",
    "end_date_service_restriction", "end_date_monetary_restriction", "decision_facts",
]


def _statements_qs(params: dict):
    from .filters import period_from

    period = period_from(params, default_days=30, max_days=36600)
    return StatementOfReasons.objects.filter(errors={}, applied_at__gte=period.start, applied_at__lt=period.end)


def _statement_rows(params: dict):
    for statement in _statements_qs(params).order_by("applied_at", "id").values_list("statement", flat=True).iterator(
            chunk_size=2000):
        yield [";".join(v) if isinstance(v := statement.get(f, ""), list) else v for f in STATEMENT_FIELDS]


def _kpi_cases_count(params: dict) -> int:
    from . import kpis

    return kpis.cases_behind(params).count()


def _kpi_case_rows(params: dict):
    from . import kpis

    yield from kpis.case_rows(kpis.cases_behind(params))


EXPORTS: dict[str, Export] = {
    "statements": Export(STATEMENT_FIELDS, lambda p: _statements_qs(p).count(), _statement_rows),
    "kpi_cases": Export(["case", "queue", "priority", "status", "opened_at", "resolved_at", "resolved_by",
                         "category"], _kpi_cases_count, _kpi_case_rows),
}


# ---------------------------------------------------------------------------------------- jobs


def job_path(job: ExportJob) -> str:
    return os.path.join(settings.INSIGHTS_EXPORT_DIR, f"export-{job.pk}.csv")


def run_job(job_id: int) -> str:
    """Write the job's file, recording progress; returns its final status."""
    taken = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(status=ExportJob.Status.RUNNING)
    if not taken:
        return "skipped"
    job = ExportJob.objects.get(pk=job_id)
    export = EXPORTS[job.kind]
    path = job_path(job)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    written = 0
    try:
        with open(path + ".part", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            handle.write("\ufeff")
            writer.writerow(export.header)
            for row in export.rows(job.params):
                writer.writerow(row)
                written += 1
                if written % PROGRESS_EVERY == 0:
                    ExportJob.objects.filter(pk=job.pk).update(written=written)
        os.replace(path + ".part", path)
    except Exception as exc:  # the requester sees why; the partial file is removed
        if os.path.exists(path + ".part"):
            os.remove(path + ".part")
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}",
                                                   finished_at=timezone.now(), written=written)
        return "failed"
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, written=written, total=max(written, job.total),
        filename=os.path.basename(path), finished_at=timezone.now())
    return "done"


def rows_as_csv_text(header, rows) -> str:
    """For tests and small answers: the CSV text of a header and rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
