"""One row per user with the names of their groups: the select list shared by the API token lookup
(`tsconsole.api_auth`) and the session user lookup (`tsconsole.auth_backends`), so that a request
learns who is asking and what roles they hold from one statement."""

from django.contrib.auth import get_user_model
from django.db import connection

from .roles import remember_roles


def user_with_groups_columns(alias: str = "u") -> tuple[str, list[str]]:
    """(SQL select list over the user table aliased `alias`: every concrete column, then an array of
    the user's group names; the user's attnames in that order)."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    fields = [f.attname for f in user_model._meta.concrete_fields]
    groups = user_model.groups.through._meta
    group_table = user_model.groups.field.related_model._meta.db_table
    user_column = user_model._meta.get_field("groups").m2m_column_name()
    group_column = user_model._meta.get_field("groups").m2m_reverse_name()
    columns = ", ".join(f"{alias}.{quote(user_model._meta.get_field(name).column)}" for name in fields)
    names = (
        f"ARRAY(SELECT g.{quote('name')} FROM {quote(groups.db_table)} ug "
        f"JOIN {quote(group_table)} g ON g.{quote('id')} = ug.{quote(group_column)} "
        f"WHERE ug.{quote(user_column)} = {alias}.{quote(user_model._meta.pk.column)})"
    )
    return f"{columns}, {names}", fields


def fetch_user(statement, values: dict, fields: list[str], *, leading: int = 0) -> tuple[list, object] | None:
    """Run `statement` (selecting `leading` columns of its own, then `user_with_groups_columns`) and
    return (the leading values, the user with their roles remembered), or None for no row."""
    with connection.cursor() as cursor:
        statement.execute(cursor, values)
        row = cursor.fetchone()
    if row is None:
        return None
    user = get_user_model().from_db(connection.alias, fields, row[leading:-1])
    remember_roles(user, row[-1])
    return list(row[:leading]), user
