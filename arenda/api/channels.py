"""The webhooks of MAX (``/integrations/max/webhook/``), VK (``/integrations/vk/webhook/``)
and Avito (``/integrations/avito/webhook/<key>/``): customers' messages become leads,
«Принял» presses acknowledge orders, drivers bind their MAX dialog. Reading a call is the
adapter's (``integrations/messaging/inbound.py``), what it sets off ``flows/channels.py``'s.

A call without the platform's proof of origin is refused (403) and changes nothing. Each
event is handled once; a body we cannot read is logged and answered as handled, or the
platform would redeliver it forever; an unexpected error answers 500 and rolls back, so
the platform's redelivery retries it.
"""

import logging

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arenda.flows import channels
from arenda.integrations.messaging import inbound
from arenda.integrations.messaging.channels import vk

log = logging.getLogger(__name__)


def _forbidden():
    return JsonResponse({"detail": "Forbidden"}, status=403)


def _take(event: inbound.Incoming) -> None:
    with transaction.atomic():
        if inbound.first_time(event):
            channels.handle(event)


@csrf_exempt
@require_POST
def max_webhook(request):
    if not inbound.max_secret_ok(request):
        return _forbidden()
    try:
        event = inbound.max_update(request.body)
    except inbound.BadEvent as exc:
        log.warning("max webhook: ignored a call that is not an update (%s): %.200r", exc, request.body)
        return JsonResponse({"ok": True, "ignored": str(exc)})
    _take(event)
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def vk_webhook(request):
    try:
        body = inbound.vk_event(request.body)
    except PermissionError:
        return HttpResponse("forbidden", status=403, content_type="text/plain")
    except inbound.BadEvent as exc:
        log.warning("vk webhook: ignored a call that is not an event (%s): %.200r", exc, request.body)
        return HttpResponse("ok", content_type="text/plain")
    if body.get("type") == "confirmation":
        # VK checks the address: the answer is the community's confirmation string.
        return HttpResponse(vk.confirmation_code(), content_type="text/plain")
    try:
        event = inbound.vk_incoming(body)
    except inbound.BadEvent as exc:
        log.warning("vk webhook: ignored an event we cannot read (%s): %.200r", exc, request.body)
        return HttpResponse("ok", content_type="text/plain")
    _take(event)
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_POST
def avito_webhook(request, key: str):
    if not inbound.avito_key_ok(key):
        return _forbidden()
    try:
        event = inbound.avito_delivery(request.body)
    except inbound.BadEvent as exc:
        log.warning("avito webhook: ignored a call that is not a delivery (%s): %.200r", exc, request.body)
        return JsonResponse({"ok": True, "ignored": str(exc)})
    if event is not None:
        _take(event)
    return JsonResponse({"ok": True})
