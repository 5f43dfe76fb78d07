"""Exposure to sensitive material: a case page in view beats once a minute, and only a case whose
category is sensitive counts. Counting itself (one minute at most once per person, the stretch and
its break prompt) is tsconsole's `exposure_record`, shared by every page that shows such material."""

from tsconsole.services import ExposureTick, exposure_record

from ..models import Case


def case_exposure_tick(*, case: Case, actor, now=None, zone=None) -> ExposureTick:
    """One heartbeat of `actor` on `case`'s page (the caller has checked they may see the case)."""
    if not case.category.sensitive:
        return ExposureTick(counted=False, reason="This case's category is not sensitive: its time is not counted.")
    return exposure_record(user=actor, now=now, zone=zone)
