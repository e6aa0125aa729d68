from django.urls import path

from arenda.integrations.messaging.webhook import telegram_webhook

app_name = "messaging"

urlpatterns = [path("webhook/", telegram_webhook, name="telegram-webhook")]
