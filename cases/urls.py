from django.urls import path

from .views import escalations, workspace

urlpatterns: list = [
    path("queues/", workspace.queue_list, name="queue-list"),
    path("queues/<slug:slug>/next/", workspace.queue_claim_next, name="queue-claim-next"),
    path("cases/", workspace.case_list, name="case-list"),
    path("cases/filters/", workspace.saved_filter_save, name="case-filter-save"),
    path("cases/filters/<int:pk>/delete/", workspace.saved_filter_delete, name="case-filter-delete"),
    path("cases/<int:pk>/", workspace.case_detail, name="case-detail"),
    path("cases/<int:pk>/claim/", workspace.case_claim, name="case-claim"),
    path("cases/<int:pk>/release/", workspace.case_release, name="case-release"),
    path("cases/<int:pk>/notes/", workspace.case_note_add, name="case-note-add"),
    path("cases/<int:pk>/evidence/", workspace.case_evidence_add, name="case-evidence-add"),
    path("cases/<int:pk>/category/", workspace.case_category, name="case-category"),
    path("cases/<int:pk>/priority/", workspace.case_priority, name="case-priority"),
    path("cases/<int:pk>/tags/", workspace.case_tags, name="case-tags"),
    path("cases/<int:pk>/hold/", workspace.case_hold, name="case-hold"),
    path("cases/<int:pk>/resume/", workspace.case_resume, name="case-resume"),
    path("cases/<int:pk>/handoff/", workspace.case_handoff, name="case-handoff"),
    path("cases/<int:pk>/resolve/", workspace.case_resolve, name="case-resolve"),
    path("evidence/<int:pk>/", workspace.evidence_download, name="evidence-download"),
    path("evidence/<int:pk>/preview/", workspace.evidence_preview, name="evidence-preview"),
    path("evidence/<int:pk>/reveal/", workspace.evidence_reveal, name="evidence-reveal"),
    path("my-work/", workspace.my_work, name="my-work"),
    path("search/", workspace.case_search, name="case-search"),
    path("cases/<int:pk>/escalate/", escalations.case_escalate, name="case-escalate"),
    path("escalations/", escalations.escalation_list, name="escalations"),
    path("escalations/<int:pk>/", escalations.escalation_detail, name="escalation-detail"),
    path("escalations/<int:pk>/ack/", escalations.escalation_ack, name="escalation-ack"),
    path("escalations/<int:pk>/findings/", escalations.escalation_findings, name="escalation-findings"),
    path("escalations/<int:pk>/resolve/", escalations.escalation_resolve, name="escalation-resolve"),
]
