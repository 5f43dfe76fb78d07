"""Telling reporters what became of their reports: one notice per distinct reporter per decision."""

from tsconsole.services import outbox_publish

from ..models import Case


def reporters_notify(case: Case, *, action_taken: bool, decision_ref: str) -> int:
    """Queue one `report.outcome` message per distinct reporter of the case (never one per report).

    The payload says only whether action was taken: no analyst, rationale, or other reporter.
    `decision_ref` keys the messages so a retried decision notifies nobody twice. Call inside the
    decision's transaction.
    """
    reporters = (
        case.reports.exclude(reporter_ref="").values_list("reporter_ref", flat=True).distinct().order_by("reporter_ref")
    )
    sent = 0
    for reporter_ref in reporters:
        report_ids = list(
            case.reports.filter(reporter_ref=reporter_ref).order_by("received_at").values_list("external_id", flat=True)
        )
        outbox_publish(
            topic="report.outcome",
            payload={
                "reporter": {"external_id": reporter_ref},
                "reports": report_ids,
                "subject": {"kind": case.subject.kind, "external_id": case.subject.external_id},
                "outcome": "action_taken" if action_taken else "no_action",
            },
            key=f"report.outcome:{decision_ref}:{reporter_ref}",
        )
        sent += 1
    return sent
