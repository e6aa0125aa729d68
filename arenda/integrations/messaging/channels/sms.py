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
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult
from arenda.integrations.messaging.models import OutboxMessage
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


def send_smsru(message, cfg) -> SendResult:
    if not cfg.api_id:
        return SendResult(Outcome.FAILED, error=_("SMS.ru is not set up (SMS_API_ID)."))
    to = recipient_digits(message.recipient)
    data = {"api_id": cfg.api_id, "to": to, "msg": message.text, "json": "1"}
    if cfg.sender:
        data["from"] = cfg.sender
    response = _post(f"{str(cfg.smsru_url).rstrip('/')}/sms/send", data)
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


def send_smsc(message, cfg) -> SendResult:
    if not (cfg.login and cfg.password):
        return SendResult(Outcome.FAILED, error=_("SMSC is not set up (SMS_LOGIN, SMS_PASSWORD)."))
    data = {
        "login": cfg.login,
        "psw": cfg.password,
        "phones": recipient_digits(message.recipient),
        "mes": message.text,
        "fmt": "3",
        "charset": "utf-8",
        # Our own id: SMSC refuses the same one twice, so a repeat is not a second SMS.
        "id": str(message.pk or "")[:40],
    }
    if cfg.sender:
        data["sender"] = cfg.sender
    response = _post(f"{str(cfg.smsc_url).rstrip('/')}/send.php", data)
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


# Message states the gateways report (docs/channels.md): provider code → our outcome.
SMSRU_STATES = {
    103: Outcome.DELIVERED,
    110: Outcome.READ,
    104: Outcome.FAILED,
    105: Outcome.FAILED,
    106: Outcome.FAILED,
    107: Outcome.FAILED,
    108: Outcome.FAILED,
    150: Outcome.FAILED,
}
SMSC_STATES = {
    1: Outcome.DELIVERED,
    2: Outcome.READ,
    4: Outcome.READ,
    3: Outcome.FAILED,
    20: Outcome.FAILED,
    22: Outcome.FAILED,
    23: Outcome.FAILED,
    24: Outcome.FAILED,
    25: Outcome.FAILED,
}


def status_smsru(message, cfg) -> SendResult | None:
    response = _post(
        f"{str(cfg.smsru_url).rstrip('/')}/sms/status",
        {"api_id": cfg.api_id, "sms_id": message.external_id, "json": "1"},
    )
    if isinstance(response, SendResult) or response.status_code != 200:
        return None
    entry = (_json(response).get("sms") or {}).get(message.external_id) or {}
    outcome = SMSRU_STATES.get(entry.get("status_code"))
    if outcome is None:
        return None
    return SendResult(outcome, error=f"SMS.ru {entry.get('status_code')}: {entry.get('status_text', '')}")


def status_smsc(message, cfg) -> SendResult | None:
    response = _post(
        f"{str(cfg.smsc_url).rstrip('/')}/status.php",
        {
            "login": cfg.login,
            "psw": cfg.password,
            "phone": recipient_digits(message.recipient),
            "id": message.external_id,
            "fmt": "3",
        },
    )
    if isinstance(response, SendResult) or response.status_code != 200:
        return None
    body = _json(response)
    outcome = SMSC_STATES.get(body.get("status"))
    if outcome is None:
        return None
    return SendResult(outcome, error=f"SMSC {body.get('status')}: {body.get('err', '')}")


def balance() -> str | None:
    """The gateway's balance in roubles as it says it, or None when it cannot be asked."""
    cfg = config.get("sms")
    if not cfg.ready:
        return None
    if cfg.gateway == "smsru":
        response = _post(f"{str(cfg.smsru_url).rstrip('/')}/my/balance", {"api_id": cfg.api_id, "json": "1"})
        if isinstance(response, SendResult) or response.status_code != 200:
            return None
        value = _json(response).get("balance")
    else:
        response = _post(
            f"{str(cfg.smsc_url).rstrip('/')}/balance.php",
            {"login": cfg.login, "psw": cfg.password, "fmt": "3"},
        )
        if isinstance(response, SendResult) or response.status_code != 200:
            return None
        value = _json(response).get("balance")
    return None if value is None else str(value)


def sent_today() -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return OutboxMessage.objects.filter(channel="sms", sent_at__gte=start).count()


GATEWAYS = {"smsru": send_smsru, "smsc": send_smsc}
STATUSES = {"smsru": status_smsru, "smsc": status_smsc}


def configured() -> bool:
    """Whether an SMS can be sent at all (a known gateway is chosen and the channel is on)."""
    cfg = config.get("sms")
    return cfg.enabled and cfg.gateway in GATEWAYS


class SmsChannel(Channel):
    name = "sms"

    def send(self, message) -> SendResult:
        cfg = config.get("sms")
        gateway = GATEWAYS.get(cfg.gateway)
        if gateway is None or not cfg.enabled:
            return SendResult(
                Outcome.FAILED, error=_("No SMS gateway is set up (SMS_GATEWAY) or SMS is off.")
            )
        cap = int(cfg.daily_cap or 0)
        if cap and sent_today() >= cap:
            return SendResult(
                Outcome.FAILED,
                error=_("Today's SMS cap is reached (%(cap)d); raise it on the channels page.")
                % {"cap": cap},
            )
        return gateway(message, cfg)

    def status(self, message) -> SendResult | None:
        """What the gateway says of a sent SMS now: delivered, read or failed (with the
        reason); None while it is on its way or the gateway cannot be asked."""
        cfg = config.get("sms")
        poll = STATUSES.get(cfg.gateway)
        if poll is None or not message.external_id:
            return None
        return poll(message, cfg)
