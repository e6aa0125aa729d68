"""The driver's trip page outside the login: /t/<token>/ (``bookings/trip_views.py``)."""

from django.urls import path

from arenda.bookings import trip_views

app_name = "trip"
urlpatterns = [
    path("<str:token>/", trip_views.trip_page, name="page"),
    path("<str:token>/state/", trip_views.trip_state, name="state"),
    path("<str:token>/mark/<str:mark>/", trip_views.trip_mark, name="mark"),
    path("<str:token>/report/", trip_views.trip_report, name="report"),
]
