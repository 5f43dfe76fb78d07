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
import json
import logging
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from tsconsole.errors import Conflict, InvalidInput

from ..models import (
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Queue,
    QueueSla,
    Report,
    RoutingRule,
    Signal,
    Subject,
    SubjectSignal,
    TrustedFlagger,
)
from ..priority import PriorityFacts, assess
from ..routing import RoutingTable, descendants
from ..sla import apply_due_times, due_times
from .events import actor_kind

log = logging.getLogger(__name__)

MAX_BATCH = 1000

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
            sla_targets={(s.queue_id, s.priority): s for s in QueueSla.objects.all()},
            flaggers_by_user={user_id: by_id[fid] for user_id, fid in users.items()},
            flaggers_by_id=by_id,
        )


_VERSION_KEY = "cases:intake-context-version"
_CONTEXT_TTL_SECONDS = 30
_memo: tuple[str, float, IntakeContext] | None = None


def intake_context() -> IntakeContext:
    """The intake context, reloaded when routing, queues, SLA targets, categories or trusted
    flaggers change. Saves bump a version token in the shared cache (Redis when configured), so every
    process notices at its next report; changes that bypass the ORM are picked up within
    _CONTEXT_TTL_SECONDS."""
    global _memo
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(_VERSION_KEY)
    memo = _memo
    if memo is not None and memo[0] == version and time.monotonic() - memo[1] < _CONTEXT_TTL_SECONDS:
        return memo[2]
    context = IntakeContext.load()
    _memo = (version, time.monotonic(), context)
    return context


def intake_context_changed(**kwargs) -> None:
    def bump():
        cache.set(_VERSION_KEY, uuid.uuid4().hex, None)

    # Now for this process, and again at commit so no process keeps a snapshot read before it.
    bump()
    transaction.on_commit(bump)


for _model in (Category, Queue, QueueSla, RoutingRule, TrustedFlagger):
    post_save.connect(intake_context_changed, sender=_model, dispatch_uid=f"intake-context-{_model.__name__}")
    post_delete.connect(intake_context_changed, sender=_model, dispatch_uid=f"intake-context-del-{_model.__name__}")
m2m_changed.connect(intake_context_changed, sender=TrustedFlagger.areas.through, dispatch_uid="intake-context-areas")


# --------------------------------------------------------------------------- SQL helpers


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _dt(value):
    return connection.ops.adapt_datetimefield_value(value)


def _rows_sql(rows: list[tuple]) -> tuple[str, list]:
    """`(%s, …), (%s, …)` and the flat parameters, for a multi-row VALUES list (both backends)."""
    one = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return ", ".join([one] * len(rows)), [value for row in rows for value in row]


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --------------------------------------------------------------------------- subjects

_SUBJECT_COLUMNS = ["kind", "external_id", "handle", "follower_count", "verified", "account_type",
                    "platform_created_at", "content_type", "text", "url", "author_id", "first_seen_at", "updated_at"]
# Sent values replace stored ones; an empty string or NULL means "not sent" and keeps what is stored.
_KEEP_IF_BLANK = ["handle", "account_type", "content_type", "text", "url"]
_KEEP_IF_NULL = ["follower_count", "platform_created_at", "author_id"]


def _merge_subject(into: dict, subject: SubjectIn) -> None:
    """Fold a later mention of the same subject into the row to upsert (later values win)."""
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


def _upsert_subjects(kind: str, rows: dict[str, dict], now) -> None:
    """Insert or update the subjects of one kind. Two statements at most: rows that send `verified`
    set it, rows that don't keep it (a NOT NULL boolean has no "not sent" value)."""
    pg = _is_postgres()
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    table = Subject._meta.db_table
    for with_verified in (True, False):
        keys = sorted(k for k, r in rows.items() if ("verified" in r) == with_verified)
        if not keys:
            continue
        sets = {name: f"CASE WHEN excluded.{name} <> '' THEN excluded.{name} ELSE {table}.{name} END"
                for name in _KEEP_IF_BLANK}
        sets.update({name: f"COALESCE(excluded.{name}, {table}.{name})" for name in _KEEP_IF_NULL})
        if with_verified:
            sets["verified"] = "excluded.verified"
        changed = " OR ".join(f"({expr}) {distinct} {table}.{name}" for name, expr in sets.items())
        assignments = ", ".join(f"{name} = {expr}" for name, expr in sets.items())
        for chunk in _chunks(keys, 500):
            values = []
            for key in chunk:
                r = rows[key]
                values.append((
                    kind, key, r.get("handle", ""), r.get("follower_count"), r.get("verified", False),
                    r.get("account_type", ""), _dt(r.get("platform_created_at")), r.get("content_type", ""),
                    r.get("text", ""), r.get("url", ""), r.get("author_id"), _dt(now), _dt(now),
                ))
            values_sql, params = _rows_sql(values)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(_SUBJECT_COLUMNS)}) VALUES {values_sql} "
                    f"ON CONFLICT (kind, external_id) DO UPDATE SET {assignments}, updated_at = excluded.updated_at "
                    f"WHERE {changed}",
                    params,
                )


def _subject_ids(kind: str, keys: list[str]) -> dict[str, tuple[int, int]]:
    """{external_id: (id, reach)} — reach is the account's followers, or the content author's."""
    found = {}
    for chunk in _chunks(keys, 1000):
        for sid, ext, followers, author_followers in Subject.objects.filter(kind=kind, external_id__in=chunk) \
                .values_list("id", "external_id", "follower_count", "author__follower_count"):
            found[ext] = (sid, (followers if kind == Subject.Kind.ACCOUNT else author_followers) or 0)
    return found


def _link_signals(account_ids: dict[str, tuple[int, int]], accounts: dict[str, dict], now) -> None:
    wanted = {(kind, signal_hash(kind, value)): None for row in accounts.values() for kind, value in row["signals"]}
    if not wanted:
        return
    Signal.objects.bulk_create([Signal(kind=k, value_hash=h, first_seen_at=now) for k, h in wanted],
                               ignore_conflicts=True)
    ids = {(k, h): sid for sid, k, h in Signal.objects.filter(value_hash__in={h for _, h in wanted})
           .values_list("id", "kind", "value_hash")}
    links = {
        (account_ids[ext][0], ids[(kind, signal_hash(kind, value))])
        for ext, row in accounts.items() for kind, value in row["signals"]
    }
    SubjectSignal.objects.bulk_create([SubjectSignal(subject_id=s, signal_id=g) for s, g in sorted(links)],
                                      ignore_conflicts=True)


# --------------------------------------------------------------------------- cases and reports


@dataclass
class _Item:
    """A report accepted for writing, with what the batch learned about it."""

    index: int
    report: ReportIn
    category: CategoryInfo
    flagger: FlaggerInfo | None
    subject_key: tuple[str, str] = ("", "")
    subject_id: int = 0
    reach: int = 0
    case: Case | None = None
    report_id: int | None = None
    opened_case: bool = False


def _facts_for_items(items: list[_Item], ctx: IntakeContext, reach: int) -> PriorityFacts:
    facts = PriorityFacts(reach=reach, reporters=len({i.report.reporter_ref for i in items if i.report.reporter_ref}))
    for item in items:
        _add(facts, ctx, category_id=item.category.id, source=item.report.source,
             score=item.report.classifier_score, flagger=item.flagger)
    return facts


def _add(facts: PriorityFacts, ctx: IntakeContext, *, category_id: int, source: str, score, flagger) -> None:
    category = ctx.categories_by_id[category_id]
    facts.add_report(
        severity=category.severity, category_name=category.name, source=source, score=score,
        flagger=flagger.name if flagger else None,
        flagger_in_area=bool(flagger) and category_id in flagger.areas,
    )


def _case_facts(cases: dict[int, Case], reach: dict[int, int], ctx: IntakeContext) -> dict[int, PriorityFacts]:
    """Priority facts of open cases from all their reports (two grouped queries for the whole batch)."""
    ids = list(cases)
    facts = {cid: PriorityFacts(reach=reach.get(cid, 0)) for cid in ids}
    counts = {}
    for chunk in _chunks(ids, 1000):
        for row in (Report.objects.filter(case_id__in=chunk).values("case_id")
                    .annotate(n=Count("id"), reporters=Count("reporter_ref", distinct=True, filter=~Q(reporter_ref="")))):
            counts[row["case_id"]] = (row["n"], row["reporters"])
        for row in (Report.objects.filter(case_id__in=chunk)
                    .values("case_id", "category_id", "source", "trusted_flagger_id")
                    .annotate(score=Max("classifier_score"))):
            flagger = ctx.flaggers_by_id.get(row["trusted_flagger_id"]) if row["trusted_flagger_id"] else None
            if row["category_id"] not in ctx.categories_by_id:
                continue  # a category created after the context was loaded: no severity known yet
            _add(facts[row["case_id"]], ctx, category_id=row["category_id"], source=row["source"],
                 score=row["score"], flagger=flagger)
    for cid, (n, reporters) in counts.items():
        facts[cid].reporters = reporters
        cases[cid].report_count = n
        cases[cid].reporter_count = reporters
    return facts


def _lock_open_cases(subject_ids: list[int]) -> dict[int, Case]:
    found = {}
    for chunk in _chunks(sorted(subject_ids), 1000):
        for case in (Case.objects.select_for_update().filter(subject_id__in=chunk)
                     .exclude(status=CaseStatus.RESOLVED).order_by("id")):
            found[case.subject_id] = case
    return found


_CASE_COLUMNS = ["subject_id", "queue_id", "category_id", "status", "priority", "priority_reasons",
                 "first_touch_due_at", "resolution_due_at", "sla_paused_seconds", "hold_reason", "resolution",
                 "resolution_reason", "report_count", "reporter_count", "opened_at", "updated_at"]


def _insert_cases(new_cases: list[Case]) -> dict[int, int]:
    """Insert cases unless the subject has an open one already; {subject_id: case id} of those inserted."""
    table = Case._meta.db_table
    inserted = {}
    for chunk in _chunks(new_cases, 500):
        values_sql, params = _rows_sql([(
            c.subject_id, c.queue_id, c.category_id, c.status, c.priority, json.dumps(c.priority_reasons),
            _dt(c.first_touch_due_at), _dt(c.resolution_due_at), 0, "", "", "", c.report_count, c.reporter_count,
            _dt(c.opened_at), _dt(c.updated_at),
        ) for c in chunk])
        with connection.cursor() as cursor:
            # The conflict target names the partial unique index one_open_case_per_subject.
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(_CASE_COLUMNS)}) VALUES {values_sql} "
                f"ON CONFLICT (subject_id) WHERE NOT (status = 'resolved') DO NOTHING RETURNING id, subject_id",
                params,
            )
            inserted.update({subject_id: case_id for case_id, subject_id in cursor.fetchall()})
    return inserted


_REPORT_COLUMNS = ["source", "external_id", "subject_id", "case_id", "category_id", "reporter_ref", "description",
                   "classifier_label", "classifier_score", "language", "territory", "explanation", "exact_location",
                   "notifier_name", "notifier_email", "good_faith_statement", "trusted_flagger_id", "submitted_by_id",
                   "received_at", "created_at"]


def _insert_reports(items: list[_Item], actor_id, now) -> dict[tuple[str, str], int]:
    table = Report._meta.db_table
    inserted = {}
    for chunk in _chunks(items, 500):
        values_sql, params = _rows_sql([(
            i.report.source, i.report.external_id, i.subject_id, i.case.pk, i.category.id, i.report.reporter_ref,
            i.report.description, i.report.classifier_label, i.report.classifier_score, i.report.language,
            i.report.territory, i.report.explanation, i.report.exact_location, i.report.notifier_name,
            i.report.notifier_email, i.report.good_faith_statement, i.flagger.id if i.flagger else None, actor_id,
            _dt(i.report.received_at or now), _dt(now),
        ) for i in chunk])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(_REPORT_COLUMNS)}) VALUES {values_sql} "
                f"ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id",
                params,
            )
            inserted.update({(source, ext): rid for rid, source, ext in cursor.fetchall()})
    return inserted


def _stored_reports(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Outcome]:
    """Replays: reports already stored, answered with their case as it is now."""
    found = {}
    wanted = set(keys)
    by_source = defaultdict(list)
    for source, ext in keys:
        by_source[source].append(ext)
    slugs = None
    for source, exts in by_source.items():
        for chunk in _chunks(exts, 1000):
            rows = Report.objects.filter(source=source, external_id__in=chunk).values_list(
                "id", "source", "external_id", "case_id", "case__status", "case__queue_id", "case__priority")
            for rid, src, ext, case_id, status, queue_id, priority in rows:
                if (src, ext) in wanted:
                    if slugs is None:
                        slugs = dict(Queue.objects.values_list("id", "slug"))
                    found[(src, ext)] = Outcome(
                        Outcome.DUPLICATE, external_id=ext, report_id=rid,
                        case={"id": case_id, "status": status, "queue": slugs.get(queue_id), "priority": priority},
                    )
    return found


def _case_body(case: Case, ctx: IntakeContext) -> dict:
    slug = ctx.routing.queue_slugs.get(case.queue_id)
    if slug is None:  # a case in a queue retired since
        slug = Queue.objects.filter(pk=case.queue_id).values_list("slug", flat=True).first()
    return {"id": case.pk, "status": case.status, "queue": slug, "priority": case.priority}


# --------------------------------------------------------------------------- the service


def reports_ingest(reports: list[ReportIn], *, actor) -> list[Outcome]:
    """Ingest a batch of reports (one or up to MAX_BATCH); one Outcome per report, in order.

    Items with unknown or retired categories come back as errors; every other item is committed in
    one transaction. A deadlock with a concurrent writer (which the lock ordering makes unlikely)
    is retried a few times when this call owns the transaction.
    """
    if len(reports) > MAX_BATCH:
        raise InvalidInput(f"Send at most {MAX_BATCH} reports per request.",
                           field_errors={"non_field_errors": [f"At most {MAX_BATCH} reports per request."]})
    ctx = intake_context()
    attempts = 1 if transaction.get_connection().in_atomic_block else 3
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return _ingest(reports, actor=actor, ctx=ctx)
        except OperationalError as exc:
            if attempt == attempts - 1 or getattr(getattr(exc, "__cause__", None), "pgcode", None) not in (
                    "40P01", "40001"):
                raise
            log.warning("intake: retrying a batch of %d after %s", len(reports), exc)
    raise AssertionError("unreachable")


def _ingest(reports: list[ReportIn], *, actor, ctx: IntakeContext) -> list[Outcome]:
    now = timezone.now()
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

    # -- replays
    stored = _stored_reports(list(first_of))
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


def _write(items: list[_Item], *, ctx, actor, actor_id, now, outcomes) -> None:
    # -- subjects: accounts (reported accounts and content authors), then content
    accounts: dict[str, dict] = {}
    contents: dict[str, dict] = {}
    for item in items:
        subject = item.report.subject
        if subject.author is not None:
            _merge_subject(accounts.setdefault(subject.author.external_id, {"signals": []}), subject.author)
        target = accounts if subject.kind == Subject.Kind.ACCOUNT else contents
        _merge_subject(target.setdefault(subject.external_id, {"signals": []}), subject)
        item.subject_key = (subject.kind, subject.external_id)
    _upsert_subjects(Subject.Kind.ACCOUNT, accounts, now)
    account_ids = _subject_ids(Subject.Kind.ACCOUNT, list(accounts))
    ids = {(Subject.Kind.ACCOUNT, k): v for k, v in account_ids.items()}
    if contents:
        for row in contents.values():
            if "author_key" in row:
                row["author_id"] = account_ids[row["author_key"]][0]
        _upsert_subjects(Subject.Kind.CONTENT, contents, now)
        ids.update({(Subject.Kind.CONTENT, k): v for k, v in _subject_ids(Subject.Kind.CONTENT, list(contents)).items()})
    _link_signals(account_ids, accounts, now)
    by_subject: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        item.subject_id, item.reach = ids[item.subject_key]
        by_subject[item.subject_id].append(item)

    # -- open cases to join, new cases for the rest (a case opened meanwhile is joined on the next round)
    open_cases = _lock_open_cases(list(by_subject))
    opened: dict[int, Case] = {}
    pending = [sid for sid in by_subject if sid not in open_cases]
    for _round in range(5):
        if not pending:
            break
        candidates = {sid: _new_case(by_subject[sid], ctx, now) for sid in pending}
        inserted = _insert_cases(list(candidates.values()))
        for sid, case_id in inserted.items():
            candidates[sid].pk = candidates[sid].id = case_id
            opened[sid] = candidates[sid]
        lost = [sid for sid in pending if sid not in inserted]
        open_cases.update(_lock_open_cases(lost))
        pending = [sid for sid in lost if sid not in open_cases]
    if pending:
        raise Conflict("The subject's open case kept changing while the report was filed; send it again.")

    for sid, group in by_subject.items():
        case = opened.get(sid) or open_cases[sid]
        for item in group:
            item.case = case
            item.opened_case = sid in opened

    # -- reports (one a concurrent request stored first is a replay after all)
    inserted = _insert_reports(items, actor_id, now)
    kept, raced = [], []
    for item in items:
        rid = inserted.get((item.report.source, item.report.external_id))
        if rid is None:
            raced.append(item)
        else:
            item.report_id = rid
            kept.append(item)
    if raced:
        stored = _stored_reports([(i.report.source, i.report.external_id) for i in raced])
        for item in raced:
            outcomes[item.index] = stored[(item.report.source, item.report.external_id)]
        _settle_opened_without_reports(opened, kept)

    # -- joined cases: counts and priority from all their reports
    joined = {item.case.pk: item.case for item in kept if not item.opened_case}
    events: list[CaseEvent] = []
    kind = actor_kind(actor)
    event_actor = actor_id
    if joined:
        reach = {item.case.pk: item.reach for item in kept if not item.opened_case}
        facts = _case_facts(joined, reach, ctx)
        changed = []
        for case in joined.values():
            verdict = assess(facts[case.pk])
            case.updated_at = now
            if verdict.priority < case.priority:
                events.append(CaseEvent(case_id=case.pk, actor_id=event_actor, actor_kind=kind, verb="priority_changed",
                                        data={"from": case.priority, "to": verdict.priority,
                                              "reasons": verdict.reasons, "cause": "report"}, created_at=now))
                case.priority, case.priority_reasons = verdict.priority, verdict.reasons
                apply_due_times(case, targets=ctx.sla_targets)
                changed.append(case)
        Case.objects.bulk_update(list(joined.values()), ["report_count", "reporter_count", "updated_at"], batch_size=500)
        if changed:
            Case.objects.bulk_update(changed, ["priority", "priority_reasons", "first_touch_due_at",
                                               "resolution_due_at"], batch_size=500)

    # -- events and outcomes
    first_in_case: set[int] = set()
    for item in kept:
        case = item.case
        if item.opened_case and case.pk not in first_in_case:
            first_in_case.add(case.pk)
            events.append(CaseEvent(case_id=case.pk, actor_id=event_actor, actor_kind=kind, verb="opened",
                                    to_status=CaseStatus.OPEN, created_at=now, data={
                                        "queue": ctx.routing.queue_slugs.get(case.queue_id), "route": case._route,
                                        "priority": case.priority, "reasons": case.priority_reasons,
                                        "report_id": item.report_id, "source": item.report.source,
                                        "category": item.category.slug}))
        else:
            events.append(CaseEvent(case_id=case.pk, actor_id=event_actor, actor_kind=kind, verb="report_added",
                                    created_at=now, data={"report_id": item.report_id, "source": item.report.source,
                                                          "category": item.category.slug}))
        outcomes[item.index] = Outcome(Outcome.CREATED, external_id=item.report.external_id,
                                       report_id=item.report_id, case=_case_body(case, ctx))
    # Timeline order: a case's priority change follows the report that caused it.
    events.sort(key=lambda e: (e.case_id, e.verb == "priority_changed"))
    CaseEvent.objects.bulk_create(events, batch_size=1000)


def _new_case(group: list[_Item], ctx: IntakeContext, now) -> Case:
    """The case a subject's first report opens: routed by that report, prioritised by all of the batch's."""
    first = group[0].report
    route = ctx.routing.route(category_id=group[0].category.id, source=first.source, score=first.classifier_score,
                              language=first.language, territory=first.territory)
    verdict = assess(_facts_for_items(group, ctx, group[0].reach))
    first_due, resolution_due = due_times(route.queue_id, verdict.priority, now, targets=ctx.sla_targets)
    case = Case(
        subject_id=group[0].subject_id, queue_id=route.queue_id, category_id=group[0].category.id,
        status=CaseStatus.OPEN, priority=verdict.priority, priority_reasons=verdict.reasons,
        first_touch_due_at=first_due, resolution_due_at=resolution_due, opened_at=now, updated_at=now,
        report_count=len(group), reporter_count=len({i.report.reporter_ref for i in group if i.report.reporter_ref}),
    )
    case._route = route.reason
    return case


def _settle_opened_without_reports(opened: dict[int, Case], kept: list[_Item]) -> None:
    """A case this batch opened for reports that all turned out to be stored already goes away again
    (nothing refers to it yet); the counts of the others follow the reports actually stored."""
    per_case = defaultdict(list)
    for item in kept:
        if item.opened_case:
            per_case[item.case.pk].append(item)
    empty = [case.pk for case in opened.values() if case.pk not in per_case]
    if empty:
        Case.objects.filter(pk__in=empty).delete()
    recount = []
    for case in opened.values():
        group = per_case.get(case.pk)
        if group and case.report_count != len(group):
            case.report_count = len(group)
            case.reporter_count = len({i.report.reporter_ref for i in group if i.report.reporter_ref})
            recount.append(case)
    if recount:
        Case.objects.bulk_update(recount, ["report_count", "reporter_count"])


def report_ingest(report: ReportIn, *, actor) -> Outcome:
    """Ingest one report; an invalid one raises InvalidInput naming the bad fields."""
    outcome = reports_ingest([report], actor=actor)[0]
    if outcome.status == Outcome.ERROR:
        raise InvalidInput("The report was not accepted: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in outcome.errors.items()),
            field_errors=outcome.errors)
    return outcome

