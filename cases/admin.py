from django.contrib import admin

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


class QueueSlaInline(admin.TabularInline):
    model = QueueSla
    extra = 0


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_default", "is_active", "claim_timeout_minutes", "complexity_weight", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["allowed_teams"]
    inlines = [QueueSlaInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "queue", "category", "source", "min_classifier_score", "language", "territory", "is_active"]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]
    list_filter = ["queue", "source", "is_active"]


@admin.register(TrustedFlagger)
class TrustedFlaggerAdmin(admin.ModelAdmin):
    list_display = ["name", "awarding_authority", "user", "is_active", "awarded_at"]
    filter_horizontal = ["areas"]
    raw_id_fields = ["user"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Timeline rows are append-only; the admin may look but not touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "queue", "category", "status", "priority", "assignee", "opened_at"]
    list_filter = ["status", "priority", "queue"]
    search_fields = ["id", "subject__external_id", "subject__handle"]
    raw_id_fields = ["subject", "assignee", "held_for", "resolved_by"]
    readonly_fields = ["status", "opened_at", "resolved_at", "report_count", "reporter_count"]
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
    exclude = ["file"]


@admin.register(SlaCrossing)
class SlaCrossingAdmin(ReadOnlyAdmin):
    list_display = ["case", "clock", "level", "due_at", "crossed_at"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "severity", "team", "status", "ack_due_at", "acknowledged_at"]
    list_filter = ["status", "severity", "team"]
    raw_id_fields = ["case", "created_by", "acknowledged_by", "resolved_by"]


@admin.register(EscalationNotification)
class EscalationNotificationAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "step", "recipient", "created_at"]
