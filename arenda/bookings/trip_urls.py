"""The driver's trip page outside the login: /t/<token>/ (``bookings/trip_views.py``)."""

from django.urls import path

from arenda.bookings import sign_views, trip_views

app_name = "trip"
urlpatterns = [
    path("<str:token>/", trip_views.trip_page, name="page"),
    path("<str:token>/state/", trip_views.trip_state, name="state"),
    path("<str:token>/mark/<str:mark>/", trip_views.trip_mark, name="mark"),
    path("<str:token>/accept/", trip_views.trip_accept, name="accept"),
    path("<str:token>/report/", trip_views.trip_report, name="report"),
    path("<str:token>/sign/", sign_views.trip_sign, name="sign"),
    path("<str:token>/sign/code/", sign_views.trip_sign_code, name="sign_code"),
    path("<str:token>/sign/<int:pk>/pdf/", sign_views.trip_shift_report_pdf, name="shift_report_pdf"),
]
