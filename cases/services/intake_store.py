"""The statements intake runs, each one for a whole batch (see `cases.services.intake` for the flow).

Plain PostgreSQL: rows as one array per column (`INSERT … SELECT * FROM unnest(…)` and
`WITH v AS (SELECT * FROM unnest(…)) UPDATE … FROM v`, see `tsconsole.bulk.unnest_sql`: one statement
text for any batch size), `INSERT … ON CONFLICT … RETURNING`, and membership as `= ANY(array)`.
Rows are built as tuples rather than model instances: at a thousand reports per call the ORM's
per-object work (expression trees for `bulk_update`, model `__init__`) costs more than the
database does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from tsconsole.bulk import chunks, column_types, unnest_sql
from tsconsole.prepared import execute_text

from ..models import Case, Report, Signal, Subject, SubjectSignal

SUBJECT = Subject._meta.db_table
CASE = Case._meta.db_table
REPORT = Report._meta.db_table
SIGNAL = Signal._meta.db_table
SUBJECT_SIGNAL = SubjectSignal._meta.db_table
CHUNK = 500  # rows per statement: keeps each statement's parameter list and plan small


def _in(column: str, values: list) -> tuple[str, list]:
    return f"{column} = ANY(%s)", [list(values)]


def _chunks(items: list, size: int = CHUNK):
    return chunks(items, size)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        execute_text(cursor, sql, params)
        return cursor.fetchall()


def _run(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        execute_text(cursor, sql, params)


def _json_or_none(value) -> str | None:
    return None if value is None else json.dumps(value)


# --------------------------------------------------------------------------- subjects

SUBJECT_COLUMNS = ["kind", "external_id", "handle", "follower_count", "verified", "account_type",
                   "platform_created_at", "content_type", "text", "url", "author_id", "first_seen_at", "updated_at"]
# Sent values replace stored ones; an empty string or NULL means "not sent" and keeps what is stored.
KEEP_IF_BLANK = ["handle", "account_type", "content_type", "text", "url"]
KEEP_IF_NULL = ["follower_count", "platform_created_at", "author_id"]
SUBJECT_TYPES = column_types(Subject, SUBJECT_COLUMNS)


def upsert_subjects(kind: str, rows: dict[str, dict], now, created: set | None = None) -> dict[str, tuple[int, int]]:
    """Insert or update the subjects of one kind; {external_id: (id, reach)} for every row.

    Reach is the account's followers, or the content author's. Rows go in key order (one lock order
    for concurrent batches), and a row is rewritten only when a sent value differs from the stored one.
    Rows that send `verified` set it and the others keep it (a NOT NULL boolean has no "not sent"
    value), so a batch mixing both takes two statements. The ids of the rows this statement inserted
    (rather than found) are added to `created`.
    """
    distinct = "IS DISTINCT FROM"
    reach = "s.follower_count" if kind == Subject.Kind.ACCOUNT else "a.follower_count"
    found: dict[str, tuple[int, int]] = {}
    for with_verified in (True, False):
        keys = sorted(k for k, r in rows.items() if ("verified" in r) == with_verified)
        if not keys:
            continue
        sets = {name: f"CASE WHEN excluded.{name} <> '' THEN excluded.{name} ELSE {SUBJECT}.{name} END"
                for name in KEEP_IF_BLANK}
        sets.update({name: f"COALESCE(excluded.{name}, {SUBJECT}.{name})" for name in KEEP_IF_NULL})
        if with_verified:
            sets["verified"] = "excluded.verified"
        changed = " OR ".join(f"({expr}) {distinct} {SUBJECT}.{name}" for name, expr in sets.items())
        assignments = ", ".join(f"{name} = {expr}" for name, expr in sets.items())
        stamp = now
        for chunk in _chunks(keys):
            values, params = unnest_sql(SUBJECT_TYPES, [(
                kind, key, r.get("handle", ""), r.get("follower_count"), r.get("verified", False),
                r.get("account_type", ""), r.get("platform_created_at"), r.get("content_type", ""),
                r.get("text", ""), r.get("url", ""), r.get("author_id"), stamp, stamp,
            ) for key in chunk for r in (rows[key],)])
            upsert = (f"INSERT INTO {SUBJECT} ({', '.join(SUBJECT_COLUMNS)}) {values} "
                      f"ON CONFLICT (kind, external_id) DO UPDATE SET {assignments}, "
                      f"updated_at = excluded.updated_at WHERE {changed}")
            # One round trip: the rows written come back from RETURNING, the unchanged ones from the
            # table. A row a concurrent transaction inserted after this statement's snapshot is in
            # neither; the lookup below catches it.
            # xmax = 0: the row version was written by the INSERT, not by the conflict's UPDATE.
            for sid, ext, followers, inserted in _fetch(
                    f"WITH up AS ({upsert} RETURNING id, external_id, follower_count, author_id, xmax = 0 AS inserted) "
                    f"SELECT s.id, s.external_id, {reach}, s.inserted FROM up s LEFT JOIN {SUBJECT} a ON a.id = s.author_id "
                    f"UNION ALL "
                    f"SELECT s.id, s.external_id, {reach}, FALSE FROM {SUBJECT} s LEFT JOIN {SUBJECT} a ON a.id = s.author_id "
                    f"WHERE s.kind = %s AND s.external_id = ANY(%s) AND s.external_id NOT IN (SELECT external_id FROM up)",
                    [*params, kind, chunk]):
                found[ext] = (sid, followers or 0)
                if inserted and created is not None:
                    created.add(sid)
    missing = [key for key in rows if key not in found]
    if missing:
        found.update(subject_ids(kind, missing))
    return found


def subject_ids(kind: str, keys: list[str]) -> dict[str, tuple[int, int]]:
    """{external_id: (id, reach)} of stored subjects."""
    found = {}
    reach = "s.follower_count" if kind == Subject.Kind.ACCOUNT else "a.follower_count"
    for chunk in _chunks(keys, 1000):
        where, params = _in("s.external_id", chunk)
        for sid, ext, followers in _fetch(
                f"SELECT s.id, s.external_id, {reach} FROM {SUBJECT} s "
                f"LEFT JOIN {SUBJECT} a ON a.id = s.author_id WHERE s.kind = %s AND {where}", [kind, *params]):
            found[ext] = (sid, followers or 0)
    return found


def link_signals(links: list[tuple[int, str, str]], now) -> None:
    """Store (subject id, kind, hash) sightings: the signal once, its link to the account once."""
    wanted = sorted({(kind, value_hash) for _, kind, value_hash in links})
    if not wanted:
        return
    stamp = now
    for chunk in _chunks(wanted):
        values, params = unnest_sql(column_types(Signal, ["kind", "value_hash", "first_seen_at"]),
                                    [(kind, value_hash, stamp) for kind, value_hash in chunk])
        _run(f"INSERT INTO {SIGNAL} (kind, value_hash, first_seen_at) {values} "
             f"ON CONFLICT (kind, value_hash) DO NOTHING", params)
    ids = {}
    for chunk in _chunks(wanted, 1000):
        kinds, kind_params = _in("kind", sorted({k for k, _ in chunk}))
        hashes, hash_params = _in("value_hash", [h for _, h in chunk])
        for sid, kind, value_hash in _fetch(f"SELECT id, kind, value_hash FROM {SIGNAL} WHERE {kinds} AND {hashes}",
                                            [*kind_params, *hash_params]):
            ids[(kind, value_hash)] = sid
    pairs = sorted({(subject_id, ids[(kind, value_hash)]) for subject_id, kind, value_hash in links})
    for chunk in _chunks(pairs):
        values, params = unnest_sql(["bigint", "bigint", "timestamp with time zone"],
                                    [(subject_id, signal_id, stamp) for subject_id, signal_id in chunk])
        _run(f"INSERT INTO {SUBJECT_SIGNAL} (subject_id, signal_id, first_seen_at) {values} "
             f"ON CONFLICT (subject_id, signal_id) DO NOTHING", params)


# --------------------------------------------------------------------------- cases

@dataclass
class CaseRow:
    """The fields of a case that intake reads and writes. Plain data, not a model instance: intake
    handles hundreds per batch, and `cases.sla.apply_due_times` works on anything with these fields."""

    id: int | None
    subject_id: int
    queue_id: int
    status: str
    priority: int
    priority_reasons: list = field(default_factory=list)
    opened_at: datetime | None = None
    sla_paused_seconds: int = 0
    report_count: int = 0
    reporter_count: int = 0
    category_id: int | None = None
    first_touch_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    updated_at: datetime | None = None
    route: str = ""  # why it is in its queue (new cases)
    opened: bool = False  # opened by this batch
    report_facts: dict | None = None  # PriorityFacts.stored() of its reports (None: not kept yet)

    @property
    def pk(self):
        return self.id


LOCK_COLUMNS = ["id", "subject_id", "queue_id", "status", "priority", "priority_reasons", "opened_at",
                "sla_paused_seconds", "report_count", "reporter_count", "report_facts"]


def lock_open_cases(subject_ids: list[int]) -> dict[int, CaseRow]:
    """The open report case of each subject (appeals about it are cases of their own), locked for the rest of the transaction (in id order)."""
    found = {}
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    opened_at = Case._meta.get_field("opened_at")
    for chunk in _chunks(sorted(subject_ids), 1000):
        where, params = _in("subject_id", chunk)
        for row in _fetch(f"SELECT {', '.join(LOCK_COLUMNS)} FROM {CASE} WHERE {where} "
                          f"AND NOT (status = 'resolved') AND kind = 'report' ORDER BY id{lock}", params):
            case = CaseRow(**dict(zip(LOCK_COLUMNS, row, strict=True)))
            if isinstance(case.priority_reasons, str):  # SQLite hands JSON back as text
                case.priority_reasons = json.loads(case.priority_reasons)
            if isinstance(case.report_facts, str):
                case.report_facts = json.loads(case.report_facts)
            if isinstance(case.opened_at, str):
                case.opened_at = opened_at.to_python(case.opened_at)
            found[case.subject_id] = case
    return found


CASE_COLUMNS = ["subject_id", "queue_id", "category_id", "status", "priority", "priority_reasons",
                "first_touch_due_at", "resolution_due_at", "sla_paused_seconds", "hold_reason", "resolution",
                "resolution_reason", "report_count", "reporter_count", "report_facts", "opened_at", "updated_at"]
CASE_TYPES = column_types(Case, CASE_COLUMNS)


def insert_cases(cases: list[CaseRow]) -> dict[int, int]:
    """Insert open cases unless their subject has one already: {subject_id: new case id}."""
    inserted = {}
    for chunk in _chunks(cases):
        values, params = unnest_sql(CASE_TYPES, [(
            c.subject_id, c.queue_id, c.category_id, c.status, c.priority, json.dumps(c.priority_reasons),
            c.first_touch_due_at, c.resolution_due_at, 0, "", "", "", c.report_count, c.reporter_count,
            _json_or_none(c.report_facts), c.opened_at, c.updated_at,
        ) for c in chunk])
        # The conflict target is the partial unique index one_open_case_per_subject.
        for case_id, subject_id in _fetch(
                f"INSERT INTO {CASE} ({', '.join(CASE_COLUMNS)}) {values} "
                f"ON CONFLICT (subject_id) WHERE (NOT (status = 'resolved') AND kind = 'report') "
                f"DO NOTHING RETURNING id, subject_id",
                params):
            inserted[subject_id] = case_id
    return inserted


def delete_cases(case_ids: list[int]) -> None:
    """Remove cases this transaction opened and nothing refers to."""
    where, params = _in("id", case_ids)
    _run(f"DELETE FROM {CASE} WHERE {where}", params)


def update_case_counts(rows: list[tuple[int, int, int, dict]], now) -> None:
    """(case id, report_count, reporter_count, report_facts) for each case."""
    for chunk in _chunks(rows):
        values, params = unnest_sql(["bigint", "integer", "integer", "jsonb"],
                                    [(cid, n, reporters, _json_or_none(facts)) for cid, n, reporters, facts in chunk])
        _run(f"WITH v(id, n, reporters, facts) AS ({values}) "
             f"UPDATE {CASE} SET report_count = v.n, reporter_count = v.reporters, report_facts = v.facts, "
             f"updated_at = %s FROM v WHERE {CASE}.id = v.id", [*params, now])


def update_case_priority(cases: list[CaseRow]) -> None:
    """Priority, reasons and due times of each case, as set on the objects."""
    for chunk in _chunks(cases):
        values, params = unnest_sql(
            ["bigint", "smallint", "jsonb", "timestamp with time zone", "timestamp with time zone"],
            [(c.pk, c.priority, json.dumps(c.priority_reasons), c.first_touch_due_at, c.resolution_due_at) for c in chunk])
        _run(f"WITH v(id, priority, reasons, first_due, resolution_due) AS ({values}) "
             f"UPDATE {CASE} SET priority = v.priority, priority_reasons = v.reasons, "
             f"first_touch_due_at = v.first_due, resolution_due_at = v.resolution_due "
             f"FROM v WHERE {CASE}.id = v.id", params)


# --------------------------------------------------------------------------- reports

REPORT_COLUMNS = ["source", "external_id", "subject_id", "case_id", "category_id", "reporter_ref", "description",
                  "classifier_label", "classifier_score", "language", "territory", "explanation", "exact_location",
                  "notifier_name", "notifier_email", "good_faith_statement", "trusted_flagger_id", "submitted_by_id",
                  "received_at", "created_at"]
REPORT_TYPES = column_types(Report, REPORT_COLUMNS)


def insert_reports(rows: list[tuple]) -> dict[tuple[str, str], int]:
    """Insert reports (tuples in REPORT_COLUMNS order) unless stored already: {(source, external_id): id}."""
    inserted = {}
    for chunk in _chunks(rows):
        values, params = unnest_sql(REPORT_TYPES, chunk)
        for rid, source, ext in _fetch(
                f"INSERT INTO {REPORT} ({', '.join(REPORT_COLUMNS)}) {values} "
                f"ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id", params):
            inserted[(source, ext)] = rid
    return inserted


def stored_reports(keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple]:
    """{(source, external_id): (report id, case id, case status, queue id, priority)} of stored reports.

    Most batches hold no replay, so the reports are looked up alone and their cases only when found.
    """
    found = {}
    wanted = set(keys)
    for chunk in _chunks(keys, 1000):
        sources, source_params = _in("source", sorted({s for s, _ in chunk}))
        exts, ext_params = _in("external_id", [e for _, e in chunk])
        for rid, source, ext, case_id in _fetch(
                f"SELECT id, source, external_id, case_id FROM {REPORT} WHERE {sources} AND {exts}",
                [*source_params, *ext_params]):
            if (source, ext) in wanted:
                found[(source, ext)] = (rid, case_id)
    if not found:
        return {}
    cases = {}
    case_ids = sorted({case_id for _, case_id in found.values()})
    for chunk in _chunks(case_ids, 1000):
        where, params = _in("id", chunk)
        for case_id, status, queue_id, priority in _fetch(
                f"SELECT id, status, queue_id, priority FROM {CASE} WHERE {where}", params):
            cases[case_id] = (status, queue_id, priority)
    return {key: (rid, case_id, *cases[case_id]) for key, (rid, case_id) in found.items()}


def reporters_seen(pairs: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (case id, reporter_ref) pairs already have a report: one probe of the partial index
    report_case_reporter per pair, however many reports the case holds."""
    found = set()
    for chunk in _chunks(sorted(set(pairs))):
        values, params = unnest_sql(["bigint", "text"], chunk)
        found.update(_fetch(
            f"SELECT v.case_id, v.ref FROM ({values}) AS v(case_id, ref) WHERE EXISTS ("
            f"SELECT 1 FROM {REPORT} r WHERE r.case_id = v.case_id AND r.reporter_ref = v.ref AND r.reporter_ref <> '')",
            params))
    return found


def case_report_facts(case_ids: list[int]) -> tuple[dict[int, tuple[int, int]], list[tuple]]:
    """For open cases: {case id: (reports, distinct reporters)} and, per (case, category, source,
    trusted flagger), the highest classifier score — what priority needs, in two grouped queries
    over every report of the cases (for cases stored before they kept their report facts)."""
    counts, groups = {}, []
    for chunk in _chunks(case_ids, 1000):
        where, params = _in("case_id", chunk)
        for cid, n, reporters in _fetch(
                f"SELECT case_id, COUNT(*), COUNT(DISTINCT NULLIF(reporter_ref, '')) FROM {REPORT} "
                f"WHERE {where} GROUP BY case_id", params):
            counts[cid] = (n, reporters)
        groups.extend(_fetch(
            f"SELECT case_id, category_id, source, trusted_flagger_id, MAX(classifier_score) FROM {REPORT} "
            f"WHERE {where} GROUP BY case_id, category_id, source, trusted_flagger_id", params))
    return counts, groups


# --------------------------------------------------------------------------- events
