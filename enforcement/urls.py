from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/decide/", views.decide, name="enforcement-decide"),
    path("cases/<int:pk>/decide/macro/", views.macro_preview, name="enforcement-macro-preview"),
    path("approvals/", views.approvals, name="enforcement-approvals"),
    path("actions/<int:pk>/", views.action_detail, name="enforcement-action"),
    path("actions/<int:pk>/approve/", views.approve, name="enforcement-approve"),
    path("actions/<int:pk>/reject/", views.reject, name="enforcement-reject"),
    path("actions/<int:pk>/reverse/", views.action_reverse, name="enforcement-reverse"),
    path("support/lookup/", views.support_lookup, name="support-lookup"),
]
