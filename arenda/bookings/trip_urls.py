"""The driver's trip page outside the login: /t/<token>/ (``bookings/trip_views.py``)."""

from django.urls import path

from arenda.bookings import trip_views

app_name = "trip"
urlpatterns = [
    path("<str:token>/", trip_views.trip_page, name="page"),
]
