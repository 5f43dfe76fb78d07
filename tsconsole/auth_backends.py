"""The session's user and their roles in one prepared statement.

Every signed-in page starts by loading the session's user (Django's ModelBackend.get_user, one ORM
query compiled per request) and, at its first permission check, the user's groups (a second one).
`SessionUserBackend` reads both with one statement prepared per database connection and seeds the
roles cache of `tsconsole.roles`, as the API token lookup does. Signing in is ModelBackend's own.
Nothing is kept across requests: a deactivated account or a changed role counts on the next request.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from .prepared import PreparedStatement
from .user_rows import fetch_user, user_with_groups_columns

_SQL: tuple[PreparedStatement, list[str]] | None = None


def _statement() -> tuple[PreparedStatement, list[str]]:
    global _SQL
    if _SQL is None:
        user_model = get_user_model()
        quote = connection.ops.quote_name
        columns, fields = user_with_groups_columns("u")
        sql = (f"SELECT {columns} FROM {quote(user_model._meta.db_table)} u "
               f"WHERE u.{quote(user_model._meta.pk.column)} = %(user_id)s")
        _SQL = (PreparedStatement("tsconsole_session_user", sql, ["user_id"]), fields)
    return _SQL


class SessionUserBackend(ModelBackend):
    """ModelBackend whose session lookup also brings the user's group names."""

    def get_user(self, user_id):
        statement, fields = _statement()
        found = fetch_user(statement, {"user_id": user_id}, fields)
        if found is None:
            return None
        user = found[1]
        return user if self.user_can_authenticate(user) else None
