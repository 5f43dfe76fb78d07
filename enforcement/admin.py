from django.contrib import admin

from tsconsole.admin import ReadOnlyAdmin

from . import services
from .models import EnforcementAction, Macro, Policy, PolicyVersion, Strike


class PolicyVersionInline(admin.TabularInline):
    """Earlier versions, read-only: actions point at the version they were taken under."""

    model = PolicyVersion
    extra = 0
    fields = ["version", "created_at", "created_by", "strike_window_days", "ladder", "decision_ground"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "version", "strike_window_days", "is_active", "updated_at"]
    list_filter = ["is_active", "decision_ground"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["version"]
    inlines = [PolicyVersionInline]

    def save_model(self, request, obj, form, change):
        # Every edit of the guidance, rule text or ladder becomes a new version.
        services.policy_save(policy=obj, actor=request.user)


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "action_types", "is_active"]
    list_filter = ["is_active", "category"]
    search_fields = ["name", "slug", "body"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(EnforcementAction)
class EnforcementActionAdmin(ReadOnlyAdmin):
    """Read-only: actions change only through the decision, approval, expiry and reversal services."""

    list_display = ["id", "action_type", "target", "case", "status", "applied_at", "ends_at", "proposer", "reviewer"]
    list_filter = ["status", "action_type", "requires_approval"]
    search_fields = ["target__external_id", "target__handle", "decision_ref"]
    list_select_related = ["target", "case", "proposer", "reviewer"]


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    """Strikes are issued and lifted with their actions, by the enforcement services."""

    list_display = ["account", "policy", "action", "issued_at", "expires_at"]
    list_select_related = ["account", "policy", "action"]
    search_fields = ["account__external_id", "account__handle"]
