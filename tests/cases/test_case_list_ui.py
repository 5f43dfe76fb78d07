"""The case list: sortable columns with keyset pages, a capped result count, saved filters per user."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import SavedFilter
from cases.services.saved_filters import saved_filter_save
from tests.factories import CaseFactory, QueueFactory
from tsconsole.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(analyst):
    queue = QueueFactory(slug="listq")
    now = timezone.now()
    return [CaseFactory(queue=queue, priority=n % 4, resolution_due_at=now + timedelta(hours=10 - n) if n % 3 else None)
            for n in range(9)]


def _ids(client, **params):
    response = client.get(reverse("case-list"), {"queue": "listq", **params})
    return [c.pk for c in response.context["cases"]], response


def test_sorting_by_priority_and_due_pages_through_every_case_once(client, analyst, listed, monkeypatch):
    from cases.selectors import workspace

    monkeypatch.setitem(workspace.case_list.__kwdefaults__, "limit", 4)  # three pages of nine cases
    client.force_login(analyst)
    for sort, key in (
        ("priority", lambda c: (c.priority, -c.pk)),
        ("-priority", lambda c: (-c.priority, c.pk)),  # the exact reverse of "priority"
        ("due", lambda c: (c.resolution_due_at is None, c.resolution_due_at or timezone.now(), c.pk)),
        ("id", lambda c: c.pk),
    ):
        seen, cursor, pages = [], "", 0
        while True:
            pages += 1
            ids, response = _ids(client, sort=sort, **({"before": cursor} if cursor else {}))
            seen += ids
            cursor = response.context["next_before"]
            if not cursor:
                break
        assert seen == [c.pk for c in sorted(listed, key=key)], sort
        assert pages == 3


def test_sort_headers_and_result_count(client, analyst, listed):
    client.force_login(analyst)
    _, response = _ids(client, sort="priority")
    html = response.content.decode()
    assert 'aria-sort="ascending"' in html and 'data-testid="sort-priority"' in html
    assert "sort=-priority" in html.split('data-testid="sort-priority"')[0].rsplit("<a", 1)[1]
    assert response.context["count"] == (9, False)
    assert "9 cases match." in html


def test_result_count_is_capped(client, analyst, listed, monkeypatch):
    from cases.selectors import workspace

    monkeypatch.setitem(workspace.case_count.__kwdefaults__, "cap", 5)
    client.force_login(analyst)
    _, response = _ids(client)
    assert "More than 5 cases match." in response.content.decode()


def test_saved_filters_are_per_user_and_replace_by_name(client, analyst, make_user, listed):
    client.force_login(analyst)
    response = client.post(reverse("case-filter-save"), {"name": "Mine", "query": "queue=listq&status=open&before=99"})
    assert response.status_code == 302 and response["Location"].endswith("?queue=listq&status=open")
    saved = SavedFilter.objects.get(user=analyst)
    assert saved.query == "queue=listq&status=open"
    client.post(reverse("case-filter-save"), {"name": "Mine", "query": "queue=listq&sort=priority"})
    assert SavedFilter.objects.get(user=analyst).query == "queue=listq&sort=priority"
    html = client.get(reverse("case-list")).content.decode()
    assert ">Mine</a>" in html
    other = make_user("analyst", username="other")
    client.force_login(other)
    assert ">Mine</a>" not in client.get(reverse("case-list")).content.decode()
    assert client.post(reverse("case-filter-delete", args=[saved.pk])).status_code == 302
    assert SavedFilter.objects.filter(pk=saved.pk).exists()  # not theirs to delete
    with pytest.raises(InvalidInput):
        saved_filter_save(user=other, name="  ", query="queue=listq")


def test_status_and_priority_filters_list_without_distinct(client, analyst, listed):
    """Filtering on the case's own columns cannot repeat a row, so neither the list nor its count
    wraps every column in a SELECT DISTINCT (seconds at a million cases)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(analyst)
    with CaptureQueriesContext(connection) as ctx:
        ids, response = _ids(client, status=["open", "in_review"], priority=["0", "1", "2", "3"])
    assert response.status_code == 200 and sorted(ids) == sorted(c.pk for c in listed)
    case_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert case_reads and not any("DISTINCT" in sql for sql in case_reads)


def test_rows_escape_what_reporters_and_analysts_wrote_and_show_each_cell(client, analyst, django_user_model):
    from cases.models import CaseStatus
    from tests.factories import AccountFactory, CategoryFactory

    queue = QueueFactory(slug="listq", name="Spam <queue>")
    held = CaseFactory(queue=queue, subject=AccountFactory(handle="<img src=x onerror=alert(1)>"),
                       category=CategoryFactory(slug="scam", name="Scam & fraud"), status=CaseStatus.ON_HOLD,
                       assignee=analyst, hold_reason="Waiting for the <legal> team " + "x" * 80,
                       resolution_due_at=timezone.now() + timedelta(hours=3, minutes=30))
    done = CaseFactory(queue=queue, status=CaseStatus.RESOLVED, resolved_at=timezone.now() - timedelta(hours=2))
    client.force_login(analyst)
    html = client.get(reverse("case-list"), {"queue": "listq"}).content.decode()
    held_row = html.split(f'data-href="/cases/{held.pk}/"')[1].split("</tr>")[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in held_row and "<img" not in held_row
    assert "Spam &lt;queue&gt;" in held_row and "Scam &amp; fraud" in held_row
    assert '<span class="pill warn">On hold</span>' in held_row
    assert "Waiting for the &lt;legal&gt; team" in held_row and "x" * 80 not in held_row and "…" in held_row
    assert analyst.get_username() in held_row
    assert "data-countdown" in held_row and ("3h 29m left" in held_row or "3h 30m left" in held_row)
    done_row = html.split(f'data-href="/cases/{done.pk}/"')[1].split("</tr>")[0]
    assert '<span class="muted">resolved</span>' in done_row and "—</td>" in done_row  # nobody assigned


def test_an_empty_list_says_nothing_matches(client, analyst):
    QueueFactory(slug="listq")
    client.force_login(analyst)
    html = client.get(reverse("case-list"), {"queue": "listq"}).content.decode()
    assert "No case matches these filters." in html and "0 cases match." in html


def test_the_list_reads_its_rows_without_a_query_per_row(client, analyst, django_assert_max_num_queries):
    from cases.models import CaseStatus
    from tests.factories import ContentFactory

    queue = QueueFactory(slug="listq")
    client.force_login(analyst)
    client.get(reverse("case-list"), {"queue": "listq"})  # sessions, caches
    for n in range(12):
        CaseFactory(queue=queue, assignee=analyst if n % 2 else None, **({"subject": ContentFactory()} if n % 3 == 0 else {}),
                    status=CaseStatus.ON_HOLD if n % 4 == 0 else CaseStatus.OPEN, hold_reason="Waiting" if n % 4 == 0 else "")
    with django_assert_max_num_queries(12) as captured:
        html = client.get(reverse("case-list"), {"queue": "listq"}).content.decode()
    assert html.count("data-keyrow") == 12 and "Waiting" in html
    assert not any('"cases_subject"."text"' in q["sql"] for q in captured.captured_queries)  # rows read what they show


def test_the_due_sort_puts_the_backlog_by_due_time_before_resolved_cases(client, analyst):
    from cases.models import CaseStatus

    queue = QueueFactory(slug="listq")
    now = timezone.now()
    resolved_long_ago = CaseFactory(queue=queue, status=CaseStatus.RESOLVED, resolved_at=now,
                                    resolution_due_at=now - timedelta(days=30))
    no_due = CaseFactory(queue=queue, resolution_due_at=None)
    later = CaseFactory(queue=queue, resolution_due_at=now + timedelta(hours=5))
    sooner = CaseFactory(queue=queue, resolution_due_at=now + timedelta(hours=1))
    client.force_login(analyst)
    assert _ids(client, sort="due")[0] == [sooner.pk, later.pk, no_due.pk, resolved_long_ago.pk]
    assert _ids(client, sort="-due")[0] == [resolved_long_ago.pk, no_due.pk, later.pk, sooner.pk]


def test_resolved_cases_sorted_by_due_come_in_id_order_page_by_page(client, analyst, monkeypatch):
    """Resolved cases all share the due key, so their due order is their id order; the list reads
    it from the primary key and pages through it the same way."""
    from cases.models import CaseStatus
    from cases.selectors import workspace

    monkeypatch.setitem(workspace.case_list.__kwdefaults__, "limit", 2)
    queue = QueueFactory(slug="listq")
    now = timezone.now()
    resolved = [CaseFactory(queue=queue, status=CaseStatus.RESOLVED, resolved_at=now,
                            resolution_due_at=now - timedelta(days=n)) for n in range(5)]
    CaseFactory(queue=queue, resolution_due_at=now)  # unresolved: filtered out
    client.force_login(analyst)
    for sort in ("due", "-due"):
        seen, cursor = [], ""
        while True:
            ids, response = _ids(client, sort=sort, status=CaseStatus.RESOLVED, **({"before": cursor} if cursor else {}))
            seen += ids
            cursor = response.context["next_before"]
            if not cursor:
                break
        expected = sorted((c.pk for c in resolved), reverse=sort == "-due")
        assert seen == expected, sort
