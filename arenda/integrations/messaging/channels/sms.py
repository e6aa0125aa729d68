"""SMS through a gateway: SMS.ru or SMSC.ru (``settings.SMS_GATEWAY``), for the sign-off
codes (docs/shift-report.md). The request and answer shapes are the providers' HTTP APIs
(``fake_sms.py`` plays both). Calls go through ``integrations/outbound.py``: the base
URLs are settings an operator may point elsewhere.

A gateway's «accepted» is not delivery, hence SENT. Retried: network errors, SMS.ru 220
(service unavailable) and 500, SMSC 4 (IP blocked for a while) and 9 (duplicate within a
minute); every other refusal (bad key, no money, bad number, stop-list) is final.
"""

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult
from arenda.integrations.outbound import OutboundRefused, OutboundTransport

SMSRU_RETRY = {220, 500}
SMSC_RETRY = {4: None, 9: 60}


def recipient_digits(phone: str) -> str:
    """+79991234567 → 79991234567: both gateways take the number without the plus."""
    return "".join(ch for ch in str(phone) if ch.isdigit())


def _post(url: str, data: dict) -> httpx.Response | SendResult:
    try:
        with httpx.Client(transport=OutboundTransport(), timeout=settings.SMS_TIMEOUT) as client:
            return client.post(url, data=data)
    except OutboundRefused as exc:
        return SendResult(Outcome.FAILED, error=exc.message)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return SendResult(
            Outcome.RETRY,
            error=_("The SMS gateway is unreachable: %(error)s") % {"error": str(exc) or type(exc).__name__},
        )
    except httpx.HTTPError as exc:
        return SendResult(
            Outcome.RETRY,
            error=_("No answer from the SMS gateway: %(error)s") % {"error": str(exc) or type(exc).__name__},
            in_doubt=True,
        )


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def send_smsru(message) -> SendResult:
    if not settings.SMS_API_ID:
        return SendResult(Outcome.FAILED, error=_("SMS.ru is not set up (SMS_API_ID)."))
    to = recipient_digits(message.recipient)
    data = {"api_id": settings.SMS_API_ID, "to": to, "msg": message.text, "json": "1"}
    if settings.SMS_SENDER:
        data["from"] = settings.SMS_SENDER
    response = _post(f"{settings.SMS_SMSRU_URL.rstrip('/')}/sms/send", data)
    if isinstance(response, SendResult):
        return response
    if response.status_code >= 500:
        return SendResult(Outcome.RETRY, error=f"SMS.ru {response.status_code}")
    body = _json(response)
    entry = (body.get("sms") or {}).get(to) if body.get("status") == "OK" else None
    if entry is None:
        entry = body
    code = entry.get("status_code")
    if entry.get("status") == "OK" and entry.get("sms_id"):
        return SendResult(Outcome.SENT, external_id=str(entry["sms_id"]))
    error = f"SMS.ru {code}: {entry.get('status_text') or response.reason_phrase}"
    return SendResult(Outcome.RETRY if code in SMSRU_RETRY else Outcome.FAILED, error=error)


def send_smsc(message) -> SendResult:
    if not (settings.SMS_LOGIN and settings.SMS_PASSWORD):
        return SendResult(Outcome.FAILED, error=_("SMSC is not set up (SMS_LOGIN, SMS_PASSWORD)."))
    data = {
        "login": settings.SMS_LOGIN,
        "psw": settings.SMS_PASSWORD,
        "phones": recipient_digits(message.recipient),
        "mes": message.text,
        "fmt": "3",
        "charset": "utf-8",
        # Our own id: SMSC refuses the same one twice, so a repeat is not a second SMS.
        "id": str(message.pk or "")[:40],
    }
    if settings.SMS_SENDER:
        data["sender"] = settings.SMS_SENDER
    response = _post(f"{settings.SMS_SMSC_URL.rstrip('/')}/send.php", data)
    if isinstance(response, SendResult):
        return response
    if response.status_code >= 500:
        return SendResult(Outcome.RETRY, error=f"SMSC {response.status_code}")
    body = _json(response)
    if "error" not in body and body.get("id") is not None:
        return SendResult(Outcome.SENT, external_id=str(body["id"]))
    code = body.get("error_code")
    error = f"SMSC {code}: {body.get('error') or response.reason_phrase}"
    if code in SMSC_RETRY:
        return SendResult(Outcome.RETRY, error=error, retry_after=SMSC_RETRY[code])
    return SendResult(Outcome.FAILED, error=error)


GATEWAYS = {"smsru": send_smsru, "smsc": send_smsc}


def configured() -> bool:
    """Whether an SMS can be sent at all (a known gateway is chosen)."""
    return settings.SMS_GATEWAY in GATEWAYS


class SmsChannel(Channel):
    name = "sms"

    def send(self, message) -> SendResult:
        gateway = GATEWAYS.get(settings.SMS_GATEWAY)
        if gateway is None:
            return SendResult(Outcome.FAILED, error=_("No SMS gateway is set up (SMS_GATEWAY)."))
        return gateway(message)
