"""The Telegram bot's webhook (``/integrations/telegram/webhook/``): customers' messages
become leads, «Принял» presses acknowledge orders, drivers bind their chat and report
hours. Reading the call is the adapter's (``integrations/messaging/webhook.py``), what it
sets off is ``flows/telegram.py``'s."""

import logging

from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arenda.flows import telegram
from arenda.integrations.messaging import webhook

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def telegram_webhook(request):
    if not webhook.secret_ok(request):
        return JsonResponse({"detail": "Forbidden"}, status=403)
    try:
        update = webhook.read_update(request.body)
    except webhook.BadUpdate as exc:
        # Telegram redelivers every call not answered 2xx: a body that is not an update
        # is logged and dropped, or it would come back forever.
        log.warning("telegram webhook: ignored a call that is not an update (%s): %.200r", exc, request.body)
        return JsonResponse({"ok": True, "ignored": str(exc)})
    with transaction.atomic():
        if not webhook.first_time(update):
            return JsonResponse({"ok": True})
        # Telegram runs a method given in the webhook's answer: no extra call from here.
        return JsonResponse(telegram.handle(update) or {"ok": True})
