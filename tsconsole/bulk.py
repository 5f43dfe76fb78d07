"""Multi-row INSERTs without model instances, for the paths that write thousands of rows at once
(intake batches, sweeps). Instantiating and preparing a model per row costs more than the insert."""


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def values_sql(rows: list[tuple]) -> tuple[str, list]:
    """`(%s, …), (%s, …)` and the flat parameters of a multi-row VALUES list."""
    one = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return ", ".join([one] * len(rows)), [value for row in rows for value in row]
