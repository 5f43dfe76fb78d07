"""The Celery app. Periodic work runs as idempotent sweeps registered in BEAT_SCHEDULE."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")

app = Celery("tsconsole")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule(interval_seconds: float) -> dict:
    """Every periodic task: each one is a set-wise sweep that is safe to run twice."""
    return {
        "health-heartbeat": {"task": "tsconsole.tasks.heartbeat", "schedule": 60.0},
        # Claim timeouts are minutes long: a sweep a minute is precise enough.
        "release-idle-claims": {"task": "cases.tasks.release_idle_claims", "schedule": 60.0,
                                "options": {"expires": 120.0}},
        "outbox-relay": _outbox_relay_entry(),
        # SLA clocks and escalation paging; a run queued behind a newer one is redundant.
        "sla-sweep": {"task": "cases.tasks.sla_sweep", "schedule": float(interval_seconds),
                      "options": {"expires": 2 * float(interval_seconds)}},
        "escalation-sweep": {"task": "cases.tasks.escalation_sweep", "schedule": float(interval_seconds),
                             "options": {"expires": 2 * float(interval_seconds)}},
        # Temporary enforcement actions end on time (the platform is told within one interval).
        "enforcement-expiry": {"task": "enforcement.tasks.expire_actions", "schedule": float(interval_seconds),
                               "options": {"expires": 2 * float(interval_seconds)}},
        # Insights: DSA statements of reasons within a minute of an action; hourly rollups of the
        # case timeline kept current every few minutes (the current and previous hour are rewritten).
        "dsa-statements": {"task": "insights.tasks.sor_sweep", "schedule": 60.0, "options": {"expires": 120.0}},
        "insights-rollup": {"task": "insights.tasks.rollup", "schedule": 300.0, "options": {"expires": 600.0}},
        # Notices per day are appended by report writes; merged into one row per key now and then.
        "insights-notice-days": {"task": "insights.tasks.notice_days", "schedule": 600.0,
                                 "options": {"expires": 1200.0}},
        # QA sampling of resolved decisions (qa/sampling.py): idempotent, under an advisory lock.
        "qa-sampling": _qa_sampling_entry(),
    }


def _qa_sampling_entry() -> dict:
    from django.conf import settings

    interval = float(settings.QA_SAMPLING_INTERVAL_SECONDS)
    return {"task": "qa.tasks.draw_samples", "schedule": interval, "options": {"expires": interval}}


def _outbox_relay_entry() -> dict:
    from django.conf import settings

    interval = float(settings.OUTBOX_RELAY_INTERVAL_SECONDS)
    # A queued run older than two intervals is redundant (a newer one is behind it): let it expire.
    return {"task": "tsconsole.tasks.outbox_relay", "schedule": interval, "options": {"expires": 2 * interval}}


@app.on_after_configure.connect
def _install_beat_schedule(sender, **kwargs):
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings.SWEEP_INTERVAL_SECONDS)
