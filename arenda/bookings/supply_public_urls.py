"""The supplier's request link outside the login: /s/<token>/ (``bookings/supply_public_views.py``)."""

from django.urls import path

from arenda.bookings import supply_public_views

app_name = "supply_public"
urlpatterns = [
    path("<str:token>/", supply_public_views.request_page, name="page"),
    path("<str:token>/request.pdf", supply_public_views.request_pdf, name="pdf"),
    path("<str:token>/confirm/", supply_public_views.request_confirm, name="confirm"),
    path("<str:token>/decline/", supply_public_views.request_decline, name="decline"),
]
