"""Querysets compiled once and run again with new values (tsconsole.reusable), and the session user
read with its roles in one statement (tsconsole.auth_backends)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, CaseStatus
from tests.factories import AccountFactory, CaseFactory, QueueFactory
from tsconsole import roles
from tsconsole.reusable import ReusableQuery

pytestmark = pytest.mark.django_db

by_queue = ReusableQuery("test_by_queue", lambda queue_id, since: Case.objects.select_related("subject", "queue")
                         .defer("priority_reasons").filter(queue_id=queue_id, opened_at__gte=since)
                         .exclude(assignee_id=queue_id).order_by("-opened_at", "-id")[:10])
handles = ReusableQuery("test_handles", lambda queue_id: Case.objects.filter(queue_id=queue_id)
                        .order_by("id").values_list("subject__handle", flat=True))


def test_a_reusable_query_returns_what_the_queryset_returns():
    queue, other = QueueFactory(), QueueFactory()
    now = timezone.now()
    cases = [CaseFactory(queue=queue, opened_at=now - timedelta(hours=h)) for h in range(3)]
    CaseFactory(queue=other)
    CaseFactory(queue=queue, opened_at=now - timedelta(days=3))
    since = now - timedelta(days=1)
    expected = list(Case.objects.select_related("subject", "queue").defer("priority_reasons")
                    .filter(queue_id=queue.pk, opened_at__gte=since).order_by("-opened_at", "-id")[:10])
    got = by_queue(queue_id=queue.pk, since=since)
    assert [c.pk for c in got] == [c.pk for c in expected] == [c.pk for c in cases]
    with CaptureQueriesContext(connection) as queries:
        assert [(c.subject.external_id, c.queue.slug, c.status, c.opened_at) for c in got] == \
            [(c.subject.external_id, c.queue.slug, c.status, c.opened_at) for c in expected]
    assert queries.captured_queries == []  # select_related objects came with the rows
    assert got[0].get_deferred_fields() == {"priority_reasons"}
    # new values, same statement
    assert [c.pk for c in by_queue(queue_id=other.pk, since=since)] == [Case.objects.get(queue=other).pk]
    assert by_queue(queue_id=queue.pk, since=now + timedelta(days=1)) == []


def test_values_list_and_one_statement_per_run():
    queue = QueueFactory()
    CaseFactory(queue=queue, subject=AccountFactory(handle="first"))
    CaseFactory(queue=queue, subject=AccountFactory(handle="second"))
    handles(queue_id=queue.pk)  # prepared on this connection
    with CaptureQueriesContext(connection) as queries:
        assert handles(queue_id=queue.pk) == ["first", "second"]
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE tsconsole_q_test_handles_")


def test_literal_values_stay_in_the_statement_and_parameters_are_bound():
    tricky = ReusableQuery("test_literals", lambda external_id: Case.objects.filter(
        status=CaseStatus.OPEN, subject__external_id=external_id).values_list("pk", flat=True))
    case = CaseFactory(subject=AccountFactory(external_id="it's %s; DROP"))
    CaseFactory(subject=AccountFactory(external_id="other"), status=CaseStatus.RESOLVED)
    assert tricky(external_id="it's %s; DROP") == [case.pk]
    assert tricky(external_id="other") == []  # resolved: the literal status still filters
    assert Case.objects.count() == 2


@pytest.mark.parametrize("build, params, message", [
    (lambda ids: Case.objects.filter(pk__in=ids), {"ids": [1, 2]}, "`any` for a list"),
    (lambda ids: Case.objects.filter(pk__in=ids), {"ids": (1, 2)}, "not supported"),
    (lambda text: Case.objects.filter(subject__handle__icontains=text), {"text": "x"}, "transformed"),
    (lambda queue_id: Case.objects.filter(queue_id=queue_id).values("pk"), {"queue_id": 1}, "only model instances"),
    (lambda queue_id: Case.objects.filter(queue_id=queue_id).prefetch_related("tags"), {"queue_id": 1},
     "prefetch_related"),
])
def test_shapes_it_cannot_reuse_are_refused(build, params, message):
    with pytest.raises(ValueError, match=message):
        ReusableQuery("test_refused", build)(**params)


def test_the_session_user_and_roles_are_one_statement(client, analyst):
    client.force_login(analyst)
    client.get("/my-work/")  # the statement is prepared on the connection's first use
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/my-work/").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert statements[0].startswith("EXECUTE tsconsole_session_user")
    assert not any("auth_user" in sql and not sql.startswith("EXECUTE") for sql in statements), statements


def test_a_session_sees_role_and_account_changes_on_the_next_request(client, lead):
    client.force_login(lead)
    assert client.get("/qa/overview/").status_code == 200
    lead.groups.remove(Group.objects.get(name=roles.LEAD))
    assert client.get("/qa/overview/").status_code == 403
    lead.is_active = False
    lead.save()
    response = client.get("/my-work/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]



def test_a_list_of_ids_is_one_array_parameter_and_shapes_have_their_own_statements():
    cases = [CaseFactory() for _ in range(3)]
    by_ids = ReusableQuery("test_by_ids", lambda newest_first, ids: Case.objects.filter(pk__any=ids).order_by(
        "-pk" if newest_first else "pk").values_list("pk", flat=True))
    ids = [c.pk for c in cases]
    assert by_ids(False, ids=ids[:2]) == ids[:2]
    assert by_ids(False, ids=ids) == ids  # a longer list, the same statement
    assert by_ids(True, ids=ids) == ids[::-1]
    assert by_ids(True, ids=[]) == []
    assert len(by_ids._compiled) == 2
    # the lookup works on plain querysets and foreign keys too
    assert list(Case.objects.filter(subject__any=[cases[1].subject_id]).values_list("pk", flat=True)) == [ids[1]]


def test_search_finds_the_same_cases_for_every_role(client, analyst, lead, support_agent):
    case = CaseFactory(subject=AccountFactory(external_id="acct-search-1", handle="searcher"))
    client.force_login(support_agent)
    assert client.get("/search/", {"q": "acct-search-1"}).status_code == 403  # support reads outcomes only
    for user in (analyst, lead):
        client.force_login(user)
        for query in ("acct-search-1", "@searcher", "@Searcher", f"#{case.pk}", "@"):
            response = client.get("/search/", {"q": query})
            assert response.status_code == 200
            found = [c.pk for c in response.context["results"]] if response.context else []
            assert found == ([] if query == "@" else [case.pk]), (user.username, query, found)


def test_uuid_parameters_are_compared_as_uuids():
    import uuid

    from enforcement.models import EnforcementAction
    from tests.factories import EnforcementActionFactory

    action = EnforcementActionFactory()
    of_decision = ReusableQuery("test_of_decision", lambda ref: EnforcementAction.objects.filter(decision_ref=ref)
                                .order_by("id").values_list("pk", flat=True))
    assert of_decision(ref=action.decision_ref) == [action.pk]
    assert of_decision(ref=uuid.uuid4()) == []
    assert of_decision(ref=action.decision_ref) == [action.pk]
