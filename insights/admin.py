"""Insights rows are derived or audited: changed only by the insights services, never in the admin."""

from django.contrib import admin

from cases.admin import ReadOnlyAdmin as ReadOnly

from .models import ExportJob, KpiTarget, SorBatch, StatementOfReasons


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
