"""A factory per model. Factories build valid rows with the fewest arguments; tests say what matters."""

import hashlib
import uuid

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from appeals.models import Appeal
from cases import models as cm
from enforcement import models as em
from tsconsole import models as tm


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            for role in extracted:
                self.groups.add(Group.objects.get_or_create(name=role)[0])
        if create:
            self.save()


def user_with_role(role: str, **kwargs):
    return UserFactory(roles=[role], **kwargs)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.WebhookEndpoint

    name = factory.Sequence(lambda n: f"endpoint {n}")
    url = "http://127.0.0.1:9/hook"
    secret = factory.Sequence(lambda n: f"secret-{n}")


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.OutboxMessage

    topic = "test.event"
    channel = tm.OutboxMessage.Channel.WEBHOOK
    endpoint = factory.SubFactory(WebhookEndpointFactory)
    payload = factory.LazyFunction(lambda: {"hello": "world"})
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    next_attempt_at = factory.LazyFunction(timezone.now)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.Notification

    user = factory.SubFactory(UserFactory)
    title = "Something happened"


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.AuditEntry

    verb = "test.read"


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tm.Heartbeat
        django_get_or_create = ("component",)

    component = "worker"
    seen_at = factory.LazyFunction(timezone.now)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    dsa_category = cm.DsaCategory.OTHER_VIOLATION_TC
    default_severity = cm.Severity.MEDIUM


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Subject
        django_get_or_create = ("kind", "external_id")

    kind = cm.Subject.Kind.ACCOUNT
    external_id = factory.Sequence(lambda n: f"acct-{n}")
    handle = factory.Sequence(lambda n: f"handle{n}")
    follower_count = 120
    account_type = cm.Subject.AccountType.PRIVATE
    platform_created_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=400))


SubjectFactory = AccountFactory


class ContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Subject
        django_get_or_create = ("kind", "external_id")

    kind = cm.Subject.Kind.CONTENT
    external_id = factory.Sequence(lambda n: f"post-{n}")
    content_type = cm.Subject.ContentType.POST
    text = "Example post text"
    author = factory.SubFactory(AccountFactory)


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Signal
        django_get_or_create = ("kind", "value_hash")

    kind = cm.Signal.Kind.DEVICE_ID
    value_hash = factory.Sequence(lambda n: hashlib.sha256(f"signal-{n}".encode()).hexdigest())


class SubjectSignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.SubjectSignal

    subject = factory.SubFactory(AccountFactory)
    signal = factory.SubFactory(SignalFactory)


def common_signal(*accounts, kind=cm.Signal.Kind.IP) -> cm.Signal:
    """A signal the given accounts carry along with so many others (a carrier's NAT address) that it
    is too common to link accounts by (cases.models.COMMON_SIGNAL_ACCOUNTS)."""
    signal = SignalFactory(kind=kind)
    crowd = cm.Subject.objects.bulk_create(
        cm.Subject(kind=cm.Subject.Kind.ACCOUNT, external_id=f"crowd-{signal.pk}-{n}")
        for n in range(cm.COMMON_SIGNAL_ACCOUNTS + 1 - len(accounts)))
    cm.SubjectSignal.objects.bulk_create(cm.SubjectSignal(subject=account, signal=signal)
                                         for account in [*accounts, *crowd])
    return signal


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Queue
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"queue-{n}")
    name = factory.LazyAttribute(lambda q: q.slug.replace("-", " ").title())


class QueueSlaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.QueueSla
        django_get_or_create = ("queue", "priority")

    queue = factory.SubFactory(QueueFactory)
    priority = cm.Priority.P2
    first_touch_minutes = 60
    resolution_minutes = 240


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.RoutingRule

    queue = factory.SubFactory(QueueFactory)
    position = factory.Sequence(lambda n: n * 10)


class TrustedFlaggerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.TrustedFlagger

    name = factory.Sequence(lambda n: f"Flagger org {n}")
    awarding_authority = "Coimisiún na Meán"


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Case

    subject = factory.SubFactory(AccountFactory)
    queue = factory.SubFactory(QueueFactory)
    category = factory.SubFactory(CategoryFactory)
    status = cm.CaseStatus.OPEN
    priority = cm.Priority.P2
    opened_at = factory.LazyFunction(timezone.now)


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Report

    source = cm.Source.USER_REPORT
    external_id = factory.Sequence(lambda n: f"report-{n}")
    case = factory.SubFactory(CaseFactory)
    subject = factory.SelfAttribute("case.subject")
    category = factory.SelfAttribute("case.category")
    reporter_ref = factory.Sequence(lambda n: f"reporter-{n}")
    received_at = factory.LazyFunction(timezone.now)


class CaseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.CaseEvent

    case = factory.SubFactory(CaseFactory)
    verb = "note_added"
    actor_kind = cm.CaseEvent.ActorKind.SYSTEM
    created_at = factory.LazyFunction(timezone.now)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Note

    case = factory.SubFactory(CaseFactory)
    author = factory.SubFactory(UserFactory)
    body = "Checked the account history."


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Evidence

    case = factory.SubFactory(CaseFactory)
    kind = cm.Evidence.Kind.TEXT
    text_extract = "a pasted message"
    content_type = "text/plain"
    size = factory.LazyAttribute(lambda e: len(e.text_extract.encode()))
    sha256 = factory.LazyAttribute(lambda e: hashlib.sha256(e.text_extract.encode()).hexdigest())
    captured_by = factory.SubFactory(UserFactory)


class SlaCrossingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.SlaCrossing

    case = factory.SubFactory(CaseFactory)
    clock = cm.SlaCrossing.Clock.RESOLUTION
    level = cm.SlaCrossing.Level.BREACHED
    due_at = factory.LazyFunction(timezone.now)
    crossed_at = factory.LazyFunction(timezone.now)


class EscalationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Escalation

    case = factory.SubFactory(CaseFactory, status=cm.CaseStatus.ESCALATED)
    severity = cm.EscalationSeverity.SEV2
    team = factory.SubFactory(TeamFactory)
    summary = "Possible coordinated ring"
    created_by = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)
    ack_due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=1))


class EscalationNotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.EscalationNotification

    escalation = factory.SubFactory(EscalationFactory)
    step = 0
    recipient = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)


# --------------------------------------------------------------------------- enforcement


class PolicyFactory(factory.django.DjangoModelFactory):
    """An active policy with its version 1 saved (as policy_save would)."""

    class Meta:
        model = em.Policy
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"policy-{n}")
    name = factory.LazyAttribute(lambda p: p.slug.replace("-", " ").title())
    category = factory.SubFactory(CategoryFactory)
    rule_text = "Do not do the thing."
    guidance = "Internal guidance for analysts."
    ladder = factory.LazyFunction(lambda: [
        {"action": "warn"}, {"action": "feature_restriction", "duration_hours": 24},
        {"action": "suspension", "duration_hours": 168}, {"action": "termination"},
    ])
    strike_window_days = 180
    version = 1

    @factory.post_generation
    def saved_version(self, create, extracted, **kwargs):
        if create and not self.versions.exists():
            em.PolicyVersion.objects.create(
                policy=self, version=self.version,
                **{name: getattr(self, name) for name in em.Policy.VERSIONED_FIELDS},
            )


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = em.Macro
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"macro-{n}")
    name = factory.LazyAttribute(lambda m: m.slug.replace("-", " ").title())
    body = "We removed your {subject} because {reason}."


class EnforcementActionFactory(factory.django.DjangoModelFactory):
    """An active warning on the subject of a resolved case."""

    class Meta:
        model = em.EnforcementAction

    case = factory.SubFactory(CaseFactory, status=cm.CaseStatus.RESOLVED, resolution=cm.Case.Resolution.ACTIONED)
    target = factory.SelfAttribute("case.subject")
    policy = factory.SubFactory(PolicyFactory)
    policy_version = factory.LazyAttribute(lambda a: a.policy.versions.get(version=a.policy.version))
    action_type = "warn"
    status = "active"
    decision_ground = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    category = factory.SelfAttribute("case.category.dsa_category")
    rationale = "Internal rationale."
    statement = "You broke the rule."
    created_at = factory.LazyFunction(timezone.now)
    applied_at = factory.LazyFunction(timezone.now)
    proposer = factory.SubFactory(UserFactory)


class StrikeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = em.Strike

    action = factory.SubFactory(EnforcementActionFactory)
    account = factory.SelfAttribute("action.target")
    policy = factory.SelfAttribute("action.policy")
    case = factory.SelfAttribute("action.case")
    issued_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=180))


# --------------------------------------------------------------------------- appeals


class AppealFactory(factory.django.DjangoModelFactory):
    """An open appeal by the affected account against a warning, with its own case in the appeals
    queue (rows only: tests of the rules file appeals through appeals.services)."""

    class Meta:
        model = Appeal

    decision_case = factory.SubFactory(CaseFactory, status=cm.CaseStatus.RESOLVED, resolution=cm.Case.Resolution.ACTIONED)
    case = factory.SubFactory(
        CaseFactory, kind=cm.CaseKind.APPEAL, subject=factory.SelfAttribute("..decision_case.subject"),
        queue=factory.LazyFunction(lambda: cm.Queue.objects.get_or_create(slug="appeals", defaults={"name": "Appeals"})[0]),
    )
    decision_ref = factory.LazyFunction(uuid.uuid4)
    subject = factory.SelfAttribute("decision_case.subject")
    policy = factory.SubFactory(PolicyFactory)
    action_type = "warn"
    original_decider = factory.SubFactory(UserFactory)
    decision_applied_at = factory.LazyFunction(timezone.now)
    window_closes_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=182))
    appellant_kind = "subject"
    appellant_ref = factory.SelfAttribute("subject.external_id")
    source = "platform"
    external_id = factory.Sequence(lambda n: f"appeal-{n}")
    statement = "Please look again."
    filed_by = factory.SubFactory(UserFactory)
    filed_at = factory.LazyFunction(timezone.now)
