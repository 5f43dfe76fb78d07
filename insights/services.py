"""Insights writes: statements of reasons and their submission, KPI targets, export jobs.

The statement sweep is a clock like the others (DESIGN §4.4): a beat task finds applied restrictive
actions without a statement, writes their statements in bulk, and hands valid unsubmitted ones to
the outbox in batches of at most 100, under an advisory lock so a second beat does no harm.
Enforcement never calls insights: a statement exists within one sweep interval of the action.
"""

import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases.models import Report
from enforcement.models import EnforcementAction
from tsconsole.errors import InvalidInput
from tsconsole.models import OutboxMessage, WebhookEndpoint
from tsconsole.services import audit_record, outbox_enqueue

from . import dsa
from .models import ExportJob, KpiTarget, SorBatch, StatementOfReasons

SOR_TOPIC = "dsa.statements"
SOR_BATCH_SIZE = 100  # the Transparency Database's multiple-statements endpoint takes at most 100
SOR_BUILD_CHUNK = 1000
SOR_SWEEP_LOCK = 0x7473_5F53_4F52  # "ts_SOR": the advisory lock key of the statement sweep
SWEEP_SECONDS = 20.0


def _advisory_xact_lock(key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


def _actions_without_statement():
    return (
        EnforcementAction.objects
        .filter(action_type__in=dsa.RESTRICTIONS, status__in=dsa.APPLIED_STATUSES, applied_at__isnull=False)
        .filter(~Exists(StatementOfReasons.objects.filter(action_id=OuterRef("pk"))))
        .order_by("id")
    )


def sor_build(*, limit: int = SOR_BUILD_CHUNK) -> int:
    """Write the statements of up to `limit` applied restrictions that have none; returns how many."""
    actions = list(
        _actions_without_statement()
        .select_related("target", "target__author", "case", "case__category", "policy", "policy_version")[:limit]
    )
    if not actions:
        return 0
    case_ids = {a.case_id for a in actions}
    first_reports = {
        r.case_id: r for r in Report.objects.filter(case_id__in=case_ids)
        .select_related("trusted_flagger").order_by("case_id", "received_at", "id").distinct("case_id")
    }
    now = timezone.now()
    rows = []
    for action in actions:
        try:
            statement = dsa.statement_for(action, first_report=first_reports.get(action.case_id))
            errors = dsa.statement_errors(statement)
        except Exception as exc:  # a bad row is recorded and skipped; it never stops the sweep
            statement = {"puid": dsa.puid_for(action.pk)}
            errors = {"statement": [f"Could not be built: {type(exc).__name__}: {exc}"]}
        rows.append(StatementOfReasons(
            action_id=action.pk, puid=statement["puid"], statement=statement, errors=errors,
            applied_at=action.applied_at, created_at=now,
        ))
    # a concurrent run may have written some of them: the unique action makes that harmless
    StatementOfReasons.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def sor_endpoints() -> list[WebhookEndpoint]:
    """The configured receivers: active webhook endpoints that name the statements topic explicitly
    (an endpoint subscribed to every topic does not receive regulatory filings by accident)."""
    return [e for e in WebhookEndpoint.objects.filter(is_active=True).order_by("id") if SOR_TOPIC in (e.topics or [])]


def sor_submit_batch(*, endpoints: list[WebhookEndpoint]) -> int:
    """Hand up to 100 valid unsubmitted statements to the outbox as one batch (one delivery per
    endpoint, in the same transaction that marks them batched); returns how many."""
    with transaction.atomic():
        ids = list(
            StatementOfReasons.objects.filter(batch__isnull=True, errors={}).order_by("id")
            .select_for_update(skip_locked=True).values_list("id", flat=True)[:SOR_BATCH_SIZE]
        )
        if not ids:
            return 0
        statements = list(StatementOfReasons.objects.filter(id__in=ids).order_by("id").values_list("statement", flat=True))
        batch = SorBatch.objects.create(created_at=timezone.now(), size=len(ids), endpoints=len(endpoints))
        StatementOfReasons.objects.filter(id__in=ids).update(batch=batch)
        for endpoint in endpoints:
            outbox_enqueue(
                topic=SOR_TOPIC, channel=OutboxMessage.Channel.WEBHOOK, endpoint=endpoint,
                payload={"statements": statements}, idempotency_key=f"{SOR_TOPIC}:batch{batch.pk}:ep{endpoint.pk}",
            )
    return len(ids)


def sor_sweep(*, max_seconds: float = SWEEP_SECONDS) -> dict[str, int]:
    """Beat task: write missing statements, then submit what is valid and waiting (when a receiver
    is configured). Safe to run twice at once: the second run finds the lock taken and returns."""
    started = time.monotonic()
    counts = {"built": 0, "submitted": 0}
    with transaction.atomic():
        if not _advisory_xact_lock(SOR_SWEEP_LOCK):
            return {"skipped": 1}
        while time.monotonic() - started < max_seconds:
            built = sor_build()
            counts["built"] += built
            if built < SOR_BUILD_CHUNK:
                break
        endpoints = sor_endpoints()
        while endpoints and time.monotonic() - started < max_seconds:
            sent = sor_submit_batch(endpoints=endpoints)
            counts["submitted"] += sent
            if sent < SOR_BATCH_SIZE:
                break
    return counts


# ------------------------------------------------------------------------------------------ targets


def kpi_target_set(*, key: str, target, actor) -> KpiTarget:
    """A lead sets the target of one KPI; audited with the previous value."""
    from .kpis import KPIS

    kpi = KPIS.get(key)
    if kpi is None:
        raise InvalidInput(f"There is no KPI {key!r}.", field_errors={"key": ["Unknown KPI."]})
    try:
        value = Decimal(str(target).strip().rstrip("%"))
    except ArithmeticError:
        raise InvalidInput("The target must be a number.", field_errors={"target": ["Enter a number."]})
    low = Decimal("-1e7") if kpi.unit == "cases" else Decimal(0)
    if not value.is_finite() or value < low or (kpi.unit == "%" and value > 100) or (kpi.unit == "/5" and value > 5) or value >= Decimal("1e7"):
        limit = "between 0 and 100" if kpi.unit == "%" else "between 0 and 5" if kpi.unit == "/5" else ("a whole number" if kpi.unit == "cases" else "zero or more")
        raise InvalidInput(f"The target of “{kpi.label}” must be {limit}.", field_errors={"target": [f"Must be {limit}."]})
    value = value.quantize(Decimal("0.01"))
    with transaction.atomic():
        row = KpiTarget.objects.select_for_update().filter(key=key).first()
        previous = row.target if row else kpi.default_target
        if row is None:
            row = KpiTarget(key=key)
        row.target, row.updated_by, row.updated_at = value, actor, timezone.now()
        row.save()
        audit_record(actor=actor, verb="insights.kpi_target_set", object_type="kpi", object_ref=key,
                     data={"from": str(previous), "to": str(value)})
    return row


# ------------------------------------------------------------------------------------------ exports


def export_job_start(*, user, kind: str, params: dict, total: int) -> ExportJob:
    """Record a large export and queue the worker that writes it (after the row is committed)."""
    from . import exports, tasks

    if kind not in exports.EXPORTS:
        raise InvalidInput(f"Unknown export {kind!r}.")
    with transaction.atomic():
        job = ExportJob.objects.create(user=user, kind=kind, params=params, total=total, created_at=timezone.now())
        audit_record(actor=user, verb="insights.export_started", object_type="export", object_ref=job.pk,
                     data={"kind": kind, "params": params, "rows": total})
        transaction.on_commit(lambda: tasks.run_export.delay(job.pk))
    return job
