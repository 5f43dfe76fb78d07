"""QA pages, included at the site root by tsconsole/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("qa/", views.queue, name="qa-queue"),
    path("qa/samples/<int:pk>/", views.sample_detail, name="qa-sample"),
    path("qa/samples/<int:pk>/review/", views.sample_review, name="qa-sample-review"),
    path("qa/samples/<int:pk>/exposure/", views.sample_exposure, name="qa-sample-exposure"),
    path("qa/samples/<int:pk>/assign/", views.sample_assign, name="qa-sample-assign"),
    path("qa/samples/<int:pk>/evidence/<int:evidence_id>/", views.evidence, name="qa-evidence"),
    path("qa/samples/<int:pk>/evidence/<int:evidence_id>/reveal/", views.evidence_reveal, name="qa-evidence-reveal"),
    path("qa/audits/<int:pk>/correct/", views.audit_correct, name="qa-audit-correct"),
    path("qa/audits.csv", views.audits_csv, name="qa-audits-csv"),
    path("qa/overview/", views.overview, name="qa-overview"),
    path("qa/rules/", views.rules, name="qa-rules"),
    path("qa/rules/<int:pk>/active/", views.rule_toggle, name="qa-rule-toggle"),
    path("qa/rubrics/", views.rubrics, name="qa-rubrics"),
    path("qa/rubrics/edit/", views.rubric_edit, name="qa-rubric-edit"),
    path("qa/feedback/", views.feedback, name="qa-feedback"),
    path("qa/feedback/<int:pk>/acknowledge/", views.feedback_acknowledge, name="qa-feedback-acknowledge"),
    path("qa/feedback/<int:pk>/dispute/", views.feedback_dispute, name="qa-feedback-dispute"),
    path("qa/disputes/", views.disputes, name="qa-disputes"),
    path("qa/disputes/<int:pk>/rule/", views.dispute_rule, name="qa-dispute-rule"),
    path("qa/calibration/", views.calibrations, name="qa-calibrations"),
    path("qa/calibration/new/", views.calibration_new, name="qa-calibration-new"),
    path("qa/calibration/<int:pk>/", views.calibration, name="qa-calibration"),
    path("qa/calibration/<int:pk>/cases/<int:case_id>/", views.calibration_case, name="qa-calibration-case"),
    path("qa/calibration/<int:pk>/golden/", views.calibration_golden, name="qa-calibration-golden"),
    path("qa/calibration/<int:pk>/close/", views.calibration_close, name="qa-calibration-close"),
]
