from django.urls import path

from arenda.billing import print_views, statement_views

app_name = "billing"
urlpatterns = []

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
urlpatterns += [path("invoices/<int:pk>/pdf/", print_views.invoice_pdf, name="invoice_pdf")]
