"""A fake MAX Bot API server for the tests and the demo (``manage.py fake_max``), in the
shapes of ``../shared/samples/max`` (the real base URL is https://platform-api2.max.ru).

Auth: header ``Authorization: <token>`` (no "Bearer"; query ``access_token`` also taken);
none or a wrong one → 401 ``{"code": "verify.token", "message": "Invalid access_token"}``.
Methods: ``GET /me``; ``POST /messages?user_id=|chat_id=`` (``NewMessageBody`` →
``{"message": Message}``); ``POST /answers?callback_id=``; ``GET|POST|DELETE
/subscriptions``. Errors are ``{"code", "message"}``: 400 ``proto.payload``, 404
``not.found``, 429 ``too.many.requests`` — more than ``per_chat_per_second`` (2; 0 turns it
off) messages to one user or chat within a second. That per-chat figure is ours: the docs
only ask for at most 30 requests a second overall.

A dialog's ``chat_id`` is ``DIALOG_OFFSET + user_id``, stable across restarts. Control:

- ``POST /_control {"fail": "429"|"500"|"503"|"blocked"|"timeout"|"none", "times": N,
  "delay": s, "per_chat_per_second"?: n}`` — the next N ``POST /messages`` fail that way.
  "blocked" is 403 ``chat.denied``: our reading of MAX, where a user who stopped the bot
  (``bot_stopped``) cannot be written to until ``bot_started`` (the schema gives 403 for
  "the user suspended the bot"; the key is our guess, as are ``internal.error`` and
  ``service.unavailable`` for 500/503). "timeout" takes the message, then answers only
  after ``delay`` seconds (2);
- ``GET /_sent`` → ``{"messages", "answers", "calls", "subscriptions"}``; ``POST /_reset``;
- ``POST /_update`` — play a user; the update goes to the subscribed URL with
  ``X-Max-Bot-Api-Secret`` when a secret was given (unless the subscription's
  ``update_types`` leave it out): ``{"say": {"user_id", "text", "name"?}}``,
  ``{"start": {"user_id", "payload", "name"?}}``, ``{"press": "<mid>", "user_id"?}`` (the
  message's first callback button), ``{"contact": {"user_id", "phone", "name"}}``,
  ``{"update": {...}}`` or ``{"raw": <any JSON or text>}`` posted as is. Any form may carry
  ``"secret"`` (the header to send instead) or ``"no_secret": true``. → ``{"status",
  "update", "body"}``.
"""

import hashlib
import json
import re
import secrets
import time
from urllib.parse import parse_qsl, urlsplit

import httpx

from arenda.integrations.messaging.fake_server import FakeServer, JsonHandler

BOT_ID = 229229229
DIALOG_OFFSET = 90_000_000_000
SECRET_RE = re.compile(r"^[\w-]{5,256}$", re.ASCII)
FAILURES = {
    "429": (429, "too.many.requests", "Too many requests"),
    "500": (500, "internal.error", "Internal server error"),
    "503": (503, "service.unavailable", "Service temporarily unavailable"),
    "blocked": (403, "chat.denied", "chat.denied: the user has blocked the bot"),
}


def _ms() -> int:
    return int(time.time() * 1000)


def _user(user_id: int, name: str = "") -> dict:
    name = name or f"User {user_id}"
    first, _, last = name.partition(" ")
    user = {"user_id": user_id, "first_name": first, "is_bot": False, "last_activity_time": _ms()}
    return user | ({"last_name": last} if last else {}) | {"name": name}


def _error(status: int, code: str, message: str) -> tuple[int, dict, float]:
    return status, {"code": code, "message": message}, 0


class FakeMax(FakeServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, token: str | None = None):
        self.token = token
        self.per_chat_per_second = 2
        super().__init__(host, port)

    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict] = []
            self.answers: list[dict] = []
            self.calls: list[dict] = []
            self.subscriptions: list[dict] = []
            self.callbacks: dict[str, str] = {}  # callback_id → the mid of the message
            self.fail, self.fail_times, self.delay = "none", 0, 2.0
            self._recent: dict[int, list[float]] = {}  # chat_id → send times
            self._next = 1

    def bot(self) -> dict:
        return {"user_id": BOT_ID, "first_name": "Arenda", "username": "arenda_fake_bot", "is_bot": True}

    def _body(self, text=None, attachments=None) -> dict:
        """A new ``MessageBody``: a ``mid`` unique across restarts and a growing ``seq``."""
        n, self._next = self._next, self._next + 1
        body = {"mid": f"mid.{_ms():016x}{n:016x}", "seq": (_ms() << 16) | (n & 0xFFFF), "text": text}
        return body | ({"attachments": attachments} if attachments else {})

    # --- the Bot API ---------------------------------------------------------------------------
    def call(self, verb: str, path: str, query: dict, body: dict, token: str) -> tuple[int, dict, float]:
        """→ (HTTP status, body, seconds to wait before answering)."""
        with self.lock:
            self.calls.append({"method": verb, "path": path, "query": query, "body": body})
            if not token or (self.token is not None and token != self.token):
                return _error(401, "verify.token", "Invalid access_token")
            if (verb, path) == ("GET", "/me"):
                return 200, self.bot() | {"last_activity_time": _ms(), "name": "Arenda"}, 0
            if (verb, path) == ("POST", "/messages"):
                return self._send(query, body)
            if (verb, path) == ("POST", "/answers"):
                return self._answer_callback(query, body)
            if path == "/subscriptions":
                return self._subscriptions(verb, query, body)
            return _error(404, "not.found", f"Path {path} not found")

    def _send(self, query: dict, body: dict) -> tuple[int, dict, float]:
        try:
            user_id = int(query["user_id"]) if query.get("user_id") else None
            chat_id = int(query["chat_id"]) if query.get("chat_id") else None
        except ValueError:
            return _error(400, "proto.payload", "user_id and chat_id must be integers")
        if user_id is None and chat_id is None:
            return _error(400, "proto.payload", "Either user_id or chat_id is required")
        text, attachments = body.get("text"), body.get("attachments") or []
        if not isinstance(text, str | None) or not isinstance(attachments, list):
            return _error(400, "proto.payload", "text must be a string and attachments an array")
        if not text and not attachments:
            return _error(400, "proto.payload", "text: must not be empty without attachments")
        if text and len(text) > 4000:
            return _error(400, "proto.payload", "text: size must be between 0 and 4000")
        fail = self.fail if self.fail_times > 0 else "none"
        if fail != "none":
            self.fail_times -= 1
        if fail in FAILURES:
            return _error(*FAILURES[fail])
        if user_id is None and chat_id > DIALOG_OFFSET:
            user_id = chat_id - DIALOG_OFFSET
        if chat_id is None:
            chat_id = DIALOG_OFFSET + user_id
        now = time.monotonic()
        recent = [t for t in self._recent.get(chat_id, []) if now - t < 1]
        if self.per_chat_per_second and len(recent) >= self.per_chat_per_second:
            return _error(429, "too.many.requests", "Too many messages to this chat, try later")
        self._recent[chat_id] = [*recent, now]
        recipient = {"chat_id": chat_id, "chat_type": "dialog" if user_id else "chat", "user_id": user_id}
        message = {
            "sender": self.bot() | {"last_activity_time": _ms(), "name": "Arenda"},
            "recipient": recipient,
            "timestamp": _ms(),
            "body": self._body(text, attachments),
        }
        self.sent.append(message)
        return 200, {"message": message}, self.delay if fail == "timeout" else 0

    def _answer_callback(self, query: dict, body: dict) -> tuple[int, dict, float]:
        callback_id = query.get("callback_id", "")
        if not callback_id:
            return _error(400, "proto.payload", "callback_id is required")
        if callback_id not in self.callbacks:
            return _error(404, "not.found", f"Callback {callback_id} not found")
        if not body.get("notification") and not isinstance(body.get("message"), dict):
            return _error(400, "proto.payload", "notification or message is required")
        mid = self.callbacks[callback_id]
        self.answers.append({"callback_id": callback_id, "mid": mid, **body})
        if isinstance(body.get("message"), dict):  # the new message replaces the one with the keyboard
            for message in self.sent:
                if message["body"]["mid"] == mid:
                    new = body["message"]
                    message["body"] |= {"text": new.get("text"), "attachments": new.get("attachments") or []}
        return 200, {"success": True}, 0

    def _subscriptions(self, verb: str, query: dict, body: dict) -> tuple[int, dict, float]:
        if verb == "GET":
            listed = [{k: s[k] for k in ("url", "time", "update_types")} for s in self.subscriptions]
            return 200, {"subscriptions": listed}, 0
        url = query.get("url") if verb == "DELETE" else body.get("url")
        if not url:
            return _error(400, "proto.payload", "url is required")
        self.subscriptions = [s for s in self.subscriptions if s["url"] != url]
        if verb == "POST":
            secret = body.get("secret")
            if secret is not None and not SECRET_RE.match(str(secret)):
                return _error(400, "proto.payload", "secret: must match ^[a-zA-Z0-9_-]{5,256}$")
            self.subscriptions.append(
                {"url": url, "time": _ms(), "update_types": body.get("update_types"), "secret": secret}
            )
        return 200, {"success": True}, 0

    # --- playing a user ------------------------------------------------------------------------
    def update(self, spec: dict) -> tuple[int, dict]:
        with self.lock:
            subscription = dict(self.subscriptions[-1]) if self.subscriptions else None
            try:
                update = self._make_update(spec)
            except (LookupError, TypeError, ValueError) as exc:
                return 400, {"detail": f"bad /_update: {exc!r}"}
        if subscription is None:
            return 200, {"status": None, "update": update, "detail": "no subscription"}
        kind = update.get("update_type") if isinstance(update, dict) else None
        if subscription["update_types"] and kind and kind not in subscription["update_types"]:
            return 200, {"status": None, "update": update, "detail": f"{kind} is not subscribed"}
        secret = spec.get("secret", subscription["secret"])
        headers = {} if spec.get("no_secret") or not secret else {"X-Max-Bot-Api-Secret": secret}
        if isinstance(update, str | bytes):
            kwargs = {"content": update, "headers": headers | {"Content-Type": "application/json"}}
        else:
            kwargs = {"json": update, "headers": headers}
        try:
            response = httpx.post(subscription["url"], timeout=30, **kwargs)
        except httpx.HTTPError as exc:
            return 200, {"status": None, "update": update, "detail": str(exc) or type(exc).__name__}
        return 200, {"status": response.status_code, "update": update, "body": response.text}

    def _make_update(self, spec: dict):
        """The update ``spec`` describes (LookupError when it names no such message)."""
        if "raw" in spec:
            return spec["raw"]
        if "update" in spec:
            return spec["update"]
        base = {"timestamp": _ms()}
        if "start" in spec:
            start = spec["start"]
            user = _user(int(start["user_id"]), start.get("name", ""))
            chat_id = DIALOG_OFFSET + user["user_id"]
            return {"update_type": "bot_started", **base, "chat_id": chat_id, "user": user} | {
                "user_id": user["user_id"],
                "payload": start.get("payload"),
                "user_locale": "ru",
            }
        if "press" in spec:
            message = next((m for m in self.sent if m["body"]["mid"] == spec["press"]), None)
            if message is None:
                raise LookupError(f"no sent message {spec['press']}")
            buttons = [
                button
                for attachment in message["body"].get("attachments") or []
                if attachment.get("type") == "inline_keyboard"
                for row in attachment["payload"]["buttons"]
                for button in row
                if button.get("type") == "callback"
            ]
            if not buttons:
                raise LookupError(f"message {spec['press']} has no callback button")
            callback_id = secrets.token_urlsafe(48)
            self.callbacks[callback_id] = message["body"]["mid"]
            user_id = int(spec.get("user_id") or message["recipient"]["user_id"])
            callback = {"timestamp": _ms(), "callback_id": callback_id, "payload": buttons[0].get("payload")}
            return {"update_type": "message_callback", **base} | {
                "callback": callback | {"user": _user(user_id)},
                "message": message,
                "user_locale": "ru",
            }
        if "say" in spec or "contact" in spec:
            said = spec.get("say") or spec["contact"]
            user = _user(int(said["user_id"]), said.get("name", ""))
            body = self._body(said.get("text"))
            if "contact" in spec:
                vcf = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{user['name']}\r\nTEL;TYPE=cell:{said['phone']}\r\nEND:VCARD"
                payload = {
                    "vcf_info": vcf,
                    "hash": hashlib.sha256(vcf.encode()).hexdigest(),
                    "max_info": user,
                }
                body["attachments"] = [{"type": "contact", "payload": payload}]
            recipient = {"chat_id": DIALOG_OFFSET + user["user_id"], "chat_type": "dialog", "user_id": BOT_ID}
            message = {"sender": user, "recipient": recipient, "timestamp": _ms(), "body": body}
            return {"update_type": "message_created", **base, "message": message, "user_locale": "ru"}
        raise ValueError("unknown form: give say, start, press, contact, update or raw")


class _Handler(JsonHandler):
    server: FakeMax

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return self._answer(400, {"code": "proto.payload", "message": "Can't parse the JSON body"})
        if not isinstance(body, dict):
            return self._answer(400, {"code": "proto.payload", "message": "The body must be an object"})
        fake = self.server
        if parts.path == "/_control":
            with fake.lock:
                fake.fail = str(body.get("fail", "none"))
                fake.fail_times = int(body.get("times", 1))
                fake.delay = float(body.get("delay", fake.delay))
                fake.per_chat_per_second = int(body.get("per_chat_per_second", fake.per_chat_per_second))
            return self._answer(200, {"ok": True})
        if parts.path == "/_sent":
            with fake.lock:
                listed = {"messages": fake.sent, "answers": fake.answers, "calls": fake.calls}
                return self._answer(200, listed | {"subscriptions": fake.subscriptions})
        if parts.path == "/_reset":
            fake.reset()
            return self._answer(200, {"ok": True})
        if parts.path == "/_update":
            return self._answer(*fake.update(body))
        query_token = query.pop("access_token", "")
        token = (self.headers.get("Authorization") or query_token).strip()
        status, answer, delay = fake.call(verb, parts.path, query, body, token)
        time.sleep(delay)
        self._answer(status, answer)


FakeMax.handler_class = _Handler
