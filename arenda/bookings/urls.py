from django.urls import path

from arenda.bookings import dispatch_views, sign_views, views, waybill_views

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
    path("<int:pk>/waybill/", waybill_views.waybill_create, name="waybill_create"),
    path("waybills/<int:pk>/edit/", waybill_views.waybill_update, name="waybill_update"),
    path("waybills/<int:pk>/scan/", waybill_views.waybill_scan, name="waybill_scan"),
    path("evidence/<int:pk>/", waybill_views.evidence_row, name="evidence_row"),
    path("evidence/<int:pk>/accept/", waybill_views.evidence_accept, name="evidence_accept"),
    path("evidence/<int:pk>/dismiss/", waybill_views.evidence_dismiss, name="evidence_dismiss"),
    path("evidence/<int:pk>/retry/", waybill_views.evidence_retry, name="evidence_retry"),
    path("shift-reports/<int:pk>/pdf/", sign_views.shift_report_pdf, name="shift_report_pdf"),
    path("<int:pk>/dispatch/", dispatch_views.booking_dispatch, name="booking_dispatch"),
    path("<int:pk>/dispatch/status/", dispatch_views.booking_dispatch_status, name="booking_dispatch_status"),
    path("<int:pk>/dispatch/retry/", dispatch_views.booking_dispatch_retry, name="booking_dispatch_retry"),
    path("dispatch-template/", dispatch_views.dispatch_template, name="dispatch_template"),
    path(
        "drivers/<int:pk>/telegram/invite/",
        dispatch_views.driver_telegram_invite,
        name="driver_telegram_invite",
    ),
    path(
        "drivers/<int:pk>/telegram/unlink/",
        dispatch_views.driver_telegram_unlink,
        name="driver_telegram_unlink",
    ),
    path(
        "suppliers/<int:pk>/telegram/invite/",
        dispatch_views.supplier_telegram_invite,
        name="supplier_telegram_invite",
    ),
    path(
        "suppliers/<int:pk>/telegram/unlink/",
        dispatch_views.supplier_telegram_unlink,
        name="supplier_telegram_unlink",
    ),
    path(
        "driver-reports/<int:pk>/<decision>/",
        dispatch_views.driver_report_decide,
        name="driver_report_decide",
    ),
    path("driver-report-photos/<int:pk>/", dispatch_views.driver_report_photo, name="driver_report_photo"),
    path("<int:pk>/trip-link/", dispatch_views.booking_trip_link, name="booking_trip_link"),
    path("availability/", views.availability, name="availability"),
    path("timeline/", views.timeline, name="timeline"),
    path("day/", views.day, name="day"),
    path("board/", views.board, name="board"),
    path("day-board/", views.day_board, name="day_board"),
    path("day-board/move/", views.day_board_move, name="day_board_move"),
    path("calendar-feeds/", views.calendar_feeds, name="calendar_feeds"),
    path("supply-orders/", views.supply_order_list, name="supply_order_list"),
    path("supply-orders/<int:pk>/", views.supply_order_detail, name="supply_order_detail"),
    path("supply-orders/<int:pk>/status/", views.supply_order_status, name="supply_order_status"),
    path(
        "supply-orders/<int:pk>/send-request/",
        views.supply_order_send_request,
        name="supply_order_send_request",
    ),
    path(
        "supply-orders/<int:pk>/request.pdf", views.supply_order_request_pdf, name="supply_order_request_pdf"
    ),
]
