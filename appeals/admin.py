"""Appeals in the Django admin: read-only. Filing and deciding go through appeals.services, which
keep the timeline, the reviewer rules and the outbox right; the admin never changes them."""

from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import Appeal


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["id", "decision_ref", "appellant_kind", "appellant_ref", "status", "outcome", "filed_at",
                    "decided_at"]
    list_filter = ["status", "outcome", "appellant_kind", "channel"]
    search_fields = ["appellant_ref", "external_id", "=decision_ref"]
    raw_id_fields = ["case", "decision_case", "subject"]
