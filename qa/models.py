"""Quality assurance: sampling rules and the samples they draw, rubrics, blinded audits, feedback to
analysts with disputes and corrections, and calibration sessions.

The unit of QA is a *decision*: the enforcement actions that share a `decision_ref` (one policy,
one rationale, one statement, one proposer and, under the two-person rule, one approver). A
sample points at the decision by its ref and at its first action (`action`) for joins.

Versioning: a sampling rule and a rubric are edited by writing a new version row; samples and
audits keep the version they were drawn or scored with, so a later edit never rewrites history.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from cases.models import Case, Queue
from enforcement.models import ActionType, EnforcementAction, Policy

User = settings.AUTH_USER_MODEL


# --------------------------------------------------------------------------- sampling


class RuleKind(models.TextChoices):
    RANDOM = "random", "Random rate"
    NEW_ANALYST = "new_analyst", "First decisions of new analysts"
    HIGH_IMPACT = "high_impact", "Terminations and high-impact decisions"
    WEEKLY_FLOOR = "weekly_floor", "Weekly floor per analyst"
    OVERTURNED = "overturned", "Decisions overturned on appeal"


class SamplingRule(models.Model):
    """A named sampling rule. What it selects lives in its versions; the newest version is the one
    the sampler runs. Deactivating stops it without losing the samples it drew."""

    name = models.CharField(max_length=120, unique=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0, help_text="The current version number.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SamplingRuleVersion(models.Model):
    """An immutable snapshot of what a rule selects.

    Filters (queue, policy, action type, analyst) narrow every kind. `rate` is the share of
    matching decisions a random rule takes (decided by a hash of the decision and rule, so a
    re-run takes the same ones); `first_n` is how many first decisions of each analyst a
    new-analyst rule takes; `floor_k` is how many decisions per analyst per ISO week a floor rule
    makes sure are sampled (counting samples of every rule). An overturned rule takes every
    decision an appeal overturned or modified, when the appeal is decided.
    """

    rule = models.ForeignKey(SamplingRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action_type = models.CharField(max_length=24, choices=ActionType.choices, blank=True)
    analyst = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rate = models.FloatField(null=True, blank=True)
    first_n = models.PositiveIntegerField(null=True, blank=True)
    floor_k = models.PositiveIntegerField(null=True, blank=True)
    due_days = models.PositiveSmallIntegerField(default=7)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="qa_rule_version_unique"),
            models.CheckConstraint(
                condition=(
                    (Q(kind="random", rate__isnull=False) & Q(rate__gt=0) & Q(rate__lte=1))
                    | Q(kind="new_analyst", first_n__isnull=False, first_n__gte=1)
                    | Q(kind="high_impact")
                    | Q(kind="overturned")
                    | Q(kind="weekly_floor", floor_k__isnull=False, floor_k__gte=1)
                ),
                name="qa_rule_parameters",
            ),
        ]

    def __str__(self):
        return f"{self.rule} v{self.version}"

    @property
    def summary(self) -> str:
        parts = {
            RuleKind.RANDOM: f"{(self.rate or 0) * 100:g}% of decisions",
            RuleKind.NEW_ANALYST: f"first {self.first_n} decisions of each analyst",
            RuleKind.HIGH_IMPACT: "every termination or decision under the two-person rule",
            RuleKind.WEEKLY_FLOOR: f"at least {self.floor_k} per analyst per week",
            RuleKind.OVERTURNED: "every decision overturned or modified on appeal",
        }[self.kind]
        scope = [f"queue {self.queue}" if self.queue_id else "", f"policy {self.policy}" if self.policy_id else "",
                 self.get_action_type_display() if self.action_type else "",
                 f"analyst {self.analyst}" if self.analyst_id else ""]
        scope = [s for s in scope if s]
        return parts + (f" ({', '.join(scope)})" if scope else "")


class Decision(models.Model):
    """One enforcement decision that took effect, as the sampler reads it: the actions sharing a
    `decision_ref` with `applied_at` set, grouped into one row.

    A projection kept by PostgreSQL triggers on enforcement's action table (migration
    qa/0005): enforcement may not import QA, and the sampler must not group a week of actions
    into decisions on every pass. `txid` is the id of the transaction that last wrote the row
    (`pg_current_xact_id()`): the sampler's high-water mark is a transaction id, not a time, so
    a decision committed late (its transaction started before a pass, committed after it) is
    read by the next pass whatever its `decided_at`. Written only by the triggers.
    """

    decision_ref = models.UUIDField(primary_key=True)
    action = models.ForeignKey(EnforcementAction, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
                               help_text="The decision's first action.")
    case = models.ForeignKey(Case, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    analyst = models.ForeignKey(User, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    approver = models.ForeignKey(User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    decided_at = models.DateTimeField(help_text="When the decision took effect (its first action's applied_at).")
    is_termination = models.BooleanField()
    two_person = models.BooleanField()
    types = ArrayField(models.CharField(max_length=24))
    txid = models.BigIntegerField(help_text="The transaction that last wrote this row (pg_current_xact_id).")

    class Meta:
        db_table = "qa_decision"
        indexes = [
            models.Index(fields=["decided_at"], name="qa_decision_decided"),
            # an analyst's first decisions (new-analyst rule) and their week (weekly floor)
            models.Index(fields=["analyst", "decided_at", "decision_ref"], name="qa_decision_analyst"),
            # the incremental pass: decisions written since the rule's mark
            models.Index(fields=["txid"], name="qa_decision_txid"),
            # the high-impact rule over a whole window: one decision in a hundred or so
            models.Index(fields=["decided_at"], condition=Q(is_termination=True) | Q(two_person=True),
                         name="qa_decision_high_impact"),
        ]

    def __str__(self):
        return f"Decision {self.decision_ref}"


class SamplingWatermark(models.Model):
    """How far a rule's version has read: every decision written by a transaction older than
    `txid` was seen by a pass of this version. Advanced in the pass's transaction, with the
    samples. A new version (or a new rule) has none and starts from the lookback window."""

    rule = models.OneToOneField(SamplingRule, on_delete=models.CASCADE, primary_key=True, related_name="watermark")
    rule_version = models.ForeignKey(SamplingRuleVersion, on_delete=models.CASCADE, related_name="+")
    txid = models.BigIntegerField(help_text="The oldest transaction still running when the pass read (pg_snapshot_xmin).")
    passed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.rule} read to transaction {self.txid}"


class SampleStatus(models.TextChoices):
    DUE = "due", "Due"
    REVIEWED = "reviewed", "Reviewed"


class Sample(models.Model):
    """A decision drawn for review by a rule. At most one per (rule, decision), enforced by the
    database; the reviewer is never the decision's analyst or approver (a CHECK constraint over
    the analyst and approver copied here when the sample is drawn)."""

    # A first pass over a million decisions draws some 60,000 samples in one transaction, and
    # every index and foreign-key check is paid per row: seven deferred FK checks a row cost more
    # than the rest of the pass (400,000 lookups at commit). So the references carry no database
    # FK constraint: the sampler copies them from rows it has just read (qa_decision, the rule,
    # its version, the reviewer pool), the services from locked rows, and none of the rows they
    # point at is ever deleted (PROTECT still guards every delete through the ORM). Indexes: none
    # on rule (qa_sample_once_per_rule leads with it), analyst (qa_sample_analyst_decided), nor
    # the version, action and approver, which nothing looks samples up by.
    rule = models.ForeignKey(SamplingRule, on_delete=models.PROTECT, related_name="samples", db_index=False,
                             db_constraint=False)
    rule_version = models.ForeignKey(SamplingRuleVersion, on_delete=models.PROTECT, related_name="samples",
                                     db_index=False, db_constraint=False)
    decision_ref = models.UUIDField()
    action = models.ForeignKey(EnforcementAction, on_delete=models.PROTECT, related_name="+", db_index=False,
                               db_constraint=False, help_text="The decision's first action.")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    analyst = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    approver = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    reviewer = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 db_constraint=False)
    decided_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=SampleStatus.choices, default=SampleStatus.DUE)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "decision_ref"], name="qa_sample_once_per_rule"),
            models.CheckConstraint(
                condition=Q(reviewer__isnull=True) | (~Q(reviewer=F("analyst")) & (
                    Q(approver__isnull=True) | ~Q(reviewer=F("approver")))),
                name="qa_sample_no_self_review",
            ),
        ]
        indexes = [
            # the reviewer's queue in its order (due_at, id: no sort), and every due/overdue/unassigned
            # count from the index alone
            models.Index(fields=["reviewer", "due_at", "id"], condition=Q(status="due"), name="qa_sample_due_queue"),
            models.Index(fields=["analyst", "decided_at"], name="qa_sample_analyst_decided"),
            models.Index(fields=["decision_ref"], name="qa_sample_decision"),
            # the calibration form suggests the latest reviewed cases
            models.Index(fields=["-reviewed_at"], condition=Q(status="reviewed"), name="qa_sample_reviewed"),
        ]

    def __str__(self):
        return f"Sample {self.pk} of case {self.case_id}"


# --------------------------------------------------------------------------- rubrics


class Rubric(models.Model):
    """A versioned scoring rubric for a policy (policy empty: the default for policies without
    their own). Only the newest version of a policy's rubric is current; audits keep theirs."""

    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text="Weighted score (0–100) below which an audit is at least minor.")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "version"], name="qa_rubric_version_unique"),
            models.UniqueConstraint(fields=["version"], condition=Q(policy__isnull=True), name="qa_rubric_default_version_unique"),
        ]

    def __str__(self):
        return f"Rubric {self.policy or 'default'} v{self.version}"


class RubricCriterion(models.Model):
    """One scored criterion (1–5) with its weight. Scoring a critical criterion 1 or 2 fails the
    audit as critical whatever the weighted score."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    help_text = models.CharField(max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    critical = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rubric", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["rubric", "key"], name="qa_criterion_key_unique")]

    def __str__(self):
        return self.label


# --------------------------------------------------------------------------- audits


class Outcome(models.TextChoices):
    AGREE = "agree", "Agree"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class Audit(models.Model):
    """A reviewer's blind verdict on a sample: their own decision and the rubric scores, then the
    comparison with the original (written once; arbitration may change `final_outcome`)."""

    sample = models.OneToOneField(Sample, on_delete=models.PROTECT, related_name="audit")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="audits")
    # the reviewer's own decision
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action_types = models.JSONField(default=list, help_text="Sorted action types; [\"no_violation\"] for no violation.")
    scores = models.JSONField(default=dict)
    score = models.FloatField(help_text="Weighted rubric score, 0–100.")
    critical_miss = models.BooleanField(default=False)
    # the comparison
    original_policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    original_action_types = models.JSONField(default=list)
    policy_match = models.BooleanField()
    actions_match = models.BooleanField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    final_outcome = models.CharField(max_length=10, choices=Outcome.choices)
    feedback = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="qa_audit_recent")]

    def __str__(self):
        return f"Audit of sample {self.sample_id}: {self.outcome}"


class FeedbackStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DISPUTED = "disputed", "Disputed"
    UPHELD = "upheld", "Dispute rejected"
    OVERTURNED = "overturned", "Dispute accepted"


class Feedback(models.Model):
    """A disagreement sent back to the analyst: in their inbox until acknowledged or disputed."""

    audit = models.OneToOneField(Audit, on_delete=models.PROTECT, related_name="feedback_item")
    analyst = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=14, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW)
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["analyst", "-created_at"], name="qa_feedback_inbox")]

    def __str__(self):
        return f"Feedback on audit {self.audit_id}"


class Dispute(models.Model):
    """An analyst contesting an audit; a lead (not the reviewer, not the analyst) arbitrates."""

    class Ruling(models.TextChoices):
        UPHELD = "upheld", "Audit upheld"
        OVERTURNED = "overturned", "Audit overturned"

    feedback = models.OneToOneField(Feedback, on_delete=models.PROTECT, related_name="dispute")
    reason = models.TextField()
    created_at = models.DateTimeField()
    ruling = models.CharField(max_length=12, choices=Ruling.choices, blank=True)
    ruled_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    arbiter = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    arbiter_note = models.TextField(blank=True)
    ruled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], condition=Q(ruling=""), name="qa_dispute_open")]

    def __str__(self):
        return f"Dispute of audit {self.feedback.audit_id}"


class Correction(models.Model):
    """A lead's correction of an audited decision, carried out through enforcement's services:
    the original's restrictions that the corrected decision drops are reversed (the user is told
    by the platform's `enforcement.reversed`), those it adds are taken as a new decision on the
    case (`enforcement.applied`); when nothing restrictive changes, nobody is told."""

    audit = models.OneToOneField(Audit, on_delete=models.PROTECT, related_name="correction")
    lead = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action_types = models.JSONField(default=list)
    reason = models.TextField()
    reversed_actions = models.JSONField(default=list, help_text="Ids of the actions reversed.")
    added_actions = models.JSONField(default=list, help_text="Ids of the actions added.")
    new_decision_ref = models.UUIDField(null=True, blank=True, help_text="The decision the added actions share.")
    user_notified = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self):
        return f"Correction of audit {self.audit_id}"


# --------------------------------------------------------------------------- calibration


class CalibrationSession(models.Model):
    """A lead's calibration exercise: the same cases decided blind by several people."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(null=True, blank=True, help_text="Computed when the lead closes the session.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class CalibrationCase(models.Model):
    """A case in a session, with an optional golden answer the lead sets (and why)."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    golden_category = models.CharField(max_length=200, blank=True)
    golden_rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [models.UniqueConstraint(fields=["session", "case"], name="qa_calibration_case_once")]

    def __str__(self):
        return f"Case {self.case_id} in {self.session_id}"


class CalibrationParticipant(models.Model):
    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="qa_calibration_participant_once")]
        indexes = [models.Index(fields=["user"], name="qa_calib_participant_user")]

    def __str__(self):
        return f"{self.user} in {self.session_id}"


class CalibrationAnswer(models.Model):
    """One participant's final answer on one case. `category` is the answer's set of action types
    joined with "+", or "no_violation": the category Fleiss' kappa counts."""

    item = models.ForeignKey(CalibrationCase, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=200)
    rationale = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="qa_calibration_answer_once")]

    def __str__(self):
        return f"{self.user}: {self.category}"
