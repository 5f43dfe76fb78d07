"""QA in the Django admin: read-only. Rules and rubrics are versioned, samples, audits, feedback,
disputes, corrections and calibration change only through qa.services (which keep the timeline,
the audit log and the versions right); the admin never changes them."""

from django.contrib import admin

from tsconsole.admin import ReadOnlyAdmin

from .models import (
    Audit,
    CalibrationAnswer,
    CalibrationCase,
    CalibrationParticipant,
    CalibrationSession,
    Correction,
    Decision,
    Dispute,
    Feedback,
    Rubric,
    RubricCriterion,
    Sample,
    SamplingRule,
    SamplingRuleVersion,
    SamplingWatermark,
)


@admin.register(SamplingRule)
class SamplingRuleAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(SamplingRuleVersion)
class SamplingRuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "version", "kind", "queue", "policy", "action_type", "rate", "first_n", "floor_k",
                    "due_days", "created_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["rule", "queue", "policy", "created_by"]


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdmin):
    list_display = ["id", "rule", "case", "analyst", "reviewer", "status", "decided_at", "due_at"]
    list_filter = ["status", "rule"]
    search_fields = ["=decision_ref", "=case__id"]
    list_select_related = ["rule", "analyst", "reviewer"]
    raw_id_fields = ["rule", "rule_version", "action", "case", "analyst", "approver", "reviewer"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """The triggers' projection of enforcement decisions, as the sampler reads it."""

    list_display = ["decision_ref", "decided_at", "analyst", "types", "is_termination", "two_person", "txid"]
    search_fields = ["=decision_ref"]
    list_select_related = ["analyst"]
    raw_id_fields = ["action", "case", "policy", "analyst", "approver"]
    show_full_result_count = False


@admin.register(SamplingWatermark)
class SamplingWatermarkAdmin(ReadOnlyAdmin):
    list_display = ["rule", "rule_version", "txid", "passed_at"]
    list_select_related = ["rule", "rule_version"]


@admin.register(Rubric)
class RubricAdmin(ReadOnlyAdmin):
    list_display = ["id", "policy", "version", "pass_mark", "created_by", "created_at"]
    list_select_related = ["policy", "created_by"]


@admin.register(RubricCriterion)
class RubricCriterionAdmin(ReadOnlyAdmin):
    list_display = ["rubric", "key", "label", "weight", "critical", "position"]
    list_filter = ["critical"]
    list_select_related = ["rubric__policy"]


@admin.register(Audit)
class AuditAdmin(ReadOnlyAdmin):
    list_display = ["id", "sample", "reviewer", "outcome", "final_outcome", "score", "critical_miss", "created_at"]
    list_filter = ["outcome", "final_outcome", "critical_miss"]
    list_select_related = ["sample", "reviewer"]
    raw_id_fields = ["sample", "reviewer", "rubric", "policy", "original_policy"]


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ["id", "audit", "analyst", "status", "created_at", "acknowledged_at"]
    list_filter = ["status"]
    list_select_related = ["audit", "analyst"]
    raw_id_fields = ["audit", "analyst"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["id", "feedback", "ruling", "ruled_outcome", "arbiter", "created_at", "ruled_at"]
    list_filter = ["ruling"]
    list_select_related = ["feedback", "arbiter"]
    raw_id_fields = ["feedback", "arbiter"]


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "audit", "lead", "policy", "user_notified", "created_at"]
    list_filter = ["user_notified"]
    list_select_related = ["audit", "lead", "policy"]
    raw_id_fields = ["audit", "lead", "policy"]


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "status", "created_by", "created_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["title"]


@admin.register(CalibrationCase)
class CalibrationCaseAdmin(ReadOnlyAdmin):
    list_display = ["session", "case", "position", "golden_category"]
    raw_id_fields = ["session", "case"]


@admin.register(CalibrationParticipant)
class CalibrationParticipantAdmin(ReadOnlyAdmin):
    list_display = ["session", "user"]
    raw_id_fields = ["session", "user"]


@admin.register(CalibrationAnswer)
class CalibrationAnswerAdmin(ReadOnlyAdmin):
    list_display = ["item", "user", "category", "created_at"]
    raw_id_fields = ["item", "user", "policy"]
