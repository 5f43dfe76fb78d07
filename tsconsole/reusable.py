"""Querysets compiled once per process and run again with new parameter values.

Django compiles a queryset to SQL every time it is evaluated. For the short list queries of the
pages (a select_related of four tables, deferred columns, an ORDER BY, a LIMIT) compiling costs
about ten times what PostgreSQL takes to run the statement. A `ReusableQuery` compiles its queryset
once, with marker values standing for its parameters, finds where each marker landed among the
statement's parameters, and from then on runs that statement as a prepared statement
(`tsconsole.prepared`) with the real values; the other values stay literals in the statement, so
PostgreSQL still sees them when it plans (a partial index on a status, say). Rows become model
instances exactly as Django's ModelIterable makes them (select_related objects, deferred fields,
annotations), or tuples for `values_list()`.

`build(*shape, **params)` must return the same query shape for any values of its parameters: the
parameters may only be compared with plain lookups (=, <, >…), and a list of ids with the `any`
lookup below (`pk__any=ids`: `= ANY(array)`, one parameter, where `pk__in` would write one
placeholder per id and change the statement with the list's length). Positional `shape` values
choose between query shapes (say, what a role may see): each gets its own statement, and a shape
may leave a parameter out (everyone sees everything: no user id to compare). Compiling
checks this and raises `ValueError` when a parameter does not reach the SQL unchanged.
"""

import hashlib
import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

from .prepared import PreparedStatement

_PARAM = re.compile(r"%[%s]")


@Field.register_lookup
class Any(Lookup):
    """`field__any=[…]`: `field = ANY(%s)` with the list as one array parameter."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [[self.lhs.output_field.get_db_prep_value(v, connection, prepared=False) for v in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


ForeignObject.register_lookup(Any)  # foreign keys keep lookups of their own
_INT_MARKER = 1_987_650_000
_MOMENT_MARKER = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
_UUID_MARKER = 0x1F0F_0000_0000_4000_8000_0000_0000_0000


def _markers(params: dict, variant: int) -> dict:
    """Distinct stand-in values, of each parameter's type, that no real query would contain."""
    markers = {}
    for n, (name, value) in enumerate(sorted(params.items()), 1):
        step = n * 2 + variant
        if isinstance(value, bool) or isinstance(value, (tuple, set, frozenset, dict)):
            raise ValueError(f"ReusableQuery parameter {name!r}: {type(value).__name__} values are not supported; "
                             "pass ints, strings, UUIDs, dates, datetimes, or a list of ids for an `any` lookup.")
        if isinstance(value, list):
            markers[name] = [_INT_MARKER + step, _INT_MARKER + step + 1000]
        elif isinstance(value, int):
            markers[name] = _INT_MARKER + step
        elif isinstance(value, str):
            markers[name] = f"\x1freusable-marker-{step}"
        elif isinstance(value, uuid.UUID):
            markers[name] = uuid.UUID(int=_UUID_MARKER + step)
        elif isinstance(value, datetime):
            markers[name] = _MOMENT_MARKER + timedelta(seconds=step)
        elif isinstance(value, date):
            markers[name] = _MOMENT_MARKER.date() + timedelta(days=step)
        else:
            raise ValueError(f"ReusableQuery parameter {name!r}: {type(value).__name__} is not supported.")
    return markers


def _key(value):
    return tuple(value) if isinstance(value, list) else value


class _Compiled:
    """The statement of one query shape, and what turns its rows into results."""

    def __init__(self, name: str, queryset, compiler, sql: str, params: tuple, slots: dict[int, str]):
        self.compiler = compiler
        self.iterable = queryset._iterable_class
        literals, position = {}, iter(range(len(params)))

        def named(match):
            if match.group() == "%%":
                return "%%"
            index = next(position)
            if index in slots:
                return f"%({slots[index]})s"
            literals[f"_literal{index}"] = params[index]
            return f"%(_literal{index})s"

        text = _PARAM.sub(named, sql)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.statement = PreparedStatement(f"tsconsole_q_{name[:30]}_{digest}", text, sorted(set(slots.values())),
                                           literals=literals)
        if self.iterable is ModelIterable:
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            self.model = klass_info["model"]
            self.model_slice = slice(start, end)
            self.init_list = [column[0].target.attname for column in select[start:end]]
            self.annotations = dict(compiler.annotation_col_map or {})
            self.klass_info, self.select = klass_info, select

    def rows(self, values: dict) -> list:
        with connection.cursor() as cursor:
            self.statement.execute(cursor, values)
            fetched = cursor.fetchall()
        return list(self.compiler.results_iter([fetched]))

    def run(self, values: dict) -> list:
        rows = self.rows(values)
        if self.iterable is FlatValuesListIterable:
            return [row[0] for row in rows]
        if self.iterable is ValuesListIterable:
            return [tuple(row) for row in rows]
        db = connection.alias
        populators = get_related_populators(self.klass_info, self.select, db)
        objects = []
        for row in rows:
            obj = self.model.from_db(db, self.init_list, row[self.model_slice])
            for populator in populators:
                populator.populate(row, obj)
            for attr, position in self.annotations.items():
                setattr(obj, attr, row[position])
            objects.append(obj)
        return objects


class ReusableQuery:
    """`ReusableQuery("my_assigned", lambda user_id: Case.objects.filter(assignee_id=user_id)...)`;
    `query(user_id=7)` returns the list the queryset would. With shapes:
    `ReusableQuery("x", lambda scope, user_id: ...)` called as `query("team", user_id=7)`."""

    def __init__(self, name: str, build):
        self.name, self.build = name, build
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()

    def __call__(self, *shape, **params) -> list:
        compiled = self._compiled.get(shape) or self._compile(shape, params)
        return compiled.run(params)

    def _compile(self, shape: tuple, params: dict) -> _Compiled:
        with self._lock:
            if shape not in self._compiled:
                first, second = _markers(params, 0), _markers(params, 1)
                queryset = self.build(*shape, **first)
                if queryset._iterable_class not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
                    raise ValueError(f"ReusableQuery {self.name}: only model instances and values_list() are supported.")
                if queryset._prefetch_related_lookups or queryset._known_related_objects:
                    raise ValueError(f"ReusableQuery {self.name}: prefetch_related is not supported.")
                compiler = queryset.query.get_compiler(using=queryset.db)
                sql_a, params_a = compiler.as_sql()
                sql_b, params_b = self.build(*shape, **second).query.get_compiler(using=queryset.db).as_sql()
                if sql_a != sql_b or len(params_a) != len(params_b):
                    raise ValueError(f"ReusableQuery {self.name}: the statement's shape depends on the parameters.")
                by_marker = {(_key(first[name]), _key(second[name])): name for name in params}
                slots = {}
                for index, pair in enumerate(zip(params_a, params_b, strict=True)):
                    pair = (_key(pair[0]), _key(pair[1]))
                    if pair[0] != pair[1]:
                        if pair not in by_marker:
                            raise ValueError(f"ReusableQuery {self.name}: a parameter reaches the SQL transformed "
                                             f"({pair[0]!r}); use plain lookups, and `any` for a list.")
                        slots[index] = by_marker[pair]
                # Each shape's statement is named by the digest of its text (in _Compiled).
                self._compiled[shape] = _Compiled(self.name, queryset, compiler, sql_a, params_a, slots)
        return self._compiled[shape]
