from django.urls import path

from . import taxonomy

urlpatterns = [
    path("categories/", taxonomy.CategoryList.as_view(), name="api-categories"),
]
