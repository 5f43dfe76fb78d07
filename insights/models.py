"""Insights: DSA statements of reasons and their submission batches, hourly rollups of the case
timeline, KPI targets set by leads, and CSV export jobs.

Rollup rows are derived data: `services.rollup_hours` rewrites whole hours from the append-only
CaseEvent timeline, so they can always be rebuilt (and a test holds them equal to a recomputation).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class StatementOfReasons(models.Model):
    """The DSA statement of reasons for one restrictive enforcement action (Art. 17, 24(5)).

    `statement` is the exact JSON the Transparency Database accepts; `errors` lists the rules it
    breaks (then it is not submitted). `batch` is set once it was handed to the outbox.
    """

    action = models.OneToOneField("enforcement.EnforcementAction", on_delete=models.PROTECT, related_name="+")
    puid = models.CharField(max_length=500, unique=True)
    statement = models.JSONField()
    errors = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(help_text="When the action took effect (the statement's application date).")
    created_at = models.DateTimeField()
    batch = models.ForeignKey("SorBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="statements")

    class Meta:
        ordering = ["applied_at", "id"]
        verbose_name = "statement of reasons"
        verbose_name_plural = "statements of reasons"
        indexes = [
            models.Index(fields=["applied_at", "id"], name="sor_applied"),
            # the transparency page's statement status counts a year of statements from the indexes
            # alone (the rows carry the whole statement): all of them with their batch, and the
            # few the rules refused in a partial index of their own
            models.Index(fields=["applied_at"], include=["batch"], name="sor_applied_batch"),
            models.Index(fields=["applied_at"], include=["batch"], condition=~Q(errors={}), name="sor_invalid"),
            # the submission sweep walks only valid statements not yet handed to the outbox
            models.Index(fields=["id"], condition=Q(batch__isnull=True, errors={}), name="sor_unbatched"),
        ]

    def __str__(self):
        return self.puid


class SorBatch(models.Model):
    """Up to 100 statements sent together (the database's multiple-statement endpoint's limit)."""

    created_at = models.DateTimeField()
    size = models.PositiveSmallIntegerField()
    endpoints = models.PositiveSmallIntegerField(default=0, help_text="Deliveries written (one per endpoint).")

    class Meta:
        ordering = ["-id"]
        verbose_name = "statement batch"

    def __str__(self):
        return f"batch {self.pk} ({self.size})"


class QueueHour(models.Model):
    """One hour of one queue and priority: inflow, outflow and SLA clocks that ended in the hour."""

    hour = models.DateTimeField()
    queue = models.ForeignKey("cases.Queue", on_delete=models.CASCADE, related_name="+", db_index=False)
    priority = models.PositiveSmallIntegerField()
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    first_touch_total = models.PositiveIntegerField(default=0)
    first_touch_met = models.PositiveIntegerField(default=0)
    resolution_total = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "queue", "priority"], name="queue_hour_unique")]

    def __str__(self):
        return f"{self.queue_id} P{self.priority} @ {self.hour:%Y-%m-%d %H}h"


class StateHour(models.Model):
    """Time cases spent in one status, for stints that ended in the hour, by queue and by the
    person whose act started the stint (the claimer for "in review"; none for "open")."""

    hour = models.DateTimeField()
    queue = models.ForeignKey("cases.Queue", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20)
    seconds = models.BigIntegerField(default=0)
    stints = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["hour", "queue"], name="state_hour_hour")]

    def __str__(self):
        return f"{self.state} {self.seconds}s @ {self.hour:%Y-%m-%d %H}h"


class AnalystHour(models.Model):
    """What one person finished in the hour in one queue: resolutions, and the review time of them."""

    hour = models.DateTimeField()
    queue = models.ForeignKey("cases.Queue", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "queue", "user"], name="analyst_hour_unique")]

    def __str__(self):
        return f"{self.user_id} {self.resolved} @ {self.hour:%Y-%m-%d %H}h"


class RollupState(models.Model):
    """The rollup's bookmark: every hour before `complete_before` is final (singleton row)."""

    key = models.CharField(max_length=20, unique=True, default="hourly")
    complete_before = models.DateTimeField(null=True)
    last_run_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"rollup complete before {self.complete_before}"


class KpiTarget(models.Model):
    """A lead's target for one KPI (absent: the default from insights.kpis)."""

    key = models.CharField(max_length=60, unique=True)
    target = models.DecimalField(max_digits=10, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.key} → {self.target}"


class ExportJob(models.Model):
    """A large CSV export written by a Celery worker; the requester polls its progress and downloads it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    filename = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"export {self.pk} {self.kind} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.written / self.total) if self.total else 0


class NoticeDay(models.Model):
    """Notices (reports) received on one UTC day in one category from one source: the transparency
    report's notice counts read these instead of every report of the period.

    Maintained in PostgreSQL by statement-level triggers on the reports table (every path that
    writes reports, bulk intake and raw SQL included, adds its rows' counts in the same transaction;
    an update that moves a report, or a delete, adds the matching negative counts). A trigger only
    *appends* rows, so concurrent intake never waits on a shared counter row; a day may hold several
    rows per key until `services.notice_days_compact` merges them. The figure of a day is always the
    sum of its rows, and a test holds it equal to a count of the reports."""

    day = models.DateField()
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=24)
    notices = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="notice_day_day")]

    def __str__(self):
        return f"{self.day} {self.category_id} {self.source}: {self.notices}"


class CaseFirstNotice(models.Model):
    """When a case's first notice was received (the earliest received_at of its reports): the
    transparency report's median time from notice to action joins this narrow table instead of
    finding the earliest report of every action's case. Kept by a trigger on the reports table
    (the earliest of what is inserted, recomputed when a report moves or goes); cases without
    reports (appeals) have no row."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="+")
    received_at = models.DateTimeField()

    def __str__(self):
        return f"case {self.case_id} first notice {self.received_at:%Y-%m-%d %H:%M}"
