from django.urls import path

from arenda.core import ui
from arenda.directory import views

app_name = "directory"
urlpatterns = [
    *(pattern for page in views.PAGES for pattern in ui.urls(page)),
    path("units/<int:pk>/maintenance/", views.maintenance_create, name="maintenance_create"),
    path("maintenance/<int:pk>/delete/", views.maintenance_delete, name="maintenance_delete"),
]
