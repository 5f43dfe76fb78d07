"""Insights API routes, included under /api/v1/ by tsconsole/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("dsa/statements/", api.StatementList.as_view(), name="api-dsa-statements"),
    path("insights/transparency-report/", api.TransparencyReport.as_view(), name="api-transparency-report"),
]
