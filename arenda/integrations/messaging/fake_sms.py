"""A fake SMS gateway for the tests and the demo: SMS.ru (``POST /sms/send``,
``/sms/status``, ``/my/balance``) and SMSC (``/sys/send.php``, ``/sys/status.php``,
``/sys/balance.php``) on one server, with the answer shapes of ``../shared/samples/sms``
(docs/shift-report.md).

Point the app at it with ``SMS_SMSRU_URL=<url>`` or ``SMS_SMSC_URL=<url>/sys``. Each SMS
costs ``sms_cost`` off ``balance`` (512.35); without enough money a send is refused (SMS.ru
201, SMSC 3). A message taken is "delivered" until ``/_status`` moves it. Control:

- ``POST /_control {"fail": "<code>"|"none", "times": N, "balance"?: rub}`` — the next N
  sends are refused with that provider code (SMS.ru 200/201/207/220/500…, SMSC 2/3/7/9…;
  "http500" answers HTTP 500); ``balance`` sets the money left;
- ``POST /_status {"id": <provider id>, "state": "sent"|"delivered"|"read"|"failed"|"expired"}``
  — what the status methods answer for that message from now on (SMS.ru 102/103/110/106/104,
  SMSC 0/1/2/20/3);
- ``GET /_sent`` — the messages taken (``provider``, ``phone``, ``text``, ``id``, ``state``);
  ``POST /_reset``.
"""

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from arenda.integrations.messaging.fake_server import FakeServer, JsonHandler

API_ID = "test-api-id"
LOGIN, PASSWORD = "test-login", "test-password"
SMSRU_TEXTS = {
    200: "Неправильный api_id",
    201: "Не хватает средств на лицевом счету",
    207: "На этот номер нет маршрута для доставки сообщений",
    220: "Сервис временно недоступен, попробуйте чуть позже",
    500: "Ошибка на сервере. Повторите запрос",
}
# A message's state → (SMS.ru status code and text, SMSC status code and operator error).
STATES = {
    "sent": (102, "Сообщение отправлено (в пути)", 0, 0),
    "delivered": (103, "Сообщение доставлено", 1, 0),
    "read": (110, "Сообщение прочитано", 2, 0),
    "failed": (106, "Не может быть доставлено: сбой в телефоне", 20, 253),
    "expired": (104, "Не может быть доставлено: время жизни истекло", 3, 0),
}
MOSCOW = timezone(timedelta(hours=3))  # SMSC gives its dates in Moscow time


class FakeSms(FakeServer):
    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict] = []
            self.fail, self.fail_times = "", 0
            self.balance, self.sms_cost = 512.35, 4.49
            self._next_id = 1000001

    def _failure(self) -> str:
        if self.fail_times <= 0:
            return ""
        self.fail_times -= 1
        return self.fail

    def _take(self, provider: str, phone: str, text: str) -> str:
        message_id = str(self._next_id)
        self._next_id += 1
        self.balance = round(self.balance - self.sms_cost, 2)
        taken = {"provider": provider, "phone": phone, "text": text, "id": message_id}
        self.sent.append(taken | {"state": "delivered", "changed": int(time.time())})
        return message_id

    def _message(self, provider_id: str) -> dict | None:
        """The message SMS.ru calls "202412-<id>" and SMSC "<id>"."""
        return next((m for m in self.sent if m["id"] == str(provider_id).removeprefix("202412-")), None)

    def set_state(self, provider_id: str, state: str) -> tuple[int, dict]:
        with self.lock:
            message = self._message(provider_id)
            if message is None or state not in STATES:
                return 400, {"ok": False, "detail": f"no message {provider_id} or no state {state}"}
            message |= {"state": state, "changed": int(time.time())}
            return 200, {"ok": True}

    # --- SMS.ru ------------------------------------------------------------------------------------
    def smsru_send(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            if params.get("api_id") != API_ID:
                return 200, {"status": "ERROR", "status_code": 200, "status_text": SMSRU_TEXTS[200]}
            text = params.get("msg") or params.get("text") or ""
            if not text:
                return 200, {"status": "ERROR", "status_code": 203, "status_text": "Нет текста сообщения"}
            fail = self._failure()
            if fail == "http500":
                return 500, {}
            if fail in ("200", "201", "220", "500"):
                code = int(fail)
                return 200, {"status": "ERROR", "status_code": code, "status_text": SMSRU_TEXTS[code]}
            phones = [p for p in (params.get("to") or "").split(",") if p]
            if not fail and self.balance < self.sms_cost * len(phones):
                return 200, {"status": "ERROR", "status_code": 201, "status_text": SMSRU_TEXTS[201]}
            answer = {}
            for phone in phones:
                if fail:
                    code = int(fail)
                    answer[phone] = {
                        "status": "ERROR",
                        "status_code": code,
                        "status_text": SMSRU_TEXTS.get(code, ""),
                    }
                else:
                    sms_id = f"202412-{self._take('smsru', phone, text)}"
                    answer[phone] = {"status": "OK", "status_code": 100, "sms_id": sms_id}
            return 200, {"status": "OK", "status_code": 100, "sms": answer, "balance": self.balance}

    def smsru_status(self, params: dict) -> tuple[int, dict]:
        sms = {}
        with self.lock:
            for i in (params.get("sms_id") or "").split(","):
                message = self._message(i) if i.startswith("202412-") else None
                if message is None or message["provider"] != "smsru":
                    sms[i] = {"status": "ERROR", "status_code": -1, "status_text": "Сообщение не найдено"}
                else:
                    code, text = STATES[message["state"]][:2]
                    sms[i] = {"status": "OK", "status_code": code, "status_text": text}
        sms.pop("", None)
        return 200, {"status": "OK", "status_code": 100, "sms": sms}

    def smsru_balance(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            if params.get("api_id") != API_ID:
                return 200, {"status": "ERROR", "status_code": 200, "status_text": SMSRU_TEXTS[200]}
            return 200, {"status": "OK", "status_code": 100, "balance": self.balance}

    # --- SMSC --------------------------------------------------------------------------------------
    def smsc_send(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            if (params.get("login"), params.get("psw")) != (LOGIN, PASSWORD):
                return 200, {"error": "authorise error", "error_code": 2}
            fail = self._failure()
            if fail == "http500":
                return 500, {}
            if fail:
                return 200, {"error": "error", "error_code": int(fail)}
            text = params.get("mes") or ""
            if not text:
                return 200, {"error": "parameters error", "error_code": 1}
            phones = [p for p in (params.get("phones") or "").replace(";", ",").split(",") if p]
            if self.balance < self.sms_cost * len(phones):
                return 200, {"error": "no money", "error_code": 3}
            last = None
            for phone in phones:
                last = self._take("smsc", phone, text)
            return 200, {"id": int(last or 0), "cnt": 1}

    def smsc_status(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            message = self._message(params.get("id") or "")
            if message is None or message["provider"] != "smsc":
                return 200, {"status": -3, "last_date": "", "last_timestamp": 0, "err": 0}
            _, _, status, err = STATES[message["state"]]
            changed = message["changed"]
        last_date = datetime.fromtimestamp(changed, UTC).astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M:%S")
        return 200, {"status": status, "last_date": last_date, "last_timestamp": changed, "err": err}

    def smsc_balance(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            if (params.get("login"), params.get("psw")) != (LOGIN, PASSWORD):
                return 200, {"error": "authorise error", "error_code": 2}
            return 200, {"balance": f"{self.balance:.2f}"}


class _Handler(JsonHandler):
    server: FakeSms

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server
        if parts.path == "/_control":
            body = json.loads(raw or b"{}")
            with fake.lock:
                if "fail" in body or "balance" not in body:
                    fail = str(body.get("fail", ""))
                    fake.fail, fake.fail_times = ("" if fail == "none" else fail), int(body.get("times", 1))
                if "balance" in body:
                    fake.balance = float(body["balance"])
            return self._answer(200, {"ok": True})
        if parts.path == "/_status":
            body = json.loads(raw or b"{}")
            return self._answer(*fake.set_state(str(body.get("id", "")), str(body.get("state", ""))))
        if parts.path == "/_reset":
            fake.reset()
            return self._answer(200, {"ok": True})
        if parts.path == "/_sent":
            with fake.lock:
                return self._answer(200, {"messages": list(fake.sent)})
        params = dict(parse_qsl(parts.query)) | dict(parse_qsl(raw.decode("utf-8")))
        routes = {
            "/sms/send": fake.smsru_send,
            "/sms/status": fake.smsru_status,
            "/sys/send.php": fake.smsc_send,
            "/sys/status.php": fake.smsc_status,
            "/my/balance": fake.smsru_balance,
            "/sys/balance.php": fake.smsc_balance,
        }
        if parts.path not in routes:
            return self._answer(
                404, {"status": "ERROR", "status_code": 211, "status_text": "Метод не найден"}
            )
        return self._answer(*routes[parts.path](params))


FakeSms.handler_class = _Handler
