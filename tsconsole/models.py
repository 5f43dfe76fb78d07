"""Cross-cutting models: teams, the transactional outbox, in-app notifications, audit and heartbeats."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Team(models.Model):
    """A group of people who share work: queue access, escalation targets and an on-call ladder."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    chat_webhook_url = models.URLField(
        max_length=500, blank=True,
        help_text="Slack-compatible incoming webhook: escalations and SLA breaches for this team are posted there.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TeamMembership(models.Model):
    """A person in a team. `oncall_order` ranks who is paged first (1 = first); null = not on call."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    is_lead = models.BooleanField(default=False)
    oncall_order = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["team", "oncall_order", "user__username"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")]

    def __str__(self):
        return f"{self.user} in {self.team}"


class WebhookEndpoint(models.Model):
    """A platform URL that receives signed event deliveries for the topics it subscribes to."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Shared secret for the HMAC-SHA256 signature.")
    topics = models.JSONField(default=list, blank=True, help_text="Topics to deliver; empty means all.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def wants(self, topic: str) -> bool:
        return self.is_active and (not self.topics or topic in self.topics)


class OutboxMessage(models.Model):
    """One outward effect, written in the same transaction as the change that causes it.

    A Celery relay delivers pending rows at least once; the idempotency key lets receivers
    turn that into exactly-once effects.
    """

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "Email"
        SLACK = "slack", "Chat webhook"
        IN_APP = "in_app", "In-app notification"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead"

    topic = models.CharField(max_length=80)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.PROTECT)
    recipient = models.CharField(max_length=500, blank=True, help_text="Email address or chat webhook URL.")
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["topic", "created_at"], name="outbox_topic_created"),
            # Dead letters are rare among millions of delivered rows; the Deliveries page lists them
            # newest first, which without this index would scan the table backwards to find them.
            models.Index(fields=["id"], condition=Q(status="dead"), name="outbox_dead"),
        ]

    def __str__(self):
        return f"{self.topic} via {self.channel} ({self.status})"


class Notification(models.Model):
    """An in-app notification with an unread badge in the navigation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=60, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], condition=Q(read_at__isnull=True), name="notification_unread")]

    def __str__(self):
        return self.title


class AuditEntry(models.Model):
    """Append-only audit of reads and administrative acts that are not case state changes
    (support lookups, evidence downloads outside a case timeline, settings changes)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    verb = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_ref = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.verb} {self.object_type}:{self.object_ref}"


class Heartbeat(models.Model):
    """When each background component last proved it was alive (shown on the health page)."""

    component = models.CharField(max_length=40, unique=True)
    seen_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"{self.component} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class PreviewMode(models.TextChoices):
    """How a sensitive image is shown to a person: the treatment applies to the blurred derivative
    before a reveal and, for the greyscale modes, to the revealed original as well."""

    BLURRED = "blurred", "Blurred"
    GREYSCALE = "greyscale", "Greyscale"
    GREYSCALE_BLURRED = "greyscale_blurred", "Greyscale and blurred"


class UserPreferences(models.Model):
    """A person's own console settings (every role has them). No row means the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="preferences")
    preview_mode = models.CharField(max_length=20, choices=PreviewMode.choices, default=PreviewMode.BLURRED)
    time_zone = models.CharField(max_length=64, blank=True,
                                 help_text="IANA zone name; blank: the zone the browser reports.")
    break_after_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Minutes of continuous sensitive exposure before a break is suggested; blank: the site default.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self):
        return f"preferences of {self.user}"


class ExposureDay(models.Model):
    """Minutes one person spent with a sensitive case page in view on one day (their local day).

    Written only by `exposure_record`, one minute at a time, so the figure is what the server saw.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exposure_days")
    day = models.DateField()
    minutes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="exposure_day_unique")]
        indexes = [models.Index(fields=["day"], name="exposure_day_day")]

    def __str__(self):
        return f"{self.user} {self.day}: {self.minutes} min"


class ExposureClock(models.Model):
    """Per person: the last minute counted (so two tabs never count one minute twice), the current
    stretch of continuous sensitive exposure, and how far into it the break prompt is snoozed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="exposure_clock")
    last_minute = models.DateTimeField(help_text="Start of the last minute counted.")
    stretch_started = models.DateTimeField(help_text="Start of the first minute of the current stretch.")
    stretch_minutes = models.PositiveIntegerField(default=0)
    snoozed_until_minutes = models.PositiveIntegerField(
        default=0, help_text="The prompt stays hidden until the stretch reaches this many minutes.")

    def __str__(self):
        return f"{self.user}: {self.stretch_minutes} min since {self.stretch_started:%H:%M}"
