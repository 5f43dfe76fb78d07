"""Reads for the console shell: home summaries, notifications, health."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from .models import (
    ExposureClock,
    ExposureDay,
    Heartbeat,
    Notification,
    OutboxMessage,
    PreviewMode,
    TeamMembership,
    UserPreferences,
)
from .prepared import PreparedStatement
from .roles import ADMIN, has_role

HEARTBEAT_STALE_SECONDS = 180


NOTIFICATIONS_PAGE_SIZE = 25
UNREAD_BADGE_MAX = 99  # the badge says "99+" beyond this
_unread_count: PreparedStatement | None = None


def unread_notification_count(user) -> int:
    """The badge on every page, counted up to UNREAD_BADGE_MAX + 1 (a lead with a hundred thousand
    unread breach notices would otherwise have them all counted on every page): one statement
    prepared per connection rather than a count compiled by the ORM on each request."""
    global _unread_count
    if _unread_count is None:
        table = connection.ops.quote_name(Notification._meta.db_table)
        _unread_count = PreparedStatement(
            "tsconsole_unread_notifications_upto",
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE user_id = %(user_id)s AND read_at IS NULL "
            f"LIMIT {UNREAD_BADGE_MAX + 1}) AS upto", ["user_id"])
    with connection.cursor() as cursor:
        _unread_count.execute(cursor, {"user_id": user.pk})
        return cursor.fetchone()[0]


def unread_badge(user) -> str:
    """What the unread badge says: the count, "99+" beyond UNREAD_BADGE_MAX, or "" with none unread."""
    n = unread_notification_count(user)
    return f"{UNREAD_BADGE_MAX}+" if n > UNREAD_BADGE_MAX else (str(n) if n else "")


def notifications_page(user, *, before_id: int | None = None, limit: int = NOTIFICATIONS_PAGE_SIZE) -> dict:
    """A page of the user's notifications, newest first, keyset-paginated on id."""
    qs = Notification.objects.filter(user=user).order_by("-id")
    if before_id:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs[: limit + 1])
    items = rows[:limit]
    return {"items": items, "next_before": items[-1].pk if len(rows) > limit else None}


def system_health() -> dict:
    """Heartbeats of the background components and the state of the outbox."""
    now = timezone.now()
    beats = []
    for beat in Heartbeat.objects.order_by("component"):
        age = (now - beat.seen_at).total_seconds()
        beats.append({"component": beat.component, "seen_at": beat.seen_at, "age_seconds": int(age),
                      "healthy": age <= HEARTBEAT_STALE_SECONDS})
    outbox = {
        **outbox_backlog(),
        # Pending rows are few and found through their partial index; no scan of delivered history.
        "oldest_pending": OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .aggregate(oldest=Min("created_at"))["oldest"],
    }
    return {"heartbeats": beats, "outbox": outbox, "now": now}


OUTBOX_PAGE_SIZE = 50


def outbox_messages(*, status: str = "", topic: str = "", channel: str = "", before: int | None = None,
                    limit: int = OUTBOX_PAGE_SIZE) -> tuple[list[OutboxMessage], int | None]:
    """One page of outbox messages, newest first, and the keyset cursor of the next page (or None).

    Keyset on id: a page costs the same at any depth. No total count (the table grows without bound).
    """
    messages = OutboxMessage.objects.select_related("endpoint").order_by("-id")
    if status:
        messages = messages.filter(status=status)
    if topic:
        messages = messages.filter(topic=topic)
    if channel:
        messages = messages.filter(channel=channel)
    if before:
        messages = messages.filter(id__lt=before)
    rows = list(messages[: limit + 1])
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def outbox_backlog() -> dict:
    """Pending and dead counts; each is answered from its partial index, not a table scan."""
    return {
        "pending": OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count(),
        "dead": OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).count(),
    }


# --------------------------------------------------------------------------- preferences


def preferences_of(user) -> UserPreferences:
    """The person's preferences; an unsaved row with the defaults when they never set any."""
    return UserPreferences.objects.filter(user=user).first() or UserPreferences(user=user)


def preferences_snapshot(prefs: UserPreferences) -> dict:
    """What every page needs of the preferences, small enough to keep in the session."""
    return {"tz": prefs.time_zone, "preview": prefs.preview_mode, "break_after": prefs.break_after_minutes}


def preview_label(mode: str) -> str:
    return PreviewMode(mode).label if mode in PreviewMode.values else PreviewMode.BLURRED.label


# --------------------------------------------------------------------------- exposure to sensitive material

EXPOSURE_DAYS = 7


def break_after_minutes(user) -> int:
    """The person's own break threshold, else the site's."""
    own = UserPreferences.objects.filter(user=user).values_list("break_after_minutes", flat=True).first()
    return own or settings.WELLNESS_BREAK_AFTER_MINUTES


def break_prompt(user, *, threshold: int | None = None, now=None) -> dict | None:
    """{"minutes": n} when the person's current stretch of sensitive exposure has reached their
    break threshold and the prompt is not snoozed; None otherwise (also once the stretch is over).
    Pages pass the threshold from the session's preferences, so this is one query."""
    now = now or timezone.now()
    clock = ExposureClock.objects.filter(user=user).first()
    if clock is None or now - clock.last_minute > timedelta(minutes=settings.WELLNESS_BREAK_RESET_MINUTES):
        return None
    threshold = threshold or break_after_minutes(user)
    if clock.stretch_minutes >= threshold and clock.stretch_minutes >= clock.snoozed_until_minutes:
        return {"minutes": clock.stretch_minutes}
    return None


def exposure_page(user, *, url: str, threshold: int | None = None) -> dict:
    """What a page showing sensitive material needs: where to beat, how often, and the break prompt
    if one is due. `threshold` is the person's own (from the session's preferences) or None."""
    threshold = threshold or settings.WELLNESS_BREAK_AFTER_MINUTES
    return {"url": url, "seconds": settings.WELLNESS_HEARTBEAT_SECONDS, "break_after": threshold,
            "prompt": break_prompt(user, threshold=threshold)}


def _days(today, count: int) -> list:
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def exposure_summary(user, *, today=None, days: int = EXPOSURE_DAYS) -> dict:
    """The person's own minutes on sensitive cases: today and each of the last `days` days."""
    today = today or timezone.localdate()
    span = _days(today, days)
    minutes = dict(ExposureDay.objects.filter(user=user, day__gte=span[0], day__lte=today)
                   .values_list("day", "minutes"))
    series = [{"day": day, "minutes": minutes.get(day, 0)} for day in span]
    return {"today": minutes.get(today, 0), "days": series, "total": sum(row["minutes"] for row in series)}


def exposure_team_ids(user) -> list[int] | None:
    """Teams whose exposure `user` may see: the teams they lead; None (every team) for admins."""
    if has_role(user, ADMIN):
        return None
    return list(TeamMembership.objects.filter(user=user, is_lead=True).values_list("team_id", flat=True))


def team_exposure(user, *, today=None, days: int = EXPOSURE_DAYS) -> dict:
    """Minutes per analyst per day on sensitive cases, for the members of the teams `user` leads
    (every team for admins): one row per person who had any exposure in the span."""
    today = today or timezone.localdate()
    span = _days(today, days)
    team_ids = exposure_team_ids(user)
    rows = ExposureDay.objects.filter(day__gte=span[0], day__lte=today)
    if team_ids is not None:
        members = TeamMembership.objects.filter(team_id__in=team_ids).values("user_id")
        rows = rows.filter(user_id__in=members)
    per_user: dict[int, dict] = {}
    for user_id, day, minutes in rows.values_list("user_id", "day", "minutes"):
        per_user.setdefault(user_id, {})[day] = minutes
    names = dict(get_user_model().objects.filter(pk__in=per_user).values_list("pk", "username"))
    people = []
    for user_id in sorted(per_user, key=lambda pk: names.get(pk, "")):
        series = [per_user[user_id].get(day, 0) for day in span]
        people.append({"username": names.get(user_id, "?"), "minutes": series, "total": sum(series),
                       "today": series[-1]})
    totals = [sum(person["minutes"][index] for person in people) for index in range(len(span))]
    return {"days": span, "people": people, "totals": totals, "total": sum(totals), "scoped": team_ids is not None,
            "has_teams": team_ids is None or bool(team_ids)}
