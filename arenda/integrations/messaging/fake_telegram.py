"""A fake Telegram Bot API server for the tests and the demo (``manage.py fake_telegram``).

Bot API methods (``/bot<token>/<method>``, JSON or form parameters): ``getMe``,
``sendMessage``, ``answerCallbackQuery``, ``setWebhook``. Control endpoints:

- ``POST /_control {"fail": "429"|"500"|"403"|"timeout"|"none", "times": N,
  "retry_after": s, "delay": s}`` — the next N ``sendMessage`` calls fail that way
  ("timeout" takes the message, then answers only after ``delay`` seconds, as a
  Telegram whose answer is lost would);
- ``GET /_sent`` — the messages taken and every method call; ``POST /_reset``;
- ``POST /_update`` — play a user: ``{"say": {"chat_id", "text", "first_name"?}}``,
  ``{"press": <message_id>}`` (its first button) or a whole update; it is posted to the
  webhook set with ``setWebhook`` (with its secret token), and a method in the webhook's
  answer is carried out, as Telegram does.
"""

import json
import time
from urllib.parse import parse_qsl, urlsplit

import httpx

from arenda.integrations.messaging.fake_server import FakeServer, JsonHandler

FAILURES = {
    "429": (429, "Too Many Requests: retry after {retry_after}"),
    "500": (500, "Internal Server Error"),
    "403": (403, "Forbidden: bot was blocked by the user"),
}


class FakeTelegram(FakeServer):
    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict] = []
            self.calls: list[dict] = []
            self.fail, self.fail_times, self.retry_after, self.delay = "none", 0, 1, 2.0
            self.webhook = {"url": "", "secret_token": ""}
            self._next_message_id = 1
            # Real update ids only grow; starting from the clock keeps that across restarts.
            self._next_update_id = int(time.time())

    # --- the Bot API ---------------------------------------------------------------------------
    def call(self, token: str, method: str, params: dict) -> tuple[int, dict, float]:
        """→ (HTTP status, body, seconds to wait before answering)."""
        with self.lock:
            self.calls.append({"method": method, "token": token, "params": params})
            if method == "getMe":
                return (
                    200,
                    _ok({"id": 1, "is_bot": True, "first_name": "Arenda", "username": "arenda_fake_bot"}),
                    0,
                )
            if method == "setWebhook":
                self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token", "")}
                return 200, _ok(True, description="Webhook was set"), 0
            if method == "answerCallbackQuery":
                return 200, _ok(True), 0
            if method != "sendMessage":
                return 404, _error(404, "Not Found"), 0
            if not params.get("chat_id"):
                return 400, _error(400, "Bad Request: chat_id is empty"), 0
            if not params.get("text"):
                return 400, _error(400, "Bad Request: message text is empty"), 0
            fail = self.fail if self.fail_times > 0 else "none"
            if fail != "none":
                self.fail_times -= 1
            if fail in FAILURES:
                status, description = FAILURES[fail]
                extra = {"parameters": {"retry_after": self.retry_after}} if status == 429 else {}
                return status, _error(status, description.format(retry_after=self.retry_after), **extra), 0
            message = {
                "message_id": self._next_message_id,
                "date": int(time.time()),
                "chat": {"id": _chat_id(params["chat_id"]), "type": "private"},
                "text": params["text"],
            }
            if params.get("reply_markup"):
                markup = params["reply_markup"]
                message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            self._next_message_id += 1
            self.sent.append(message)
            return 200, _ok(message), self.delay if fail == "timeout" else 0

    # --- playing a user ------------------------------------------------------------------------
    def update(self, spec: dict) -> dict:
        with self.lock:
            update_id = self._next_update_id
            self._next_update_id += 1
            webhook = dict(self.webhook)
            sent = list(self.sent)
        if "say" in spec:
            say = spec["say"]
            chat = {
                "id": _chat_id(say["chat_id"]),
                "type": "private",
                "first_name": say.get("first_name", ""),
            }
            user = {"id": chat["id"], "is_bot": False, "first_name": say.get("first_name", "")}
            update = {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "from": user,
                    "chat": chat,
                    "date": int(time.time()),
                    "text": say["text"],
                },
            }
        elif "press" in spec:
            message = next(m for m in sent if m["message_id"] == int(spec["press"]))
            button = message["reply_markup"]["inline_keyboard"][0][0]
            update = {
                "update_id": update_id,
                "callback_query": {
                    "id": str(update_id),
                    "from": {"id": message["chat"]["id"], "is_bot": False, "first_name": ""},
                    "message": message,
                    "data": button["callback_data"],
                },
            }
        else:
            update = {"update_id": update_id, **spec}
        if not webhook["url"]:
            return {"update": update, "status": None, "detail": "no webhook set"}
        response = httpx.post(
            webhook["url"],
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook["secret_token"]},
            timeout=30,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("method"):
            params = {k: v for k, v in answer.items() if k != "method"}
            self.call("webhook-answer", answer["method"], params)
        return {"update": update, "status": response.status_code, "answer": answer}


class _Handler(JsonHandler):
    server: FakeTelegram

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        try:
            params = dict(parse_qsl(parts.query)) | self._body()
        except ValueError:
            return self._answer(400, _error(400, "Bad Request: can't parse the parameters"))
        fake = self.server
        if parts.path.startswith("/bot") and parts.path.count("/") == 2:
            token, method = parts.path[4:].split("/")
            status, body, delay = fake.call(token, method, params)
            time.sleep(delay)
            return self._answer(status, body)
        if parts.path == "/_control":
            with fake.lock:
                fake.fail = str(params.get("fail", "none"))
                fake.fail_times = int(params.get("times", 1))
                fake.retry_after = int(params.get("retry_after", fake.retry_after))
                fake.delay = float(params.get("delay", fake.delay))
            return self._answer(200, {"ok": True})
        if parts.path == "/_sent":
            with fake.lock:
                return self._answer(
                    200, {"messages": fake.sent, "calls": fake.calls, "webhook": fake.webhook}
                )
        if parts.path == "/_reset":
            fake.reset()
            return self._answer(200, {"ok": True})
        if parts.path == "/_update":
            return self._answer(200, fake.update(params))
        return self._answer(404, _error(404, "Not Found"))

    def _body(self) -> dict:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not raw:
            return {}
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
            return body
        return dict(parse_qsl(raw.decode()))


def _ok(result, **extra) -> dict:
    return {"ok": True, "result": result, **extra}


def _error(code: int, description: str, **extra) -> dict:
    return {"ok": False, "error_code": code, "description": description, **extra}


def _chat_id(value):
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text


FakeTelegram.handler_class = _Handler
