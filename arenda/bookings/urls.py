from django.urls import path

from arenda.bookings import views

app_name = "bookings"
urlpatterns = [
    path("", views.booking_list, name="booking_list"),
    path("deal/<int:deal_pk>/new/", views.booking_create, name="booking_create"),
    path("<int:pk>/", views.booking_detail, name="booking_detail"),
    path("<int:pk>/edit/", views.booking_update, name="booking_update"),
    path("<int:pk>/reserve/", views.booking_reserve, name="booking_reserve"),
    path("<int:pk>/supply/", views.booking_request_supply, name="booking_request_supply"),
    path("<int:pk>/confirm/", views.booking_confirm, name="booking_confirm"),
    path("<int:pk>/complete/", views.booking_complete, name="booking_complete"),
    path("<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("availability/", views.availability, name="availability"),
    path("timeline/", views.timeline, name="timeline"),
    path("day/", views.day, name="day"),
    path("board/", views.board, name="board"),
    path("calendar-feeds/", views.calendar_feeds, name="calendar_feeds"),
    path("supply-orders/", views.supply_order_list, name="supply_order_list"),
    path("supply-orders/<int:pk>/", views.supply_order_detail, name="supply_order_detail"),
    path("supply-orders/<int:pk>/status/", views.supply_order_status, name="supply_order_status"),
]
