"""A fake VK API and Callback API for the tests and the demo (``manage.py fake_vk``), in the
shapes of ``../shared/samples/vk`` (API v5.199; the real base URL is https://api.vk.ru).

Methods: ``POST|GET /method/<name>``, form or query parameters, ``v`` required (else error
8), the token as ``access_token`` or ``Authorization: Bearer`` (a wrong one: error 5).
Answers are HTTP 200 ``{"response": …}`` or ``{"error": {"error_code", "error_msg",
"request_params": [{"key", "value"}…]}}``. ``messages.send`` (``peer_id``|``user_id``,
``random_id`` int32, ``message`` ≤ 9000, ``keyboard`` a JSON string) → the message id; the
same non-zero ``random_id`` again answers the first id and sends nothing (counted in
``repeats``). Also ``messages.sendMessageEventAnswer``, ``groups.getById``,
``groups.getCallbackConfirmationCode``, ``groups.addCallbackServer``,
``groups.setCallbackSettings`` (after it, only the event types set to 1 are posted).

Control endpoints:

- ``POST /_control {"fail": "5"|"6"|"9"|"10"|"901"|"902"|"http500"|"timeout"|"none",
  "times": N, "delay": s}`` — the next N ``messages.send`` fail with that VK error (HTTP 500
  for "http500"; "timeout" takes the message, then answers after ``delay`` seconds, 2);
- ``GET /_sent`` → ``{"messages", "answers", "calls", "events", "callback"}``; ``POST /_reset``;
- ``POST /_callback {"url", "secret"}`` — where notifications go (as addCallbackServer);
- ``POST /_update`` — post a notification ``{"type", "object", "group_id", "event_id", "v",
  "secret"}`` to the callback URL: ``{"confirm": true}`` (→ ``"confirmed"``: the reply was
  the code), ``{"say": {"from_id", "text", "payload"?}}`` (``message_new``), ``{"press":
  <message_id>, "user_id"?}`` (``message_event`` for its first callback button), ``{"event":
  {"type", "object"}}`` or ``{"repeat": "<event_id>"}`` (posted again unchanged with
  ``X-Retry-Counter``). ``"secret"`` / ``"no_secret": true`` forge the body's secret.
  → ``{"status", "body", "event"}``.
"""

import contextlib
import json
import secrets
import time
from urllib.parse import parse_qsl, urlsplit

import httpx

from arenda.integrations.messaging.fake_server import FakeServer, JsonHandler

API_VERSION = "5.199"
ERRORS = {
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v is required",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied",
    100: "One of the parameters specified was missing or invalid",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    911: "Keyboard format is invalid",
    914: "Message is too long",
}
METHODS = {
    "messages.send",
    "messages.sendMessageEventAnswer",
    "groups.getById",
    "groups.getCallbackConfirmationCode",
    "groups.addCallbackServer",
    "groups.setCallbackSettings",
}
CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


class VkError(Exception):
    """A VK error: ``detail`` follows the code's text, ``message`` replaces it."""

    def __init__(self, code: int, detail: str = "", message: str = ""):
        super().__init__(message or (f"{ERRORS[code]}: {detail}" if detail else ERRORS[code]))
        self.code = code


class FakeVk(FakeServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, token=None, group_id: int = 200000001):
        self.token, self.group_id = token, group_id
        self.confirmation_code = "a1b2c3d4"
        super().__init__(host, port)

    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict] = []
            self.answers: list[dict] = []
            self.calls: list[dict] = []
            self.events: list[dict] = []  # the notifications posted, for "repeat"
            self.retries: dict[str, int] = {}  # event_id → how many times it was posted again
            self.callback = {"url": "", "secret": ""}
            self.callback_settings: dict | None = None
            self.fail, self.fail_times, self.delay = "none", 0, 2.0
            self._next_id, self._next_server = 100, 1
            self._conversation: dict[int, int] = {}  # peer_id → its last conversation_message_id

    def _new_id(self, peer_id: int) -> tuple[int, int]:
        self._next_id += 1
        self._conversation[peer_id] = self._conversation.get(peer_id, 0) + 1
        return self._next_id, self._conversation[peer_id]

    # --- the API -------------------------------------------------------------------------------
    def call(self, method: str, params: dict, token: str) -> tuple[int, object, float]:
        """→ (HTTP status, body, seconds to wait before answering)."""
        with self.lock:
            self.calls.append({"method": method, "params": params})
            try:
                if not params.get("v"):
                    raise VkError(8)
                if not token:
                    raise VkError(5, message="User authorization failed: no access_token passed.")
                if self.token is not None and token != self.token:
                    raise VkError(5)
                if method not in METHODS:
                    raise VkError(3)
                status, response, delay = getattr(self, "_" + method.replace(".", "_"))(params)
            except VkError as exc:
                shown = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
                shown += [{"key": k, "value": str(v)} for k, v in params.items()]
                return (
                    200,
                    {"error": {"error_code": exc.code, "error_msg": str(exc), "request_params": shown}},
                    0,
                )
            return status, response if status != 200 else {"response": response}, delay

    def _messages_send(self, params: dict) -> tuple[int, object, float]:
        peer = params.get("peer_id") or params.get("user_id")
        if not str(peer or "").lstrip("-").isdigit():
            raise VkError(100, "peer_id is undefined")
        raw_random = str(params.get("random_id", ""))
        if not raw_random.lstrip("-").isdigit() or not -(2**31) <= int(raw_random) < 2**31:
            raise VkError(100, "random_id is a required int32 parameter")
        text, random_id = params.get("message") or "", int(raw_random)
        if not text and not params.get("attachment"):
            raise VkError(100, "message is empty or invalid")
        if len(text) > 9000:
            raise VkError(914)
        keyboard = None
        if params.get("keyboard"):
            try:
                keyboard = json.loads(params["keyboard"])
            except ValueError:
                raise VkError(911, "can't parse JSON") from None
            if not isinstance(keyboard, dict) or not isinstance(keyboard.get("buttons"), list):
                raise VkError(911, "buttons is required")
        fail = self.fail if self.fail_times > 0 else "none"
        if fail != "none":
            self.fail_times -= 1
        if fail == "http500":
            return 500, "<html><body><h1>500 Internal Server Error</h1></body></html>", 0
        if fail.isdigit() and int(fail) in ERRORS:
            raise VkError(int(fail))
        for message in self.sent:
            if random_id and message["random_id"] == random_id:
                message["repeats"] += 1
                return 200, message["id"], 0
        message_id, conversation_id = self._new_id(int(peer))
        self.sent.append(
            {
                "id": message_id,
                "peer_id": int(peer),
                "random_id": random_id,
                "message": text,
                "keyboard": keyboard,
                "attachment": params.get("attachment", ""),
                "date": int(time.time()),
                "conversation_message_id": conversation_id,
                "repeats": 0,
            }
        )
        return 200, message_id, self.delay if fail == "timeout" else 0

    def _messages_sendMessageEventAnswer(self, params: dict) -> tuple[int, object, float]:
        missing = [k for k in ("event_id", "user_id", "peer_id") if not params.get(k)]
        if missing:
            raise VkError(100, f"{missing[0]} is undefined")
        try:
            data = json.loads(params["event_data"]) if params.get("event_data") else None
        except ValueError:
            raise VkError(100, "event_data is not JSON") from None
        self.answers.append(params | {"event_data": data})
        return 200, 1, 0

    def _groups_getById(self, params: dict) -> tuple[int, object, float]:
        group = {"id": self.group_id, "name": "Аренда техники (fake)", "screen_name": f"club{self.group_id}"}
        return 200, {"groups": [group | {"is_closed": 0, "type": "group"}], "profiles": []}, 0

    def _own_group(self, params: dict) -> None:
        if str(params.get("group_id")) != str(self.group_id):
            raise VkError(15, "no access to this community")

    def _groups_getCallbackConfirmationCode(self, params: dict) -> tuple[int, object, float]:
        self._own_group(params)
        return 200, {"code": self.confirmation_code}, 0

    def _groups_addCallbackServer(self, params: dict) -> tuple[int, object, float]:
        self._own_group(params)
        if not params.get("url"):
            raise VkError(100, "url is undefined")
        self.callback = {"url": params["url"], "secret": params.get("secret_key", "")}
        self._next_server += 1
        return 200, {"server_id": self._next_server - 1}, 0

    def _groups_setCallbackSettings(self, params: dict) -> tuple[int, object, float]:
        self._own_group(params)
        self.callback_settings = dict(params)
        return 200, 1, 0

    # --- the Callback API ----------------------------------------------------------------------
    def update(self, spec: dict) -> tuple[int, dict]:
        with self.lock:
            callback, settings = dict(self.callback), self.callback_settings
            try:
                event, retry = self._make_event(spec, callback["secret"]), 0
            except (LookupError, TypeError, ValueError) as exc:
                return 400, {"detail": f"bad /_update: {exc!r}"}
            if "repeat" in spec:
                retry = self.retries[spec["repeat"]] = self.retries.get(spec["repeat"], 0) + 1
            else:
                self.events.append(event)
        if not callback["url"]:
            return 200, {"status": None, "event": event, "detail": "no callback server"}
        wanted = event["type"] == "confirmation" or settings is None or settings.get(event["type"]) == "1"
        if not wanted:
            return 200, {"status": None, "event": event, "detail": f"{event['type']} is off in the settings"}
        headers = {"X-Retry-Counter": str(retry)} if retry else {}
        try:
            response = httpx.post(callback["url"], json=event, headers=headers, timeout=30)
        except httpx.HTTPError as exc:
            return 200, {"status": None, "event": event, "detail": str(exc) or type(exc).__name__}
        answer = {"status": response.status_code, "body": response.text, "event": event}
        if event["type"] == "confirmation":
            answer["confirmed"] = response.text.strip() == self.confirmation_code
        return 200, answer

    def _make_event(self, spec: dict, secret: str) -> dict:
        if "repeat" in spec:
            return next(e for e in self.events if e.get("event_id") == spec["repeat"])
        secret = spec.get("secret", secret)
        tail = {} if spec.get("no_secret") or not secret else {"secret": secret}
        if spec.get("confirm"):
            return {"type": "confirmation", "group_id": self.group_id} | tail
        if "say" in spec:
            say = spec["say"]
            from_id = int(say["from_id"])
            message_id, conversation_id = self._new_id(from_id)
            message = {"id": message_id, "date": int(time.time()), "peer_id": from_id, "from_id": from_id}
            message |= {"text": say["text"], "out": 0, "conversation_message_id": conversation_id}
            message |= {"attachments": [], "fwd_messages": [], "important": False, "is_hidden": False}
            message |= {"random_id": 0, "version": message_id}
            if say.get("payload") is not None:
                message["payload"] = json.dumps(say["payload"], ensure_ascii=False)
            kind, obj = "message_new", {"message": message, "client_info": CLIENT_INFO}
        elif "press" in spec:
            sent = next(m for m in self.sent if m["id"] == int(spec["press"]))
            buttons = [
                button["action"]
                for row in (sent["keyboard"] or {}).get("buttons", [])
                for button in row
                if button.get("action", {}).get("type") == "callback"
            ]
            if not buttons:
                raise LookupError(f"message {sent['id']} has no callback button")
            payload = buttons[0].get("payload")
            with contextlib.suppress(ValueError):  # a payload that is not JSON stays a string
                payload = json.loads(payload) if isinstance(payload, str) else payload
            obj = {"user_id": int(spec.get("user_id") or sent["peer_id"]), "peer_id": sent["peer_id"]}
            obj |= {"event_id": secrets.token_hex(6), "payload": payload}
            kind, obj = "message_event", obj | {"conversation_message_id": sent["conversation_message_id"]}
        elif "event" in spec:
            kind, obj = spec["event"]["type"], spec["event"].get("object", {})
        else:
            raise ValueError("unknown form: give confirm, say, press, event or repeat")
        event = {"type": kind, "object": obj, "group_id": self.group_id, "event_id": secrets.token_hex(20)}
        version = (self.callback_settings or {}).get("api_version") or API_VERSION
        return event | {"v": version} | tail


class _Handler(JsonHandler):
    server: FakeVk

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server
        if parts.path.startswith("/_"):
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return self._answer(400, {"detail": "the body is not JSON"})
            return self._control(parts.path, body if isinstance(body, dict) else {})
        if not parts.path.startswith("/method/"):
            return self._answer(404, {"error": {"error_code": 3, "error_msg": ERRORS[3]}})
        params = dict(parse_qsl(parts.query)) | dict(parse_qsl(raw.decode("utf-8", "replace")))
        bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        token = params.pop("access_token", "") or bearer
        status, body, delay = fake.call(parts.path.removeprefix("/method/"), params, token)
        time.sleep(delay)
        self._answer(status, body)

    def _control(self, path: str, body: dict) -> None:
        fake = self.server
        if path == "/_control":
            with fake.lock:
                fake.fail = str(body.get("fail", "none"))
                fake.fail_times = int(body.get("times", 1))
                fake.delay = float(body.get("delay", fake.delay))
            return self._answer(200, {"ok": True})
        if path == "/_callback":
            with fake.lock:
                fake.callback = {"url": body.get("url", ""), "secret": body.get("secret", "")}
            return self._answer(200, {"ok": True})
        if path == "/_sent":
            with fake.lock:
                listed = {"messages": fake.sent, "answers": fake.answers, "calls": fake.calls}
                return self._answer(200, listed | {"events": fake.events, "callback": fake.callback})
        if path == "/_reset":
            fake.reset()
            return self._answer(200, {"ok": True})
        if path == "/_update":
            return self._answer(*fake.update(body))
        return self._answer(404, {"detail": "no such control endpoint"})


FakeVk.handler_class = _Handler
