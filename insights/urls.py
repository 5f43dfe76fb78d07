from django.urls import path

from . import views

urlpatterns = [
    path("insights/", views.home, name="insights-home"),
    path("insights/queues/", views.queues, name="insights-queues"),
    path("insights/team/", views.team, name="insights-team"),
    path("insights/kpis/", views.kpi_list, name="insights-kpis"),
    path("insights/kpis/<slug:key>/target/", views.kpi_target, name="insights-kpi-target"),
    path("insights/kpis/<slug:key>/cases/", views.kpi_cases, name="insights-kpi-cases"),
    path("insights/transparency/", views.transparency, name="insights-transparency"),
    path("insights/exports/<int:pk>/", views.export_detail, name="insights-export"),
    path("insights/exports/<int:pk>/download/", views.export_download, name="insights-export-download"),
]
