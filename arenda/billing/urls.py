from django.urls import path

from arenda.billing import (
    act_document_views,
    act_views,
    print_views,
    reconciliation_views,
    statement_views,
    sync_views,
    views,
)

# Included at /invoices/.
app_name = "billing"
urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("new/", views.invoice_create, name="invoice_create"),
    path("<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("<int:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("<int:pk>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("<int:pk>/payment/", views.invoice_payment, name="invoice_payment"),
    path("<int:pk>/retry-sync/", views.invoice_retry_sync, name="invoice_retry_sync"),
    path("<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("booking/<int:booking_pk>/prepayment/", views.booking_prepayment, name="booking_prepayment"),
    path("payments/", views.payment_list, name="payment_list"),
    path("credit/<int:pk>/apply/", views.counterparty_apply_credit, name="counterparty_apply_credit"),
]

# Bank statements (statement_views).
urlpatterns += [
    path("statements/", statement_views.statement_list, name="statement_list"),
    path("statements/waiting/", statement_views.statement_waiting, name="statement_waiting"),
    path("statements/<int:pk>/", statement_views.statement_detail, name="statement_detail"),
    path(
        "statement-payments/<int:pk>/assign/",
        statement_views.statement_payment_assign,
        name="statement_payment_assign",
    ),
    path(
        "statement-payments/<int:pk>/ignore/",
        statement_views.statement_payment_ignore,
        name="statement_payment_ignore",
    ),
]

# The printed invoice (print_views).
urlpatterns += [path("<int:pk>/pdf/", print_views.invoice_pdf, name="invoice_pdf")]

# The printed closing documents and their e-mail to the customer (act_document_views).
urlpatterns += [
    path("acts/<int:pk>/pdf/", act_document_views.act_pdf, name="act_pdf"),
    path("acts/<int:pk>/send/", act_document_views.act_send, name="act_send"),
]

# The 1C sync page (sync_views).
urlpatterns += [
    path("sync/", sync_views.sync_overview, name="sync"),
    path("sync/bases/<int:pk>/now/", sync_views.sync_base_now, name="sync_base_now"),
    path("sync/invoices/<int:pk>/retry/", sync_views.sync_retry, name="sync_retry"),
    path("sync/acts/<int:pk>/retry/", sync_views.sync_act_retry, name="sync_act_retry"),
]

# The reconciliation statement of a counterparty (reconciliation_views).
urlpatterns += [
    path("reconciliation/<int:counterparty_pk>/", reconciliation_views.reconciliation, name="reconciliation"),
    path(
        "reconciliation/<int:counterparty_pk>/pdf/",
        reconciliation_views.reconciliation,
        {"fmt": "pdf"},
        name="reconciliation_pdf",
    ),
    path(
        "reconciliation/<int:counterparty_pk>/xlsx/",
        reconciliation_views.reconciliation,
        {"fmt": "xlsx"},
        name="reconciliation_xlsx",
    ),
]

# Closing documents: acts and УПД (act_views).
urlpatterns += [
    path("acts/", act_views.act_list, name="act_list"),
    path("acts/<int:pk>/", act_views.act_detail, name="act_detail"),
    path("acts/<int:pk>/issue/", act_views.act_issue, name="act_issue"),
    path("acts/<int:pk>/sign/", act_views.act_mark_signed, name="act_mark_signed"),
    path("acts/<int:pk>/cancel/", act_views.act_cancel, name="act_cancel"),
    path("acts/<int:pk>/delete/", act_views.act_delete, name="act_delete"),
    path("acts/<int:pk>/retry-sync/", act_views.act_retry_sync, name="act_retry_sync"),
    path("acts/<int:pk>/scan/", act_views.act_scan, name="act_scan"),
    path("acts/booking/<int:booking_pk>/", act_views.booking_act, name="booking_act"),
    path(
        "acts/counterparty/<int:pk>/month/", act_views.counterparty_month_act, name="counterparty_month_act"
    ),
]
