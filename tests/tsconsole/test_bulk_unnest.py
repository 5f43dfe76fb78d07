"""Rows written as one array per column (tsconsole.bulk.unnest_sql) come back exactly as sent,
whatever the text holds."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from tsconsole.bulk import unnest_sql

pytestmark = pytest.mark.django_db

AWKWARD = ['plain', '', 'NULL', 'null', 'a "quoted" word', 'back\\slash\\', '{braces}, commas', "it's",
           'line\nbreak\ttab', '  padded  ', 'ünïcødé ✓ 🚩', '\\"', '"', ',', '{', '}']


def _round_trip(types, rows):
    sql, params = unnest_sql(types, rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_text_comes_back_exactly_as_sent():
    rows = [(text, None if i % 3 == 0 else i, i % 2 == 0) for i, text in enumerate(AWKWARD)]
    assert _round_trip(["text", "bigint", "boolean"], rows) == rows


def test_times_numbers_json_and_nulls():
    moment = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)
    data = {"reason": 'said "hi" \\ {x}', "n": [1, 2]}
    rows = [(moment, 0.125, json.dumps(data), None), (None, None, json.dumps({}), "x")]
    got = _round_trip(["timestamp with time zone", "double precision", "jsonb", "varchar(8)"], rows)
    got = [(a, b, json.loads(c), d) for a, b, c, d in got]  # Django leaves jsonb as text on a raw cursor
    assert got == [(moment, 0.125, data, None), (None, None, {}, "x")]


def test_one_statement_text_for_any_number_of_rows():
    assert unnest_sql(["text"], [("a",)])[0] == unnest_sql(["text"], [("a",), ("b",)])[0]
    assert _round_trip(["text"], []) == []


def test_a_value_too_long_for_its_column_is_refused_not_cut_short():
    from django.db import DataError, transaction

    from cases.models import Signal
    from tsconsole.bulk import column_types

    types = column_types(Signal, ["kind", "value_hash", "first_seen_at"])
    assert "(" not in "".join(types)
    too_long = "x" * (Signal._meta.get_field("value_hash").max_length + 1)
    sql, params = unnest_sql(types, [("email_hash", too_long, datetime.now(UTC))])
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Signal._meta.db_table} (kind, value_hash, first_seen_at) {sql}", params)
    assert not Signal.objects.filter(value_hash__startswith="xxxx").exists()


def test_repeated_times_dates_choices_and_decimals():
    """A batch repeats its timestamps row after row (each is written once); the same instant in two
    offsets, dates, choice members and decimals all come back as sent."""
    from datetime import date, timedelta, timezone
    from decimal import Decimal

    from cases.models import CaseStatus

    moment = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)
    elsewhere = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    rows = [(moment, date(2026, 2, 28), CaseStatus.OPEN, Decimal("12.50"), True),
            (elsewhere, date(2026, 2, 28), CaseStatus.RESOLVED, Decimal("-0.01"), False),
            (moment, None, CaseStatus.OPEN, None, None)]
    got = _round_trip(["timestamp with time zone", "date", "text", "numeric", "boolean"], rows)
    assert got == [(moment, date(2026, 2, 28), "open", Decimal("12.50"), True),
                   (moment, date(2026, 2, 28), "resolved", Decimal("-0.01"), False),
                   (moment, None, "open", None, None)]
