from django.urls import path

from arenda.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("payroll/", views.payroll, name="payroll"),
    path("payroll/driver/<int:pk>/", views.payroll_driver, name="payroll_driver"),
    path("plates/", views.plates, name="plates"),
    path("receivables/", views.receivables, name="receivables"),
    path("fleet/", views.fleet, name="fleet"),
    path("discrepancies/", views.discrepancies, name="discrepancies"),
]
