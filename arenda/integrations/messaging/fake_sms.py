"""A fake SMS gateway for the tests and the demo: SMS.ru (``POST /sms/send``,
``/sms/status``) and SMSC (``/sys/send.php``, ``/sys/status.php``) on one server, with
the answer shapes of ``../shared/samples/sms`` (docs/shift-report.md).

Point the app at it with ``SMS_SMSRU_URL=<url>`` or ``SMS_SMSC_URL=<url>/sys``. Control:

- ``POST /_control {"fail": "<code>", "times": N}`` — the next N sends are refused with
  that provider code (SMS.ru 200/201/207/220/500…, SMSC 2/3/7/9…; "http500" answers HTTP 500);
- ``GET /_sent`` — the messages taken (``provider``, ``phone``, ``text``, ``id``);
  ``POST /_reset``.
"""

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from arenda.integrations.messaging.fake_server import FakeServer

API_ID = "test-api-id"
LOGIN, PASSWORD = "test-login", "test-password"
SMSRU_TEXTS = {
    200: "Неправильный api_id",
    201: "Не хватает средств на лицевом счету",
    207: "На этот номер нет маршрута для доставки сообщений",
    220: "Сервис временно недоступен, попробуйте чуть позже",
    500: "Ошибка на сервере. Повторите запрос",
}


class FakeSms(FakeServer):
    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict] = []
            self.fail, self.fail_times = "", 0
            self._next_id = 1000001

    def _failure(self) -> str:
        if self.fail_times <= 0:
            return ""
        self.fail_times -= 1
        return self.fail

    def _take(self, provider: str, phone: str, text: str) -> str:
        message_id = str(self._next_id)
        self._next_id += 1
        self.sent.append({"provider": provider, "phone": phone, "text": text, "id": message_id})
        return message_id

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
            answer = {}
            for phone in filter(None, (params.get("to") or "").split(",")):
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
            return 200, {"status": "OK", "status_code": 100, "sms": answer, "balance": 1523.40}

    def smsru_status(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            known = {f"202412-{m['id']}" for m in self.sent}
        ids = [i for i in (params.get("sms_id") or "").split(",") if i]
        sms = {
            i: {"status": "OK", "status_code": 103, "status_text": "Сообщение доставлено"}
            if i in known
            else {"status": "ERROR", "status_code": -1, "status_text": "Сообщение не найдено"}
            for i in ids
        }
        return 200, {"status": "OK", "status_code": 100, "sms": sms}

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
            last = None
            for phone in filter(None, (params.get("phones") or "").replace(";", ",").split(",")):
                last = self._take("smsc", phone, text)
            return 200, {"id": int(last or 0), "cnt": 1}

    def smsc_status(self, params: dict) -> tuple[int, dict]:
        with self.lock:
            known = {m["id"] for m in self.sent}
        if params.get("id") not in known:
            return 200, {"status": -3, "last_date": "", "last_timestamp": 0, "err": 0}
        return 200, {"status": 1, "last_date": "04.12.2024 11:13:25", "last_timestamp": 1733300005, "err": 0}


class _Handler(BaseHTTPRequestHandler):
    server: FakeSms

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def _route(self):
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server
        if parts.path == "/_control":
            body = json.loads(raw or b"{}")
            with fake.lock:
                fake.fail, fake.fail_times = str(body.get("fail", "")), int(body.get("times", 1))
            return self._answer(200, {"ok": True})
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
        }
        if parts.path not in routes:
            return self._answer(
                404, {"status": "ERROR", "status_code": 211, "status_text": "Метод не найден"}
            )
        return self._answer(*routes[parts.path](params))

    def _answer(self, status: int, body) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


FakeSms.handler_class = _Handler
