"""Statements prepared by their text (tsconsole.prepared.execute_text): the intake's statements are
planned once per connection, with the same results as when sent as text."""

import pytest
from django.db import connection, transaction

from tsconsole import prepared

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT %s::int + 1, %s = ANY(%s)"


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'tsc\\_%%'")
        return {name for (name,) in cursor.fetchall()}


def _run(sql, params):
    with connection.cursor() as cursor:
        prepared.execute_text(cursor, sql, params)
        return cursor.fetchall()


def test_a_text_is_prepared_on_its_second_run_and_answers_the_same():
    before = _prepared_names()
    assert _run(SQL, [1, "b", ["a", "b"]]) == [(2, True)]
    assert _prepared_names() == before  # once is not worth a PREPARE
    assert _run(SQL, [41, "c", ["a", "b"]]) == [(42, False)]
    assert _run(SQL, [None, "a", []]) == [(None, False)]
    assert len(_prepared_names() - before) == 1


def test_a_prepared_text_survives_a_rolled_back_transaction():
    _run(SQL, [1, "a", ["a"]])
    _run(SQL, [1, "a", ["a"]])
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 -- any database error
        _run("SELECT 1 / %s", [0])
    assert _run(SQL, [2, "a", ["a"]]) == [(3, True)]


def test_each_connection_keeps_at_most_the_newest_texts(monkeypatch):
    monkeypatch.setattr(prepared, "PREPARED_TEXTS_MAX", 3)
    before = _prepared_names()
    for n in range(6):
        text = f"SELECT %s::int * {n}"
        assert _run(text, [2]) == [(2 * n,)]
        assert _run(text, [3]) == [(3 * n,)]
    assert len(_prepared_names() - before) <= 3


def test_a_large_batchs_statement_is_sent_as_text():
    before = _prepared_names()
    many = ", ".join(["(%s)"] * (prepared.PREPARE_MAX_PARAMS + 1))
    text = f"SELECT count(*) FROM (VALUES {many}) v(n)"
    for _ in range(3):
        assert _run(text, list(range(prepared.PREPARE_MAX_PARAMS + 1))) == [(prepared.PREPARE_MAX_PARAMS + 1,)]
    assert _prepared_names() == before
