from django.contrib import admin

from .models import AuditEntry, Heartbeat, Notification, OutboxMessage, Team, TeamMembership, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audited records: the admin may look but not touch. Their state changes only through the
    services, which write the timeline or audit entry in the same transaction; an edit here would
    change it with no trace. Every app's admin uses this one base."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "created_at"]
    list_filter = ["is_active"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Retries go through the Deliveries page (tsconsole/views_outbox.py), which audits them."""

    list_display = ["id", "topic", "channel", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "channel", "topic"]
    search_fields = ["idempotency_key", "topic"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "verb", "object_type", "object_ref"]
    list_filter = ["verb", "object_type"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["component", "seen_at"]
