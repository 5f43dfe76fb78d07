"""Reading the filters every insights page and API shares: period, queue, team, policy.

Bad values raise InvalidInput with a message per field, so pages show them next to the filter and
the API answers 400 in the one error shape; nothing falls back silently to another period.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cases.models import Queue
from enforcement.models import Policy
from tsconsole.errors import InvalidInput
from tsconsole.models import Team
from tsconsole.shared import shared_for

from .transparency import Period

DEFAULT_DAYS = 7
MAX_DAYS = 400
# Figures over a period (KPI values, team figures) are shared by everyone asking for the same filters
# for this long (0: compute afresh): a month of them is a dozen aggregates over tens of thousands of
# decisions, and repeat-offender handling walks the signal links of every account restricted.
PERIOD_FIGURES_CACHE_SECONDS = 60
FILTER_KEYS = ("from", "to", "queue", "team", "policy")


def parse_instant(value: str, *, end: bool = False) -> datetime | None:
    """A date (whole day; `end`: the day after) or an ISO 8601 datetime; None when blank or malformed."""
    value = (value or "").strip()
    if not value:
        return None
    moment = parse_datetime(value.replace(" ", "+")) if "T" in value or " " in value else None
    if moment is None:
        day = parse_date(value) if len(value) == 10 else None
        if day is None:
            raise ValueError(value)
        moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    return moment


def period_from(params, *, start_key="from", end_key="to", default_days=DEFAULT_DAYS, max_days=MAX_DAYS) -> Period:
    """The period of `params` (dates are whole UTC days, `to` inclusive); default: the last `default_days`."""
    errors = {}
    values = {}
    for key, is_end in ((start_key, False), (end_key, True)):
        try:
            values[key] = parse_instant(params.get(key, ""), end=is_end)
        except ValueError:
            errors[key] = ["Use a date (YYYY-MM-DD) or an ISO 8601 date and time."]
    if errors:
        raise InvalidInput("The period is not valid.", field_errors=errors)
    now = timezone.now()
    end = values[end_key] or now
    start = values[start_key] or end - timedelta(days=default_days)
    if start >= end:
        raise InvalidInput("The period is empty: its start must come before its end.",
                           field_errors={start_key: ["Must be before the end of the period."]})
    if end - start > timedelta(days=max_days):
        raise InvalidInput(f"A period can span at most {max_days} days.",
                           field_errors={start_key: [f"At most {max_days} days before the end."]})
    return Period(start=start, end=end)


@dataclass
class Filters:
    period: Period
    queue: Queue | None = None
    team: Team | None = None
    policy: Policy | None = None
    errors: dict = field(default_factory=dict)

    def queue_ids(self) -> list[int] | None:
        """Queues in scope: the chosen one, or the team's (queues it may work), or None for all."""
        if self.queue is not None:
            return [self.queue.pk]
        if self.team is not None:
            return list(Queue.objects.filter(allowed_teams=self.team).values_list("id", flat=True))
        return None

    def member_ids(self) -> list[int] | None:
        if self.team is None:
            return None
        return list(self.team.memberships.values_list("user_id", flat=True))

    def as_query(self) -> dict:
        query = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        for key, obj in (("queue", self.queue), ("team", self.team), ("policy", self.policy)):
            if obj is not None:
                query[key] = obj.slug
        return query


def filters_from(params, *, default_days=DEFAULT_DAYS) -> Filters:
    """All four filters from a query dict; unknown slugs are errors a person can act on."""
    found = {}
    errors = {}
    message = "Some filters are not valid."
    try:
        period = period_from(params, default_days=default_days)
    except InvalidInput as exc:
        period, errors, message = None, dict(exc.field_errors), exc.message
    for key, model, label in (("queue", Queue, "queue"), ("team", Team, "team"), ("policy", Policy, "policy")):
        slug = (params.get(key) or "").strip()
        if slug:
            obj = model.objects.filter(slug=slug).first()
            if obj is None:
                errors[key] = [f"There is no {label} “{slug}”."]
            found[key] = obj
    if errors:
        raise InvalidInput(message, field_errors=errors)
    return Filters(period=period, **found)


def hours_in(period: Period) -> list[datetime]:
    """The whole UTC hours the period touches, in order."""
    hour = period.start.replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < period.end:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def as_date(value: datetime) -> date:
    return timezone.localtime(value, timezone.get_fixed_timezone(0)).date()


def shared_period_figures(kind: str, params, compute) -> tuple[object, datetime]:
    """(`compute()`, when it ran): from the shared cache when someone asked for the same `kind` of
    figures with the same filters (`params`, as the page received them) in the last
    PERIOD_FIGURES_CACHE_SECONDS. `kind` names the figures and whose they are."""
    key = f"insights:{kind}:" + urlencode(sorted((k, (params.get(k) or "").strip()) for k in FILTER_KEYS))
    return shared_for(key, PERIOD_FIGURES_CACHE_SECONDS, lambda: (compute(), timezone.now()))
