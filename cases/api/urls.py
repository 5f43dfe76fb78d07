from django.urls import path

from . import cases, escalations, queues, reports, routing, taxonomy

urlpatterns = [
    path("categories/", taxonomy.CategoryList.as_view(), name="api-categories"),
    path("reports/", reports.ReportIntake.as_view(), name="api-reports"),
    path("routing-rules/", routing.RoutingRuleList.as_view(), name="api-routing-rules"),
    path("routing-rules/<int:pk>/", routing.RoutingRuleDetail.as_view(), name="api-routing-rule-detail"),
    path("trusted-flaggers/", routing.TrustedFlaggerList.as_view(), name="api-trusted-flaggers"),
    path("trusted-flaggers/<int:pk>/", routing.TrustedFlaggerDetail.as_view(), name="api-trusted-flagger-detail"),
    path("queues/", queues.QueueListCreate.as_view(), name="api-queues"),
    path("queues/<slug:slug>/", queues.QueueDetail.as_view(), name="api-queue-detail"),
    path("queues/<slug:slug>/claim/", queues.QueueClaim.as_view(), name="api-queue-claim"),
    path("cases/", cases.CaseList.as_view(), name="api-cases"),
    path("cases/<int:pk>/", cases.CaseDetail.as_view(), name="api-case-detail"),
    path("cases/<int:pk>/notes/", cases.CaseNotes.as_view(), name="api-case-notes"),
    path("cases/<int:pk>/evidence/", cases.CaseEvidence.as_view(), name="api-case-evidence"),
    path("cases/<int:pk>/release/", cases.CaseRelease.as_view(), name="api-case-release"),
    path("cases/<int:pk>/hold/", cases.CaseHold.as_view(), name="api-case-hold"),
    path("cases/<int:pk>/resume/", cases.CaseResume.as_view(), name="api-case-resume"),
    path("cases/<int:pk>/handoff/", cases.CaseHandoff.as_view(), name="api-case-handoff"),
    path("cases/<int:pk>/resolve/", cases.CaseResolve.as_view(), name="api-case-resolve"),
    path("cases/<int:pk>/escalate/", escalations.CaseEscalate.as_view(), name="api-case-escalate"),
    path("escalations/", escalations.EscalationList.as_view(), name="api-escalations"),
    path("escalations/<int:pk>/", escalations.EscalationDetail.as_view(), name="api-escalation-detail"),
    path("escalations/<int:pk>/ack/", escalations.EscalationAck.as_view(), name="api-escalation-ack"),
    path("escalations/<int:pk>/findings/", escalations.EscalationFindings.as_view(), name="api-escalation-findings"),
    path("escalations/<int:pk>/resolve/", escalations.EscalationResolve.as_view(), name="api-escalation-resolve"),
]
