from django.urls import path

from . import views

urlpatterns = [
    path("appeals/<int:pk>/decide/", views.decide, name="appeal-decide"),
    path("support/appeals/", views.file_for_user, name="appeal-file-for-user"),
]
