"""Reads for the analyst workspace: which queues and cases a user may work, queue summaries, the
case page, my work and search.

Access rule (one place): a user with `case.work` may work a queue whose `allowed_teams` is empty
or contains one of their teams; `queue.work_all` (leads, admins) may work every queue. A case is
visible to someone who may view cases and either may work its queue, is its assignee, or was
asked to help with it (personally or through a team).
"""

import re
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.expressions import ArraySubquery
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from tsconsole.errors import NotFound
from tsconsole.models import Team, TeamMembership
from tsconsole.reusable import ReusableQuery
from tsconsole.roles import CAPABILITIES, can, user_roles
from tsconsole.shared import shared_for

from ..models import (
    COMMON_SIGNAL_ACCOUNTS,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Category,
    Escalation,
    Evidence,
    Note,
    Queue,
    QueueSla,
    Report,
    SavedFilter,
    Signal,
    SlaCrossing,
    Source,
    Subject,
    SubjectSignal,
    Tag,
    accounts_sharing,
    due_sort_key,
)
from ..sla import target_usable

# How many rows each case-page list shows: lists are capped so the page stays flat as cases grow.
CASE_PAGE_REPORTS = 25
CASE_PAGE_EVENTS = 100
CASE_PAGE_HISTORY = 20
CASE_PAGE_LINKED = 20
LINKED_CASES_PER_PAGE = 100
REPORT_GROUPS_SHARED_FROM = 5000  # reports; below this a case's reports are grouped on every view
REPORT_GROUPS_SHARED_SECONDS = 60
LIST_PAGE_SIZE = 50
# Content items per account considered for history and linking (a prolific author's newest ones).
AUTHORED_CONTENT_LIMIT = 1000
SEARCH_SUBJECT_LIMIT = 100
# Queue counts are shared by everyone's queue page for this long (0: always count afresh).
QUEUE_COUNTS_CACHE_SECONDS = 10
# The case page's pickers (people, teams, categories) are shared for this long.
CHOICES_CACHE_KEY = "cases:case-page-choices:v2"  # v2: teams carry their slug (the escalate form)
CHOICES_CACHE_SECONDS = 60
# The share of an SLA target left when a case counts as "at risk" (matches the 75% crossing).
AT_RISK_REMAINING = 0.25

_QueueTeams = Queue.allowed_teams.through


# --------------------------------------------------------------------------- access


def _user_team_ids(user):
    return TeamMembership.objects.filter(user_id=user.pk).values("team_id")


def user_team_ids(user) -> list[int]:
    return list(_user_team_ids(user).values_list("team_id", flat=True))


def queue_access_q(user) -> Q:
    """Q over Queue: the queues `user` may work (ignores is_active)."""
    if not user.is_authenticated or not can(user, "case.work"):
        return Q(pk__in=[])
    if can(user, "queue.work_all"):
        return Q()
    restricted = _QueueTeams.objects.filter(queue_id=OuterRef("pk"))
    member = restricted.filter(team_id__in=_user_team_ids(user))
    return ~Q(Exists(restricted)) | Q(Exists(member))


def queue_access_sql(user, alias: str) -> str:
    """`queue_access_q` as an SQL condition over the queue table under `alias`, for statements
    written in SQL (the claim). The same rule; the user's id is the parameter `%(actor)s`."""
    if not user.is_authenticated or not can(user, "case.work"):
        return "FALSE"
    if can(user, "queue.work_all"):
        return "TRUE"
    quote = connection.ops.quote_name
    restricted, members = quote(_QueueTeams._meta.db_table), quote(TeamMembership._meta.db_table)
    return (f"(NOT EXISTS (SELECT 1 FROM {restricted} r WHERE r.queue_id = {alias}.id) "
            f"OR EXISTS (SELECT 1 FROM {restricted} r JOIN {members} m ON m.team_id = r.team_id "
            f"WHERE r.queue_id = {alias}.id AND m.user_id = %(actor)s))")


def case_access_q(user) -> Q:
    """Q over Case: the cases `user` may open. Built once per user object (a request's user): a
    list page filters both its rows and their count with it."""
    built = getattr(user, "_tsconsole_case_access", None)
    if built is not None:
        return built
    if not user.is_authenticated or not can(user, "case.view"):
        built = Q(pk__in=[])
    elif can(user, "queue.work_all"):
        built = Q()
    else:
        queues = Queue.objects.filter(queue_access_q(user)).values("pk")
        built = (
            Q(queue_id__in=queues) | Q(assignee_id=user.pk) | Q(held_for_id=user.pk)
            | Q(held_for_team_id__in=_user_team_ids(user))
        )
    if user.is_authenticated:
        user._tsconsole_case_access = built
    return built


def queues_workable(user):
    """Active queues the user may work, in display order."""
    return Queue.objects.filter(queue_access_q(user), is_active=True).order_by("position", "name")


def queue_workable(user, slug: str) -> Queue | None:
    """The active queue `slug` if the user may work it, else None (one query)."""
    return Queue.objects.filter(queue_access_q(user), slug=slug, is_active=True).first()


def user_may_work_queue(user, queue_id: int) -> bool:
    return Queue.objects.filter(queue_access_q(user), pk=queue_id).exists()


def case_visible(user, case_id: int) -> bool:
    return Case.objects.filter(case_access_q(user), pk=case_id).exists()


def case_not_found(case_id) -> NotFound:
    """The one answer for a case that does not exist and for one the user may not see, so that
    nobody learns from the difference which ids exist in other teams' queues."""
    return NotFound(f"Case {case_id} does not exist or is not in a queue you may work.")


def require_case_visible(user, case_id: int) -> None:
    if not case_visible(user, case_id):
        raise case_not_found(case_id)


def case_workers():
    """Active people who may work cases (for hand-off and hold-for-help pickers)."""
    worker_roles = Group.objects.filter(name__in=CAPABILITIES["case.work"])
    return get_user_model().objects.filter(
        Q(is_superuser=True) | Q(Exists(get_user_model().groups.through.objects.filter(
            user_id=OuterRef("pk"), group_id__in=worker_roles.values("pk")))),
        is_active=True,
    ).order_by("username")


# --------------------------------------------------------------------------- queues


def _at_risk_q(queue_ids, now) -> Q:
    """Q over unresolved cases whose running clock has less than 25% of its target left.

    due = opened + target + paused, so "less than a quarter of the target left" is
    due - now <= target / 4, whatever time the case spent paused. Targets come per queue and
    priority, so the condition is a short OR over the (few) QueueSla rows.
    """
    never = Q(pk__isnull=True)  # an always-false start for the ORs (a primary key is never null)
    resolution, first_touch = never, never
    for sla in QueueSla.objects.filter(queue_id__in=queue_ids):
        if not target_usable(sla):
            continue
        scope = Q(queue_id=sla.queue_id, priority=sla.priority)
        resolution |= scope & Q(resolution_due_at__lte=now + timedelta(minutes=sla.resolution_minutes) * AT_RISK_REMAINING)
        first_touch |= scope & Q(first_touch_due_at__lte=now + timedelta(minutes=sla.first_touch_minutes) * AT_RISK_REMAINING)
    return (
        (Q(resolution_due_at__gt=now) & resolution)
        | (Q(first_touched_at__isnull=True, first_touch_due_at__gt=now) & first_touch)
    ) & ~_breached_q(now)


def _breached_q(now) -> Q:
    return Q(resolution_due_at__lte=now) | Q(first_touched_at__isnull=True, first_touch_due_at__lte=now)


def queue_counts(queue_ids: list[int], now) -> tuple[dict, object]:
    """Per-queue counts over the unresolved cases of these queues, and when they were counted: one
    aggregate query, shared for QUEUE_COUNTS_CACHE_SECONDS. Tens of thousands of unresolved cases
    make the aggregate cost tens of milliseconds; every analyst's queue page and its 30-second
    refresh share one computation instead of each paying for it. Claiming never reads these counts."""

    def count():
        waiting = Q(status=CaseStatus.OPEN, assignee__isnull=True)
        rows = {
            row["queue_id"]: row
            for row in Case.objects.filter(queue_id__in=queue_ids).exclude(status=CaseStatus.RESOLVED)
            .values("queue_id")
            .annotate(
                open_count=Count("id"),
                unassigned=Count("id", filter=waiting),
                oldest_unassigned=Min("opened_at", filter=waiting),
                oldest_open=Min("opened_at"),
                breached=Count("id", filter=_breached_q(now)),
                breached_first_touch=Count("id", filter=Q(first_touched_at__isnull=True, first_touch_due_at__lte=now)),
                breached_resolution=Count("id", filter=Q(resolution_due_at__lte=now)),
                at_risk=Count("id", filter=_at_risk_q(queue_ids, now)),
            ).order_by()
        }
        return rows, now

    return shared_for("cases:queue-counts:" + ",".join(map(str, sorted(queue_ids))), QUEUE_COUNTS_CACHE_SECONDS, count)


def queue_summaries(user, *, now=None) -> list[dict]:
    """Each workable queue with open, unassigned, in-progress, at-risk and breached counts and the
    oldest waiting case, as of `counted_at` (at most QUEUE_COUNTS_CACHE_SECONDS old). Queries: the
    queues, their SLA targets and one aggregate over their unresolved cases when not cached —
    never a count over the whole case table."""
    now = now or timezone.now()
    queues = list(queues_workable(user))
    if not queues:
        return []
    rows, counted_at = queue_counts([q.pk for q in queues], now)
    summary = []
    for queue in queues:
        row = rows.get(queue.pk, {})
        oldest = row.get("oldest_unassigned")
        summary.append({
            "queue": queue,
            "open_count": row.get("open_count", 0),
            "unassigned": row.get("unassigned", 0),
            "in_progress": row.get("open_count", 0) - row.get("unassigned", 0),
            "oldest_unassigned": oldest,
            "oldest_age_seconds": int((now - oldest).total_seconds()) if oldest else None,
            "at_risk": row.get("at_risk", 0),
            "breached": row.get("breached", 0),
            "breached_first_touch": row.get("breached_first_touch", 0),
            "breached_resolution": row.get("breached_resolution", 0),
            "counted_at": counted_at,
        })
    return summary


# --------------------------------------------------------------------------- the case page


# Columns the pages never show, left out of the rows they join: every joined column costs the ORM
# (compiling, hashing for ORDER BY, converting) and PostgreSQL on every request, and the case page
# joins people, categories and queues into most of its lists.
_USER_UNSHOWN = ("password", "last_login", "is_superuser", "email", "is_staff", "is_active", "date_joined")
_CATEGORY_UNSHOWN = ("description", "dsa_category", "dsa_keyword", "default_severity")
_QUEUE_UNSHOWN = ("description", "complexity_weight", "raise_priority_on_breach", "is_default")
_TEAM_UNSHOWN = ("description", "chat_webhook_url")


def unshown_columns(**relations: str) -> list[str]:
    """`defer()` arguments for columns never shown of joined rows: relation path → model kind
    ("user", "category", "queue", "team"), e.g. unshown_columns(actor="user")."""
    kinds = {"user": _USER_UNSHOWN, "category": _CATEGORY_UNSHOWN, "queue": _QUEUE_UNSHOWN, "team": _TEAM_UNSHOWN}
    return [f"{path}__{column}" for path, kind in relations.items() for column in kinds[kind]]


_CASE_HEADER_JOINS = {"queue": "queue", "category": "category", "category__parent": "category"}
# The people (and team) a case names, read after the case: joined into its row they make ten
# relations, and PostgreSQL spends more planning that join than reading every row of it.
_CASE_PEOPLE = ("assignee", "held_for", "resolved_by")


def _case_base():
    # The tag names come in the same row (`tag_names`, sorted) instead of a prefetch query, and
    # whether the case has notes, evidence, SLA crossings and escalations: most cases have none of
    # some, and an index probe in this row costs less than a query that finds nothing.
    tag_names = ArraySubquery(Tag.objects.filter(cases=OuterRef("pk")).order_by("name").values("name"))
    return Case.objects.select_related("subject", "subject__author", *_CASE_HEADER_JOINS).defer(
        *unshown_columns(**_CASE_HEADER_JOINS)).annotate(
        tag_names=tag_names,
        has_notes=Exists(Note.objects.filter(case_id=OuterRef("pk"))),
        has_evidence=Exists(Evidence.objects.filter(case_id=OuterRef("pk"))),
        has_sla_crossings=Exists(SlaCrossing.objects.filter(case_id=OuterRef("pk"))),
        has_escalations=Exists(Escalation.objects.filter(case_id=OuterRef("pk"))),
    )


def case_has(case: Case, related: str) -> bool:
    """Whether the case has `related` rows ("notes", "evidence", "sla_crossings", "escalations"), as
    read with the case by case_for_user; True (look) for a case loaded otherwise."""
    return getattr(case, f"has_{related}", True)


_PEOPLE = ReusableQuery("case_people", lambda ids: get_user_model().objects.filter(pk__any=ids).defer(*_USER_UNSHOWN))


def _attach_people(case: Case) -> None:
    """Set the case's assignee, asked helper, resolver and helper team in one query each (none when unset)."""
    ids = {getattr(case, f"{field}_id") for field in _CASE_PEOPLE} - {None}
    people = {}
    if ids:
        people = {u.pk: u for u in _PEOPLE(ids=sorted(ids))}
    for field in _CASE_PEOPLE:
        setattr(case, field, people.get(getattr(case, f"{field}_id")))
    if case.held_for_team_id is not None:
        case.held_for_team = Team.objects.defer(*_TEAM_UNSHOWN).filter(pk=case.held_for_team_id).first()


def _case_with_access_facts():
    """_case_base with the teams allowed to work the case's queue (`queue_team_ids`, for _may_open)."""
    return _case_base().annotate(
        queue_team_ids=ArraySubquery(_QueueTeams.objects.filter(queue_id=OuterRef("queue_id")).values("team_id")))


# By primary key alone, then case_access_q's rule on the row: the rule's subqueries inside this
# wide join cost more to compile and plan than the row costs to read. No ORDER BY either.
_CASE_BY_ID = ReusableQuery("case_page_case", lambda case_id: _case_with_access_facts().filter(pk=case_id).order_by()[:1])


def case_for_user(user, case_id: int) -> Case | None:
    """The case with its header relations, or None when it does not exist or the user may not see it."""
    if not user.is_authenticated or not can(user, "case.view") or not 0 < int(case_id) < 2**63:
        return None  # (an id beyond bigint's range names no case)
    found = _CASE_BY_ID(case_id=int(case_id))
    if not found or not _may_open(user, found[0]):
        return None
    _attach_people(found[0])
    return found[0]


def _may_open(user, case: Case) -> bool:
    """case_access_q for one case loaded by _case_with_access_facts (the view capability already
    checked): every queue for `queue.work_all`, else a queue the user may work (its allowed teams
    are none or include one of the user's), or the user is its assignee or asked helper."""
    if can(user, "queue.work_all") or user.pk in (case.assignee_id, case.held_for_id):
        return True
    teams = None
    if can(user, "case.work"):
        allowed = set(case.queue_team_ids)
        if not allowed:
            return True
        teams = set(user_team_ids(user))
        if allowed & teams:
            return True
    if case.held_for_team_id is None:
        return False
    return case.held_for_team_id in (teams if teams is not None else user_team_ids(user))


def _account_ids_of(subject: Subject) -> list[int]:
    """The accounts a subject stands for in history and linking: itself, or a content item's author."""
    if subject.kind == Subject.Kind.ACCOUNT:
        return [subject.pk]
    return [subject.author_id] if subject.author_id else []


def _with_authored_content(account_ids: list[int]) -> list[int]:
    """The accounts' ids plus the ids of content they wrote (newest first, capped), by the author index.

    Resolving subject ids first keeps every case lookup an index scan on (subject, opened_at); an
    OR across the subject join would make PostgreSQL scan the whole case table.
    """
    if not account_ids:
        return []
    return [*account_ids, *_authored_content(account_ids=list(account_ids))]


def _with_authored_content_subquery(ids: list[int], account_ids: list[int] | None):
    """A subquery of `ids` and the content `account_ids` wrote (newest first, capped), for
    `subject_id__in`: one statement instead of a lookup first. A UNION, not an OR, so that
    PostgreSQL still walks the case index on (subject, opened_at) once per id. Lists are compared
    with ANY (one parameter each) so that compiled reads fit any number of ids; None: no accounts."""
    ids = Subject.objects.filter(pk__any=ids).values("pk")
    if account_ids is None:
        return ids
    authored = Subject.objects.filter(author_id__any=account_ids).order_by("-pk").values("pk")[:AUTHORED_CONTENT_LIMIT]
    return ids.union(authored, all=True)


# What a case listed on the case page (history, linked accounts) shows of itself and its subject.
_LISTED_CASE_COLUMNS = ("id", "subject", "category", "status", "resolution", "opened_at", "category__name")
_SUBJECT_LABEL = ("subject__kind", "subject__external_id", "subject__handle", "subject__content_type")


def _history(with_accounts, excluding, limit, ids, account_ids, exclude_case_id):
    # The newest `limit` cases of each subject (the (subject, opened_at) index, read backwards and
    # stopped there), then the newest of those: without the per-subject LIMIT, PostgreSQL reads and
    # sorts every case of a subject, half a second for an account with a million cases.
    subjects, params = _with_authored_content_subquery(ids, account_ids if with_accounts else None).query.sql_with_params()
    quote = connection.ops.quote_name
    newest = RawSQL(
        f"SELECT c.id FROM ({subjects}) AS s(subject_id) CROSS JOIN LATERAL ("
        f"SELECT x.id FROM {quote(Case._meta.db_table)} x WHERE x.subject_id = s.subject_id"
        f"{' AND x.id <> %s' if excluding else ''} ORDER BY x.opened_at DESC, x.id DESC LIMIT {int(limit)}) c",
        (*params, *([exclude_case_id] if excluding else [])))
    qs = Case.objects.filter(pk__in=newest)
    return (
        qs.select_related("subject", "category").only(*_LISTED_CASE_COLUMNS, "resolution_reason", *_SUBJECT_LABEL)
        .order_by("-opened_at", "-id")[:limit]
    )


_HISTORY = ReusableQuery("case_page_history", _history)


def subject_history(subject: Subject, *, exclude_case_id: int | None = None, limit: int = CASE_PAGE_HISTORY):
    """Earlier and parallel cases about the subject, its author, and content by that account."""
    accounts = _account_ids_of(subject)
    return _HISTORY(bool(accounts), bool(exclude_case_id), limit, ids=[subject.pk, *accounts],
                    account_ids=accounts or [0], exclude_case_id=exclude_case_id or 0)


def _signals(accounts):
    return (
        SubjectSignal.objects.filter(subject_id__any=accounts)
        .annotate(accounts=accounts_sharing(F("signal_id")))
        .values_list("signal_id", "signal__kind", "signal__value_hash", "accounts")
        .order_by("signal__kind", "signal__value_hash")
    )


_SIGNALS = ReusableQuery("case_page_signals", _signals)


def subject_signals(subject: Subject) -> list[dict]:
    """The signal kinds known for the subject's account, with how many accounts share each (up to
    COMMON_SIGNAL_ACCOUNTS; `common` when more do, and no account is linked through it)."""
    accounts = _account_ids_of(subject)
    if not accounts:
        return []
    return [{"signal_id": signal_id, "signal__kind": kind, "signal__value_hash": value_hash,
             "accounts": min(n, COMMON_SIGNAL_ACCOUNTS), "common": n > COMMON_SIGNAL_ACCOUNTS}
            for signal_id, kind, value_hash, n in _SIGNALS(accounts=accounts)]


def _linked(limit, accounts, signals):
    return (
        Subject.objects.filter(kind=Subject.Kind.ACCOUNT, signal_links__signal_id__any=signals)
        .exclude(pk__any=accounts).only("id", "kind", "external_id", "handle", "content_type")
        .annotate(shared_count=Count("signal_links__signal_id", distinct=True),
                  # the kinds of the shared signals (the join above is the shared signals' links)
                  shared_signal_kinds=ArrayAgg("signal_links__signal__kind", distinct=True))
        .order_by("-shared_count", "pk")[:limit]
    )


_LINKED = ReusableQuery("case_page_linked", _linked)
_LINKED_CASES = ReusableQuery(
    "case_page_linked_cases",
    lambda ids: Case.objects.filter(subject_id__in=_with_authored_content_subquery(ids, ids))
    .annotate(owner_id=Coalesce("subject__author_id", "subject_id"))  # the account, or the content's author
    .only("id", "subject", "status", "resolution", "opened_at", "resolved_at")  # QA's blind view reads resolved_at
    .order_by("-opened_at", "-id")[:LINKED_CASES_PER_PAGE])


def linked_accounts(subject: Subject, *, limit: int = CASE_PAGE_LINKED, signals: list[dict] | None = None) -> list[dict]:
    """Accounts that share a signal with the subject's account (one that is not too common, see
    COMMON_SIGNAL_ACCOUNTS), with the kinds of signal they share and their case history (two queries
    however many links there are: the links with their kinds, then their cases and their content's).
    `signals` are the subject's `subject_signals`, when the caller has them already."""
    accounts = _account_ids_of(subject)
    if not accounts:
        return []
    linking = [s["signal_id"] for s in (subject_signals(subject) if signals is None else signals)
               if not s["common"] and s["accounts"] > 1]
    if not linking:
        return []
    linked = _LINKED(limit, accounts=accounts, signals=linking)
    if not linked:
        return []
    ids = [s.pk for s in linked]
    kinds = {account.pk: sorted(account.shared_signal_kinds) for account in linked}
    by_account: dict[int, list] = {pk: [] for pk in ids}
    for case in _LINKED_CASES(ids=ids):
        by_account[case.owner_id].append(case)
    kind_labels = dict(Signal.Kind.choices)
    return [
        {
            "account": account,
            "shared_kinds": [kind_labels.get(k, k) for k in kinds[account.pk]],
            "cases": by_account[account.pk],
            "actioned": sum(1 for c in by_account[account.pk] if c.resolution == Case.Resolution.ACTIONED),
            "open": sum(1 for c in by_account[account.pk] if c.is_open),
        }
        for account in linked
    ]


# What the case page shows of a report (the notifier's contact details stay out of the page).
_REPORT_SHOWN = (
    "id", "case", "source", "external_id", "category", "category__name", "trusted_flagger", "reporter_ref", "description", "classifier_label",
    "classifier_score", "language", "explanation", "received_at", "trusted_flagger__name",
)


def _report_groups(reports: list[Report]) -> list[dict]:
    """The reports grouped by source and category, as the SQL grouping in case_reports gives them."""
    groups: dict[tuple, dict] = {}
    for report in reports:
        key = (report.source, report.category.name)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"source": key[0], "category__name": key[1], "count": 0, "reporters": set(),
                                   "first": report.received_at, "last": report.received_at}
        group["count"] += 1
        group["reporters"].add(report.reporter_ref)
        group["first"] = min(group["first"], report.received_at)
        group["last"] = max(group["last"], report.received_at)
    rows = [{**g, "reporters": len(g["reporters"])} for g in groups.values()]
    return sorted(rows, key=lambda g: (-g["count"], g["source"]))


_NEWEST = ("-received_at", "-id")
# The page's reports are picked first (from report_case_received_id) and joined after: the prepared
# statement's generic plan expects a handful of reports per case, and planned as one join it read,
# joined and sorted all 200,000 reports of a viral post to show 25.
_REPORTS = ReusableQuery(
    "case_page_reports",
    lambda limit, case_id: Report.objects.filter(
        pk__in=Report.objects.filter(case_id=case_id).order_by(*_NEWEST).values("pk")[:limit])
    .select_related("category", "trusted_flagger").only(*_REPORT_SHOWN).order_by(*_NEWEST))


def _grouped_reports(case_id: int) -> dict:
    groups = list(
        Report.objects.filter(case_id=case_id)
        .values("source", "category__name")
        .annotate(count=Count("id"), reporters=Count("reporter_ref", distinct=True),
                  first=Min("received_at"), last=Max("received_at"))
        .order_by("-count", "source")
    )
    return {"groups": groups, "grouped_at": timezone.now()}


def case_reports(case: Case, *, limit: int = CASE_PAGE_REPORTS) -> dict:
    """The newest reports, and all reports grouped by source and category (for cases with many).
    A case with more than REPORT_GROUPS_SHARED_FROM reports (a viral post) has its grouping shared
    for REPORT_GROUPS_SHARED_SECONDS and says when it was made: grouping 200,000 reports took a third
    of a second, on every view of the case everyone was watching."""
    latest = _REPORTS(limit, case_id=case.pk)
    grouped_at = None
    if len(latest) < limit:
        groups = _report_groups(latest)  # every report is in hand: group them here, not again in SQL
    elif (case.report_count or 0) > REPORT_GROUPS_SHARED_FROM:
        grouping = shared_for(f"cases:report-groups:{case.pk}", REPORT_GROUPS_SHARED_SECONDS,
                              lambda: _grouped_reports(case.pk))
        groups, grouped_at = grouping["groups"], grouping["grouped_at"]
    else:
        groups = _grouped_reports(case.pk)["groups"]
    return {"latest": latest, "groups": groups, "grouped_at": grouped_at, "shown": len(latest),
            "total": case.report_count or len(latest)}


_EVENTS = ReusableQuery(
    "case_events",
    lambda limit, case_id: CaseEvent.objects.filter(case_id=case_id).select_related("actor")
    .defer(*unshown_columns(actor="user")).order_by("-created_at", "-id")[:limit])
_EVIDENCE = ReusableQuery(
    "case_evidence",
    lambda case_id: Evidence.objects.filter(case_id=case_id).select_related("captured_by")
    .defer(*unshown_columns(captured_by="user")).order_by("captured_at", "id"))
_NOTES = ReusableQuery(
    "case_notes",
    lambda case_id: Note.objects.filter(case_id=case_id).select_related("author")
    .defer(*unshown_columns(author="user")).order_by("created_at", "id"))
_CROSSINGS = ReusableQuery("case_sla_crossings",
                           lambda case_id: SlaCrossing.objects.filter(case_id=case_id).order_by("crossed_at"))


def case_events(case_id: int, *, limit: int) -> list[CaseEvent]:
    """The case's newest timeline events with their actors, newest first."""
    return _EVENTS(limit, case_id=case_id)


def case_evidence(case_id: int) -> list[Evidence]:
    """The case's evidence with who captured it, oldest first."""
    return _EVIDENCE(case_id=case_id)


def case_page(user, case: Case, *, now=None) -> dict:
    """Everything the case page shows, in a fixed number of queries however much the case holds."""
    now = now or timezone.now()
    subject = case.subject
    events = case_events(case.pk, limit=CASE_PAGE_EVENTS)
    notes = _NOTES(case_id=case.pk) if case_has(case, "notes") else []
    evidence = case_evidence(case.pk) if case_has(case, "evidence") else []
    for item in evidence:
        item.case = case  # needs_reveal reads the case's category
    crossings = _CROSSINGS(case_id=case.pk) if case_has(case, "sla_crossings") else []
    signals = subject_signals(subject)
    return {
        "case": case,
        "subject": subject,
        # only a report case lists reports (an appeal case's notices are on the decided case)
        "reports": case_reports(case) if case.kind == CaseKind.REPORT else None,
        "history": subject_history(subject, exclude_case_id=case.pk),
        "signals": signals,
        "linked": linked_accounts(subject, signals=signals),
        "events": events,
        "notes": notes,
        "evidence": evidence,
        "revealed": evidence_revealed_ids(user, case, evidence),
        "sla": sla_view(case, crossings, now=now),
        "claim_expires_at": claim_expires_at(case),
        "now": now,
    }


def evidence_revealed_ids(user, case: Case, evidence: list[Evidence]) -> set[int]:
    """Ids of the case's sensitive images this user has revealed (their reveal events on the
    timeline); no query when the case has none."""
    if not any(item.needs_reveal for item in evidence):
        return set()
    return {
        int(value) for value in CaseEvent.objects.filter(
            case_id=case.pk, verb="evidence_revealed", actor_id=user.pk,
        ).values_list("data__evidence_id", flat=True) if value is not None
    }


def case_page_choices() -> dict:
    """Choices for the case page's forms (people to hand off to or ask, teams, categories), as plain
    values shared through the cache for a minute: every case page shows the same lists."""
    cached = cache.get(CHOICES_CACHE_KEY)
    if cached is not None:
        return cached
    choices = {
        "workers": [
            {"pk": u.pk, "username": u.get_username(), "label": u.get_full_name() or u.get_username()}
            for u in case_workers().only("id", "username", "first_name", "last_name")
        ],
        "teams": [{"pk": t.pk, "slug": t.slug, "name": t.name} for t in Team.objects.order_by("name").only("id", "slug", "name")],
        "categories": [
            {"pk": c.pk, "slug": c.slug, "label": str(c)}
            for c in Category.objects.filter(is_active=True).select_related("parent").order_by(
                "parent__position", "parent__name", "position", "name")
        ],
    }
    cache.set(CHOICES_CACHE_KEY, choices, CHOICES_CACHE_SECONDS)
    return choices


def claim_expires_at(case: Case):
    """When an idle claim goes back to the queue (None when not claimed or the queue has no timeout)."""
    if case.status != CaseStatus.IN_REVIEW or case.claimed_at is None or not case.queue.claim_timeout_minutes:
        return None
    last = max(case.claimed_at, case.last_activity_at or case.claimed_at)
    return last + timedelta(minutes=case.queue.claim_timeout_minutes)


def _target(case: Case, due) -> timedelta:
    # due = opened + target + paused (cases.sla.due_times)
    return due - case.opened_at - timedelta(seconds=case.sla_paused_seconds)


def sla_view(case: Case, crossings: list, *, now) -> list[dict]:
    """First-touch and resolution clocks with their due time, state and any recorded crossings."""
    marks: dict[str, list] = {}
    for crossing in crossings:
        marks.setdefault(crossing.clock, []).append(crossing)
    clocks = []
    for clock, label, due, done_at in (
        (SlaCrossing.Clock.FIRST_TOUCH, "First touch", case.first_touch_due_at, case.first_touched_at),
        (SlaCrossing.Clock.RESOLUTION, "Resolution", case.resolution_due_at, case.resolved_at),
    ):
        recorded = {c.level for c in marks.get(clock, []) if due is None or c.due_at == due}
        if due is None:
            state = "none"
        elif done_at is not None:
            state = "met" if done_at <= due else "missed"
        elif case.sla_paused_at is not None:
            state = "paused"
        elif due <= now or SlaCrossing.Level.BREACHED in recorded:
            state = "breached"
        elif SlaCrossing.Level.AT_RISK in recorded or due - now <= _target(case, due) * AT_RISK_REMAINING:
            state = "at_risk"
        else:
            state = "running"
        clocks.append({"clock": clock, "label": label, "due": due, "done_at": done_at, "state": state,
                       "crossings": marks.get(clock, [])})
    return clocks


# --------------------------------------------------------------------------- my work and search


def _work_cases():
    # What the case tables show: the subject, queue, category and assignee (the helpers are not listed).
    return Case.objects.select_related("subject", "queue", "category", "assignee").defer(
        *unshown_columns(queue="queue", category="category", assignee="user"))


_IN_HAND = [CaseStatus.IN_REVIEW, CaseStatus.ESCALATED, CaseStatus.AWAITING_APPROVAL]
_BY_URGENCY = ("priority", "resolution_due_at", "id")
RECENT_RESULTS = 20
# Compiled once per process: these four lists are read on every visit to My work and Home.
_my_assigned = ReusableQuery("my_work_assigned", lambda user_id: _work_cases().filter(
    assignee_id=user_id, status__in=_IN_HAND).order_by(*_BY_URGENCY)[:LIST_PAGE_SIZE])
_my_on_hold = ReusableQuery("my_work_on_hold", lambda user_id: _work_cases().filter(
    assignee_id=user_id, status=CaseStatus.ON_HOLD).order_by(*_BY_URGENCY)[:LIST_PAGE_SIZE])
_my_asked_to_help = ReusableQuery("my_work_asked_to_help", lambda user_id: _work_cases().filter(
    Q(held_for_id=user_id) | Q(held_for_team_id__in=TeamMembership.objects.filter(user_id=user_id).values("team_id")),
    status=CaseStatus.ON_HOLD).exclude(assignee_id=user_id).order_by(*_BY_URGENCY)[:LIST_PAGE_SIZE])
_my_resolved = ReusableQuery("my_work_resolved", lambda user_id: _work_cases().filter(
    resolved_by_id=user_id, status=CaseStatus.RESOLVED).order_by("-resolved_at", "-id")[:RECENT_RESULTS])


def my_work(user, *, with_results: bool = True) -> dict:
    """Cases assigned to me, cases I put on hold, cases I was asked to help with, and recent results."""
    return {
        "assigned": _my_assigned(user_id=user.pk),
        "on_hold": _my_on_hold(user_id=user.pk),
        "asked_to_help": _my_asked_to_help(user_id=user.pk),
        "resolved": _my_resolved(user_id=user.pk) if with_results else [],
    }


def home_work(user, *, limit: int = 8) -> dict:
    """The analyst's home: cases in hand, holds asked of them, and the queues they may take work from."""
    work = my_work(user, with_results=False)
    return {
        "assigned": work["assigned"][:limit],
        "assigned_more": len(work["assigned"]) > limit,
        "asked_to_help": work["asked_to_help"][:limit],
        "on_hold": len(work["on_hold"]),
        "queues": list(queues_workable(user)),
    }


_CASE_ID = re.compile(r"^(?:case\s*)?#?\s*(\d{1,18})$", re.IGNORECASE)


class _Viewer:
    """What the access rules read of a person: their id and roles. Search compiles its statement
    once per set of roles, with the id as a parameter."""

    is_authenticated = True

    def __init__(self, pk, roles: frozenset[str]):
        self.pk = pk
        self._tsconsole_roles = roles


# Search runs on every lookup an analyst or support agent types: its statements are compiled once.
_authored_content = ReusableQuery("authored_content", lambda account_ids: Subject.objects.filter(
    author_id__any=account_ids).order_by("-pk").values_list("pk", flat=True)[:AUTHORED_CONTENT_LIMIT])
_subjects_by_key = ReusableQuery("search_subjects", lambda by_handle, query, handle, handle_lower: Subject.objects.filter(
    Q(kind__in=Subject.Kind.values, external_id=query) | (Q(handle=handle) | Q(handle=handle_lower) if by_handle else Q(pk=None))
).values_list("pk", "kind")[:SEARCH_SUBJECT_LIMIT])
_cases_of_reports = ReusableQuery("search_reports", lambda query: Report.objects.filter(
    source__in=Source.values, external_id=query).values_list("case_id", flat=True))


def _search_cases(roles, limit, user_id, subject_ids, case_ids):
    # For each matched subject, the newest `limit` cases the user may open (the (subject, opened_at)
    # index, read backwards and stopped there), plus the matched case ids; then the newest of those.
    # The access rule sits inside the per-subject read: outside it, the newest cases of an account
    # could all be ones this user may not open. Without the per-subject LIMIT PostgreSQL reads and
    # sorts every case of a subject: over a second for an account with a million cases.
    access = case_access_q(_Viewer(user_id, roles))
    newest_of_subject = (Case.objects.filter(access, subject_id=RawSQL("s.subject_id", ()))
                         .order_by("-opened_at", "-id").values("pk")[:limit])
    per_subject, params = newest_of_subject.query.sql_with_params()
    by_id, id_params = Case.objects.filter(access, pk__any=case_ids).order_by().values("pk").query.sql_with_params()
    # Both branches apply the rule, so the outer read does not: filtered there, PostgreSQL would
    # scan every case the user may open to join them with the few candidates.
    candidates = RawSQL(
        f"SELECT c.id FROM unnest(%s::bigint[]) AS s(subject_id) CROSS JOIN LATERAL ({per_subject}) AS c(id)"
        f" UNION {by_id}", (subject_ids, *params, *id_params))
    return (Case.objects.filter(pk__in=candidates)
            .select_related("subject", "queue", "category", "assignee").order_by("-opened_at", "-id")[:limit])


_cases_found = ReusableQuery("search_cases", _search_cases)


def case_search(user, query: str, *, limit: int = LIST_PAGE_SIZE) -> list[Case]:
    """Cases matching a case id (`123`, `#123`), a subject's external id or handle (`@name`, as
    written or in lower case; content by a matching account counts too), or a report's external id,
    among the cases the user may see; newest first. Exact matches only: each branch is an index
    lookup, so search stays fast on millions of cases."""
    query = (query or "").strip()
    if not query or not can(user, "case.view"):
        return []
    handle = query.removeprefix("@")
    matched = _subjects_by_key(bool(handle), query=query, handle=handle, handle_lower=handle.lower())
    accounts = [pk for pk, kind in matched if kind == Subject.Kind.ACCOUNT]
    subject_ids = {pk for pk, _ in matched} | set(_with_authored_content(accounts))
    case_ids = set(_cases_of_reports(query=query))
    id_match = _CASE_ID.match(query)
    if id_match:
        case_ids.add(int(id_match.group(1)))
    if not subject_ids and not case_ids:
        return []
    return _cases_found(user_roles(user), limit, user_id=user.pk, subject_ids=sorted(subject_ids),
                        case_ids=sorted(case_ids))


def case_queryset():
    """The base queryset the case FilterSet narrows (HTML list and API alike)."""
    return Case.objects.all()


def case_list_values() -> dict:
    """Annotations with what a case's API row shows from other tables (slugs, usernames, tag names),
    each a scalar subquery: PostgreSQL plans a seven-way join of the case list for far longer than
    it runs it, and subqueries are planned one by one. The subject, four of the values, stays a join."""
    users = get_user_model().objects

    def one(qs, field: str, key: str):
        return Subquery(qs.filter(pk=OuterRef(key)).values(field)[:1])

    return {
        "queue_slug": one(Queue.objects, "slug", "queue_id"),
        "category_slug": one(Category.objects, "slug", "category_id"),
        "assignee_username": one(users, "username", "assignee_id"),
        "held_for_username": one(users, "username", "held_for_id"),
        "held_for_team_slug": one(Team.objects, "slug", "held_for_team_id"),
        "resolved_by_username": one(users, "username", "resolved_by_id"),
        "tag_names": ArraySubquery(Tag.objects.filter(cases=OuterRef("pk")).order_by("name").values("name")),
    }


# Sorts of the case list: the key columns (field, descending?), the id last to make the order total.
CASE_SORTS = {
    "-id": [("id", True)],
    "id": [("id", False)],
    "priority": [("priority", False), ("id", True)],
    "-priority": [("priority", True), ("id", False)],  # the exact reverse of "priority": one index serves both
    "due": [("due_key", False), ("id", False)],
    "-due": [("due_key", True), ("id", True)],
}
# What a case table's row shows (cases.templatetags.workspace.case_table_rows): a row read with every
# column of the case, its subject (with the content's text), queue, category and assignee cost more
# to fetch and build than the page spent rendering it.
CASE_ROW_FIELDS = ("id", "status", "priority", "hold_reason", "resolution_due_at", "resolved_at",
                   "subject__kind", "subject__handle", "subject__external_id", "subject__content_type",
                   "queue__name", "category__name", "assignee__username", "assignee__first_name", "assignee__last_name")
COUNT_CAP = 1000


def _cursor_value(field: str, raw: str):
    if field == "due_key":
        return datetime.fromisoformat(raw)
    return int(raw)


def _after_cursor(keys, cursor: str) -> Q | None:
    """Rows after `cursor` ("v1~id", or a bare id for id-only sorts) in the order of `keys`."""
    parts = cursor.split("~")
    if len(parts) != len(keys):
        return None
    try:
        values = [_cursor_value(field, raw) for (field, _), raw in zip(keys, parts, strict=True)]
    except (ValueError, TypeError):
        return None
    condition, equal = None, Q()
    for (field, desc), value in zip(keys, values, strict=True):
        step = equal & Q(**{f"{field}__{'lt' if desc else 'gt'}": value})
        condition = step if condition is None else condition | step
        equal &= Q(**{field: value})
    return condition


def case_list(user, filterset_qs, *, before_id=None, sort: str = "-id", cursor: str = "",
              limit: int = LIST_PAGE_SIZE, statuses=()):
    """A page of the (filtered) case list in one of CASE_SORTS, keyset-paginated on the sort's
    columns: (rows, cursor of the next page or None). `statuses` are the statuses the filter keeps
    (empty: all)."""
    keys = CASE_SORTS.get(sort) or CASE_SORTS["-id"]
    if set(statuses) == {CaseStatus.RESOLVED} and keys[0][0] == "due_key":
        # Every resolved case has the same due key, so the due order among them is their id order;
        # read that from the primary key rather than walk the due index past every unresolved case.
        keys = [("id", keys[0][1])]
    qs = (filterset_qs.filter(case_access_q(user)).select_related("subject", "queue", "category", "assignee")
          .only(*CASE_ROW_FIELDS))
    if any(field == "due_key" for field, _ in keys):
        qs = qs.annotate(due_key=due_sort_key())
    if before_id:
        cursor = str(before_id)
    if cursor:
        after = _after_cursor(keys, cursor)
        if after is not None:
            qs = qs.filter(after)
    rows = list(qs.order_by(*[f"-{f}" if desc else f for f, desc in keys])[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    parts = []
    for field, _ in keys:
        value = getattr(last, field)
        parts.append(value.isoformat() if isinstance(value, datetime) else str(value))
    return rows[:limit], "~".join(parts)


def saved_filters(user) -> list:
    return list(SavedFilter.objects.filter(user=user).order_by("name"))


def case_count(user, filterset_qs, *, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many cases the filter matches, counting at most `cap` + 1 rows (never a full count of a
    large table): (count, more_than_cap)."""
    n = filterset_qs.filter(case_access_q(user)).order_by()[: cap + 1].count()
    return min(n, cap), n > cap
