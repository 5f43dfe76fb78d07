"""Exposure to sensitive material: the case page's heartbeat, what counts, and the break prompt."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.services.exposure import case_exposure_tick
from tests.factories import CaseFactory, CategoryFactory, QueueFactory, TeamFactory, TeamMembershipFactory
from tsconsole import selectors, services
from tsconsole.models import ExposureClock, ExposureDay, UserPreferences

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)


@pytest.fixture
def sensitive_case():
    return CaseFactory(category=CategoryFactory(slug="graphic-violence", sensitive=True))


def minutes_today(user, day=None):
    return ExposureDay.objects.filter(user=user, day=day or T0.date()).values_list("minutes", flat=True).first() or 0


def test_a_minute_counts_once_however_many_beats_and_tabs(analyst, sensitive_case):
    first = case_exposure_tick(case=sensitive_case, actor=analyst, now=T0, zone=UTC)
    second_tab = case_exposure_tick(case=sensitive_case, actor=analyst, now=T0 + timedelta(seconds=40), zone=UTC)
    assert first.counted and first.today_minutes == 1
    assert not second_tab.counted and second_tab.today_minutes == 1
    assert case_exposure_tick(case=sensitive_case, actor=analyst, now=T0 + timedelta(minutes=1), zone=UTC).counted
    assert minutes_today(analyst) == 2


def test_a_late_beat_for_an_earlier_minute_counts_nothing(analyst, sensitive_case):
    case_exposure_tick(case=sensitive_case, actor=analyst, now=T0 + timedelta(minutes=5), zone=UTC)
    late = case_exposure_tick(case=sensitive_case, actor=analyst, now=T0 + timedelta(minutes=3), zone=UTC)
    assert not late.counted and minutes_today(analyst) == 1


def test_a_case_outside_a_sensitive_category_is_not_counted(analyst):
    case = CaseFactory(category=CategoryFactory(slug="spam", sensitive=False))
    tick = case_exposure_tick(case=case, actor=analyst, now=T0, zone=UTC)
    assert not tick.counted and "not sensitive" in tick.reason
    assert not ExposureDay.objects.exists() and not ExposureClock.objects.exists()


def test_minutes_go_to_the_local_day_of_the_zone(analyst, sensitive_case):
    import zoneinfo

    late_evening_utc = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already 3 March in Tokyo
    services.exposure_record(user=analyst, now=late_evening_utc, zone=zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert ExposureDay.objects.get(user=analyst).day.isoformat() == "2026-03-03"


def test_people_are_counted_separately(analyst, lead, sensitive_case):
    case_exposure_tick(case=sensitive_case, actor=analyst, now=T0, zone=UTC)
    case_exposure_tick(case=sensitive_case, actor=lead, now=T0, zone=UTC)
    assert minutes_today(analyst) == 1 and minutes_today(lead) == 1


def test_the_heartbeat_endpoint_counts_and_answers_json(client, analyst, sensitive_case):
    client.force_login(analyst)
    response = client.post(reverse("case-exposure", args=[sensitive_case.pk]))
    assert response.status_code == 200
    assert response.json()["counted"] is True and response.json()["today_minutes"] == 1
    again = client.post(reverse("case-exposure", args=[sensitive_case.pk])).json()
    assert again["counted"] is False and again["today_minutes"] == 1
    assert ExposureDay.objects.get(user=analyst).minutes == 1


def test_another_teams_case_is_refused_with_404_and_counts_nothing(client, analyst):
    queue = QueueFactory()
    queue.allowed_teams.add(TeamFactory())
    case = CaseFactory(queue=queue, category=CategoryFactory(slug="csam", sensitive=True))
    client.force_login(analyst)
    assert client.post(reverse("case-exposure", args=[case.pk])).status_code == 404
    assert not ExposureDay.objects.exists()


def test_the_heartbeat_needs_a_post_and_a_case_role(client, support_agent, sensitive_case):
    client.force_login(support_agent)
    assert client.post(reverse("case-exposure", args=[sensitive_case.pk])).status_code == 403
    assert not ExposureDay.objects.exists()


# --------------------------------------------------------------------------- the stretch and the break prompt


def beat(user, case, start, minutes):
    tick = None
    for minute in range(minutes):
        tick = case_exposure_tick(case=case, actor=user, now=start + timedelta(minutes=minute), zone=UTC)
    return tick


def test_the_prompt_is_due_after_the_threshold_of_continuous_minutes(analyst, sensitive_case, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 30
    assert not beat(analyst, sensitive_case, T0, 29).prompt_due
    tick = beat(analyst, sensitive_case, T0 + timedelta(minutes=29), 1)
    assert tick.prompt_due and tick.stretch_minutes == 30
    assert selectors.break_prompt(analyst, now=T0 + timedelta(minutes=30)) == {"minutes": 30}


def test_short_gaps_keep_the_stretch_and_a_real_break_resets_it(analyst, sensitive_case, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 20
    settings.WELLNESS_BREAK_RESET_MINUTES = 10
    beat(analyst, sensitive_case, T0, 10)
    # five minutes on something else: still the same stretch
    tick = beat(analyst, sensitive_case, T0 + timedelta(minutes=15), 10)
    assert tick.stretch_minutes == 20 and tick.prompt_due
    # a quarter of an hour away: a new stretch, no prompt
    tick = beat(analyst, sensitive_case, T0 + timedelta(minutes=40), 1)
    assert tick.stretch_minutes == 1 and not tick.prompt_due
    assert minutes_today(analyst) == 21


def test_the_prompt_goes_once_the_stretch_is_over(analyst, sensitive_case, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 10
    beat(analyst, sensitive_case, T0, 10)
    assert selectors.break_prompt(analyst, now=T0 + timedelta(minutes=12)) is not None
    assert selectors.break_prompt(analyst, now=T0 + timedelta(minutes=30)) is None


def test_dismissal_snoozes_for_another_full_stretch(analyst, sensitive_case, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 10
    beat(analyst, sensitive_case, T0, 10)
    services.exposure_break_dismiss(user=analyst, actor=analyst)
    assert selectors.break_prompt(analyst, now=T0 + timedelta(minutes=10)) is None
    assert not beat(analyst, sensitive_case, T0 + timedelta(minutes=10), 9).prompt_due
    tick = beat(analyst, sensitive_case, T0 + timedelta(minutes=19), 1)
    assert tick.prompt_due and tick.stretch_minutes == 20


def test_a_persons_own_threshold_wins_over_the_site_default(analyst, sensitive_case, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 45
    UserPreferences.objects.create(user=analyst, break_after_minutes=5)
    assert beat(analyst, sensitive_case, T0, 5).prompt_due


def test_nobody_dismisses_anothers_prompt(analyst, lead):
    from tsconsole.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.exposure_break_dismiss(user=analyst, actor=lead)


def test_the_dismiss_endpoint_answers_204_to_scripts_and_redirects_forms(client, analyst, sensitive_case, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 5
    now = timezone.now()
    beat(analyst, sensitive_case, now - timedelta(minutes=5), 6)
    client.force_login(analyst)
    page = client.get(reverse("case-detail", args=[sensitive_case.pk])).content.decode()
    assert 'data-testid="break-prompt"' in page and 'data-testid="break-prompt" hidden' not in page
    assert client.post(reverse("wellness-break-dismiss"), HTTP_X_REQUESTED_WITH="fetch").status_code == 204
    page = client.get(reverse("case-detail", args=[sensitive_case.pk])).content.decode()
    assert 'data-testid="break-prompt" hidden' in page
    response = client.post(reverse("wellness-break-dismiss"), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_non_sensitive_case_page_neither_beats_nor_prompts(client, analyst):
    case = CaseFactory(category=CategoryFactory(slug="spam", sensitive=False))
    client.force_login(analyst)
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "data-exposure-url" not in page and "break-prompt" not in page


# --------------------------------------------------------------------------- what people see


def test_the_analyst_sees_their_own_minutes_on_their_home(client, analyst, sensitive_case):
    now = timezone.now()
    beat(analyst, sensitive_case, now - timedelta(minutes=3), 3)
    ExposureDay.objects.create(user=analyst, day=timezone.localdate() - timedelta(days=2), minutes=40)
    summary = selectors.exposure_summary(analyst)
    assert summary["today"] == 3 and summary["total"] == 43 and len(summary["days"]) == 7
    client.force_login(analyst)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="exposure-own"' in page and 'data-testid="exposure-today">3<' in page
    assert 'data-testid="exposure-team"' not in page


def test_the_lead_sees_only_the_teams_they_lead(client, lead, analyst, make_user):
    mine, other = TeamFactory(slug="mine"), TeamFactory(slug="other")
    TeamMembershipFactory(team=mine, user=lead, is_lead=True)
    TeamMembershipFactory(team=mine, user=analyst)
    stranger = make_user("analyst", username="stranger")
    TeamMembershipFactory(team=other, user=stranger)
    today = timezone.localdate()
    ExposureDay.objects.create(user=analyst, day=today, minutes=50)
    ExposureDay.objects.create(user=analyst, day=today - timedelta(days=1), minutes=20)
    ExposureDay.objects.create(user=stranger, day=today, minutes=99)
    data = selectors.team_exposure(lead)
    assert [p["username"] for p in data["people"]] == ["ana"]
    assert data["people"][0]["minutes"][-2:] == [20, 50] and data["totals"][-1] == 50 and data["total"] == 70
    client.force_login(lead)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="exposure-team"' in page and "stranger" not in page


def test_an_admin_sees_every_team(admin_user, make_user):
    someone = make_user("analyst", username="someone")
    ExposureDay.objects.create(user=someone, day=timezone.localdate(), minutes=7)
    assert [p["username"] for p in selectors.team_exposure(admin_user)["people"]] == ["someone"]
