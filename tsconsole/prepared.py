"""Statements prepared once per database connection, for the requests that run on every API call.

PostgreSQL plans a statement each time it is sent as text. For the short statements of the API's
hot paths (the token lookup, the claim) planning costs about as much as running them, so they are
sent once per connection as `PREPARE name AS …` and then run as `EXECUTE name (…)`: after a few
runs PostgreSQL keeps a generic plan and plans no more. A prepared statement lives as long as its
connection (a rollback keeps it), so each connection (Django reconnects after CONN_MAX_AGE or an
error) prepares it again on first use.
"""

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
