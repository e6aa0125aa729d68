from django.urls import path

from arenda.directory import views
from arenda.front import crud

app_name = "directory"
urlpatterns = [
    *(pattern for page in views.PAGES for pattern in crud.urls(page)),
    path("units/<int:pk>/maintenance/", views.maintenance_create, name="maintenance_create"),
    path("maintenance/<int:pk>/delete/", views.maintenance_delete, name="maintenance_delete"),
]
