"""Demo data for the cases app, made the way real data is made: reports sent through the intake service.

Over the last three days the platform integration sends a few hundred reports in batches (user
reports, automated detections with scores, support escalations, legal requests) and a registered
trusted flagger sends notices in and outside its areas. Some subjects have history: cases resolved
earlier through the ordinary locked transition, then reported again. Accounts carry hashed signals;
pairs of accounts share a device, and a ring of five shares a device and a payment card.

Idempotent: once the demo reports exist, nothing is added (and intake itself would store none twice).
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from tsconsole import roles

from .models import Case, CaseStatus, Category, Report, TrustedFlagger
from .services.events import case_lock, case_transition
from .services.intake import ReportIn, SubjectIn, reports_ingest

DEMO_PREFIX = "demo-"
TEXTS = [
    "Selling followers, DM me for prices",
    "You will regret this, I know where you live",
    "Click here to claim your prize: bit.example/xyz",
    "Official support account, send us your password to verify",
    "Brand new designer bags, 90% off, no receipt",
    "Everyone from that town is vermin",
    "Vote on Wednesday this year, the date changed",
    "Miracle cure, doctors hate it",
    "Posting her home address so you all can visit",
]
DESCRIPTIONS = [
    "This keeps showing up in my feed", "Scam, lost money to this seller", "They are harassing my friend",
    "Fake account using my photos", "This is dangerous", "", "Please remove this",
]
# How often each top-level group is reported (spam and harassment dominate; child safety is rare).
GROUP_WEIGHTS = {
    "spam-manipulation": 24, "harassment": 16, "scams-fraud": 16, "hate": 9, "adult-content": 6,
    "misinformation": 6, "marketplace": 6, "ip-counterfeits": 4, "privacy-doxxing": 4, "violence-threats": 4,
    "self-harm": 2, "child-safety": 1, "violent-extremism": 1, "ncii": 1,
}
HOURS = 72


def _integration_user(username: str):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={
        "first_name": username.replace("-", " ").title(), "email": f"{username}@demo.invalid"})
    if created:
        user.set_unusable_password()  # integrations use API tokens
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])
    return user


class _Demo:
    def __init__(self):
        self.rng = random.Random(42)
        self.now = timezone.now()
        self.n = 0
        leaves = [c for c in Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent")]
        self.weighted = [c for c in leaves for _ in range(GROUP_WEIGHTS.get(c.parent.slug, 2))]
        self.accounts = [self._account(i) for i in range(120)]

    def _account(self, i: int) -> SubjectIn:
        rng = self.rng
        signals = [("email_hash", f"demo-user-{i}@mail.example"), ("ip", f"198.51.100.{i % 250}")]
        if i < 5:  # the ring: one phone and one card behind five accounts
            signals += [("device_id", "demo-ring-device"), ("payment_fingerprint", "demo-ring-card")]
        elif 10 <= i < 30:  # pairs: a second account on the same device
            signals.append(("device_id", f"demo-device-{i // 2}"))
        return SubjectIn(
            kind="account", external_id=f"{DEMO_PREFIX}acct-{i}", handle=f"demo_user_{i}",
            follower_count=rng.choice([3, 40, 250, 1200, 18000, 250000]), verified=rng.random() < 0.05,
            account_type=rng.choice(["private"] * 8 + ["business"]),
            created_at=self.now - timedelta(days=rng.randint(2, 2000)), signals=signals,
        )

    def subject(self) -> SubjectIn:
        author = self.rng.choice(self.accounts)
        if self.rng.random() < 0.45:
            return author
        self.n += 1
        return SubjectIn(
            kind="content", external_id=f"{DEMO_PREFIX}post-{self.n}",
            content_type=self.rng.choice(["post", "post", "comment", "message", "listing", "review", "media"]),
            text=self.rng.choice(TEXTS), url=f"https://platform.example/p/{self.n}", author=author,
        )

    def report(self, external_id: str, subject: SubjectIn, *, source: str | None = None,
               category: Category | None = None) -> ReportIn:
        rng = self.rng
        source = source or rng.choice(["user_report"] * 12 + ["automated"] * 6 + ["support_escalation"])
        category = category or rng.choice(self.weighted)
        automated = source == "automated"
        return ReportIn(
            source=source, external_id=f"{DEMO_PREFIX}{external_id}", category=category.slug, subject=subject,
            reporter_ref="" if automated else f"demo-reporter-{rng.randint(1, 400)}",
            description="" if automated else rng.choice(DESCRIPTIONS),
            classifier_label=f"{category.slug}-v2" if automated else "",
            classifier_score=round(rng.uniform(0.35, 0.99), 2) if automated else None,
            language=rng.choice(["en"] * 6 + ["de", "fr", "es", "pt-BR"]), territory=rng.choice(["IE", "DE", "FR", "ES"]),
            exact_location=subject.url or "",
        )


def _resolve(case_id: int, *, actor, at, resolution: str, reason: str) -> None:
    with transaction.atomic():
        case = case_lock(case_id)
        case.resolution, case.resolution_reason = resolution, reason
        case.resolved_by, case.resolved_at = actor, at
        case_transition(case, CaseStatus.RESOLVED, verb="resolved", actor=actor, at=at,
                        data={"resolution": resolution, "reason": reason},
                        update_fields=["resolution", "resolution_reason", "resolved_by", "resolved_at"])


def seed() -> str:
    if Report.objects.filter(external_id__startswith=DEMO_PREFIX).exists():
        return "already present"
    demo = _Demo()
    platform = _integration_user("platform")
    flagger_user = _integration_user("hotline-flagger")
    flagger, _ = TrustedFlagger.objects.get_or_create(name="Safer Internet Hotline", defaults={
        "awarding_authority": "Coimisiún na Meán", "user": flagger_user, "contact_email": "notices@hotline.example",
        "awarded_at": (demo.now - timedelta(days=300)).date()})
    flagger.areas.set(Category.objects.filter(slug__in=["child-safety", "hate", "violent-extremism"]))
    analyst = get_user_model().objects.filter(username="analyst").first()
    start = demo.now - timedelta(hours=HOURS)

    # History: subjects reported and decided earlier; their new reports below open fresh cases.
    history_subjects = [demo.accounts[i] for i in range(5, 35)]
    earlier = [demo.report(f"h-{i}", s) for i, s in enumerate(history_subjects)]
    outcomes = reports_ingest(earlier, actor=platform, at=start - timedelta(days=20))
    for i, outcome in enumerate(outcomes):
        resolution, reason = (("actioned", "Violation confirmed; content removed.") if i % 3 == 0
                              else ("no_violation", "Within policy."))
        _resolve(outcome.case["id"], actor=analyst, at=start - timedelta(days=19, hours=i), resolution=resolution,
                 reason=reason)
    resolved = len(outcomes)

    # Three days of reports in batches: new subjects, repeat subjects (they join open cases), history.
    sent = 0
    batches = 36
    for b in range(batches):
        # Reports arrive unevenly, more of them in the last hours: today's wave is still in the queues.
        at = start + timedelta(hours=HOURS * (b / batches) ** 0.35)
        batch = []
        for _ in range(8):
            subject = demo.subject()
            batch.append(demo.report(f"r-{sent}", subject))
            sent += 1
            for _ in range(demo.rng.choice([0, 0, 0, 1, 2])):  # more people report the same thing
                batch.append(demo.report(f"r-{sent}", subject, source="user_report"))
                sent += 1
        if b % 4 == 0:
            batch.append(demo.report(f"r-{sent}", demo.rng.choice(history_subjects)))
            sent += 1
        if b % 6 == 0:
            batch.append(demo.report(f"legal-{b}", demo.subject(), source="legal_request",
                                     category=Category.objects.get(slug="private-information")))
            sent += 1
        reports_ingest(batch, actor=platform, at=at)

    # The trusted flagger: within its areas (ranks up) and once outside (counts as an ordinary notice).
    areas = list(Category.objects.filter(slug__in=["hate-speech", "grooming", "extremist-glorification"]))
    notices = [demo.report(f"tf-{i}", demo.subject(), source="trusted_flagger", category=areas[i % len(areas)])
               for i in range(6)]
    notices.append(demo.report("tf-outside", demo.subject(), source="trusted_flagger",
                               category=Category.objects.get(slug="counterfeit")))
    reports_ingest(notices, actor=flagger_user, at=demo.now - timedelta(hours=5))
    sent += len(notices)

    open_cases = Case.objects.filter(subject__external_id__startswith=DEMO_PREFIX).exclude(
        status=CaseStatus.RESOLVED).count()
    return (f"{len(demo.accounts)} accounts, {sent + resolved} reports, {open_cases} open cases, "
            f"{resolved} resolved earlier")
