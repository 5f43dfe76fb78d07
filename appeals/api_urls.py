"""Appeal API routes, included under /api/v1/ by tsconsole/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("appeals/", api.AppealListCreate.as_view(), name="api-appeals"),
    path("appeals/<int:pk>/", api.AppealDetail.as_view(), name="api-appeal-detail"),
    path("appeals/<int:pk>/decide/", api.AppealDecide.as_view(), name="api-appeal-decide"),
]
