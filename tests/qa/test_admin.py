"""QA rows in the Django admin: every model listed and viewable, none added, changed or deleted."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from qa import sampling, services
from qa.models import Sample, SamplingRule
from tsconsole import roles
from tsconsole.admin import ReadOnlyAdmin

pytestmark = pytest.mark.django_db

GOOD = {"correct_policy": 5, "correct_action": 5, "evidence": 5, "rationale": 4, "statement": 4, "procedure": 5}


def test_every_qa_model_is_registered_read_only():
    models = list(apps.get_app_config("qa").get_models())
    assert models
    for model in models:
        assert model in admin.site._registry, model.__name__
        assert isinstance(admin.site._registry[model], ReadOnlyAdmin), model.__name__


def test_the_admin_shows_qa_rows_and_refuses_edits(client, admin_user, make_user, decide, rule):
    analyst = make_user(roles.ANALYST, username="adm-analyst")
    reviewer = make_user(roles.QA_REVIEWER, username="adm-qa")
    decide(analyst, ("suspension",))
    rule("random", name="everything", rate=1)
    sampling.samples_draw()
    sample = Sample.objects.get()
    services.sample_review(sample=sample, actor=reviewer, scores=GOOD, feedback="A warning was enough.",
                           decision={"policy": "qa-policy", "actions": [{"type": "warn"}]})
    client.force_login(admin_user)
    for model in apps.get_app_config("qa").get_models():
        url = reverse(f"admin:qa_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        assert client.get(reverse(f"admin:qa_{model._meta.model_name}_add")).status_code == 403
    rule_row = SamplingRule.objects.get(name="everything")
    change = reverse("admin:qa_samplingrule_change", args=[rule_row.pk])
    page = client.get(change)
    assert page.status_code == 200 and "everything" in page.content.decode()
    assert client.post(change, {"name": "renamed", "is_active": "", "version": 9}).status_code == 403
    assert client.get(reverse("admin:qa_sample_change", args=[sample.pk])).status_code == 200
    assert client.post(reverse("admin:qa_sample_delete", args=[sample.pk]), {"post": "yes"}).status_code == 403
    rule_row.refresh_from_db()
    assert rule_row.name == "everything" and Sample.objects.filter(pk=sample.pk).exists()
