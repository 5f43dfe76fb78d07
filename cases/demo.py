"""Demo data for the cases app: subjects with history, linked accounts, reports and cases."""

import hashlib
import random
from datetime import timedelta

from django.utils import timezone

from .models import (
    Case,
    CaseStatus,
    Category,
    Queue,
    QueueSla,
    Report,
    Signal,
    Source,
    Subject,
    SubjectSignal,
)
from .services.events import event_record

DEMO_PREFIX = "demo-"
TEXTS = [
    "Selling followers, DM me for prices",
    "You will regret this, I know where you live",
    "Click here to claim your prize: bit.example/xyz",
    "Official support account, send us your password to verify",
    "Brand new designer bags, 90% off, no receipt",
    "Everyone from that town is vermin",
    "Vote on Wednesday this year, the date changed",
]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def seed() -> str:
    if Subject.objects.filter(external_id__startswith=DEMO_PREFIX).exists():
        return "already present"
    rng = random.Random(42)
    now = timezone.now()
    leaves = list(Category.objects.filter(parent__isnull=False))
    default_queue = Queue.objects.get(is_default=True)
    slas = {(s.queue_id, s.priority): s for s in QueueSla.objects.all()}
    rules = {"child-safety": "child-safety", "scams-fraud": "fraud-marketplace", "marketplace": "fraud-marketplace"}
    queues = {q.slug: q for q in Queue.objects.all()}

    # A ring: five accounts sharing a device and a payment fingerprint.
    ring_device = Signal.objects.create(kind=Signal.Kind.DEVICE_ID, value_hash=_hash("demo-ring-device"))
    ring_card = Signal.objects.create(kind=Signal.Kind.PAYMENT_FINGERPRINT, value_hash=_hash("demo-ring-card"))
    accounts = []
    for i in range(120):
        account = Subject.objects.create(
            kind=Subject.Kind.ACCOUNT, external_id=f"{DEMO_PREFIX}acct-{i}", handle=f"demo_user_{i}",
            follower_count=rng.choice([3, 40, 250, 1200, 18000, 250000]), verified=rng.random() < 0.05,
            account_type=rng.choice(["private"] * 8 + ["business"]),
            platform_created_at=now - timedelta(days=rng.randint(2, 2000)),
        )
        email = Signal.objects.create(kind=Signal.Kind.EMAIL_HASH, value_hash=_hash(f"demo-email-{i}"))
        SubjectSignal.objects.create(subject=account, signal=email)
        if i < 5:
            SubjectSignal.objects.create(subject=account, signal=ring_device)
            SubjectSignal.objects.create(subject=account, signal=ring_card)
        accounts.append(account)

    cases = reports = 0
    for i in range(300):
        author = rng.choice(accounts)
        if rng.random() < 0.5:
            subject = author
        else:
            subject = Subject.objects.create(
                kind=Subject.Kind.CONTENT, external_id=f"{DEMO_PREFIX}post-{i}", content_type=rng.choice(
                    ["post", "comment", "message", "listing", "review"]),
                text=rng.choice(TEXTS), url=f"https://platform.example/p/{i}", author=author,
            )
        category = rng.choice(leaves)
        queue = queues.get(rules.get(category.parent.slug, ""), default_queue)
        opened = now - timedelta(minutes=rng.randint(5, 60 * 24 * 3))
        priority = min(3, max(0, category.default_severity + rng.choice([-1, 0, 0, 1])))
        history = Case.objects.filter(subject=subject).exclude(status=CaseStatus.RESOLVED).first()
        if history is not None:
            case = history
        else:
            resolved = rng.random() < 0.35
            sla = slas.get((queue.id, priority))
            case = Case.objects.create(
                subject=subject, queue=queue, category=category, priority=priority,
                priority_reasons=[f"{category.get_default_severity_display()} severity category"],
                status=CaseStatus.RESOLVED if resolved else CaseStatus.OPEN,
                resolution=Case.Resolution.NO_VIOLATION if resolved else "",
                resolved_at=opened + timedelta(hours=2) if resolved else None,
                opened_at=opened,
                first_touch_due_at=opened + timedelta(minutes=sla.first_touch_minutes) if sla else None,
                resolution_due_at=opened + timedelta(minutes=sla.resolution_minutes) if sla else None,
            )
            event_record(case, verb="opened", to_status=CaseStatus.OPEN, at=opened,
                         data={"queue": queue.slug, "priority": priority})
            if resolved:
                event_record(case, verb="resolved", from_status=CaseStatus.OPEN, to_status=CaseStatus.RESOLVED,
                             at=case.resolved_at, data={"resolution": "no_violation", "reason": "Within policy."})
            cases += 1
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            Report.objects.create(
                source=rng.choice([Source.USER_REPORT] * 6 + [Source.AUTOMATED] * 3 + [Source.TRUSTED_FLAGGER]),
                external_id=f"{DEMO_PREFIX}r-{reports}", subject=subject, case=case, category=category,
                reporter_ref=f"reporter-{rng.randint(1, 400)}", description=rng.choice(TEXTS),
                classifier_label=category.slug if rng.random() < 0.3 else "",
                classifier_score=round(rng.random(), 2) if rng.random() < 0.3 else None,
                received_at=opened, language="en",
            )
            reports += 1
        case.report_count = case.reports.count()
        case.reporter_count = case.reports.values("reporter_ref").distinct().count()
        case.save(update_fields=["report_count", "reporter_count"])
    return f"{len(accounts)} accounts, {cases} cases, {reports} reports"
