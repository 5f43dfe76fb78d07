from django.contrib import admin

from .models import ExportJob, KpiTarget, SorBatch, StatementOfReasons


class ReadOnly(admin.ModelAdmin):
    """Derived or audited rows: changed only by the insights services, never in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StatementOfReasons)
class StatementOfReasonsAdmin(ReadOnly):
    list_display = ["puid", "applied_at", "batch"]
    search_fields = ["puid"]


@admin.register(SorBatch)
class SorBatchAdmin(ReadOnly):
    list_display = ["id", "created_at", "size", "endpoints"]


@admin.register(KpiTarget)
class KpiTargetAdmin(ReadOnly):
    list_display = ["key", "target", "updated_by", "updated_at"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnly):
    list_display = ["id", "kind", "user", "status", "written", "total", "created_at"]
