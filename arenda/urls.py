from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from arenda.api.channels import avito_webhook, max_webhook, vk_webhook
from arenda.api.telegram import telegram_webhook
from arenda.ops import metrics_views
from arenda.ops import views as ops_views

telegram_urls = ([path("webhook/", telegram_webhook, name="telegram-webhook")], "messaging")
channel_urls = (
    [
        path("max/webhook/", max_webhook, name="max-webhook"),
        path("vk/webhook/", vk_webhook, name="vk-webhook"),
        path("avito/webhook/<str:key>/", avito_webhook, name="avito-webhook"),
    ],
    "channels",
)

handler404 = "arenda.api.errors.page_not_found"
handler500 = "arenda.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("api/v1/", include("arenda.api.urls")),
    path("directory/", include("arenda.directory.urls")),
    path("bookings/", include("arenda.bookings.urls")),
    path("deals/", include("arenda.crm.urls")),
    path("invoices/", include("arenda.billing.urls")),
    path("reports/", include("arenda.reports.urls")),
    path("integrations/telegram/", include(telegram_urls)),
    path("integrations/", include(channel_urls)),
    path("p/", include("arenda.crm.public_urls")),
    path("a/", include("arenda.billing.act_public_urls")),
    # The driver's trip page: the token is the key, no login (arenda/bookings/trip_views.py).
    path("t/", include("arenda.bookings.trip_urls")),
    path("s/", include("arenda.bookings.supply_public_urls")),
    # Prometheus; 404 unless the scraper is let in (arenda/ops/metrics_views.py)
    path("metrics", metrics_views.metrics, name="metrics"),
    # The public probe (no login; status words only) and the admin's health page (docs/health.md).
    path("health/", ops_views.health, name="health"),
    path("ops/", include("arenda.ops.urls")),
    path("", include("arenda.front.urls")),
]

# No route serves DATA_DIR (MEDIA_ROOT) in any mode: each stored file goes out through a view
# that checks the reader's right to its record (docs/security.md, «Files»).
