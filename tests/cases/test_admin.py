"""The Django admin is no side door: audited records are read-only there, and configuration edits
(queues, routing rules, trusted flaggers) go through their services, which write the audit entry."""

import pytest
from django.urls import reverse

from cases.models import Case, CaseStatus, Escalation, Queue, QueueSla, RoutingRule, TrustedFlagger
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    EscalationFactory,
    QueueFactory,
    RoutingRuleFactory,
    TeamFactory,
    user_with_role,
)
from tsconsole import roles
from tsconsole.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", ["case", "escalation", "caseevent", "report", "note", "evidence"])
def test_audited_case_records_cannot_be_added_in_the_admin(as_admin, model):
    assert as_admin.get(reverse(f"admin:cases_{model}_changelist")).status_code == 200
    assert as_admin.get(reverse(f"admin:cases_{model}_add")).status_code == 403


def test_a_case_cannot_be_changed_or_deleted_in_the_admin(as_admin):
    analyst = user_with_role(roles.ANALYST, username="bystander")
    case = CaseFactory(priority=2)
    url = reverse("admin:cases_case_change", args=[case.pk])
    page = as_admin.get(url)
    assert page.status_code == 200 and 'name="priority"' not in page.content.decode()
    as_admin.post(url, {"priority": 0, "assignee": analyst.pk, "queue": QueueFactory().pk, "status": "resolved"})
    assert as_admin.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"}).status_code == 403
    case = Case.objects.get(pk=case.pk)
    assert (case.priority, case.assignee_id, case.status) == (2, None, CaseStatus.OPEN)


def test_an_escalation_status_cannot_be_changed_in_the_admin(as_admin):
    escalation = EscalationFactory()
    url = reverse("admin:cases_escalation_change", args=[escalation.pk])
    assert 'name="status"' not in as_admin.get(url).content.decode()
    as_admin.post(url, {"status": "resolved"})
    assert Escalation.objects.get(pk=escalation.pk).status == escalation.status


def test_routing_rules_have_no_list_editing_and_edits_are_audited(as_admin, admin_user):
    rule = RoutingRuleFactory(position=10, name="Spam")
    changelist = as_admin.get(reverse("admin:cases_routingrule_changelist")).content.decode()
    assert 'name="form-0-position"' not in changelist
    response = as_admin.post(reverse("admin:cases_routingrule_change", args=[rule.pk]), {
        "position": 3, "name": "Spam first", "queue": rule.queue_id, "source": "", "language": "EN",
        "territory": "de", "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    rule.refresh_from_db()
    assert (rule.position, rule.territory, rule.language) == (3, "DE", "en")  # the service's normalisation
    entry = AuditEntry.objects.get(verb="routing_rule.changed")
    assert entry.actor == admin_user and entry.data["before"]["position"] == 10 and entry.data["after"]["position"] == 3

    as_admin.post(reverse("admin:cases_routingrule_delete", args=[rule.pk]), {"post": "yes"})
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()
    assert AuditEntry.objects.filter(verb="routing_rule.deleted", object_ref=str(rule.pk)).exists()


def test_a_routing_rule_the_service_refuses_is_shown_on_the_form(as_admin):
    queue = QueueFactory()
    before = RoutingRule.objects.count()
    response = as_admin.post(reverse("admin:cases_routingrule_add"), {
        "position": 1, "name": "Bad", "queue": queue.pk, "min_classifier_score": "1.5", "is_active": "on",
    })
    assert response.status_code == 200 and "Between 0 and 1." in response.content.decode()
    assert RoutingRule.objects.count() == before and not AuditEntry.objects.exists()


def _queue_form(queue, targets, **changes):
    data = {
        "slug": queue.slug, "name": queue.name, "description": "", "complexity_weight": "1.0",
        "claim_timeout_minutes": 30, "position": 5, "is_active": "on",
        "sla_targets-TOTAL_FORMS": len(targets), "sla_targets-INITIAL_FORMS": 0,
        "sla_targets-MIN_NUM_FORMS": 0, "sla_targets-MAX_NUM_FORMS": 1000,
    }
    for i, (priority, first, resolution) in enumerate(targets):
        data.update({f"sla_targets-{i}-priority": priority, f"sla_targets-{i}-first_touch_minutes": first,
                     f"sla_targets-{i}-resolution_minutes": resolution, f"sla_targets-{i}-queue": queue.pk or ""})
    data.update(changes)
    return data


def test_queue_edits_in_the_admin_go_through_the_queue_service(as_admin, admin_user):
    queue = QueueFactory(slug="hate-desk", name="Hate desk")
    team = TeamFactory(slug="hate-team")
    response = as_admin.post(reverse("admin:cases_queue_change", args=[queue.pk]),
                             _queue_form(queue, [(1, 15, 120)], allowed_teams=[team.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    queue = Queue.objects.get(pk=queue.pk)
    assert queue.position == 5 and list(queue.allowed_teams.all()) == [team]
    assert list(QueueSla.objects.filter(queue=queue).values_list("priority", "first_touch_minutes")) == [(1, 15)]
    entry = AuditEntry.objects.get(verb="queue.updated")
    assert entry.actor == admin_user and {"allowed_teams", "sla_targets", "position"} <= set(entry.data["changed"])


def test_queue_added_in_the_admin_is_audited(as_admin):
    response = as_admin.post(reverse("admin:cases_queue_add"),
                             _queue_form(Queue(slug="new-desk", name="New desk"), [(2, 30, 60)]))
    assert response.status_code == 302, response.content.decode()[:3000]
    queue = Queue.objects.get(slug="new-desk")
    assert list(queue.sla_targets.values_list("priority", "resolution_minutes")) == [(2, 60)]
    assert AuditEntry.objects.filter(verb="queue.created", object_ref="new-desk").exists()


def test_queue_sla_targets_the_service_refuses_are_shown_on_the_form(as_admin):
    queue = QueueFactory(slug="hate-desk")
    response = as_admin.post(reverse("admin:cases_queue_change", args=[queue.pk]), _queue_form(queue, [(1, 120, 15)]))
    assert response.status_code == 200 and "first-touch target must be positive" in response.content.decode()
    assert not AuditEntry.objects.exists() and not QueueSla.objects.filter(queue=queue).exists()


def test_trusted_flagger_edits_in_the_admin_are_audited(as_admin):
    category = CategoryFactory(slug="hate")
    response = as_admin.post(reverse("admin:cases_trustedflagger_add"), {
        "name": "Hotline", "awarding_authority": "DSC Ireland", "areas": [category.pk], "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    flagger = TrustedFlagger.objects.get()
    assert list(flagger.areas.all()) == [category]
    assert AuditEntry.objects.get(verb="trusted_flagger.registered").data["after"]["areas"] == ["hate"]
