"""Enforcement API routes, included under /api/v1/ by tsconsole/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("cases/<int:pk>/decide/", api.CaseDecide.as_view(), name="api-case-decide"),
    path("actions/<int:pk>/approve/", api.ActionApprove.as_view(), name="api-action-approve"),
    path("actions/<int:pk>/reject/", api.ActionReject.as_view(), name="api-action-reject"),
    path("actions/<int:pk>/reverse/", api.ActionReverse.as_view(), name="api-action-reverse"),
    path("subjects/<str:kind>/<path:external_id>/", api.SubjectStatus.as_view(), name="api-subject-status"),
]
