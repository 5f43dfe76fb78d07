"""Enforcement: policies with strike ladders, statement macros, the actions taken on a case, and
the strikes they leave on an account.

An action maps onto the DSA statement-of-reasons fields (Art. 17 and the Transparency Database
schema) when it is created, so exports later read columns instead of guessing from action types.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from cases.models import Case, Category, DsaCategory, Subject

# --------------------------------------------------------------------------- action types


class ActionType(models.TextChoices):
    REMOVE_CONTENT = "remove_content", "Remove content"
    RESTRICT_VISIBILITY = "restrict_visibility", "Restrict visibility"
    WARN = "warn", "Warning"
    FEATURE_RESTRICTION = "feature_restriction", "Feature restriction"
    SUSPENSION = "suspension", "Suspension"
    TERMINATION = "termination", "Termination"
    TRANSACTION_HOLD = "transaction_hold", "Transaction hold"
    NO_VIOLATION = "no_violation", "No violation"


# Which subjects an action may target.
CONTENT_ONLY = {ActionType.REMOVE_CONTENT}
ACCOUNT_ONLY = {ActionType.WARN, ActionType.FEATURE_RESTRICTION, ActionType.SUSPENSION, ActionType.TERMINATION}
# Durations: required for temporary restrictions, optional where a permanent form exists too.
DURATION_REQUIRED = {ActionType.FEATURE_RESTRICTION, ActionType.SUSPENSION}
DURATION_OPTIONAL = {ActionType.RESTRICT_VISIBILITY, ActionType.TRANSACTION_HOLD}
# Actions a strike ladder may prescribe (all act on the account).
LADDER_ACTIONS = [
    ActionType.WARN, ActionType.FEATURE_RESTRICTION, ActionType.TRANSACTION_HOLD, ActionType.SUSPENSION,
    ActionType.TERMINATION,
]
# Most severe first: the most severe action of a decision carries its strike.
SEVERITY = [
    ActionType.TERMINATION, ActionType.SUSPENSION, ActionType.FEATURE_RESTRICTION, ActionType.TRANSACTION_HOLD,
    ActionType.WARN, ActionType.RESTRICT_VISIBILITY, ActionType.REMOVE_CONTENT,
]
MAX_DURATION_HOURS = 24 * 365 * 5


def duration_text(hours: int | None) -> str:
    """"3 days", "36 hours": durations as people say them."""
    if not hours:
        return ""
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


# --------------------------------------------------------------------------- DSA statement-of-reasons values


class DecisionVisibility(models.TextChoices):
    CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED", "Content removed"
    CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED", "Content disabled"
    CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED", "Content demoted"
    CONTENT_AGE_RESTRICTED = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED", "Content age-restricted"
    CONTENT_INTERACTION_RESTRICTED = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "Interaction restricted"
    CONTENT_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED", "Content labelled"
    OTHER = "DECISION_VISIBILITY_OTHER", "Other visibility restriction"


# The forms of "restrict visibility" an analyst can pick (API value → DSA value).
VISIBILITY_FORMS = {
    "demoted": DecisionVisibility.CONTENT_DEMOTED,
    "labelled": DecisionVisibility.CONTENT_LABELLED,
    "age_restricted": DecisionVisibility.CONTENT_AGE_RESTRICTED,
    "interaction_restricted": DecisionVisibility.CONTENT_INTERACTION_RESTRICTED,
}


class DecisionAccount(models.TextChoices):
    SUSPENDED = "DECISION_ACCOUNT_SUSPENDED", "Account suspended"
    TERMINATED = "DECISION_ACCOUNT_TERMINATED", "Account terminated"


class DecisionProvision(models.TextChoices):
    PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION", "Partial suspension of the service"
    TOTAL_SUSPENSION = "DECISION_PROVISION_TOTAL_SUSPENSION", "Total suspension of the service"
    PARTIAL_TERMINATION = "DECISION_PROVISION_PARTIAL_TERMINATION", "Partial termination of the service"
    TOTAL_TERMINATION = "DECISION_PROVISION_TOTAL_TERMINATION", "Total termination of the service"


class DecisionMonetary(models.TextChoices):
    SUSPENSION = "DECISION_MONETARY_SUSPENSION", "Monetary payments suspended"
    TERMINATION = "DECISION_MONETARY_TERMINATION", "Monetary payments terminated"
    OTHER = "DECISION_MONETARY_OTHER", "Other monetary restriction"


class DecisionGround(models.TextChoices):
    ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT", "Illegal content"
    INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT", "Incompatible with terms of service"


class AutomatedDecision(models.TextChoices):
    FULLY = "AUTOMATED_DECISION_FULLY", "Fully automated"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY", "Partially automated"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED", "Not automated"


def dsa_decision_fields(action_type: str, *, visibility_form: str = "") -> dict:
    """The DSA decision_* columns an action type stands for.

    A warning and "no violation" restrict nothing, so every column stays empty: they are not
    statements of reasons under Art. 17, and exports skip them.
    """
    fields = {"decision_visibility": "", "decision_account": "", "decision_provision": "", "decision_monetary": ""}
    if action_type == ActionType.REMOVE_CONTENT:
        fields["decision_visibility"] = DecisionVisibility.CONTENT_REMOVED
    elif action_type == ActionType.RESTRICT_VISIBILITY:
        fields["decision_visibility"] = VISIBILITY_FORMS.get(visibility_form or "demoted", DecisionVisibility.OTHER)
    elif action_type == ActionType.FEATURE_RESTRICTION:
        fields["decision_provision"] = DecisionProvision.PARTIAL_SUSPENSION
    elif action_type == ActionType.SUSPENSION:
        fields["decision_account"] = DecisionAccount.SUSPENDED
        fields["decision_provision"] = DecisionProvision.TOTAL_SUSPENSION
    elif action_type == ActionType.TERMINATION:
        fields["decision_account"] = DecisionAccount.TERMINATED
        fields["decision_provision"] = DecisionProvision.TOTAL_TERMINATION
    elif action_type == ActionType.TRANSACTION_HOLD:
        fields["decision_monetary"] = DecisionMonetary.SUSPENSION
    return fields


# --------------------------------------------------------------------------- policies


def validate_ladder(value) -> None:
    """A ladder is a non-empty list of steps: {"action": <ladder action>, "duration_hours": n?}."""
    if not isinstance(value, list) or not value:
        raise ValidationError("A strike ladder is a list of at least one step, e.g. [{\"action\": \"warn\"}].")
    for number, step in enumerate(value, start=1):
        if not isinstance(step, dict) or step.get("action") not in LADDER_ACTIONS:
            raise ValidationError(
                f"Step {number}: \"action\" must be one of {', '.join(LADDER_ACTIONS)}."
            )
        unknown = set(step) - {"action", "duration_hours"}
        if unknown:
            raise ValidationError(f"Step {number}: unknown keys {', '.join(sorted(unknown))}.")
        hours = step.get("duration_hours")
        if step["action"] in DURATION_REQUIRED and hours is None:
            raise ValidationError(f"Step {number}: a {step['action']} needs \"duration_hours\".")
        if hours is not None:
            if step["action"] not in DURATION_REQUIRED | DURATION_OPTIONAL:
                raise ValidationError(f"Step {number}: a {step['action']} has no duration.")
            if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_DURATION_HOURS:
                raise ValidationError(f"Step {number}: \"duration_hours\" must be a whole number from 1 to {MAX_DURATION_HOURS}.")


class Policy(models.Model):
    """The rule an action enforces, for one category: internal guidance, the rule text users see,
    and the strike ladder. Every edit makes a new PolicyVersion; actions record the version used.
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="policies")
    guidance = models.TextField(blank=True, help_text="Internal: how analysts apply this policy. Never shown to users.")
    rule_text = models.TextField(help_text="User-facing: the rule as the platform's terms state it.")
    ladder = models.JSONField(
        default=list, validators=[validate_ladder],
        help_text='Strike ladder, one step per strike: [{"action": "warn"}, {"action": "suspension", '
                  '"duration_hours": 24}, {"action": "termination"}]. Strikes past the last step repeat it.',
    )
    strike_window_days = models.PositiveIntegerField(default=180, help_text="Days a strike counts towards the ladder.")
    decision_ground = models.CharField(
        max_length=40, choices=DecisionGround.choices, default=DecisionGround.INCOMPATIBLE_CONTENT,
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["category"], condition=Q(is_active=True), name="one_active_policy_per_category"),
        ]

    def __str__(self):
        return self.name

    # The fields a version snapshots: editing any of them makes a new version.
    VERSIONED_FIELDS = ("guidance", "rule_text", "ladder", "strike_window_days", "decision_ground")

    def ladder_step(self, strikes: int) -> dict:
        """The step for someone who already has `strikes` counting strikes (past the end: the last)."""
        steps = self.ladder or []
        return dict(steps[min(strikes, len(steps) - 1)]) if steps else {}


class PolicyVersion(models.Model):
    """An immutable snapshot of a policy as it was when actions were taken under it."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    guidance = models.TextField(blank=True)
    rule_text = models.TextField()
    ladder = models.JSONField(default=list)
    strike_window_days = models.PositiveIntegerField()
    decision_ground = models.CharField(max_length=40, choices=DecisionGround.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-version"]
        constraints = [models.UniqueConstraint(fields=["policy", "version"], name="policy_version_unique")]

    def __str__(self):
        return f"{self.policy} v{self.version}"


def validate_macro_action_types(value) -> None:
    """A list of action types (empty: the macro fits any decision)."""
    if not isinstance(value, list) or any(v not in ActionType.values for v in value):
        raise ValidationError(f"A list of action types, each one of {', '.join(ActionType.values)}.")


class Macro(models.Model):
    """An admin-managed statement-of-reasons template. `{name}` placeholders are filled at decision
    time; a statement with a placeholder left unfilled is refused.

    `action_types` ties a macro to the actions it describes ("Account suspended" is for a
    suspension): the decision panel offers it only for those, and the service refuses it for a
    decision that takes none of them. Empty: a general macro that fits any decision.
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    body = models.TextField(help_text="Text with {placeholders}, e.g. \"We removed your post because {reason}.\"")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="macros",
        help_text="Offered first for cases in this category (and its subcategories); empty: every case.",
    )
    action_types = models.JSONField(
        default=list, blank=True, validators=[validate_macro_action_types],
        help_text='The action types this statement describes, e.g. ["suspension"]; empty: any decision.',
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def fits(self, action_types) -> bool:
        """Whether the macro describes a decision taking `action_types`."""
        return not self.action_types or bool(set(self.action_types) & {str(t) for t in action_types})


# --------------------------------------------------------------------------- actions and strikes


class ActionStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVERSED = "reversed", "Reversed"
    REJECTED = "rejected", "Rejected"


def status_label(action_type: str, status: str) -> str:
    if action_type == ActionType.NO_VIOLATION and status == ActionStatus.ACTIVE:
        return "Decided: no violation"
    return ActionStatus(status).label


class EnforcementAction(models.Model):
    """One action decided on a case against one subject (the case subject or the content's author).

    Actions decided together share `decision_ref` (one rationale, one statement, one approval).
    Under the two-person rule they wait in `pending_approval` until a lead other than the proposer
    approves (→ active) or rejects (→ rejected). Temporary actions expire at `ends_at`; a lead may
    reverse an active or expired action.
    """

    decision_ref = models.UUIDField(default=uuid.uuid4, db_index=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="enforcement_actions")
    # indexed by action_target_status and action_target_applied, which both lead with it
    target = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="enforcement_actions", db_index=False)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="actions")
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="actions")
    action_type = models.CharField(max_length=24, choices=ActionType.choices)
    status = models.CharField(max_length=20, choices=ActionStatus.choices)
    # DSA statement of reasons
    decision_visibility = models.CharField(max_length=60, choices=DecisionVisibility.choices, blank=True)
    decision_account = models.CharField(max_length=40, choices=DecisionAccount.choices, blank=True)
    decision_provision = models.CharField(max_length=50, choices=DecisionProvision.choices, blank=True)
    decision_monetary = models.CharField(max_length=40, choices=DecisionMonetary.choices, blank=True)
    decision_ground = models.CharField(max_length=40, choices=DecisionGround.choices)
    category = models.CharField(max_length=80, choices=DsaCategory.choices)
    automated_detection = models.BooleanField(default=False)
    automated_decision = models.CharField(
        max_length=40, choices=AutomatedDecision.choices, default=AutomatedDecision.NOT_AUTOMATED,
    )
    # reasons
    rationale = models.TextField(help_text="Internal: why, for reviewers, QA and appeals. Never shown to users.")
    statement = models.TextField(blank=True, help_text="User-facing statement of reasons.")
    macro = models.ForeignKey(Macro, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ladder_suggestion = models.JSONField(null=True, blank=True)
    departure_reason = models.TextField(blank=True)
    # time
    duration = models.DurationField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When the action took effect.")
    ends_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    # people
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requires_approval = models.BooleanField(default=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The lead who approved or rejected the action under the two-person rule.",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the expiry sweep walks only active actions with an end
            models.Index(fields=["ends_at"], condition=Q(status="active", ends_at__isnull=False), name="action_expiry_due"),
            # the approvals page and the home count read only pending ones
            models.Index(fields=["created_at", "id"], condition=Q(status="pending_approval"), name="action_pending"),
            models.Index(fields=["target", "status"], name="action_target_status"),
            # a subject's newest actions (the support lookup, the subject status API): read a page from
            # here rather than sort every action of an account that has thousands
            models.Index(fields=["target", "-applied_at", "-id"], name="action_target_applied"),
            models.Index(fields=["case", "created_at"], name="action_case_created"),
            # transparency reports and KPIs read the actions that took effect in a period
            models.Index(fields=["applied_at"], condition=Q(applied_at__isnull=False), name="action_applied"),
            # the macro-use KPI reads the restrictions decided (created) in a period
            models.Index(fields=["created_at"], name="action_created"),
        ]

    def __str__(self):
        return f"{self.get_action_type_display()} on {self.target} (case {self.case_id})"

    @property
    def approver(self):
        """The lead who approved it (None when no approval was needed or it was rejected)."""
        return self.reviewer if self.requires_approval and self.status != ActionStatus.REJECTED else None

    @property
    def status_label(self) -> str:
        """"No violation" records a decision rather than a restriction in force."""
        return status_label(self.action_type, self.status)

    @property
    def duration_hours(self) -> int | None:
        return int(self.duration.total_seconds() // 3600) if self.duration else None

    @property
    def duration_label(self) -> str:
        return duration_text(self.duration_hours)

    @property
    def is_restriction(self) -> bool:
        return self.action_type not in (ActionType.WARN, ActionType.NO_VIOLATION)


class Strike(models.Model):
    """A strike on an account, carried by the most severe action of a decision once it took effect.

    It counts towards the policy ladder until `expires_at`, and stops counting when its action is
    reversed (strikes are read through the action's status, never updated).
    """

    account = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="strikes")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="strikes")
    action = models.OneToOneField(EnforcementAction, on_delete=models.PROTECT, related_name="strike")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="strikes")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["account", "expires_at"], name="strike_account_expires")]

    def __str__(self):
        return f"strike on {self.account} under {self.policy}"
