"""The case status machine: the one place that says which status may follow which.

Services consult `check_transition` before every status change; templates and views never do.
"""

from tsconsole.errors import Conflict

from .models import CaseStatus as S

TRANSITIONS: dict[str, set[str]] = {
    S.OPEN: {S.IN_REVIEW, S.ESCALATED, S.RESOLVED},
    S.IN_REVIEW: {S.OPEN, S.ON_HOLD, S.ESCALATED, S.AWAITING_APPROVAL, S.RESOLVED},
    S.ON_HOLD: {S.IN_REVIEW, S.OPEN, S.ESCALATED, S.RESOLVED},
    S.ESCALATED: {S.IN_REVIEW, S.OPEN, S.AWAITING_APPROVAL, S.RESOLVED},
    S.AWAITING_APPROVAL: {S.IN_REVIEW, S.RESOLVED},
    S.RESOLVED: set(),
}


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, set())


def check_transition(from_status: str, to_status: str) -> None:
    if not can_transition(from_status, to_status):
        raise Conflict(
            f"A case that is {S(from_status).label.lower()} cannot become {S(to_status).label.lower()}."
        )
