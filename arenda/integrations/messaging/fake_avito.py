"""A fake Avito Messenger API for the tests and the demo (``manage.py fake_avito``), in the
shapes of ``../shared/samples/avito`` (the real base URL is https://api.avito.ru).

``POST /token`` (form ``grant_type=client_credentials&client_id&client_secret``) →
``{"access_token", "expires_in": 86400, "token_type": "Bearer"}``. The samples do not show
the token endpoint's refusals; this fake answers in the API's envelope ``{"error":
{"code", "message"}}``: 400 for a missing or other ``grant_type``, 401 for a wrong id or
secret. Every other call needs ``Authorization: Bearer <token>`` (else 401 ``{"error":
{"code": 401, "message": "Unauthorized"}}``) and ``user_id`` in the path equal to
``account_id`` (else 403):

- ``POST /messenger/v1/accounts/{user_id}/chats/{chat_id}/messages`` ``{"message": {"text"},
  "type": "text"}`` (≤ 1000 characters, else 400; an unknown chat 404) → ``{"id", "type":
  "text", "created", "direction": "out", "content": {"text"}}``;
- ``GET /messenger/v2/accounts/{user_id}/chats[/{chat_id}]`` — the chats / one chat;
- ``POST /messenger/v3/webhook {"url"}`` → ``{"ok": true}`` after probing the URL with ``{}``
  as Avito does (200 within 2 s, else 400); ``POST /messenger/v1/subscriptions`` →
  ``{"subscriptions": [{"url", "version"}]}``; ``POST /messenger/v1/webhook/unsubscribe``.

Avito also delivers the account's own messages to the webhook; ``/_control {"echo": true}``
turns that on here. The ``x-avito-messenger-signature`` header is not sent: its algorithm is
not documented. Control endpoints:

- ``POST /_control {"fail": "429"|"500"|"503"|"403"|"timeout"|"none", "times": N, "delay":
  s, "expire_tokens"?: true, "echo"?: bool}`` — the next N sends fail that way ("timeout"
  takes the message and answers after ``delay`` seconds, 2); ``expire_tokens`` makes
  every token issued so far invalid;
- ``GET /_sent`` → ``{"messages", "calls", "deliveries", "chats", "subscriptions",
  "tokens_issued"}``; ``POST /_reset``;
- ``POST /_update`` — deliver a v3 webhook body to every subscribed URL (its query string
  kept as given): ``{"say": {"chat_id"?, "author_id", "text", "item"?: {"id", "title",
  "url", "price_string"?}}}`` (a new chat is made, "u2i-…" with an item, else "u2u-…"),
  ``{"system": {"chat_id", "text", "flow_id"?}}`` or ``{"repeat": "<delivery id>"}`` →
  ``{"status", "statuses", "delivery", "chat_id"}``.
"""

import json
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import httpx

from arenda.integrations.messaging.fake_server import FakeServer, JsonHandler

ACCOUNT_PATH = re.compile(r"^/messenger/v(\d)/accounts/([^/]+)/chats(?:/([^/]+))?(/messages)?/?$")
FAILURES = {
    "429": (429, "Too Many Requests"),
    "500": (500, "Internal Server Error"),
    "503": (503, "Service Unavailable"),
    "403": (403, "Forbidden"),
}


def _error(status: int, message: str) -> tuple[int, dict, float]:
    return status, {"error": {"code": status, "message": message}}, 0


class FakeAvito(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        account_id: int = 100200300,
    ):
        self.client_id, self.client_secret, self.account_id = client_id, client_secret, account_id
        super().__init__(host, port)

    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict] = []
            self.calls: list[dict] = []
            self.deliveries: list[dict] = []
            self.chats: dict[str, dict] = {}
            self.subscriptions: list[dict] = []
            self.tokens_issued: list[dict] = []
            self.valid_tokens: dict[str, float] = {}  # token → when it expires
            self.fail, self.fail_times, self.delay, self.echo = "none", 0, 2.0, False

    # --- the API -------------------------------------------------------------------------------
    def issue_token(self, form: dict) -> tuple[int, dict, float]:
        with self.lock:
            self.calls.append(
                {"method": "POST", "path": "/token", "body": {"grant_type": form.get("grant_type")}}
            )
            if form.get("grant_type") != "client_credentials":
                return _error(400, "unsupported grant_type")
            if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
                return _error(401, "invalid client_id or client_secret")
            token = secrets.token_urlsafe(32)
            self.valid_tokens[token] = time.time() + 86400
            self.tokens_issued.append({"access_token": token, "issued_at": int(time.time())})
            return 200, {"access_token": token, "expires_in": 86400, "token_type": "Bearer"}, 0

    def call(self, verb: str, path: str, body: dict, token: str) -> tuple[int, dict, float]:
        """→ (HTTP status, body, seconds to wait before answering)."""
        with self.lock:
            self.calls.append({"method": verb, "path": path, "body": body})
            if self.valid_tokens.get(token, 0) < time.time():
                return _error(401, "Unauthorized")
            if (verb, path) == ("POST", "/messenger/v1/subscriptions"):
                return 200, {"subscriptions": [dict(s) for s in self.subscriptions]}, 0
            if (verb, path) == ("POST", "/messenger/v1/webhook/unsubscribe"):
                self.subscriptions = [s for s in self.subscriptions if s["url"] != body.get("url")]
                return 200, {"ok": True}, 0
            match = ACCOUNT_PATH.match(path)
            if match is None:
                return _error(404, "Not Found")
            version, user_id, chat_id, messages = match.groups()
            if user_id != str(self.account_id):
                return _error(403, "Forbidden")
            if chat_id is not None and chat_id not in self.chats:
                return _error(404, "chat not found")
            if (verb, version, messages) == ("GET", "2", None):
                if chat_id is None:
                    return 200, {"chats": [self._chat(c) for c in self.chats.values()]}, 0
                return 200, self._chat(self.chats[chat_id]), 0
            if (verb, version) == ("POST", "1") and chat_id and messages:
                return self._send(self.chats[chat_id], body)
            return _error(404, "Not Found")

    def _send(self, chat: dict, body: dict) -> tuple[int, dict, float]:
        message = body.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        if body.get("type") != "text" or not isinstance(text, str) or not text.strip():
            return _error(400, "message.text is required and type must be text")
        if len(text) > 1000:
            return _error(400, "message.text is longer than 1000 characters")
        fail = self.fail if self.fail_times > 0 else "none"
        if fail != "none":
            self.fail_times -= 1
        if fail in FAILURES:
            return _error(*FAILURES[fail])
        message = {"id": secrets.token_hex(16), "type": "text", "created": int(time.time())}
        message |= {"direction": "out", "content": {"text": text}}
        chat["messages"].append(message | {"author_id": self.account_id})
        chat["updated"] = message["created"]
        self.sent.append(message | {"chat_id": chat["id"]})
        if self.echo:  # Avito delivers the account's own messages too (author_id == user_id)
            delivery = self._delivery(chat, message["id"], self.account_id, "text", {"text": text})
            threading.Thread(target=self._post, args=(delivery,), daemon=True).start()
        return 200, message, self.delay if fail == "timeout" else 0

    def _chat(self, chat: dict) -> dict:
        shown = {"id": chat["id"], "created": chat["created"], "updated": chat["updated"]}
        if chat["item"]:
            item = {"price_string": ""} | chat["item"] | {"user_id": self.account_id}
            shown["context"] = {"type": "item", "value": item}
        shown["users"] = [{"id": self.account_id, "name": "Аренда техники"}]
        shown["users"] += [{"id": chat["author_id"], "name": f"Покупатель {chat['author_id']}"}]
        if chat["messages"]:
            last = chat["messages"][-1]
            shown["last_message"] = last | {
                "direction": "out" if last["author_id"] == self.account_id else "in"
            }
        return shown

    def subscribe(self, body: dict) -> tuple[int, dict, float]:
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _error(400, "url is required")
        try:  # as Avito does: curl --connect-timeout 2 <url> -d '{}'
            probe = httpx.post(url, json={}, timeout=2).status_code
        except httpx.HTTPError:
            probe = None
        if probe != 200:
            return _error(400, f"the webhook url answered {probe or 'nothing'} to a check, not 200")
        with self.lock:
            self.subscriptions = [s for s in self.subscriptions if s["url"] != url]
            self.subscriptions.append({"url": url, "version": "3"})
        return 200, {"ok": True}, 0

    # --- playing a buyer -----------------------------------------------------------------------
    def _delivery(self, chat: dict, message_id: str, author_id: int, kind: str, content: dict) -> dict:
        now = int(time.time())
        value = {"id": message_id, "chat_id": chat["id"], "user_id": self.account_id, "author_id": author_id}
        value |= {"created": now, "type": kind, "chat_type": chat["id"].split("-")[0], "content": content}
        if chat["item"]:
            value["item_id"] = chat["item"]["id"]
        value["published_at"] = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        value["read"] = None
        delivery = {"id": str(uuid.uuid4()), "version": "v3.0.0", "timestamp": now}
        delivery["payload"] = {"type": "message", "value": value}
        self.deliveries.append(delivery)
        return delivery

    def update(self, spec: dict) -> tuple[int, dict]:
        with self.lock:
            try:
                delivery = self._make_delivery(spec)
            except (LookupError, TypeError, ValueError) as exc:
                return 400, {"detail": f"bad /_update: {exc!r}"}
        statuses = self._post(delivery)
        chat_id = delivery["payload"]["value"]["chat_id"]
        status = next(iter(statuses.values()), None)
        return 200, {"status": status, "statuses": statuses, "delivery": delivery, "chat_id": chat_id}

    def _make_delivery(self, spec: dict) -> dict:
        if "repeat" in spec:
            return next(d for d in self.deliveries if d["id"] == spec["repeat"])
        said = spec.get("say") or spec.get("system")
        if not isinstance(said, dict):
            raise ValueError("unknown form: give say, system or repeat")
        author_id = int(said["author_id"]) if "say" in spec else 0
        item = said.get("item")
        if item is not None and not (isinstance(item, dict) and "id" in item):
            raise ValueError("item must be an object with an id")
        chat_id = said.get("chat_id") or f"{'u2i' if item else 'u2u'}-{secrets.token_urlsafe(16)}"
        if chat_id not in self.chats:
            now = int(time.time())
            self.chats[chat_id] = {"id": chat_id, "item": item, "author_id": author_id, "messages": []}
            self.chats[chat_id] |= {"created": now, "updated": now}
        chat = self.chats[chat_id]
        content = {"text": said["text"]} | ({"flow_id": said["flow_id"]} if said.get("flow_id") else {})
        message_id = secrets.token_hex(16)
        kind = "text" if "say" in spec else "system"
        chat["messages"].append({"id": message_id, "type": kind, "created": int(time.time())})
        chat["messages"][-1] |= {"content": content, "author_id": author_id}
        chat["updated"] = int(time.time())
        return self._delivery(chat, message_id, author_id, kind, content)

    def _post(self, delivery: dict) -> dict[str, int | None]:
        with self.lock:
            urls = [s["url"] for s in self.subscriptions]
        statuses: dict[str, int | None] = {}
        for url in urls:
            try:
                statuses[url] = httpx.post(url, json=delivery, timeout=30).status_code
            except httpx.HTTPError:
                statuses[url] = None
        return statuses


class _Handler(JsonHandler):
    server: FakeAvito

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server
        if parts.path == "/token":
            return self._answer(*fake.issue_token(dict(parse_qsl(raw.decode("utf-8", "replace")))))
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return self._answer(*_error(400, "the body is not JSON"))
        body = body if isinstance(body, dict) else {}
        if parts.path.startswith("/_"):
            return self._control(parts.path, body)
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if parts.path == "/messenger/v3/webhook" and verb == "POST":
            with fake.lock:
                fake.calls.append({"method": verb, "path": parts.path, "body": body})
                authorized = fake.valid_tokens.get(token, 0) >= time.time()
            return self._answer(*(fake.subscribe(body) if authorized else _error(401, "Unauthorized")))
        self._answer(*fake.call(verb, parts.path, body, token))

    def _control(self, path: str, body: dict) -> None:
        fake = self.server
        if path == "/_control":
            with fake.lock:
                fake.fail = str(body.get("fail", "none"))
                fake.fail_times = int(body.get("times", 1))
                fake.delay = float(body.get("delay", fake.delay))
                fake.echo = bool(body.get("echo", fake.echo))
                if body.get("expire_tokens"):
                    fake.valid_tokens.clear()
            return self._answer(200, {"ok": True})
        if path == "/_sent":
            with fake.lock:
                listed = {"messages": fake.sent, "calls": fake.calls, "deliveries": fake.deliveries}
                listed |= {"chats": [fake._chat(c) for c in fake.chats.values()]}
                listed |= {"subscriptions": fake.subscriptions, "tokens_issued": fake.tokens_issued}
                return self._answer(200, listed)
        if path == "/_reset":
            fake.reset()
            return self._answer(200, {"ok": True})
        if path == "/_update":
            return self._answer(*fake.update(body))
        return self._answer(404, {"detail": "no such control endpoint"})


FakeAvito.handler_class = _Handler
