"""Report intake: turn notices from the platform into cases, idempotently, in the right queue and priority.

One function does the work for one report and for a thousand (`reports_ingest`); a single POST is a
batch of one. Per batch, in one transaction and a handful of statements whatever its size:

1. Reports whose (source, external_id) is already stored are replays: answered from the stored row,
   nothing is written (no subject update, no event). A key repeated inside the batch counts once.
2. Subjects are upserted by (kind, external_id): accounts first (reported accounts and content
   authors together), then content items. Fields the sender left out keep their stored value; sent
   values replace stored ones. Rows go in key order so concurrent batches lock them in one order.
   The upsert locks every subject of the batch, which serialises concurrent intake about one subject.
3. Signals are stored only as hashes (`signal_hash`) and linked to their accounts.
4. Open cases of the subjects are locked (`FOR UPDATE`); subjects without one get a new case,
   inserted with `ON CONFLICT … DO NOTHING` against the partial unique index
   `one_open_case_per_subject`: a case opened meanwhile by someone else is locked and joined instead.
5. Reports are inserted with `ON CONFLICT (source, external_id) DO NOTHING`: a report that a
   concurrent request stored first becomes a replay here.
6. Joined cases get their counts and priority recomputed from all their reports (`cases.priority`);
   a raised priority moves the SLA due times (`cases.sla`). Priority never drops on intake: more
   notices never make a case less urgent, and a lead's manual raise stays.
7. One CaseEvent per opened case (`opened`), per report joining a case (`report_added`), and per
   case whose priority rose (`priority_changed`), written in bulk.

Routing rules, categories, SLA targets and the trusted-flagger register are read once into an
`IntakeContext`, cached per process and dropped when any of them changes (see `intake_context`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from tsconsole.errors import Conflict, InvalidInput
from tsconsole.prepared import generic_plans_until_commit

from ..models import CaseStatus, Category, Queue, QueueSla, RoutingRule, Signal, Subject, TrustedFlagger
from ..priority import PriorityFacts, assess
from ..routing import RoutingTable, descendants
from ..sla import apply_due_times, due_times, target_usable
from . import intake_store as store
from .events import actor_kind, events_record

log = logging.getLogger(__name__)

MAX_BATCH = 1000
# Up to this many reports, planning the batch's statements costs about what running them does: they
# run on the plans made once per connection (tsconsole.prepared.generic_plans_until_commit).
GENERIC_PLANS_UP_TO = 20

# --------------------------------------------------------------------------- input


@dataclass
class SubjectIn:
    """A reported account or content item as the platform describes it. Empty/None: not sent."""

    kind: str
    external_id: str
    handle: str = ""
    follower_count: int | None = None
    verified: bool | None = None
    account_type: str = ""
    created_at: datetime | None = None
    signals: list[tuple[str, str]] = field(default_factory=list)  # (Signal.Kind, raw value or sha256 hex)
    content_type: str = ""
    text: str = ""
    url: str = ""
    author: SubjectIn | None = None


@dataclass
class ReportIn:
    """One notice, validated for shape and types (the API parser or a Python caller builds it)."""

    source: str
    external_id: str
    category: str  # slug
    subject: SubjectIn
    reporter_ref: str = ""
    notifier_name: str = ""
    notifier_email: str = ""
    description: str = ""
    classifier_label: str = ""
    classifier_score: float | None = None
    received_at: datetime | None = None
    language: str = ""
    territory: str = ""
    explanation: str = ""
    exact_location: str = ""
    good_faith_statement: bool | None = None


@dataclass
class Outcome:
    """What became of one report: `created`, `duplicate` (already stored: nothing changed) or `error`."""

    status: str
    external_id: str = ""
    report_id: int | None = None
    case: dict | None = None
    errors: dict | None = None

    CREATED = "created"
    DUPLICATE = "duplicate"
    ERROR = "error"

    def body(self) -> dict:
        if self.status == self.ERROR:
            return {"errors": self.errors}
        return {"id": self.report_id, "external_id": self.external_id, "case": self.case,
                "created": self.status == self.CREATED}


# --------------------------------------------------------------------------- signals

_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def signal_hash(kind: str, value: str) -> str:
    """The stored form of a signal: a SHA-256 hex digest sent by the platform is kept as is; a raw
    value is normalised (emails lower-cased, IP addresses in canonical form) and HMAC-SHA256-hashed
    with SIGNAL_HASH_KEY, so raw personal data is never stored and hashes can't be reversed by
    hashing guesses without the key."""
    value = value.strip()
    if _SHA256_HEX.match(value):
        return value.lower()
    if kind == Signal.Kind.EMAIL_HASH:
        value = value.lower()
    elif kind == Signal.Kind.IP:
        try:
            value = ipaddress.ip_address(value).compressed
        except ValueError:
            pass
    key = settings.SIGNAL_HASH_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    slug: str
    name: str
    severity: int
    is_active: bool


@dataclass(frozen=True)
class FlaggerInfo:
    id: int
    name: str
    areas: frozenset[int]  # category ids, expanded to every category below an area


@dataclass(frozen=True)
class IntakeContext:
    """Everything intake reads besides the reports themselves, loaded in five queries."""

    categories: dict[str, CategoryInfo]
    categories_by_id: dict[int, CategoryInfo]
    routing: RoutingTable
    sla_targets: dict[tuple[int, int], QueueSla]
    flaggers_by_user: dict[int, FlaggerInfo]
    flaggers_by_id: dict[int, FlaggerInfo]

    @classmethod
    def load(cls) -> IntakeContext:
        rows = list(Category.objects.values_list("id", "slug", "name", "default_severity", "is_active", "parent_id"))
        tree = [(r[0], r[5]) for r in rows]
        infos = [CategoryInfo(r[0], r[1], r[2], r[3], r[4]) for r in rows]
        below = descendants(tree)
        areas: dict[int, set[int]] = defaultdict(set)
        for flagger_id, category_id in TrustedFlagger.areas.through.objects.values_list(
                "trustedflagger_id", "category_id"):
            areas[flagger_id] |= below.get(category_id, {category_id})
        flaggers = [
            FlaggerInfo(f.id, f.name, frozenset(areas.get(f.id, ())))
            for f in TrustedFlagger.objects.filter(is_active=True).only("id", "name", "user_id")
        ]
        users = dict(TrustedFlagger.objects.filter(is_active=True, user__isnull=False).values_list("user_id", "id"))
        by_id = {f.id: f for f in flaggers}
        return cls(
            categories={c.slug: c for c in infos},
            categories_by_id={c.id: c for c in infos},
            routing=RoutingTable.load(tree),
            sla_targets={(s.queue_id, s.priority): s for s in QueueSla.objects.all() if target_usable(s)},
            flaggers_by_user={user_id: by_id[fid] for user_id, fid in users.items()},
            flaggers_by_id=by_id,
        )


_VERSION_KEY = "cases:intake-context-version"
_CONTEXT_TTL_SECONDS = 30
# How often a process asks the shared cache whether the context changed: reading the version costs a
# Redis round trip (and redis-py builds a client object per call), more than a small report's own
# Python work, so a process looks at most once per interval.
_VERSION_CHECK_SECONDS = 1.0
_memo: tuple[str, float, float, IntakeContext] | None = None  # version, loaded at, checked at, context


def intake_context() -> IntakeContext:
    """The intake context, reloaded when routing, queues, SLA targets, categories or trusted
    flaggers change. Saves bump a version token in the shared cache (Redis when configured) and drop
    this process's copy at once; other processes notice within _VERSION_CHECK_SECONDS. Changes that
    bypass the ORM are picked up within _CONTEXT_TTL_SECONDS."""
    global _memo
    memo, now = _memo, time.monotonic()
    if memo is not None and now - memo[2] < _VERSION_CHECK_SECONDS and now - memo[1] < _CONTEXT_TTL_SECONDS:
        return memo[3]
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(_VERSION_KEY)
    if memo is not None and memo[0] == version and now - memo[1] < _CONTEXT_TTL_SECONDS:
        _memo = (version, memo[1], now, memo[3])
        return memo[3]
    context = IntakeContext.load()
    _memo = (version, now, now, context)
    return context


def intake_context_forget() -> None:
    """Drop this process's copy, so that the next report reads the shared version (for tests, which
    clear the shared cache between them)."""
    global _memo
    _memo = None


def intake_context_changed(**kwargs) -> None:
    def bump():
        global _memo
        _memo = None
        cache.set(_VERSION_KEY, uuid.uuid4().hex, None)

    # Now for this process, and again at commit so no process keeps a snapshot read before it.
    bump()
    transaction.on_commit(bump)


for _model in (Category, Queue, QueueSla, RoutingRule, TrustedFlagger):
    post_save.connect(intake_context_changed, sender=_model, dispatch_uid=f"intake-context-{_model.__name__}")
    post_delete.connect(intake_context_changed, sender=_model, dispatch_uid=f"intake-context-del-{_model.__name__}")
m2m_changed.connect(intake_context_changed, sender=TrustedFlagger.areas.through, dispatch_uid="intake-context-areas")


# --------------------------------------------------------------------------- the service


@dataclass
class _Item:
    """A report accepted for writing, with what the batch learns about it."""

    index: int
    report: ReportIn
    category: CategoryInfo
    flagger: FlaggerInfo | None
    subject_key: tuple[str, str] = ("", "")
    subject_id: int = 0
    reach: int = 0
    case: store.CaseRow | None = None
    opened_case: bool = False
    report_id: int | None = None


def reports_ingest(reports: list[ReportIn], *, actor, at: datetime | None = None) -> list[Outcome]:
    """Ingest a batch of reports (one or up to MAX_BATCH); one Outcome per report, in order.

    Items with unknown or retired categories come back as errors; every other item is committed in
    one transaction. A deadlock with a concurrent writer (which the lock ordering makes unlikely)
    is retried a few times when this call owns the transaction. `at` is when the batch counts as
    arriving (cases open and SLA clocks start then): now, unless an import or the demo backdates it.
    """
    if len(reports) > MAX_BATCH:
        raise InvalidInput(f"Send at most {MAX_BATCH} reports per request.",
                           field_errors={"non_field_errors": [f"At most {MAX_BATCH} reports per request."]})
    ctx = intake_context()
    attempts = 1 if transaction.get_connection().in_atomic_block else 3
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if attempts > 1 and len(reports) <= GENERIC_PLANS_UP_TO:  # our own transaction, a small batch
                    generic_plans_until_commit()
                return _ingest(reports, actor=actor, ctx=ctx, now=at or timezone.now())
        except OperationalError as exc:
            if attempt == attempts - 1 or getattr(exc.__cause__, "pgcode", None) not in ("40P01", "40001"):
                raise
            log.warning("intake: retrying a batch of %d after %s", len(reports), exc)
    raise AssertionError("unreachable")


def report_ingest(report: ReportIn, *, actor) -> Outcome:
    """Ingest one report; an invalid one raises InvalidInput naming the bad fields."""
    outcome = reports_ingest([report], actor=actor)[0]
    if outcome.status == Outcome.ERROR:
        raise InvalidInput("The report was not accepted: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in outcome.errors.items()),
            field_errors=outcome.errors)
    return outcome


def _ingest(reports: list[ReportIn], *, actor, ctx: IntakeContext, now) -> list[Outcome]:
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    flagger = ctx.flaggers_by_user.get(actor_id) if actor_id else None
    outcomes: list[Outcome | None] = [None] * len(reports)

    # -- references, and keys repeated inside the batch
    items: list[_Item] = []
    first_of: dict[tuple[str, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for index, report in enumerate(reports):
        category = ctx.categories.get(report.category)
        if category is None or not category.is_active:
            message = (f"Unknown category “{report.category}”: GET /api/v1/categories/ lists the valid slugs."
                       if category is None else f"Category “{report.category}” is no longer in use.")
            outcomes[index] = Outcome(Outcome.ERROR, external_id=report.external_id, errors={"category": [message]})
            continue
        key = (report.source, report.external_id)
        if key in first_of:
            repeats.append((index, first_of[key]))
            continue
        first_of[key] = index
        items.append(_Item(index=index, report=report, category=category, flagger=flagger))

    # -- replays: answered from the stored report, nothing written
    stored = _replays(list(first_of), ctx) if first_of else {}
    fresh = []
    for item in items:
        replay = stored.get((item.report.source, item.report.external_id))
        if replay is not None:
            outcomes[item.index] = replay
        else:
            fresh.append(item)
    if fresh:
        _write(fresh, ctx=ctx, actor=actor, actor_id=actor_id, now=now, outcomes=outcomes)

    for index, first in repeats:
        original = outcomes[first]
        outcomes[index] = Outcome(Outcome.DUPLICATE, external_id=original.external_id, report_id=original.report_id,
                                  case=original.case)
    return outcomes


def _replays(keys: list[tuple[str, str]], ctx: IntakeContext) -> dict[tuple[str, str], Outcome]:
    found = store.stored_reports(keys)
    slugs = dict(ctx.routing.queue_slugs)
    missing = {row[3] for row in found.values()} - set(slugs)
    if missing:  # cases in queues retired since the context was loaded
        slugs.update(Queue.objects.filter(pk__in=missing).values_list("id", "slug"))
    return {
        (source, ext): Outcome(Outcome.DUPLICATE, external_id=ext, report_id=rid,
                               case={"id": case_id, "status": status, "queue": slugs.get(queue_id), "priority": priority})
        for (source, ext), (rid, case_id, status, queue_id, priority) in found.items()
    }


def _merge_subject(into: dict, subject: SubjectIn) -> None:
    """Fold a mention of a subject into the row to upsert (later mentions in the batch win)."""
    for name, value in (("handle", subject.handle), ("account_type", subject.account_type),
                        ("content_type", subject.content_type), ("text", subject.text), ("url", subject.url)):
        if value:
            into[name] = value
    for name, value in (("follower_count", subject.follower_count), ("platform_created_at", subject.created_at),
                        ("verified", subject.verified)):
        if value is not None:
            into[name] = value
    if subject.author is not None:
        into["author_key"] = subject.author.external_id
    into["signals"].extend(subject.signals)


def _subjects(items: list[_Item], now) -> set[int]:
    """Upsert every subject and author of the batch, link account signals, and note ids and reach.
    Returns the ids of the subjects this batch stored for the first time."""
    created: set[int] = set()
    accounts: dict[str, dict] = {}
    contents: dict[str, dict] = {}
    for item in items:
        subject = item.report.subject
        if subject.author is not None:
            _merge_subject(accounts.setdefault(subject.author.external_id, {"signals": []}), subject.author)
        rows = accounts if subject.kind == Subject.Kind.ACCOUNT else contents
        _merge_subject(rows.setdefault(subject.external_id, {"signals": []}), subject)
        item.subject_key = (subject.kind, subject.external_id)
    account_ids = store.upsert_subjects(Subject.Kind.ACCOUNT, accounts, now, created) if accounts else {}
    ids = {(Subject.Kind.ACCOUNT, key): value for key, value in account_ids.items()}
    if contents:
        for row in contents.values():
            if "author_key" in row:
                row["author_id"] = account_ids[row["author_key"]][0]
        ids.update({(Subject.Kind.CONTENT, key): value
                    for key, value in store.upsert_subjects(Subject.Kind.CONTENT, contents, now, created).items()})
    store.link_signals([(account_ids[ext][0], kind, signal_hash(kind, value))
                        for ext, row in accounts.items() for kind, value in row["signals"]], now)
    for item in items:
        item.subject_id, item.reach = ids[item.subject_key]
    return created


def _add(facts: PriorityFacts, ctx: IntakeContext, *, category_id: int, source: str, score, flagger) -> None:
    category = ctx.categories_by_id[category_id]
    facts.add_report(severity=category.severity, category_name=category.name, source=source, score=score,
                     flagger=flagger.name if flagger else None,
                     flagger_in_area=flagger is not None and category_id in flagger.areas)


def _fold(facts: PriorityFacts, ctx: IntakeContext, items: list[_Item]) -> PriorityFacts:
    """`facts` with these items' reports folded in."""
    for item in items:
        _add(facts, ctx, category_id=item.category.id, source=item.report.source, score=item.report.classifier_score,
             flagger=item.flagger)
    return facts


def _new_case(group: list[_Item], ctx: IntakeContext, now) -> store.CaseRow:
    """The case a subject's first report opens: routed by that report, prioritised by all the batch's."""
    first = group[0]
    route = ctx.routing.route(category_id=first.category.id, source=first.report.source,
                              score=first.report.classifier_score, language=first.report.language,
                              territory=first.report.territory)
    reporters = len({i.report.reporter_ref for i in group if i.report.reporter_ref})
    facts = _fold(PriorityFacts(reach=first.reach, reporters=reporters), ctx, group)
    verdict = assess(facts)
    first_due, resolution_due = due_times(route.queue_id, verdict.priority, now, targets=ctx.sla_targets)
    return store.CaseRow(
        id=None, subject_id=first.subject_id, queue_id=route.queue_id, category_id=first.category.id,
        status=CaseStatus.OPEN, priority=verdict.priority, priority_reasons=verdict.reasons,
        first_touch_due_at=first_due, resolution_due_at=resolution_due, opened_at=now, updated_at=now,
        report_count=len(group), reporter_count=reporters, route=route.reason, opened=True,
        report_facts=facts.stored())


def _cases(by_subject: dict[int, list[_Item]], ctx: IntakeContext, now, *, new_subjects: set[int]) -> dict[int, store.CaseRow]:
    """Lock each subject's open case, or open one; returns {subject id: case} (new ones `opened`).
    A subject this transaction has just stored (`new_subjects`) has no case yet, nor can another
    transaction give it one before this one commits: its case is opened without looking."""
    cases = store.lock_open_cases([sid for sid in by_subject if sid not in new_subjects])
    pending = [sid for sid in by_subject if sid not in cases]
    for _round in range(5):
        if not pending:
            break
        candidates = {sid: _new_case(by_subject[sid], ctx, now) for sid in pending}
        inserted = store.insert_cases(list(candidates.values()))
        for sid, case_id in inserted.items():
            candidates[sid].id = case_id
            cases[sid] = candidates[sid]
        # Lost a race: someone opened a case for the subject since we looked. Join it.
        lost = [sid for sid in pending if sid not in inserted]
        cases.update(store.lock_open_cases(lost))
        pending = [sid for sid in lost if sid not in cases]
    if pending:
        raise Conflict("The subject's open case kept changing while the report was filed; send it again.")
    return cases


def _write(items: list[_Item], *, ctx, actor, actor_id, now, outcomes) -> None:
    new_subjects = _subjects(items, now)
    by_subject: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        by_subject[item.subject_id].append(item)
    cases = _cases(by_subject, ctx, now, new_subjects=new_subjects)
    for item in items:
        item.case = cases[item.subject_id]
        item.opened_case = item.case.opened

    # Who has reported the cases these reports join before (asked before the reports are stored; the
    # case locks keep other batches from adding to them meanwhile).
    seen = store.reporters_seen([(i.case.pk, i.report.reporter_ref) for i in items
                                 if not i.opened_case and i.report.reporter_ref and i.case.report_facts is not None])

    # -- reports; one that a concurrent request stored first is a replay after all
    inserted = store.insert_reports([(
        i.report.source, i.report.external_id, i.subject_id, i.case.pk, i.category.id, i.report.reporter_ref,
        i.report.description, i.report.classifier_label, i.report.classifier_score, i.report.language,
        i.report.territory, i.report.explanation, i.report.exact_location, i.report.notifier_name,
        i.report.notifier_email, i.report.good_faith_statement, i.flagger.id if i.flagger else None, actor_id,
        i.report.received_at or now, now,
    ) for i in items])
    kept, raced = [], []
    for item in items:
        item.report_id = inserted.get((item.report.source, item.report.external_id))
        (kept if item.report_id else raced).append(item)
    if raced:
        replays = _replays([(i.report.source, i.report.external_id) for i in raced], ctx)
        for item in raced:
            outcomes[item.index] = replays[(item.report.source, item.report.external_id)]
        _settle_opened(cases, kept, ctx, now)

    kind = actor_kind(actor)
    events: list[tuple] = []
    joined: dict[int, list[_Item]] = defaultdict(list)
    for item in kept:
        if not item.opened_case:
            joined[item.case.pk].append(item)
    if joined:
        events.extend(_recompute(joined, seen, ctx, actor_id, kind, now))

    announced: set[int] = set()
    for item in kept:
        case = item.case
        if item.opened_case and case.pk not in announced:
            announced.add(case.pk)
            events.append((case.pk, actor_id, kind, "opened", "", CaseStatus.OPEN, {
                "queue": ctx.routing.queue_slugs.get(case.queue_id), "route": case.route,
                "priority": case.priority, "reasons": case.priority_reasons, "report_id": item.report_id,
                "source": item.report.source, "category": item.category.slug}, now))
        else:
            events.append((case.pk, actor_id, kind, "report_added", "", "", {
                "report_id": item.report_id, "source": item.report.source, "category": item.category.slug}, now))
        outcomes[item.index] = Outcome(Outcome.CREATED, external_id=item.report.external_id,
                                       report_id=item.report_id, case=_case_body(case, ctx))
    # Timeline order within a case: reports first, then the priority change they caused.
    events.sort(key=lambda e: (e[0], e[3] == "priority_changed"))
    events_record(events)


def _recompute(joined: dict[int, list[_Item]], seen: set[tuple[int, str]], ctx: IntakeContext, actor_id, kind,
               now) -> list[tuple]:
    """Counts and priority of the open cases that reports joined. A case's kept report facts take the
    new reports in (its distinct reporters grow by the ones not `seen` on it before); a case stored
    before cases kept them has them read from all its reports, once. Priority only rises here; due
    times follow a new priority. Returns the priority_changed events."""
    unkept = [cid for cid, items in joined.items() if items[0].case.report_facts is None]
    counts, groups = store.case_report_facts(unkept) if unkept else ({}, [])
    facts: dict[int, PriorityFacts] = {}
    for cid, items in joined.items():
        case = items[0].case
        if case.report_facts is None:
            facts[cid] = PriorityFacts(reach=items[0].reach)
            case.report_count, case.reporter_count = counts.get(cid, (case.report_count, case.reporter_count))
        else:
            facts[cid] = _fold(PriorityFacts.from_stored(case.report_facts, reach=items[0].reach), ctx, items)
            case.report_count += len(items)
            case.reporter_count += len({i.report.reporter_ref for i in items
                                        if i.report.reporter_ref and (cid, i.report.reporter_ref) not in seen})
    for cid, category_id, source, flagger_id, score in groups:
        if category_id in ctx.categories_by_id:  # a category newer than the context has no severity yet
            _add(facts[cid], ctx, category_id=category_id, source=source, score=score,
                 flagger=ctx.flaggers_by_id.get(flagger_id) if flagger_id else None)
    count_rows, raised, events = [], [], []
    for cid, items in joined.items():
        case = items[0].case
        case.report_facts = facts[cid].stored()
        facts[cid].reporters = case.reporter_count
        count_rows.append((cid, case.report_count, case.reporter_count, case.report_facts))
        verdict = assess(facts[cid])
        if verdict.priority < case.priority:
            events.append((cid, actor_id, kind, "priority_changed", "", "", {
                "from": case.priority, "to": verdict.priority, "reasons": verdict.reasons, "cause": "report"}, now))
            case.priority, case.priority_reasons = verdict.priority, verdict.reasons
            apply_due_times(case, targets=ctx.sla_targets)
            raised.append(case)
    store.update_case_counts(count_rows, now)
    if raised:
        store.update_case_priority(raised)
    return events


def _settle_opened(cases: dict[int, store.CaseRow], kept: list[_Item], ctx: IntakeContext, now) -> None:
    """After reports raced: a case this batch opened whose reports all turned out to be stored already
    goes away again (nothing refers to it yet); the others count, and keep the facts of, only the
    reports actually stored."""
    per_case = defaultdict(list)
    for item in kept:
        if item.opened_case:
            per_case[item.case.pk].append(item)
    opened = [case for case in cases.values() if case.opened]
    empty = [case.pk for case in opened if case.pk not in per_case]
    if empty:
        store.delete_cases(empty)
    recount = []
    for case in opened:
        group = per_case.get(case.pk)
        if group and case.report_count != len(group):
            case.report_count = len(group)
            case.reporter_count = len({i.report.reporter_ref for i in group if i.report.reporter_ref})
            case.report_facts = _fold(PriorityFacts(), ctx, group).stored()
            recount.append((case.pk, case.report_count, case.reporter_count, case.report_facts))
    if recount:
        store.update_case_counts(recount, now)


def _case_body(case: store.CaseRow, ctx: IntakeContext) -> dict:
    slug = ctx.routing.queue_slugs.get(case.queue_id)
    if slug is None:  # a case in a queue retired since the context was loaded
        slug = Queue.objects.filter(pk=case.queue_id).values_list("slug", flat=True).first()
    return {"id": case.pk, "status": case.status, "queue": slug, "priority": case.priority}
