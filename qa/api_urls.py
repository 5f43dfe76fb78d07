"""QA API routes, included under /api/v1/ by tsconsole/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("qa/samples/", api.SampleList.as_view(), name="api-qa-samples"),
    path("qa/samples/<int:pk>/", api.SampleDetail.as_view(), name="api-qa-sample"),
    path("qa/samples/<int:pk>/review/", api.SampleReview.as_view(), name="api-qa-sample-review"),
    path("qa/sampling-rules/", api.SamplingRules.as_view(), name="api-qa-sampling-rules"),
    path("qa/rubrics/", api.Rubrics.as_view(), name="api-qa-rubrics"),
    path("qa/calibrations/", api.Calibrations.as_view(), name="api-qa-calibrations"),
    path("qa/calibrations/<int:pk>/", api.CalibrationDetail.as_view(), name="api-qa-calibration"),
    path("qa/calibrations/<int:pk>/answers/", api.CalibrationAnswers.as_view(), name="api-qa-calibration-answers"),
    path("qa/calibrations/<int:pk>/close/", api.CalibrationClose.as_view(), name="api-qa-calibration-close"),
]
