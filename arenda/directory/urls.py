from django.urls import path

from arenda.directory import import_views, views
from arenda.front import crud

app_name = "directory"
urlpatterns = [
    *(pattern for page in views.PAGES for pattern in crud.urls(page)),
    path("units/<int:pk>/maintenance/", views.maintenance_create, name="maintenance_create"),
    path("units/<int:pk>/tracker-test/", views.unit_tracker_test, name="unit_tracker_test"),
    path("maintenance/<int:pk>/delete/", views.maintenance_delete, name="maintenance_delete"),
    path("drivers/<int:pk>/documents/", views.driver_document_create, name="driver_document_create"),
    path("documents/<int:pk>/edit/", views.driver_document_edit, name="driver_document_edit"),
    path("documents/<int:pk>/delete/", views.driver_document_delete, name="driver_document_delete"),
    path("documents/<int:pk>/scan/", views.driver_document_scan, name="driver_document_scan"),
    path("drivers/<int:pk>/pay-rates/", views.driver_pay_rate_add_view, name="driver_pay_rate_add"),
    path("equipment-types/<int:pk>/requirements/", views.requirement_add, name="requirement_add"),
    path("requirements/<int:pk>/delete/", views.requirement_delete, name="requirement_delete"),
]
urlpatterns += [
    path("import/<slug:slug>/", import_views.import_view, name="import"),
    path("import/<slug:slug>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("import/<slug:slug>/template.xlsx", import_views.import_template, name="import_template"),
    path("export/<slug:slug>.xlsx", import_views.export_xlsx, name="export_xlsx"),
]
