"""One writer of case events: every verb is a `Verb`, every row goes through cases/services/events.py."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import CaseEvent
from cases.services import workflow
from cases.services.events import EventRow, Verb, event_record, events_record
from tests.factories import CaseFactory, QueueFactory

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "cases" / "services" / "events.py"
# The benchmark data generator bulk-loads a synthetic history with COPY-like SQL: it is not the product.
NOT_THE_PRODUCT = {ROOT / "cases" / "management" / "commands" / "bench_generate.py"}
# Modules that read the timeline with raw SQL (the table name, never a write to it).
READERS = {ROOT / "insights" / "rollup.py"}
WRITES = re.compile(
    r"(?<!class )\bCaseEvent\(|CaseEvent\.objects\.(create|bulk_create|get_or_create|update_or_create)"
    r"|CaseEvent\._meta\.db_table|INSERT INTO \S*caseevent",
)


def test_no_module_but_the_writer_writes_case_events():
    offenders = []
    for app in ("tsconsole", "cases", "enforcement", "appeals", "qa", "insights"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path == WRITER or path in NOT_THE_PRODUCT:
                continue
            if path in READERS:
                assert not re.search(r"(INSERT INTO|UPDATE|DELETE FROM) \{EVENTS\}", path.read_text()), path
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if WRITES.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.django_db
def test_an_unknown_verb_is_refused_and_nothing_is_written():
    case = CaseFactory()
    with pytest.raises(ValueError, match="Unknown case event verb"):
        event_record(case, verb="claimd")
    with pytest.raises(ValueError, match="Unknown case event verb"):
        events_record([EventRow(case.pk, None, "system", Verb.NOTE_ADDED, "", "", {}, case.opened_at),
                       EventRow(case.pk, None, "system", "sla_breach", "", "", {}, case.opened_at)])
    assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_many_events_take_one_statement_per_500():
    case = CaseFactory()
    rows = [EventRow(case.pk, None, "system", Verb.NOTE_ADDED, "", "", {"n": i}, case.opened_at) for i in range(1001)]
    with CaptureQueriesContext(connection) as queries:
        assert events_record(rows) == 1001
    assert len(queries) == 3
    assert CaseEvent.objects.filter(case=case, verb="note_added").count() == 1001
    assert CaseEvent.objects.filter(case=case, data__n=1000).exists()


@pytest.mark.django_db
def test_a_claim_writes_its_event_in_the_claim_statement(analyst):
    queue = QueueFactory()
    case = CaseFactory(queue=queue)
    with CaptureQueriesContext(connection) as queries:
        workflow.case_claim_next(queue=queue.slug, actor=analyst)
    # One statement, prepared on the connection (PREPARE on its first use, then EXECUTE by name).
    sql = [q["sql"] for q in queries]
    run = [text for text in sql if text.startswith("EXECUTE ")]
    assert len(run) == 1
    assert not [text for text in sql if not text.startswith(("EXECUTE ", "PREPARE ")) and
                ("INSERT" in text or "UPDATE" in text)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [run[0].split()[1]])
        text = cursor.fetchone()[0]
    assert "UPDATE" in text and "INSERT INTO" in text
    event = CaseEvent.objects.get(case=case)
    assert (event.verb, event.actor, event.from_status, event.to_status) == ("claimed", analyst, "open", "in_review")
