"""Appeals: a user or a notifier contests an enforcement decision, and someone other than the
people who made it decides again.

An appeal is worked as a case of kind "appeal" in the appeals queue (one-to-one `case`), so the
workspace's queue, SLA clocks, claim, hold, hand-off, notes and timeline serve it unchanged. The
row here holds what is particular to the appeal: the decision contested, who appeals and in their
words, and the outcome. Columns copied from the decision (policy, action type, decider,
approver) feed the figures (overturn rate by policy, action type and decider) without joins.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models import Case, Subject
from enforcement.models import ActionType, Policy

QUEUE_SLUG = "appeals"


class AppellantKind(models.TextChoices):
    SUBJECT = "subject", "Affected user"
    NOTIFIER = "notifier", "Notifier"


class AppealStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class Outcome(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    OVERTURNED = "overturned", "Overturned"
    MODIFIED = "modified", "Modified"


class Channel(models.TextChoices):
    IN_PRODUCT = "in_product", "In the product"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Support chat"
    LETTER = "letter", "Letter"


class Appeal(models.Model):
    """One appeal against one decision (the actions sharing a `decision_ref`) by one appellant.

    At most one open appeal per decision and appellant (a partial unique index), and (source,
    external_id) is the sender's idempotency key, so a repeated request finds the first appeal.
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="appeal",
                                help_text="The appeal's own case in the appeals queue: how it is worked.")
    decision_ref = models.UUIDField()
    decision_case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="appeals_against",
                                      help_text="The case on which the contested decision was taken.")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="appeals",
                                help_text="The subject of the contested decision's case.")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="appeals")
    action_type = models.CharField(max_length=24, choices=ActionType.choices,
                                   help_text="The most severe action of the contested decision.")
    original_decider = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    original_approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    decision_applied_at = models.DateTimeField()
    window_closes_at = models.DateTimeField(help_text="The last moment the decision could be appealed.")
    # who and how
    appellant_kind = models.CharField(max_length=10, choices=AppellantKind.choices)
    appellant_ref = models.CharField(max_length=200, help_text="The appellant's account id on the platform.")
    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=200)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.IN_PRODUCT)
    statement = models.TextField(help_text="The appellant's own words.")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 help_text="The integration or the support agent who entered it.")
    filed_at = models.DateTimeField()
    # outcome
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    rationale = models.TextField(blank=True, help_text="Internal: why, for leads and QA. Never sent to the appellant.")
    response = models.TextField(blank=True, help_text="The reasoned statement sent to the appellant.")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    new_decision_ref = models.UUIDField(null=True, blank=True,
                                        help_text="The decision taken on review (overturned on notice, or modified).")

    class Meta:
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="appeal_source_external_id"),
            models.UniqueConstraint(fields=["decision_ref", "appellant_kind", "appellant_ref"],
                                    condition=Q(status="open"), name="one_open_appeal_per_decision_appellant"),
        ]
        indexes = [
            models.Index(fields=["decision_ref", "filed_at"], name="appeal_decision_filed"),
            models.Index(fields=["subject", "filed_at"], name="appeal_subject_filed"),
            models.Index(fields=["status", "filed_at"], name="appeal_status_filed"),
            models.Index(fields=["decided_at"], condition=Q(status="decided"), name="appeal_decided_at"),
        ]

    def __str__(self):
        return f"Appeal #{self.pk} against decision {self.decision_ref}"

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.OPEN
