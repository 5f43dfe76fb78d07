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
from .roles import remember_roles

_SQL: tuple[PreparedStatement, list[str]] | None = None


def _statement() -> tuple[PreparedStatement, list[str]]:
    """The lookup statement, prepared per connection, and the user's column names (built once: the
    user model is fixed)."""
    global _SQL
    if _SQL is None:
        user_model = get_user_model()
        quote = connection.ops.quote_name
        fields = [f.attname for f in user_model._meta.concrete_fields]
        groups = user_model.groups.through._meta
        group_table = user_model.groups.field.related_model._meta.db_table
        user_column = user_model._meta.get_field("groups").m2m_column_name()
        group_column = user_model._meta.get_field("groups").m2m_reverse_name()
        columns = ", ".join(f"u.{quote(user_model._meta.get_field(name).column)}" for name in fields)
        sql = (
            f"SELECT t.{quote('created')}, {columns}, "
            f"ARRAY(SELECT g.{quote('name')} FROM {quote(groups.db_table)} ug "
            f"JOIN {quote(group_table)} g ON g.{quote('id')} = ug.{quote(group_column)} "
            f"WHERE ug.{quote(user_column)} = u.{quote(user_model._meta.pk.column)}) "
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
        with connection.cursor() as cursor:
            statement.execute(cursor, {"key": key})
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        created, *values, group_names = row
        user = get_user_model().from_db(connection.alias, fields, values)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(user, group_names)
        token = Token.from_db(connection.alias, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        return user, token
