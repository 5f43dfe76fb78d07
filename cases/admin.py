from django import forms
from django.contrib import admin

from tsconsole.admin import ReadOnlyAdmin
from tsconsole.errors import DomainError

from .models import (
    Case,
    CaseEvent,
    Category,
    Escalation,
    EscalationNotification,
    Evidence,
    Note,
    Queue,
    QueueSla,
    Report,
    RoutingRule,
    Signal,
    SlaCrossing,
    Subject,
    SubjectSignal,
    Tag,
    TrustedFlagger,
)
from .services import queue_config, routing_config


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "dsa_category", "default_severity", "sensitive", "is_active"]
    list_filter = ["sensitive", "is_active", "default_severity", "parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class SubjectSignalInline(admin.TabularInline):
    model = SubjectSignal
    extra = 0
    raw_id_fields = ["signal"]


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["external_id", "kind", "handle", "content_type", "follower_count", "verified", "account_type"]
    list_filter = ["kind", "verified", "account_type", "content_type"]
    search_fields = ["external_id", "handle"]
    raw_id_fields = ["author"]
    inlines = [SubjectSignalInline]


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = ["kind", "value_hash", "first_seen_at"]
    list_filter = ["kind"]
    search_fields = ["value_hash"]


def _apply_field_errors(form, exc: DomainError) -> None:
    """A service's refusal shown on the admin form: on the fields it names, else on the form."""
    placed = False
    for name, problems in exc.field_errors.items():
        if name in form.fields:
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(name, str(problem))
                placed = True
    if not placed:
        form.add_error(None, exc.message)


class QueueSlaFormSet(forms.BaseInlineFormSet):
    """The SLA targets, checked by the queue service's own rule before anything is saved."""

    def targets(self) -> list[dict]:
        return [
            {key: form.cleaned_data[key] for key in ("priority", "first_touch_minutes", "resolution_minutes")}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            queue_config.queue_sla_targets_check(self.targets())
        except DomainError as exc:
            raise forms.ValidationError(exc.message)


class QueueSlaInline(admin.TabularInline):
    model = QueueSla
    formset = QueueSlaFormSet
    extra = 0


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    """Queue edits go through `queue_config.queue_save`, which audits them; nothing is saved here."""

    list_display = ["name", "slug", "is_default", "is_active", "claim_timeout_minutes", "complexity_weight", "position"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["allowed_teams"]
    inlines = [QueueSlaInline]

    def has_delete_permission(self, request, obj=None):
        return False  # retire a queue (is_active) instead: cases and rules point at it

    def save_model(self, request, obj, form, change):
        pass  # saved with its teams and SLA targets in save_related, through the service

    def save_related(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in queue_config.QUEUE_FIELDS if name in form.cleaned_data}
        if "allowed_teams" in form.cleaned_data:
            data["allowed_teams"] = list(form.cleaned_data["allowed_teams"])
        for formset in formsets:
            if isinstance(formset, QueueSlaFormSet):
                data["sla_targets"] = formset.targets()
                # The service replaces the targets; the admin's history message reads these.
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        queue = queue_config.queue_save(actor=request.user, data=data, queue=form.instance if change else None)
        form.instance.pk = queue.pk


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = list(routing_config.RULE_FIELDS)

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            routing_config.routing_rule_check(self.instance)
        except DomainError as exc:
            _apply_field_errors(self, exc)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Rule edits go through the routing service, which writes the audit entry (no list_editable:
    it would save rows behind the service's back)."""

    form = RoutingRuleForm
    list_display = ["position", "name", "queue", "category", "source", "min_classifier_score", "language", "territory", "is_active"]
    list_display_links = ["name"]
    list_filter = ["queue", "source", "is_active"]

    def save_model(self, request, obj, form, change):
        data = {name: getattr(obj, name) for name in routing_config.RULE_FIELDS}
        saved = routing_config.routing_rule_save(
            actor=request.user, data=data, rule=RoutingRule.objects.get(pk=obj.pk) if change else None)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        routing_config.routing_rule_delete(actor=request.user, rule=obj)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            routing_config.routing_rule_delete(actor=request.user, rule=rule)


@admin.register(TrustedFlagger)
class TrustedFlaggerAdmin(admin.ModelAdmin):
    """Register edits go through the routing service's trusted-flagger functions, which audit them."""

    list_display = ["name", "awarding_authority", "user", "is_active", "awarded_at"]
    filter_horizontal = ["areas"]
    raw_id_fields = ["user"]

    def save_model(self, request, obj, form, change):
        pass  # saved with its areas in save_related, through the service

    def save_related(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in routing_config.FLAGGER_FIELDS if name in form.cleaned_data}
        data["areas"] = list(form.cleaned_data.get("areas", []))
        flagger = routing_config.trusted_flagger_save(
            actor=request.user, data=data, flagger=TrustedFlagger.objects.get(pk=form.instance.pk) if change else None)
        form.instance.pk = flagger.pk

    def delete_model(self, request, obj):
        routing_config.trusted_flagger_delete(actor=request.user, flagger=obj)

    def delete_queryset(self, request, queryset):
        for flagger in queryset:
            routing_config.trusted_flagger_delete(actor=request.user, flagger=flagger)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Cases change through the workspace services (claim, triage, hold, resolve...), each with its event."""

    list_display = ["id", "subject", "queue", "category", "status", "priority", "assignee", "opened_at"]
    list_filter = ["status", "priority", "queue"]
    search_fields = ["id", "subject__external_id", "subject__handle"]
    show_full_result_count = False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "external_id", "category", "case", "received_at"]
    list_filter = ["source"]
    search_fields = ["external_id"]
    show_full_result_count = False


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "verb", "actor", "from_status", "to_status"]
    list_filter = ["verb"]
    show_full_result_count = False


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ["case", "author", "created_at"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "original_name", "content_type", "size", "sha256", "sensitive", "captured_at"]
    exclude = ["file", "preview"]  # content only through the authorised, logged evidence view


@admin.register(SlaCrossing)
class SlaCrossingAdmin(ReadOnlyAdmin):
    list_display = ["case", "clock", "level", "due_at", "crossed_at"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """Escalations change through the escalation services (acknowledge, findings, resolve), each with its event."""

    list_display = ["id", "case", "severity", "team", "status", "ack_due_at", "acknowledged_at"]
    list_filter = ["status", "severity", "team"]


@admin.register(EscalationNotification)
class EscalationNotificationAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "step", "recipient", "created_at"]
