"""The case domain: taxonomy, subjects and signals, reports, queues and routing, cases and their
timeline, notes, evidence, SLA crossings and escalations."""

import datetime as dt
import os

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from tsconsole.models import Team

# --------------------------------------------------------------------------- taxonomy


class DsaCategory(models.TextChoices):
    """DSA Transparency Database statement-of-reasons categories (API v2, in force since 1 July 2025).

    v2 dropped NON_CONSENSUAL_BEHAVIOUR and PORNOGRAPHY_OR_SEXUALIZED_CONTENT, renamed
    SCOPE_OF_PLATFORM_SERVICE (→ OTHER_VIOLATION_TC) and UNSAFE_AND_ILLEGAL_PRODUCTS
    (→ UNSAFE_AND_PROHIBITED_PRODUCTS); cases/migrations/0010 moved stored values over.
    """

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE", "Animal welfare"
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION", "Consumer information infringements"
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE", "Cyber violence"
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "Cyber violence against women"
    DATA_PROTECTION = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "Data protection and privacy violations"
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "Illegal or harmful speech"
    INTELLECTUAL_PROPERTY = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "Intellectual property infringements"
    CIVIC_DISCOURSE = "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "Civic discourse or elections"
    NOT_SPECIFIED_NOTICE = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "Not specified by the notifier"
    OTHER_VIOLATION_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "Other violation of the terms and conditions"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "Protection of minors"
    PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "Risk for public security"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "Scams and fraud"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM", "Self-harm"
    UNSAFE_AND_PROHIBITED_PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "Unsafe, non-compliant or prohibited products"
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE", "Violence"


# Values the Transparency Database no longer accepts → their v2 replacement (used by migrations).
DSA_CATEGORY_V1_TO_V2 = {
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
}
DSA_KEYWORD_V1_TO_V2 = {
    "KEYWORD_CYBERSTALKING": "KEYWORD_CYBER_STALKING",
    "KEYWORD_EATING_DISORDERS": "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_VIOLENT_EXTREMISM": "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_DOXXING": "KEYWORD_OTHER",
    "KEYWORD_PRIVACY_VIOLATIONS": "KEYWORD_OTHER",
    "KEYWORD_FRAUD": "KEYWORD_OTHER",
    "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE": "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION": "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_DISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_FOREIGN_INFORMATION_MANIPULATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS": "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE": "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_REGULATED_GOODS_SERVICES": "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_DANGEROUS_TOYS": "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_GENDER_BASED_VIOLENCE": "KEYWORD_OTHER",
}

# The Transparency Database's category_specification keywords (API v2).
DSA_KEYWORDS = [
    "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_ANIMAL_HARM", "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_BULLYING_AGAINST_GIRLS",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_COORDINATED_HARM", "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
    "KEYWORD_CYBER_INCITEMENT", "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
    "KEYWORD_DATA_FALSIFICATION", "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH", "KEYWORD_HIDDEN_ADVERTISEMENT",
    "KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS", "KEYWORD_LANGUAGE_REQUIREMENTS",
    "KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "KEYWORD_NONCOMPLIANCE_PRICING", "KEYWORD_NUDITY", "KEYWORD_OTHER", "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_PHISHING", "KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_PYRAMID_SCHEMES", "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION", "KEYWORD_STALKING",
    "KEYWORD_SUICIDE", "KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT", "KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS",
    "KEYWORD_UNSAFE_CHALLENGES", "KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW",
    "KEYWORD_VIOLATION_NATIONAL_LAW",
]
DSA_KEYWORD_CHOICES = [(k, k.removeprefix("KEYWORD_").replace("_", " ").capitalize()) for k in DSA_KEYWORDS]


class Severity(models.IntegerChoices):
    """Default severity of a category; feeds the case priority (critical → P0)."""

    CRITICAL = 0, "Critical"
    HIGH = 1, "High"
    MEDIUM = 2, "Medium"
    LOW = 3, "Low"


class Category(models.Model):
    """A node of the abuse taxonomy (group → subcategory), mapped to the DSA statement category."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    dsa_category = models.CharField(max_length=80, choices=DsaCategory.choices)
    dsa_keyword = models.CharField(max_length=80, blank=True, choices=DSA_KEYWORD_CHOICES,
                                   help_text="DSA KEYWORD_* value, when one fits.")
    default_severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.MEDIUM)
    sensitive = models.BooleanField(default=False, help_text="Graphic content: evidence is blurred until revealed.")
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


# --------------------------------------------------------------------------- subjects


class Subject(models.Model):
    """What is reported: an account or a content item on the platform, keyed by its external id."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account"
        CONTENT = "content", "Content"

    class AccountType(models.TextChoices):
        PRIVATE = "private", "Private"
        BUSINESS = "business", "Business"
        ENTERPRISE = "enterprise", "Enterprise"

    class ContentType(models.TextChoices):
        POST = "post", "Post"
        COMMENT = "comment", "Comment"
        MESSAGE = "message", "Message"
        LISTING = "listing", "Listing"
        REVIEW = "review", "Review"
        MEDIA = "media", "Media"
        TRANSACTION = "transaction", "Transaction"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    external_id = models.CharField(max_length=200)
    # account fields
    handle = models.CharField(max_length=200, blank=True, db_index=True)
    follower_count = models.PositiveBigIntegerField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    account_type = models.CharField(max_length=12, choices=AccountType.choices, blank=True)
    platform_created_at = models.DateTimeField(null=True, blank=True)
    # content fields
    content_type = models.CharField(max_length=12, choices=ContentType.choices, blank=True)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    author = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="authored_content",
        limit_choices_to={"kind": "account"},
    )
    signals = models.ManyToManyField("Signal", through="SubjectSignal", related_name="accounts", blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "external_id"], name="subject_kind_external_id")]

    def __str__(self):
        if self.kind == self.Kind.ACCOUNT:
            return f"@{self.handle}" if self.handle else f"account {self.external_id}"
        return f"{self.content_type or 'content'} {self.external_id}"

    @property
    def reach(self) -> int:
        """Followers of the account, or of the content's author."""
        if self.kind == self.Kind.ACCOUNT:
            return self.follower_count or 0
        return (self.author.follower_count or 0) if self.author_id else 0


class Signal(models.Model):
    """A linking signal (email, device, IP, payment instrument), stored only as a hash."""

    class Kind(models.TextChoices):
        EMAIL_HASH = "email_hash", "Email"
        DEVICE_ID = "device_id", "Device"
        IP = "ip", "IP address"
        PAYMENT_FINGERPRINT = "payment_fingerprint", "Payment instrument"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    value_hash = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value_hash"], name="signal_kind_hash")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value_hash[:10]}…"


class SubjectSignal(models.Model):
    """An account seen with a signal."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="signal_links")
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="subject_links")
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "signal"], name="subject_signal_unique")]
        indexes = [models.Index(fields=["signal", "subject"], name="signal_subject_idx")]

    def __str__(self):
        return f"{self.subject} ~ {self.signal}"


# A signal shared by more accounts than this (a carrier's NAT address, a default device id) says
# nothing about who is linked to whom: no account is linked to another through it, and only this
# many of its links are ever counted. Read once at start (statements prepared with it are kept).
COMMON_SIGNAL_ACCOUNTS = settings.COMMON_SIGNAL_ACCOUNTS


def accounts_sharing(signal_id) -> models.Func:
    """How many accounts carry the signal `signal_id` (an expression, e.g. F("signal_id")), counted up
    to COMMON_SIGNAL_ACCOUNTS + 1: more means the signal is too common to link by. An exact count of
    a signal on 200,000 accounts cost more than the rest of the case page."""
    return models.Func(
        signal_id, output_field=models.IntegerField(),
        template=(f"(SELECT count(*) FROM (SELECT 1 FROM {SubjectSignal._meta.db_table} sharing "
                  f"WHERE sharing.signal_id = %(expressions)s LIMIT {COMMON_SIGNAL_ACCOUNTS + 1}) AS upto)"))


# --------------------------------------------------------------------------- queues and routing


class Queue(models.Model):
    """Where cases wait, with SLA targets per priority and the teams allowed to work it."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    allowed_teams = models.ManyToManyField(
        Team, blank=True, related_name="queues", help_text="Empty: every analyst may work this queue."
    )
    complexity_weight = models.DecimalField(max_digits=5, decimal_places=2, default=1)
    claim_timeout_minutes = models.PositiveIntegerField(default=30)
    pause_sla_on_hold = models.BooleanField(default=True)
    raise_priority_on_breach = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False, help_text="Catches reports that no routing rule matches.")
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_queue")]

    def __str__(self):
        return self.name


class Priority(models.IntegerChoices):
    P0 = 0, "P0"
    P1 = 1, "P1"
    P2 = 2, "P2"
    P3 = 3, "P3"


class QueueSla(models.Model):
    """A queue's SLA targets for one priority."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="sla_targets")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    first_touch_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["queue", "priority"]
        constraints = [models.UniqueConstraint(fields=["queue", "priority"], name="queue_sla_priority")]
        verbose_name = "queue SLA target"

    def __str__(self):
        return f"{self.queue} P{self.priority}: touch {self.first_touch_minutes}m, resolve {self.resolution_minutes}m"


class Source(models.TextChoices):
    USER_REPORT = "user_report", "User report"
    AUTOMATED = "automated", "Automated detection"
    TRUSTED_FLAGGER = "trusted_flagger", "Trusted flagger"
    SUPPORT_ESCALATION = "support_escalation", "Support escalation"
    LEGAL_REQUEST = "legal_request", "Legal request"


class RoutingRule(models.Model):
    """An ordered rule: reports matching every set condition go to `queue`. First match wins."""

    position = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=120, blank=True)
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="routing_rules")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, help_text="Matches this category and its children."
    )
    source = models.CharField(max_length=24, choices=Source.choices, blank=True)
    min_classifier_score = models.FloatField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    territory = models.CharField(max_length=8, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name or f"rule {self.position} → {self.queue}"


class TrustedFlagger(models.Model):
    """A trusted flagger (DSA Art. 22): its notices rank up only within its areas of expertise."""

    name = models.CharField(max_length=200)
    awarding_authority = models.CharField(max_length=200, help_text="Digital Services Coordinator that awarded the status.")
    areas = models.ManyToManyField(Category, related_name="trusted_flaggers", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="trusted_flagger",
        help_text="The integration account whose API token the flagger uses.",
    )
    contact_email = models.EmailField(blank=True)
    awarded_at = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


# --------------------------------------------------------------------------- cases


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REVIEW = "in_review", "In review"
    ON_HOLD = "on_hold", "On hold"
    ESCALATED = "escalated", "Escalated"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    RESOLVED = "resolved", "Resolved"


class SavedFilter(models.Model):
    """A case-list filter a user named to come back to ("my P0–P1 in Harassment"): the list's
    query string, without the page cursor. Private to its owner."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_case_filters")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def sla_pending_q(due: str, marked: str, *, first_touch: bool = False) -> Q:
    """Unresolved cases with a clock whose mark `marked` was not recorded for its current due time
    (cases.services.sla queries with exactly this condition, so the planner matches the index)."""
    running = Q(first_touched_at__isnull=True) if first_touch else Q()
    return (
        running & ~Q(status="resolved") & Q(**{f"{due}__isnull": False})
        & (Q(**{f"{marked}__isnull": True}) | ~Q(**{marked: F(due)}))
    )


class CaseKind(models.TextChoices):
    """What a case is worked for. Report cases gather the notices about a subject; other kinds are
    work items of higher apps (an appeal against a decision) that share the workspace: queue, SLA
    clocks, claim, hold, hand-off, notes and timeline."""

    REPORT = "report", "Reports"
    APPEAL = "appeal", "Appeal"


# The case list's "due" order puts cases without a due time after every due one, then resolved cases.
NO_DUE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
RESOLVED_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def due_sort_key():
    """The case list's "due" order (and its index): an unresolved case's resolution due time, then
    the unresolved cases without one, then resolved cases, whose Due column says "resolved". By their
    old due times resolved cases, most of the table, would sort before the whole backlog."""
    return models.Case(models.When(status="resolved", then=Value(RESOLVED_DUE)),
                       default=Coalesce("resolution_due_at", Value(NO_DUE)))


class Case(models.Model):
    """The unit of work: every report about one subject while it is open, in one queue.

    At most one report case per subject is open at a time (a partial unique index enforces it);
    work items of other kinds (appeals) about the same subject sit beside it. Status changes only
    through the services, which consult cases.transitions.
    """

    class Resolution(models.TextChoices):
        NO_VIOLATION = "no_violation", "No violation"
        ACTIONED = "actioned", "Action taken"
        DUPLICATE = "duplicate", "Duplicate"

    # subject, queue and assignee lookups use the composite indexes in Meta (same leading column):
    # every index on this table is written by each claim, intake and sweep, so none is doubled.
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="cases", db_index=False)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="cases", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases")
    # db_default: intake and the bench generator insert cases with raw SQL that names no kind.
    kind = models.CharField(max_length=10, choices=CaseKind.choices, default=CaseKind.REPORT,
                            db_default=CaseKind.REPORT, editable=False)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P2)
    priority_reasons = models.JSONField(default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases",
        db_index=False,
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks
    first_touched_at = models.DateTimeField(null=True, blank=True)
    first_touch_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(default=0)
    # What the SLA sweep has on file: the due time whose at-risk / breach crossing it recorded. A due
    # time that moves (priority, queue, a hold) no longer matches, so the case is pending again for
    # the sweep without any other writer knowing about it; the sweep's partial indexes hold only
    # pending cases, so a sweep reads what is newly due, not the backlog of marks already made.
    sla_first_touch_at_risk_for = models.DateTimeField(null=True, blank=True, editable=False)
    sla_first_touch_breach_for = models.DateTimeField(null=True, blank=True, editable=False)
    sla_resolution_at_risk_for = models.DateTimeField(null=True, blank=True, editable=False)
    sla_resolution_breach_for = models.DateTimeField(null=True, blank=True, editable=False)
    # hold for help
    held_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="held_cases",
        db_index=False,
    )
    held_for_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="held_cases",
                                      db_index=False)
    hold_reason = models.TextField(blank=True)
    # outcome
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_cases"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # denormalised for priority and lists
    report_count = models.PositiveIntegerField(default=0)
    reporter_count = models.PositiveIntegerField(default=0)
    # what priority needs of the case's reports (cases.priority.PriorityFacts.stored), kept by intake
    # so that a report joining a case with 200,000 others does not read them all; None: not kept yet
    report_facts = models.JSONField(null=True, blank=True, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "resolution_due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=~Q(status="resolved") & Q(kind="report"), name="one_open_case_per_subject"
            ),
        ]
        indexes = [
            # claim next: unassigned open cases by queue, priority, due time
            models.Index(
                fields=["queue", "priority", "resolution_due_at", "id"],
                condition=Q(status="open", assignee__isnull=True),
                name="case_claimable",
            ),
            # SLA sweeps (cases/services/sla.py): each index holds only the cases with that mark still
            # to make, so a sweep walks what is newly due and stops, whatever the backlog of marked
            # cases. At risk (75 %) is "due minus a quarter of the target", and the target depends on
            # queue and priority, so those indexes are walked one (queue, priority) range at a time.
            models.Index(
                fields=["first_touch_due_at"],
                condition=sla_pending_q("first_touch_due_at", "sla_first_touch_breach_for", first_touch=True),
                name="case_first_touch_due",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=sla_pending_q("resolution_due_at", "sla_resolution_breach_for"),
                name="case_resolution_due",
            ),
            models.Index(
                fields=["queue", "priority", "first_touch_due_at"],
                condition=sla_pending_q("first_touch_due_at", "sla_first_touch_at_risk_for", first_touch=True),
                name="case_first_touch_risk",
            ),
            models.Index(
                fields=["queue", "priority", "resolution_due_at"],
                condition=sla_pending_q("resolution_due_at", "sla_resolution_at_risk_for"),
                name="case_resolution_risk",
            ),
            # claim timeout release
            models.Index(fields=["claimed_at"], condition=Q(status="in_review"), name="case_claimed_in_review"),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            models.Index(fields=["queue", "status"], name="case_queue_status"),
            # the open backlog as counted by the home panels and queue health ("status <> resolved"):
            # a few megabytes holding every column those counts read, so they are index-only scans
            # of the open cases instead of heap visits scattered over the whole table
            models.Index(
                fields=["queue", "status"], condition=~Q(status="resolved"), name="case_open_cover",
                include=["id", "assignee", "opened_at", "resolution_due_at", "first_touch_due_at", "first_touched_at",
                         "sla_resolution_at_risk_for", "sla_first_touch_at_risk_for"],
            ),
            models.Index(fields=["subject", "opened_at"], name="case_subject_opened"),
            # the case list's sortable columns: a page of any sort is read from an index and stops at
            # fifty rows, where a sort of the million matching cases took more than a second
            models.Index(fields=["priority", "-id"], name="case_priority_sort"),
            models.Index(fields=["priority", "-id"], condition=~Q(status="resolved"), name="case_open_priority_sort"),
            models.Index(due_sort_key(), "id", name="case_due_sort"),
            # one queue's cases, newest first (the case list filtered by queue): a small queue's newest
            # fifty are otherwise found by walking back through every newer case of the others
            models.Index(fields=["queue", "-id"], name="case_queue_newest"),
            # resolved cases, newest first (the case list filtered to resolved ones): the newest cases
            # are mostly still open, and the primary key walked back through all of them first.
            # Intake opens cases, so it never writes to this index.
            models.Index(fields=["-id"], condition=Q(status="resolved"), name="case_resolved_newest"),
            # "asked to help": only the few cases on hold have a helper, so only they are indexed
            models.Index(fields=["held_for"], condition=Q(held_for__isnull=False), name="case_held_for"),
            models.Index(fields=["held_for_team"], condition=Q(held_for_team__isnull=False), name="case_held_for_team"),
        ]

    def __str__(self):
        return f"Case #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.RESOLVED


class Report(models.Model):
    """One notice about a subject. (source, external_id) is the sender's idempotency key."""

    source = models.CharField(max_length=24, choices=Source.choices)
    external_id = models.CharField(max_length=200)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="reports")
    # lookups by case use report_case_received_id (case first)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    reporter_ref = models.CharField(max_length=200, blank=True, help_text="The reporter's id on the platform.")
    description = models.TextField(blank=True)
    classifier_label = models.CharField(max_length=120, blank=True)
    classifier_score = models.FloatField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    territory = models.CharField(max_length=8, blank=True)
    # DSA Art. 16 notice elements
    explanation = models.TextField(blank=True, help_text="Why the notifier considers the content illegal.")
    exact_location = models.CharField(max_length=1000, blank=True, help_text="Exact electronic location (URL).")
    notifier_name = models.CharField(max_length=200, blank=True)
    notifier_email = models.EmailField(blank=True)
    good_faith_statement = models.BooleanField(null=True, blank=True)
    trusted_flagger = models.ForeignKey(TrustedFlagger, null=True, blank=True, on_delete=models.SET_NULL)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="report_source_external_id")]
        indexes = [
            # a case's newest reports: the id settles ties (a batch's reports share their arrival time),
            # so a page is read from the index rather than sorting every report of a viral case
            models.Index(fields=["case", "received_at", "id"], name="report_case_received_id"),
            # has this person reported the case before (its distinct reporters, counted as reports join)
            models.Index(fields=["case", "reporter_ref"], condition=~Q(reporter_ref=""), name="report_case_reporter"),
            # transparency reports count a period's notices; reports arrive in time order, so a BRIN
            # range index finds them for a few pages and costs intake nothing measurable
            BrinIndex(fields=["received_at"], name="report_received_brin"),
        ]

    def __str__(self):
        return f"{self.source}:{self.external_id}"


class CaseEvent(models.Model):
    """Append-only timeline and audit log of a case. In PostgreSQL a trigger refuses UPDATE/DELETE."""

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        INTEGRATION = "integration", "Integration"
        SYSTEM = "system", "System"

    # lookups by case use caseevent_case_created (case first)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices, default=ActorKind.USER)
    verb = models.CharField(max_length=60)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="caseevent_case_created"),
            # Insights roll the timeline up hour by hour: events are appended in time order, so a
            # BRIN range index finds an hour's events for a few pages of index, and costs appends nothing.
            BrinIndex(fields=["created_at"], name="caseevent_created_brin"),
        ]

    def __str__(self):
        return f"{self.verb} on case {self.case_id}"


class CaseRecusal(models.Model):
    """Someone who must not work a case: an appeal's original decider and approver. Claiming skips
    the case for them (claim next) or refuses it (a direct claim), and it cannot be handed to them."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recusals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_recusal_once")]

    def __str__(self):
        return f"{self.user} recused from case {self.case_id}"


class Note(models.Model):
    """An internal note: never shown to support agents or the platform."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Note by {self.author} on case {self.case_id}"


class EvidenceStorage(FileSystemStorage):
    """Files under settings.EVIDENCE_ROOT, read at each use rather than when this module loads,
    so that a changed setting (each test's own folder) takes effect."""

    @property
    def base_location(self):
        return settings.EVIDENCE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)


evidence_storage = EvidenceStorage()


def _evidence_storage():
    return evidence_storage


def _evidence_path(instance, filename):
    today = dt.date.today()
    return f"{today:%Y/%m}/{instance.sha256}"


class Evidence(models.Model):
    """A file or a text extract attached to a case, hashed, and served only through an authorised view."""

    class Kind(models.TextChoices):
        FILE = "file", "File"
        TEXT = "text", "Text extract"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    file = models.FileField(storage=_evidence_storage, upload_to=_evidence_path, blank=True, max_length=300)
    # Images only: the blurred derivative (cases/previews.py) the page shows until a reveal.
    preview = models.FileField(storage=_evidence_storage, blank=True, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    text_extract = models.TextField(blank=True)
    description = models.CharField(max_length=500, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    sensitive = models.BooleanField(default=False)
    captured_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    captured_at = models.DateTimeField(auto_now_add=True)
    retain_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["captured_at", "id"]
        verbose_name_plural = "evidence"

    def __str__(self):
        return self.original_name or f"{self.get_kind_display()} {self.sha256[:12]}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def needs_reveal(self) -> bool:
        """A sensitive image (marked so, or its case's category is sensitive now): the original is
        served only to someone whose reveal of it is on the case timeline."""
        return self.is_image and (self.sensitive or self.case.category.sensitive)


# --------------------------------------------------------------------------- SLA and escalations


class SlaCrossing(models.Model):
    """A case crossing 75% (at risk) or 100% (breached) of an SLA target. Recorded once per due time."""

    class Clock(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch"
        RESOLUTION = "resolution", "Resolution"

    class Level(models.TextChoices):
        AT_RISK = "at_risk", "At risk"
        BREACHED = "breached", "Breached"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_crossings")
    clock = models.CharField(max_length=12, choices=Clock.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    due_at = models.DateTimeField()
    crossed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "clock", "level", "due_at"], name="sla_crossing_once"),
        ]

    def __str__(self):
        return f"case {self.case_id} {self.clock} {self.level}"


class EscalationSeverity(models.TextChoices):
    SEV1 = "sev1", "Sev1"
    SEV2 = "sev2", "Sev2"
    SEV3 = "sev3", "Sev3"
    SEV4 = "sev4", "Sev4"


class Escalation(models.Model):
    """An escalation package sent to a team, re-notified up its on-call ladder until acknowledged."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="escalations")
    severity = models.CharField(max_length=4, choices=EscalationSeverity.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="escalations")
    summary = models.TextField()
    impacted_ids = models.JSONField(default=list, blank=True)
    evidence_links = models.JSONField(default=list, blank=True)
    recommended_next_steps = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ack_due_at = models.DateTimeField()
    ladder_step = models.PositiveSmallIntegerField(default=0, help_text="The last on-call step notified.")
    next_notify_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    findings = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["severity", "ack_due_at"]
        indexes = [
            models.Index(fields=["next_notify_at"], condition=Q(status="open"), name="escalation_renotify_due"),
            models.Index(fields=["status", "severity"], name="escalation_status_severity"),
        ]

    def __str__(self):
        return f"{self.get_severity_display()} escalation on case {self.case_id}"


class EscalationNotification(models.Model):
    """Who was paged for an escalation at which ladder step; unique so a re-run pages nobody twice."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="notifications")
    step = models.PositiveSmallIntegerField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["escalation", "step", "recipient"], name="escalation_notification_once"),
        ]

    def __str__(self):
        return f"step {self.step} → {self.recipient}"
