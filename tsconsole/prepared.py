"""Statements prepared once per database connection, for the requests that run on every API call.

PostgreSQL plans a statement each time it is sent as text. For the short statements of the API's
hot paths (the token lookup, the claim) planning costs about as much as running them, so they are
sent once per connection as `PREPARE name AS …` and then run as `EXECUTE name (…)`: after a few
runs PostgreSQL keeps a generic plan and plans no more. A prepared statement lives as long as its
connection (a rollback keeps it), so each connection (Django reconnects after CONN_MAX_AGE or an
error) prepares it again on first use.
"""

import hashlib
import weakref

from django.db import connection

# psycopg2 connection -> names prepared on it
_prepared_on: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Placeholder:
    """Renders as $n when psycopg2 interpolates it (its __conform__ adaptation protocol)."""

    def __init__(self, n: int):
        self.n = n

    def __conform__(self, protocol):
        return self

    def getquoted(self) -> bytes:
        return b"$%d" % self.n


class PreparedStatement:
    """`sql` with `%(name)s` parameters, run by name on each connection after its first use.
    `literals` are values written into the statement itself, so that its plan can use them."""

    def __init__(self, name: str, sql: str, params: list[str], *, literals: dict | None = None):
        self.name, self.sql, self.params = name, sql, list(params)
        self.literals = dict(literals or {})
        self._execute = f"EXECUTE {name} ({', '.join(['%s'] * len(self.params))})" if self.params \
            else f"EXECUTE {name}"

    def execute(self, cursor, values: dict) -> None:
        """Run the statement with `values` on `cursor` (a cursor of django.db.connection)."""
        connection.ensure_connection()
        prepared = _prepared_on.setdefault(connection.connection, set())
        if self.name not in prepared:
            placeholders = {**self.literals, **{name: Placeholder(n) for n, name in enumerate(self.params, 1)}}
            text = cursor.cursor.mogrify(self.sql, placeholders).decode()
            cursor.execute(f"PREPARE {self.name} AS {text}")
            prepared.add(self.name)
        cursor.execute(self._execute, [values[name] for name in self.params])


# The statements each connection has seen (text -> times) and prepared (text -> name), oldest first.
_seen_on: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
PREPARE_AFTER = 2  # a text run once (an odd batch size) is not worth a PREPARE round trip
PREPARED_TEXTS_MAX = 64  # per connection; the least recently used is deallocated beyond it
# A statement of a large batch (hundreds of rows) costs far more to run than to plan: sent as text.
PREPARE_MAX_PARAMS = 200


def generic_plans_until_commit() -> None:
    """Run this transaction's prepared statements on the plan each made once, not on one made for
    each run's parameters.

    PostgreSQL plans the first five runs of a prepared statement for their parameters, then keeps
    its generic plan only if that looks no dearer. For a statement reading by `= ANY(array)` the
    generic plan assumes an array of several elements while a single report's is one, so it never
    does, and plans every run again: a fifth of the PostgreSQL time of a single report. The plans
    are the same index probes either way. For the rest of the current transaction (SET LOCAL): a
    caller that does not own its transaction must not call this, as the setting would outlive it.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")


def execute_text(cursor, sql: str, params: list) -> None:
    """Run `sql` (with `%s` parameters) on `cursor`, as a prepared statement named after its text once
    this connection has run that text before: psycopg 3's automatic preparation, for psycopg2.

    For the statements of a batch of one (a single report), planning costs PostgreSQL as much as
    running them; written with the same text for every batch of a size, they can be planned once per
    connection. Parameter types come from where each one lands (a column, `= ANY(…)`, a cast).
    Those that read by `= ANY(array)` are still planned on every run unless the transaction asks for
    generic plans (`generic_plans_until_commit`): see there.
    """
    if len(params) > PREPARE_MAX_PARAMS:
        cursor.execute(sql, params)
        return
    connection.ensure_connection()
    seen = _seen_on.setdefault(connection.connection, {})
    entry = seen.pop(sql, None) or [0, None]  # [times run, prepared name]
    entry[0] += 1
    seen[sql] = entry  # most recent last
    if entry[1] is None and entry[0] >= PREPARE_AFTER:
        name = "tsc_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()
        text = cursor.cursor.mogrify(sql, [Placeholder(n) for n in range(1, len(params) + 1)]).decode()
        cursor.execute(f"PREPARE {name} AS {text}")
        entry[1] = name
        while len(seen) > PREPARED_TEXTS_MAX:
            old = next(iter(seen))
            _, old_name = seen.pop(old)
            if old_name:
                cursor.execute(f"DEALLOCATE {old_name}")
    if entry[1] is None:
        cursor.execute(sql, params)
    else:
        cursor.execute(f"EXECUTE {entry[1]} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {entry[1]}",
                       params)
