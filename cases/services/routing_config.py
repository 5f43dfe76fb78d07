"""Intake configuration by admins: routing rules and the trusted-flagger register. Every change is audited;
intake picks it up at its next report (see `cases.services.intake.intake_context`)."""

from django.db import IntegrityError, transaction

from tsconsole.errors import InvalidInput
from tsconsole.services import audit_record

from ..models import RoutingRule, TrustedFlagger

RULE_FIELDS = ("position", "name", "queue", "category", "source", "min_classifier_score", "language", "territory",
               "is_active")
FLAGGER_FIELDS = ("name", "awarding_authority", "user", "contact_email", "awarded_at", "is_active")


def _rule_summary(rule: RoutingRule) -> dict:
    return {
        "position": rule.position, "name": rule.name, "queue": rule.queue.slug,
        "category": rule.category.slug if rule.category_id else None, "source": rule.source,
        "min_classifier_score": rule.min_classifier_score, "language": rule.language, "territory": rule.territory,
        "is_active": rule.is_active,
    }


def _check_rule(rule: RoutingRule) -> None:
    if rule.min_classifier_score is not None and not 0 <= rule.min_classifier_score <= 1:
        raise InvalidInput("The minimum classifier score is between 0 and 1.",
                           field_errors={"min_classifier_score": ["Between 0 and 1."]})
    if rule.queue_id and not rule.queue.is_active and rule.is_active:
        raise InvalidInput(f"Queue “{rule.queue}” is retired; route to an active queue.",
                           field_errors={"queue": ["This queue is not active."]})
    rule.territory = rule.territory.upper()
    rule.language = rule.language.lower()


def routing_rule_check(rule: RoutingRule) -> None:
    """The checks `routing_rule_save` makes, for forms that show them before saving (the admin)."""
    _check_rule(rule)


def routing_rule_save(*, actor, data: dict, rule: RoutingRule | None = None) -> RoutingRule:
    """Create a routing rule (rule=None) or change one. A rule with no condition matches every
    report, which is allowed (a catch-all before the default queue) but audited like any other."""
    created = rule is None
    rule = rule or RoutingRule()
    before = None if created else _rule_summary(rule)
    for name in RULE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    _check_rule(rule)
    with transaction.atomic():
        rule.save()
        audit_record(actor=actor, verb="routing_rule.created" if created else "routing_rule.changed",
                     object_type="routing_rule", object_ref=rule.pk, data={"before": before, "after": _rule_summary(rule)})
    return rule


def routing_rule_delete(*, actor, rule: RoutingRule) -> None:
    with transaction.atomic():
        audit_record(actor=actor, verb="routing_rule.deleted", object_type="routing_rule", object_ref=rule.pk,
                     data={"before": _rule_summary(rule)})
        rule.delete()


def _flagger_summary(flagger: TrustedFlagger) -> dict:
    return {
        "name": flagger.name, "awarding_authority": flagger.awarding_authority,
        "user": flagger.user.username if flagger.user_id else None, "is_active": flagger.is_active,
        "areas": sorted(flagger.areas.values_list("slug", flat=True)) if flagger.pk else [],
    }


def trusted_flagger_save(*, actor, data: dict, flagger: TrustedFlagger | None = None) -> TrustedFlagger:
    """Register a trusted flagger or change its entry. `areas` (categories) replaces its areas of
    expertise; its notices rank up only there (DSA Art. 22)."""
    created = flagger is None
    flagger = flagger or TrustedFlagger()
    before = None if created else _flagger_summary(flagger)
    for name in FLAGGER_FIELDS:
        if name in data:
            setattr(flagger, name, data[name])
    if not flagger.name.strip() or not flagger.awarding_authority.strip():
        raise InvalidInput("A trusted flagger needs a name and the authority that awarded the status.",
                           field_errors={k: ["This field is required."] for k in ("name", "awarding_authority")
                                         if not getattr(flagger, k).strip()})
    taken = InvalidInput(
        "This integration account already sends for another trusted flagger; link a different account or "
        "unlink it there first.", field_errors={"user": ["Already linked to another trusted flagger."]})
    if flagger.user_id and TrustedFlagger.objects.filter(user_id=flagger.user_id).exclude(pk=flagger.pk).exists():
        raise taken
    try:
        with transaction.atomic():
            flagger.save()
            if "areas" in data:
                flagger.areas.set(data["areas"])
            audit_record(actor=actor, verb="trusted_flagger.registered" if created else "trusted_flagger.changed",
                         object_type="trusted_flagger", object_ref=flagger.pk,
                         data={"before": before, "after": _flagger_summary(flagger)})
    except IntegrityError:  # the account was linked elsewhere between the check and the save
        raise taken
    return flagger


def trusted_flagger_delete(*, actor, flagger: TrustedFlagger) -> None:
    """Remove a flagger from the register. Its past reports keep their link (SET_NULL would lose who sent
    them), so a flagger with reports is deactivated instead of deleted."""
    with transaction.atomic():
        pk, summary = flagger.pk, _flagger_summary(flagger)
        if flagger.report_set.exists():
            flagger.is_active = False
            flagger.save(update_fields=["is_active"])
            verb = "trusted_flagger.deactivated"
        else:
            flagger.delete()
            verb = "trusted_flagger.deleted"
        audit_record(actor=actor, verb=verb, object_type="trusted_flagger", object_ref=pk,
                     data={"before": summary})
