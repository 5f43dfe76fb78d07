"""API token authentication in one query.

DRF's TokenAuthentication loads the token with its user through the ORM, and the first capability
check then loads the user's groups with a second query: two statements built and compiled per
request, on every API call. This reads the token, its user and the user's group names in one
prepared SQL statement and seeds the roles cache of `tsconsole.roles`, so the permission
check costs no query. It answers exactly as DRF's does: the `Token` keyword, the same 401 messages,
`request.user` a real user instance and `request.auth` the token.

Nothing is cached across requests: a revoked token, a deactivated account or a removed role takes
effect on the very next request, as before.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication
from rest_framework.authtoken.models import Token

from .prepared import PreparedStatement
from .user_rows import fetch_user, user_with_groups_columns

_SQL: tuple[PreparedStatement, list[str]] | None = None


def _statement() -> tuple[PreparedStatement, list[str]]:
    """The lookup statement, prepared per connection, and the user's column names (built once: the
    user model is fixed)."""
    global _SQL
    if _SQL is None:
        user_model = get_user_model()
        quote = connection.ops.quote_name
        columns, fields = user_with_groups_columns("u")
        sql = (
            f"SELECT t.{quote('created')}, {columns} "
            f"FROM {quote(Token._meta.db_table)} t "
            f"JOIN {quote(user_model._meta.db_table)} u ON u.{quote(user_model._meta.pk.column)} = t.{quote('user_id')} "
            f"WHERE t.{quote('key')} = %(key)s"
        )
        _SQL = (PreparedStatement("tsconsole_api_token", sql, ["key"]), fields)
    return _SQL


class TokenAuthentication(DrfTokenAuthentication):
    """`Authorization: Token <key>`: the token, its user and the user's roles in one statement."""

    def authenticate_credentials(self, key):
        statement, fields = _statement()
        found = fetch_user(statement, {"key": key}, fields, leading=1)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        (created,), user = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(connection.alias, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        return user, token
