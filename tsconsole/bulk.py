"""Multi-row INSERTs without model instances, for the paths that write thousands of rows at once
(intake batches, sweeps). Instantiating and preparing a model per row costs more than the insert."""

import re
from datetime import date, datetime


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def values_sql(rows: list[tuple]) -> tuple[str, list]:
    """`(%s, …), (%s, …)` and the flat parameters of a multi-row VALUES list."""
    one = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return ", ".join([one] * len(rows)), [value for row in rows for value in row]


def array_literal(values) -> str:
    """A PostgreSQL array literal of `values`: {"a","b\\"c",NULL}. Every value is quoted (so the
    string "NULL" stays a string); dates and times are written in ISO 8601."""
    parts = []
    append = parts.append
    written: dict = {}  # a batch repeats its timestamps (now, a due time) row after row: write each once
    for value in values:
        if value is None:
            append("NULL")
            continue
        kind = type(value)
        if kind is str:
            text = value
        elif kind is int:
            append(f'"{value}"')
            continue
        elif kind is datetime or kind is date:
            text = written.get(value)
            if text is None:
                text = written[value] = value.isoformat()
            append(f'"{text}"')
            continue
        else:
            text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
        if '"' in text or "\\" in text:
            text = text.replace("\\", "\\\\").replace('"', '\\"')
        append(f'"{text}"')
    return "{" + ",".join(parts) + "}"


def unnest_sql(types: list[str], rows: list[tuple]) -> tuple[str, list]:
    """`SELECT * FROM unnest(%s::<type>[], …)` and one parameter per column: each column's values
    as one array literal. Unlike a VALUES list (a placeholder per value) the statement's text is
    the same for one row or five hundred, so it is prepared once per connection, and PostgreSQL
    parses a few array literals instead of thousands of parameters."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(types)
    return ("SELECT * FROM unnest(" + ", ".join(f"%s::{pg_type}[]" for pg_type in types) + ")",
            [array_literal(column) for column in columns])


def column_types(model, columns) -> list[str]:
    """The database types of `model`'s `columns` (by column name), for `unnest_sql`, without their
    length: an explicit cast to varchar(64) would cut a longer value short without a word, where
    storing it into the column refuses it."""
    from django.db import connection

    by_column = {field.column: field for field in model._meta.concrete_fields}
    return [re.sub(r"\(\d+(,\s*\d+)?\)", "", by_column[column].db_type(connection)) for column in columns]
