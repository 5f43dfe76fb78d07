"""The analyst's work on a case: claim, release, notes, evidence, triage changes, hold for help,
resume, hand off, and resolving as no violation.

Every function here is one transaction that locks the case (or claims it with one conditional
UPDATE), checks who may do it and the status map, saves the named fields, and writes exactly one
CaseEvent. Callers (pages, API, tasks) only parse input and call one of these.
"""

import codecs
import hashlib
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.models import Team, TeamMembership
from tsconsole.prepared import PreparedStatement
from tsconsole.roles import can
from tsconsole.services import Notice, audit_record, users_notify

from .. import sla
from ..models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseRecusal,
    CaseStatus,
    Category,
    Evidence,
    Note,
    Priority,
    Queue,
    Subject,
    Tag,
    evidence_storage,
)
from ..previews import blurred_preview
from ..selectors.workspace import (
    case_visible,
    queue_access_sql,
    queue_workable,
    require_case_visible,
    user_may_work_queue,
)
from ..transitions import check_transition
from .events import (
    EventRow,
    Verb,
    actor_kind,
    case_lock,
    case_transition,
    event_insert_sql,
    event_record,
    events_record,
    verb_value,
)
from .outcomes import reporters_notify

NOTE_MAX_CHARS = 20_000
REASON_MAX_CHARS = 2_000
MAX_TAGS = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
# Statuses in which someone holds the case and works on it.
CLAIMED = (CaseStatus.IN_REVIEW, CaseStatus.ON_HOLD)


def _case_id(case) -> int:
    return case.pk if isinstance(case, Case) else int(case)


def _who(user) -> str:
    return user.get_username() if user is not None else "nobody"


def _require_text(value, field: str, label: str, *, limit: int = REASON_MAX_CHARS) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{label} is required.", field_errors={field: [f"{label} is required."]})
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long (at most {limit} characters).",
                           field_errors={field: [f"At most {limit} characters."]})
    return text


def _lock_visible(case, actor) -> Case:
    """Lock the case for this transaction after checking the actor may see it."""
    case_id = _case_id(case)
    require_case_visible(actor, case_id)  # before the lock: a missing case answers the same
    return case_lock(case_id)


def _require_unresolved(case: Case, doing: str) -> None:
    if case.status == CaseStatus.RESOLVED:
        raise Conflict(f"Case {case.pk} is resolved; you can no longer {doing}.")


def _require_assignee(case: Case, actor, doing: str, *, leads_too: bool = False) -> None:
    if case.assignee_id == actor.pk:
        return
    if leads_too and can(actor, "case.reassign"):
        return
    if case.assignee_id is None:
        raise Conflict(f"Case {case.pk} is not claimed by anyone; claim it before you {doing}.")
    raise Conflict(f"Case {case.pk} is assigned to {_who(case.assignee)}; only they can {doing}.")


def _touch(case: Case, now) -> list[str]:
    """Activity by anyone keeps a claim alive (the idle sweep counts from the last activity)."""
    case.last_activity_at = now
    return ["last_activity_at", "updated_at"]


def _case_url(case_id: int) -> str:
    return reverse("case-detail", args=[case_id])


# --------------------------------------------------------------------------- claiming

def _claim_update_sql(where: str, *, pick: bool, returning: str = "id") -> str:
    """UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id.

    The inner SELECT walks the partial index case_claimable (queue, priority, resolution_due_at,
    id WHERE status='open' AND assignee IS NULL) and skips rows another claimer has locked, so
    concurrent claimers never wait on each other and never get the same case.
    """
    table = connection.ops.quote_name(Case._meta.db_table)
    # Never to someone recused from the case (an appeal's decider or approver): one probe of the
    # small recusal table's unique index per candidate.
    recusals = connection.ops.quote_name(CaseRecusal._meta.db_table)
    free = f"NOT EXISTS (SELECT 1 FROM {recusals} r WHERE r.case_id = {table}.id AND r.user_id = %(actor)s)"
    if pick:
        target = (
            f"(SELECT id FROM {table} WHERE {where} AND status = 'open' AND assignee_id IS NULL AND {free} "
            f"ORDER BY priority, resolution_due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        )
    else:
        target = "%(case_id)s"
    return (
        f"UPDATE {table} SET status = 'in_review', assignee_id = %(actor)s, claimed_at = %(now)s, "
        f"last_activity_at = %(now)s, updated_at = %(now)s, first_touched_at = COALESCE(first_touched_at, %(now)s) "
        f"WHERE id = {target} AND status = 'open' AND assignee_id IS NULL AND {free} "
        f"RETURNING {returning}"
    )


def _claim_sql(where: str, *, pick: bool) -> str:
    """The claim statement: the `claimed` event is inserted by the same statement (a data-modifying
    CTE), so the claim and its event commit together in one round trip."""
    update = _claim_update_sql(where, pick=pick)
    return (
        f"WITH claimed AS ({update}) "
        f"{event_insert_sql()} "
        f"SELECT id, %(actor)s, %(actor_kind)s, '{verb_value(Verb.CLAIMED)}', 'open', 'in_review', %(data)s::jsonb, "
        f"%(now)s "
        f"FROM claimed RETURNING case_id"
    )


def _claim(where: str, params: dict, *, pick: bool, actor, data: dict) -> int | None:
    """Run the claim statement; returns the claimed case id, or None when nothing matched."""
    check_transition(CaseStatus.OPEN, CaseStatus.IN_REVIEW)
    now = timezone.now()
    params = {**params, "actor": actor.pk, "now": now, "actor_kind": actor_kind(actor), "data": json.dumps(data)}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_claim_sql(where, pick=pick), params)
            row = cursor.fetchone()
    return None if row is None else row[0]


def _claimed(case_id: int) -> Case:
    return Case.objects.select_related("subject", "queue", "category", "assignee").get(pk=case_id)


_CASE_FIELDS = [f for f in Case._meta.concrete_fields]
_CASE_CONVERTERS = [(i, f.from_db_value) for i, f in enumerate(_CASE_FIELDS) if hasattr(f, "from_db_value")]
_claim_next_statements: dict[str, PreparedStatement] = {}


def _claim_next_statement(access: str) -> PreparedStatement:
    """case_claim_next's statement, whole: find the queue by slug among those the actor may work
    (`access`, from `queue_access_sql`), claim its next case, insert the `claimed` event, and return
    the case with what its API body shows (subject, slugs, usernames, tags) — one round trip, and
    one statement, so atomic without a transaction block around it. Prepared once per connection:
    planning it costs more than running it."""
    statement = _claim_next_statements.get(access)
    if statement is None:
        quote = connection.ops.quote_name
        table = quote(Case._meta.db_table)
        queues = quote(Queue._meta.db_table)
        where = (f"queue_id = (SELECT q.id FROM {queues} q WHERE q.slug = %(slug)s AND q.is_active AND {access})")
        columns = ", ".join(f"{table}.{quote(f.column)}" for f in _CASE_FIELDS)
        update = _claim_update_sql(where, pick=True, returning=columns)
        users = get_user_model()._meta.db_table
        tags = Case.tags.through._meta
        # Related values as scalar subqueries rather than joins: each is planned on its own, where a
        # seven-way join costs PostgreSQL more to plan than the claim costs to run (only the subject,
        # four of the values, is joined).
        def one(table: str, column: str, key: str) -> str:
            return f"(SELECT x.{column} FROM {quote(table)} x WHERE x.id = c.{key})"

        subject = Subject._meta.db_table
        sql = (
            f"WITH claimed AS ({update}), "
            f"event AS ({event_insert_sql()} "
            f"SELECT id, %(actor)s, %(actor_kind)s::text, '{verb_value(Verb.CLAIMED)}', 'open', 'in_review', "
            f"%(data)s::jsonb, %(now)s FROM claimed) "
            f"SELECT {', '.join(f'c.{quote(f.column)}' for f in _CASE_FIELDS)}, "
            f"s.kind, s.external_id, s.handle, s.content_type, "
            f"{one(Queue._meta.db_table, 'slug', 'queue_id')}, {one(Category._meta.db_table, 'slug', 'category_id')}, "
            f"{one(users, 'username', 'held_for_id')}, {one(Team._meta.db_table, 'slug', 'held_for_team_id')}, "
            f"{one(users, 'username', 'resolved_by_id')}, "
            f"ARRAY(SELECT t.name FROM {quote(tags.db_table)} ct JOIN {quote(Tag._meta.db_table)} t ON t.id = ct.tag_id "
            f"WHERE ct.case_id = c.id ORDER BY t.name) "
            f"FROM claimed c JOIN {quote(subject)} s ON s.id = c.subject_id"
        )
        name = f"tsconsole_claim_next_{hashlib.sha256(sql.encode()).hexdigest()[:16]}"
        statement = PreparedStatement(name, sql, ["slug", "actor", "now", "actor_kind", "data"])
        _claim_next_statements[access] = statement
    return statement


def _case_from_row(row: tuple, actor) -> Case:
    """The claimed case as a model instance, with the related rows its API body reads attached (their
    other fields load on access, as with `.only()`)."""
    alias = connection.alias
    values = list(row[:len(_CASE_FIELDS)])
    for index, convert in _CASE_CONVERTERS:
        values[index] = convert(values[index], None, connection)
    kind, external_id, handle, content_type, queue_slug, category_slug, held_for, held_for_team, resolved_by, tags = \
        row[len(_CASE_FIELDS):]
    case = Case.from_db(alias, [f.attname for f in _CASE_FIELDS], values)
    case.subject = Subject.from_db(alias, ["id", "kind", "external_id", "handle", "content_type"],
                                   [case.subject_id, kind, external_id, handle, content_type])
    case.queue = Queue.from_db(alias, ["id", "slug"], [case.queue_id, queue_slug])
    case.category = Category.from_db(alias, ["id", "slug"], [case.category_id, category_slug])
    case.assignee = actor
    user_model = get_user_model()
    if held_for is not None:
        case.held_for = user_model.from_db(alias, ["id", "username"], [case.held_for_id, held_for])
    if held_for_team is not None:
        case.held_for_team = Team.from_db(alias, ["id", "slug"], [case.held_for_team_id, held_for_team])
    if resolved_by is not None:
        case.resolved_by = user_model.from_db(alias, ["id", "username"], [case.resolved_by_id, resolved_by])
    # What prefetch_related("tags") would leave: case.tags.all() answers from it without a query.
    tag_rows = Tag.objects.all()
    tag_rows._result_cache = [Tag(name=name) for name in tags]
    tag_rows._prefetch_done = True
    case._prefetched_objects_cache = {"tags": tag_rows}
    return case


def case_claim_next(*, queue: Queue | str, actor) -> Case | None:
    """Claim the highest-priority, soonest-due unassigned case of `queue` for `actor`.

    One statement checks the actor may work the queue, picks and assigns the case (sets assignee,
    claimed_at, first touch, in_review), writes its `claimed` event and returns the case. Returns
    None when the queue is empty.
    """
    slug = queue.slug if isinstance(queue, Queue) else queue
    check_transition(CaseStatus.OPEN, CaseStatus.IN_REVIEW)
    params = {"slug": slug, "actor": actor.pk, "now": timezone.now(), "actor_kind": actor_kind(actor),
              "data": json.dumps({"queue": slug, "next": True})}
    with connection.cursor() as cursor:
        _claim_next_statement(queue_access_sql(actor, "q")).execute(cursor, params)
        row = cursor.fetchone()
    if row is not None:
        return _case_from_row(row, actor)
    # Nothing claimed: an empty queue (None), or one the actor may not work or that does not exist.
    if queue_workable(actor, slug) is None:
        if Queue.objects.filter(slug=slug, is_active=True).exists():
            raise NotAllowed(f"You may not work the queue “{slug}”: it is reserved for other teams.")
        raise NotFound(f"There is no active queue “{slug}”.")
    return None


def case_claim(*, case, actor) -> Case:
    """Claim one particular open, unassigned case (from search or a link) with the same conditional UPDATE."""
    case_id = _case_id(case)
    require_case_visible(actor, case_id)
    if _claim("", {"case_id": case_id}, pick=False, actor=actor, data={"next": False}) is None:
        current = Case.objects.select_related("assignee").filter(pk=case_id).first()
        if current is None:
            raise NotFound(f"Case {case_id} does not exist.")
        if current.assignee_id == actor.pk:
            raise Conflict(f"You already hold case {case_id}.")
        if current.assignee_id:
            raise Conflict(f"Case {case_id} is already claimed by {_who(current.assignee)}.")
        recusal = CaseRecusal.objects.filter(case_id=case_id, user_id=actor.pk).first()
        if recusal is not None:
            raise NotAllowed(f"You may not work case {case_id}: {recusal.reason}.")
        raise Conflict(f"Case {case_id} is {current.get_status_display().lower()} and cannot be claimed.")
    return _claimed(case_id)


def case_release(*, case, actor, reason: str = "") -> Case:
    """Give a claimed case back to its queue (the assignee, or a lead for someone else's claim)."""
    reason = (reason or "").strip()[:REASON_MAX_CHARS]
    with transaction.atomic():
        case = _lock_visible(case, actor)
        if case.status not in CLAIMED:
            raise Conflict(f"Case {case.pk} is {case.get_status_display().lower()}, not claimed; there is nothing to release.")
        _require_assignee(case, actor, "release it", leads_too=True)
        now = timezone.now()
        previous = case.assignee
        fields = ["assignee", "claimed_at"]
        if case.status == CaseStatus.ON_HOLD:
            fields += _clear_hold(case) + sla.sla_resume(case, now)
        case.assignee = None
        case.claimed_at = None
        case_transition(case, CaseStatus.OPEN, verb="released", actor=actor, at=now, update_fields=fields,
                        data={"previous_assignee": _who(previous), "reason": reason})
    return case


def _idle_claims(now) -> list[tuple]:
    case_table = connection.ops.quote_name(Case._meta.db_table)
    queue_table = connection.ops.quote_name(Queue._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {case_table} c SET status = 'open', assignee_id = NULL, claimed_at = NULL, "
            f"last_activity_at = %(now)s, updated_at = %(now)s "
            f"FROM (SELECT i.id, i.assignee_id, q.claim_timeout_minutes FROM {case_table} i "
            f"      JOIN {queue_table} q ON q.id = i.queue_id "
            f"      WHERE i.status = 'in_review' AND i.claimed_at IS NOT NULL AND q.claim_timeout_minutes > 0 "
            f"        AND GREATEST(i.claimed_at, COALESCE(i.last_activity_at, i.claimed_at)) "
            f"            < %(now)s - make_interval(mins => q.claim_timeout_minutes) "
            f"      FOR UPDATE OF i SKIP LOCKED) idle "
            f"WHERE c.id = idle.id AND c.status = 'in_review' "
            f"RETURNING c.id, idle.assignee_id, idle.claim_timeout_minutes",
            {"now": now},
        )
        return cursor.fetchall()


def release_idle_claims(*, now=None) -> list[int]:
    """Send claims idle longer than their queue's claim timeout back to the queue.

    Set-wise and safe to run twice or concurrently: one UPDATE picks the idle in-review cases
    (rows another transaction holds are skipped, not waited for) and the system events are
    inserted in the same transaction. Idle means no activity since max(claimed_at,
    last_activity_at); a queue with a timeout of 0 never releases. Returns the released case ids.
    """
    now = now or timezone.now()
    check_transition(CaseStatus.IN_REVIEW, CaseStatus.OPEN)
    with transaction.atomic():
        rows = _idle_claims(now)
        if not rows:
            return []
        events_record([
            EventRow(case_id, None, CaseEvent.ActorKind.SYSTEM, Verb.CLAIM_EXPIRED, CaseStatus.IN_REVIEW,
                     CaseStatus.OPEN, {"previous_assignee_id": assignee_id, "timeout_minutes": timeout}, now)
            for case_id, assignee_id, timeout in rows
        ])
        assignees = get_user_model().objects.in_bulk({assignee_id for _, assignee_id, _ in rows if assignee_id})
        users_notify([
            Notice(user=assignees.get(assignee_id), kind="case.claim_expired", url=_case_url(case_id),
                   title=f"Case {case_id} went back to its queue after {timeout} idle minutes",
                   key=f"case{case_id}:claim_expired:{now.isoformat()}")
            for case_id, assignee_id, timeout in rows if assignee_id
        ])
    return [case_id for case_id, _, _ in rows]


# --------------------------------------------------------------------------- notes and evidence


def note_add(*, case, body: str, actor) -> Note:
    """An internal note on an unresolved case, by anyone who may work it."""
    body = _require_text(body, "body", "The note", limit=NOTE_MAX_CHARS)
    with transaction.atomic():
        case = _lock_visible(case, actor)
        _require_unresolved(case, "add notes")
        now = timezone.now()
        note = Note.objects.create(case=case, author=actor, body=body)
        case.save(update_fields=_touch(case, now))
        event_record(case, verb="note_added", actor=actor, data={"note_id": note.pk}, at=now)
    return note


# Magic numbers of the file types evidence may have. Text types have none: they are recognised by
# decoding as UTF-8 without NUL bytes.
_MAGIC = [
    ("image/png", lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", lambda h: h.startswith(b"\xff\xd8\xff")),
    ("image/gif", lambda h: h[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    ("application/pdf", lambda h: h.startswith(b"%PDF-")),
    ("video/mp4", lambda h: h[4:8] == b"ftyp"),
]
_TEXT_TYPES = {"text/plain", "text/csv"}


@dataclass
class _Scanned:
    content_type: str
    size: int
    sha256: str


def _scan_upload(upload, *, max_bytes: int) -> _Scanned:
    """Read the upload once: enforce the size limit, hash it, and tell its type from its bytes."""
    claimed = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    name = getattr(upload, "name", "") or ""
    digest = hashlib.sha256()
    size = 0
    head = b""
    text = codecs.getincrementaldecoder("utf-8")()
    is_text = True
    too_large = InvalidInput(f"The file is larger than the evidence limit of {filesizeformat(max_bytes)}.",
                             field_errors={"file": ["Too large."]})
    if (getattr(upload, "size", 0) or 0) > max_bytes:
        raise too_large
    upload.seek(0)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        if len(head) < 16:
            head += chunk[: 16 - len(head)]
        digest.update(chunk)
        if is_text:
            try:
                text.decode(chunk)
                is_text = b"\x00" not in chunk
            except UnicodeDecodeError:
                is_text = False
    upload.seek(0)
    if size == 0:
        raise InvalidInput("The file is empty.", field_errors={"file": ["Empty file."]})
    detected = next((kind for kind, test in _MAGIC if test(head)), None)
    if detected is None and is_text:
        try:
            text.decode(b"", final=True)
            detected = "text/csv" if claimed == "text/csv" or name.lower().endswith(".csv") else "text/plain"
        except UnicodeDecodeError:
            detected = None
    allowed = set(settings.EVIDENCE_ALLOWED_TYPES)
    if detected is None or detected not in allowed:
        shown = detected or "not a recognised type"
        raise InvalidInput(
            f"This file type is not accepted as evidence (its content is {shown}). "
            f"Accepted: {', '.join(sorted(allowed))}.",
            field_errors={"file": ["File type not accepted."]},
        )
    # A specific claim that disagrees with the content (say, a PDF named photo.png) is refused
    # rather than silently corrected: it is either a mistake or a disguise.
    if claimed in allowed and claimed != detected and not (claimed in _TEXT_TYPES and detected in _TEXT_TYPES):
        raise InvalidInput(
            f"The file claims to be {claimed} but its content is {detected}.",
            field_errors={"file": ["Content does not match the file type."]},
        )
    return _Scanned(content_type=detected, size=size, sha256=digest.hexdigest())


def evidence_add(*, case, actor, upload=None, text: str = "", description: str = "") -> Evidence:
    """Attach a file (checked for size and type by its bytes, hashed, stored under EVIDENCE_ROOT)
    or a pasted text extract to an unresolved case. Evidence of a sensitive category is marked
    sensitive, so it is blurred until someone reveals it."""
    description = (description or "").strip()[:500]
    text = (text or "").strip()
    if upload is None and not text:
        raise InvalidInput("Choose a file or paste a text extract.",
                           field_errors={"file": ["A file or a text extract is required."]})
    if upload is not None and text:
        raise InvalidInput("Send either a file or a text extract, not both.",
                           field_errors={"text": ["Leave empty when uploading a file."]})
    max_bytes = settings.EVIDENCE_MAX_BYTES
    if upload is not None:
        scanned = _scan_upload(upload, max_bytes=max_bytes)
    else:
        raw = text.encode()
        if len(raw) > max_bytes:
            raise InvalidInput("The text extract is larger than the evidence limit.",
                               field_errors={"text": ["Too long."]})
        scanned = _Scanned(content_type="text/plain", size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    # Every image gets its blurred derivative, so one that becomes sensitive later (recategorised
    # case) can still be shown blurred; made before the lock, it is the slow part.
    preview = blurred_preview(upload) if upload is not None and scanned.content_type.startswith("image/") else None
    written = []
    try:
        with transaction.atomic():
            case = _lock_visible(case, actor)
            _require_unresolved(case, "add evidence")
            now = timezone.now()
            evidence = Evidence(
                case=case, kind=Evidence.Kind.FILE if upload is not None else Evidence.Kind.TEXT,
                original_name=(getattr(upload, "name", "") or "")[:255] if upload is not None else "",
                text_extract=text if upload is None else "", description=description,
                content_type=scanned.content_type, size=scanned.size, sha256=scanned.sha256,
                sensitive=case.category.sensitive, captured_by=actor,
            )
            if upload is not None:
                # Content-addressed: the same bytes are stored once however often they are attached.
                path = evidence.file.field.generate_filename(evidence, upload.name)
                storage = evidence.file.storage
                if storage.exists(path):
                    evidence.file.name = path
                else:
                    evidence.file.save(path, upload, save=False)
                    written.append(evidence.file.name)
                if preview is not None:
                    preview_path = f"previews/{scanned.sha256}.jpg"
                    if not storage.exists(preview_path):
                        preview_path = storage.save(preview_path, ContentFile(preview))
                        written.append(preview_path)
                    evidence.preview.name = preview_path
            evidence.save()
            case.save(update_fields=_touch(case, now))
            event_record(case, verb="evidence_added", actor=actor, at=now, data={
                "evidence_id": evidence.pk, "kind": evidence.kind, "sha256": evidence.sha256,
                "content_type": evidence.content_type, "size": evidence.size, "sensitive": evidence.sensitive,
            })
    except BaseException:
        for name in written:
            evidence_storage.delete(name)
        raise
    return evidence


def evidence_for(*, evidence_id: int, actor) -> Evidence:
    """The evidence row, if the actor may see its case (NotFound otherwise, so ids do not leak)."""
    evidence = Evidence.objects.select_related("case", "case__category").filter(pk=evidence_id).first()
    if evidence is None or not case_visible(actor, evidence.case_id):
        raise NotFound(f"Evidence {evidence_id} does not exist or is not yours to see.")
    return evidence


def evidence_access_log(*, evidence: Evidence, actor, purpose: str) -> None:
    """Record that someone opened evidence content (download or in-page view) in the audit log."""
    audit_record(actor=actor, verb=f"evidence.{purpose}", object_type="evidence", object_ref=evidence.pk,
                 data={"case": evidence.case_id, "sha256": evidence.sha256})


def evidence_revealed_to(evidence: Evidence, actor) -> bool:
    """Whether the actor's reveal of this evidence is on its case's timeline."""
    return CaseEvent.objects.filter(
        case_id=evidence.case_id, verb="evidence_revealed", actor_id=actor.pk, data__evidence_id=evidence.pk,
    ).exists()


def evidence_original(*, evidence_id: int, actor) -> Evidence:
    """The evidence whose original content the actor may receive: a sensitive image only after
    the actor revealed it (NotAllowed before, naming the way to reveal it)."""
    evidence = evidence_for(evidence_id=evidence_id, actor=actor)
    if evidence.needs_reveal and not evidence_revealed_to(evidence, actor):
        raise NotAllowed("This image is sensitive: reveal it on the case page first (the reveal is recorded on the "
                         "case timeline), then open or download it.")
    return evidence


def evidence_reveal(*, evidence_id: int, actor) -> Evidence:
    """Unblur sensitive evidence for the actor; each reveal is written on the case timeline."""
    with transaction.atomic():
        evidence = evidence_for(evidence_id=evidence_id, actor=actor)
        event_record(evidence.case, verb="evidence_revealed", actor=actor,
                     data={"evidence_id": evidence.pk, "sha256": evidence.sha256})
    return evidence


# --------------------------------------------------------------------------- triage changes


def case_change_category(*, case, category: Category | int | str, reason: str, actor) -> Case:
    """Recategorise an unresolved case, with a reason."""
    reason = _require_text(reason, "reason", "A reason")
    if not isinstance(category, Category):
        lookup = {"pk": category} if str(category).isdigit() else {"slug": category}
        category = Category.objects.filter(is_active=True, **lookup).first()
        if category is None:
            raise InvalidInput("Choose an active category.", field_errors={"category": ["Unknown category."]})
    with transaction.atomic():
        case = _lock_visible(case, actor)
        _require_unresolved(case, "change its category")
        if case.category_id == category.pk:
            raise InvalidInput(f"Case {case.pk} is already in {category}.", field_errors={"category": ["Unchanged."]})
        previous = case.category
        now = timezone.now()
        case.category = category
        case.save(update_fields=["category", *_touch(case, now)])
        event_record(case, verb="category_changed", actor=actor, at=now, data={
            "from": previous.slug, "to": category.slug, "reason": reason})
    return case


def case_change_priority(*, case, priority: int, reason: str, actor) -> Case:
    """Set the priority of an unresolved case, with a reason; its SLA due times follow the new priority."""
    reason = _require_text(reason, "reason", "A reason")
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        priority = -1
    if priority not in Priority.values:
        raise InvalidInput("Priority must be 0 (P0) to 3 (P3).", field_errors={"priority": ["Choose P0–P3."]})
    with transaction.atomic():
        case = _lock_visible(case, actor)
        _require_unresolved(case, "change its priority")
        if case.priority == priority:
            raise InvalidInput(f"Case {case.pk} is already P{priority}.", field_errors={"priority": ["Unchanged."]})
        previous = case.priority
        now = timezone.now()
        case.priority = priority
        case.priority_reasons = [*(case.priority_reasons or []),
                                 f"Set to P{priority} by {_who(actor)}: {reason}"]
        fields = ["priority", "priority_reasons", *sla.apply_due_times(case), *_touch(case, now)]
        case.save(update_fields=fields)
        event_record(case, verb="priority_changed", actor=actor, at=now, data={
            "from": previous, "to": priority, "reason": reason,
            "resolution_due_at": case.resolution_due_at.isoformat() if case.resolution_due_at else None})
    return case


def _tag_names(names) -> list[str]:
    if isinstance(names, str):
        names = re.split(r"[\s,]+", names)
    cleaned = []
    for raw in names or []:
        name = str(raw).strip().lower().lstrip("#")
        if not name:
            continue
        if not _TAG.match(name):
            raise InvalidInput(f"“{name}” is not a valid tag: use letters, digits, - and _ (up to 60).",
                               field_errors={"tags": [f"Invalid tag {name!r}."]})
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"A case takes at most {MAX_TAGS} tags.", field_errors={"tags": ["Too many tags."]})
    return cleaned


def case_tags_set(*, case, names, actor) -> Case:
    """Replace the tags of an unresolved case (new tag names are created); one event lists the changes."""
    wanted = _tag_names(names)
    with transaction.atomic():
        case = _lock_visible(case, actor)
        _require_unresolved(case, "change its tags")
        current = set(case.tags.values_list("name", flat=True))
        added = [n for n in wanted if n not in current]
        removed = sorted(current - set(wanted))
        if not added and not removed:
            return case
        for name in added:
            Tag.objects.get_or_create(name=name)
        case.tags.set(Tag.objects.filter(name__in=wanted))
        now = timezone.now()
        case.save(update_fields=_touch(case, now))
        event_record(case, verb="tags_changed", actor=actor, at=now, data={"added": added, "removed": removed})
    return case


# --------------------------------------------------------------------------- hold, resume, hand off, resolve


def _clear_hold(case: Case) -> list[str]:
    case.held_for = None
    case.held_for_team = None
    case.hold_reason = ""
    return ["held_for", "held_for_team", "hold_reason"]


def _resolve_user(value, field: str):
    from django.contrib.auth import get_user_model

    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value
    User = get_user_model()
    lookup = {"pk": value} if str(value).isdigit() else {"username": value}
    user = User.objects.filter(is_active=True, **lookup).first()
    if user is None:
        raise InvalidInput(f"There is no active user “{value}”.", field_errors={field: ["Unknown user."]})
    return user


def case_hold(*, case, reason: str, actor, helper=None, team=None) -> Case:
    """Put a claimed case on hold while a named person or a team helps (clocks pause when the queue
    says so). The assignee keeps the case; the helper finds it under "Asked to help"."""
    reason = _require_text(reason, "reason", "A reason")
    helper = _resolve_user(helper, "helper")
    if team is not None and not isinstance(team, Team):
        lookup = {"pk": team} if str(team).isdigit() else {"slug": team}
        team = Team.objects.filter(**lookup).first() if team != "" else None
        if team is None:
            raise InvalidInput("Unknown team.", field_errors={"team": ["Unknown team."]})
    if (helper is None) == (team is None):
        raise InvalidInput("Ask one person or one team for help.", field_errors={"helper": ["Choose a helper or a team."]})
    if helper is not None:
        if helper.pk == actor.pk:
            raise InvalidInput("Ask someone other than yourself.", field_errors={"helper": ["Choose someone else."]})
        if not can(helper, "case.work"):
            raise InvalidInput(f"{_who(helper)} cannot work cases.", field_errors={"helper": ["Not a case worker."]})
    with transaction.atomic():
        case = _lock_visible(case, actor)
        _require_assignee(case, actor, "put it on hold")
        now = timezone.now()
        case.held_for = helper
        case.held_for_team = team
        case.hold_reason = reason
        fields = ["held_for", "held_for_team", "hold_reason", *sla.sla_pause(case, now)]
        case_transition(case, CaseStatus.ON_HOLD, verb="held", actor=actor, at=now, update_fields=fields, data={
            "reason": reason, "helper": _who(helper) if helper else None, "team": team.slug if team else None,
            "sla_paused": case.sla_paused_at is not None})
        recipients = [helper] if helper else [
            m.user for m in TeamMembership.objects.filter(team=team).select_related("user").exclude(user=actor)]
        users_notify([
            Notice(user=person, kind="case.help", url=_case_url(case.pk),
                   title=f"{_who(actor)} asks for your help on case {case.pk}", body=reason,
                   key=f"case{case.pk}:help:{now.isoformat()}:{person.pk}")
            for person in recipients
        ])
    return case


def case_resume(*, case, actor) -> Case:
    """End a hold. The assignee resumes their own case; a helper (the person asked, or a member of
    the team asked) resumes by taking the case over. Paused clocks restart."""
    with transaction.atomic():
        case = _lock_visible(case, actor)
        if case.status != CaseStatus.ON_HOLD:
            raise Conflict(f"Case {case.pk} is {case.get_status_display().lower()}, not on hold.")
        is_helper = case.held_for_id == actor.pk or (
            case.held_for_team_id is not None
            and TeamMembership.objects.filter(team_id=case.held_for_team_id, user=actor).exists())
        if case.assignee_id != actor.pk and not is_helper:
            raise Conflict(f"Only {_who(case.assignee)} or the helper they asked can resume case {case.pk}.")
        now = timezone.now()
        previous = case.assignee
        taken_over = case.assignee_id != actor.pk
        fields = _clear_hold(case) + sla.sla_resume(case, now)
        if taken_over:
            case.assignee = actor
            case.claimed_at = now
            fields += ["assignee", "claimed_at"]
        case_transition(case, CaseStatus.IN_REVIEW, verb="resumed", actor=actor, at=now, update_fields=fields,
                        data={"taken_over": taken_over, "previous_assignee": _who(previous)})
    return case


def case_handoff(*, case, to_user, actor, reason: str = "") -> Case:
    """Give a case in review to a named colleague who may work its queue (the assignee, or a lead)."""
    reason = (reason or "").strip()[:REASON_MAX_CHARS]
    to_user = _resolve_user(to_user, "to")
    if to_user is None:
        raise InvalidInput("Choose who takes the case.", field_errors={"to": ["Required."]})
    with transaction.atomic():
        case = _lock_visible(case, actor)
        if case.status != CaseStatus.IN_REVIEW:
            raise Conflict(f"Case {case.pk} is {case.get_status_display().lower()}; only a case in review can be handed off.")
        _require_assignee(case, actor, "hand it off", leads_too=True)
        if to_user.pk == case.assignee_id:
            raise InvalidInput(f"{_who(to_user)} already holds case {case.pk}.", field_errors={"to": ["Already assigned."]})
        if not can(to_user, "case.work") or not user_may_work_queue(to_user, case.queue_id):
            raise InvalidInput(f"{_who(to_user)} may not work the {case.queue} queue.",
                               field_errors={"to": ["Cannot work this queue."]})
        recusal = CaseRecusal.objects.filter(case_id=case.pk, user_id=to_user.pk).first()
        if recusal is not None:
            raise InvalidInput(f"{_who(to_user)} may not work case {case.pk}: {recusal.reason}.",
                               field_errors={"to": ["Recused from this case."]})
        now = timezone.now()
        previous = case.assignee
        case.assignee = to_user
        case.claimed_at = now
        case.save(update_fields=["assignee", "claimed_at", *_touch(case, now)])
        event_record(case, verb="handed_off", actor=actor, at=now, data={
            "from": _who(previous), "to": _who(to_user), "reason": reason})
        users_notify([Notice(
            user=to_user, kind="case.handoff", url=_case_url(case.pk),
            title=f"{_who(actor)} handed case {case.pk} to you", body=reason,
            key=f"case{case.pk}:handoff:{now.isoformat()}")])
    return case


def case_resolve_no_violation(*, case, reason: str, actor) -> Case:
    """Close a case the assignee found within policy; reporters are told no action was taken."""
    reason = _require_text(reason, "reason", "A reason")
    with transaction.atomic():
        case = _lock_visible(case, actor)
        if case.status not in CLAIMED:
            if case.status == CaseStatus.RESOLVED:
                raise Conflict(f"Case {case.pk} is already resolved.")
            if case.status == CaseStatus.OPEN:
                raise Conflict(f"Case {case.pk} is not claimed; claim it before resolving.")
            raise Conflict(f"Case {case.pk} is {case.get_status_display().lower()}; it is decided through that process.")
        _require_assignee(case, actor, "resolve it")
        if case.kind != CaseKind.REPORT:
            raise Conflict(f"Case {case.pk} is {case.get_kind_display().lower()} work; it is decided there, not resolved here.")
        now = timezone.now()
        fields = ["resolution", "resolution_reason", "resolved_by", "resolved_at"]
        if case.status == CaseStatus.ON_HOLD:
            fields += _clear_hold(case) + sla.sla_resume(case, now)
        case.resolution = Case.Resolution.NO_VIOLATION
        case.resolution_reason = reason
        case.resolved_by = actor
        case.resolved_at = now
        case_transition(case, CaseStatus.RESOLVED, verb="resolved", actor=actor, at=now, update_fields=fields,
                        data={"resolution": Case.Resolution.NO_VIOLATION, "reason": reason})
        reporters_notify(case, action_taken=False, decision_ref=f"case{case.pk}:resolved")
    return case
