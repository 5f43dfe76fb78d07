"""Preferences: the page for every role, validation, the audit entry, the saved time zone winning
over the browser's, the preview treatment on the pages that show sensitive images, and the nav."""

import re
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from cases.services import workflow
from tests.factories import CaseFactory, CategoryFactory, EvidenceFactory
from tsconsole import roles, services
from tsconsole.errors import InvalidInput, NotAllowed
from tsconsole.models import AuditEntry, UserPreferences
from tsconsole.navigation import nav_for
from tsconsole.templatetags.timefmt import when_abs

pytestmark = pytest.mark.django_db

VALID = {"preview_mode": "greyscale", "time_zone": "Asia/Tokyo", "break_after_minutes": "30"}


@pytest.mark.parametrize("role", [r for r in roles.ROLES])
def test_every_role_has_the_page_and_the_menu_entry(client, make_user, role):
    client.force_login(make_user(role, username=f"u-{role}"))
    response = client.get(reverse("preferences"))
    assert response.status_code == 200
    assert 'data-nav="preferences"' in response.content.decode()


def test_defaults_without_a_row(client, analyst):
    client.force_login(analyst)
    html = client.get(reverse("preferences")).content.decode()
    checked = re.search(r'name="preview_mode" id="[^"]+" value="(\w+)" checked', html)
    assert checked and checked.group(1) == "blurred"
    assert not UserPreferences.objects.exists()


def test_saving_stores_audits_and_applies_at_once(client, analyst):
    client.force_login(analyst)
    response = client.post(reverse("preferences"), VALID)
    assert response.status_code == 302
    prefs = UserPreferences.objects.get(user=analyst)
    assert (prefs.preview_mode, prefs.time_zone, prefs.break_after_minutes) == ("greyscale", "Asia/Tokyo", 30)
    entry = AuditEntry.objects.get(verb="preferences_changed")
    assert entry.actor == analyst and entry.data["changed"]["time_zone"] == ["", "Asia/Tokyo"]
    page = client.get(reverse("preferences")).content.decode()
    assert "Your preferences are saved." in page and "Asia/Tokyo" in page and "JST" in page
    # Saving the same values again changes nothing and audits nothing.
    client.post(reverse("preferences"), VALID)
    assert AuditEntry.objects.filter(verb="preferences_changed").count() == 1


@pytest.mark.parametrize("field,value,message", [
    ("time_zone", "Mars/Olympus_Mons", "is not a time zone this console knows"),
    ("preview_mode", "inverted", "Select a valid choice"),
    ("break_after_minutes", "2", "greater than or equal to 5"),
    ("break_after_minutes", "soon", "Enter a whole number"),
])
def test_a_refused_value_answers_400_with_the_form_and_saves_nothing(client, analyst, field, value, message):
    client.force_login(analyst)
    response = client.post(reverse("preferences"), {**VALID, field: value})
    assert response.status_code == 400 and message in response.content.decode()
    assert not UserPreferences.objects.exists() and not AuditEntry.objects.exists()


def test_the_service_checks_its_rules_for_any_caller(analyst, lead):
    with pytest.raises(InvalidInput) as refused:
        services.preferences_update(user=analyst, actor=analyst, preview_mode="blurred", time_zone="Nowhere/Land",
                                    break_after_minutes=None)
    assert "time_zone" in refused.value.field_errors
    with pytest.raises(NotAllowed):
        services.preferences_update(user=analyst, actor=lead, preview_mode="blurred", time_zone="",
                                    break_after_minutes=None)
    assert not UserPreferences.objects.exists()


# --------------------------------------------------------------------------- time zone


def test_the_saved_zone_wins_over_the_browsers(client, analyst):
    client.force_login(analyst)
    client.cookies["tz"] = "America/New_York"
    assert "Times are shown in America/New_York" in client.get(reverse("preferences")).content.decode()
    client.post(reverse("preferences"), {**VALID, "time_zone": "Asia/Tokyo"})
    html = client.get(reverse("preferences")).content.decode()
    assert "Times are shown in Asia/Tokyo" in html
    # Back to the browser's zone.
    client.post(reverse("preferences"), {**VALID, "time_zone": ""})
    assert "Times are shown in America/New_York" in client.get(reverse("home")).content.decode()


def test_the_saved_zone_is_loaded_at_sign_in_and_used_by_the_when_filters(client, analyst):
    UserPreferences.objects.create(user=analyst, time_zone="Asia/Kolkata")
    client.force_login(analyst)  # sign-in puts the preferences into the new session
    assert "Times are shown in Asia/Kolkata" in client.get(reverse("home")).content.decode()
    with timezone.override("Asia/Kolkata"):
        assert "15:30 <span class=\"tz\">IST" in when_abs(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


def test_a_session_from_before_preferences_existed_loads_them_once(client, analyst):
    UserPreferences.objects.create(user=analyst, time_zone="Europe/Paris")
    client.force_login(analyst)
    session = client.session
    session.pop("tsc_prefs")
    session.save()
    assert "Times are shown in Europe/Paris" in client.get(reverse("notifications")).content.decode()
    assert "tsc_prefs" in client.session


# --------------------------------------------------------------------------- preview treatment


def _sensitive_image(case):
    evidence = EvidenceFactory(case=case, kind="file", text_extract="", content_type="image/png", original_name="x.png")
    evidence.preview.save("previews/x.jpg", ContentFile(b"\xff\xd8\xff\xe0 jpeg"), save=True)
    return evidence


@pytest.mark.parametrize("mode,classes", [
    ("blurred", "treat-blurred blurred"),
    ("greyscale", "treat-greyscale\""),
    ("greyscale_blurred", "treat-greyscale_blurred blurred"),
])
def test_the_case_page_shows_sensitive_images_as_chosen(client, analyst, mode, classes):
    case = CaseFactory(category=CategoryFactory(slug="gore", sensitive=True))
    evidence = _sensitive_image(case)
    if mode != "blurred":
        UserPreferences.objects.create(user=analyst, preview_mode=mode)
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert f'class="ev-preview {classes}' in html
    # Whatever the treatment, only the derivative is referenced before the reveal.
    assert reverse("evidence-preview", args=[evidence.pk]) in html
    assert reverse("evidence-download", args=[evidence.pk]) + "?inline=1" not in html


def test_after_the_reveal_greyscale_stays_with_a_colour_toggle(client, analyst):
    case = CaseFactory(category=CategoryFactory(slug="gore", sensitive=True))
    evidence = _sensitive_image(case)
    UserPreferences.objects.create(user=analyst, preview_mode="greyscale")
    client.force_login(analyst)
    workflow.evidence_reveal(evidence_id=evidence.pk, actor=analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="evidence-revealed"' in html and "treat-greyscale" in html and "data-colour-toggle" in html


# --------------------------------------------------------------------------- navigation


def test_the_quality_pages_fold_into_one_menu_for_a_lead(lead):
    entries = nav_for(lead, current="qa-feedback")
    labels = [e["label"] for e in entries]
    assert "Quality" in labels and "QA feedback" not in labels and "Calibration" not in labels
    quality = next(e for e in entries if e["label"] == "Quality")
    assert [c["name"] for c in quality["children"]] == ["qa-queue", "qa-feedback", "qa-calibrations"]
    assert quality["current"] is True


def test_a_group_with_one_page_for_the_user_is_a_plain_link(support_agent, analyst):
    assert all("children" not in e for e in nav_for(support_agent))
    system = [e for e in nav_for(analyst) if e["label"] in ("System", "API docs")]
    assert system == [{"label": "API docs", "url": reverse("api-docs"), "name": "api-docs"}]
