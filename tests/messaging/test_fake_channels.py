"""The fakes of MAX, VK and Avito (and the SMS fake's balance and statuses) speak their
platforms' shapes: each is called over HTTP as an adapter would, and what ``/_update``
posts is caught by a small local webhook receiver. No database."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from arenda.integrations.messaging import fake_sms
from arenda.integrations.messaging.fake_avito import FakeAvito
from arenda.integrations.messaging.fake_max import DIALOG_OFFSET, FakeMax
from arenda.integrations.messaging.fake_sms import FakeSms
from arenda.integrations.messaging.fake_vk import FakeVk

MAX_TOKEN, VK_TOKEN = "max-token", "vk-token"
KEYBOARD = [{"type": "callback", "text": "Принять", "payload": "order:1042:accept"}]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: "Receiver"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode()
        self.server.got.append({"path": self.path, "headers": dict(self.headers), "body": body})
        data = self.server.reply.encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint that keeps what it got and answers ``status`` with ``reply``."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.got: list[dict] = []
        self.status, self.reply = 200, "ok"

    @property
    def url(self) -> str:
        return "http://{}:{}".format(*self.server_address[:2])


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _started(server):
    server.start()
    return server


@pytest.fixture
def max_fake():
    server = _started(FakeMax("127.0.0.1", 0, token=MAX_TOKEN))
    yield server
    server.stop()


@pytest.fixture
def vk_fake():
    server = _started(FakeVk("127.0.0.1", 0, token=VK_TOKEN))
    yield server
    server.stop()


@pytest.fixture
def avito_fake():
    server = _started(FakeAvito("127.0.0.1", 0))
    yield server
    server.stop()


def control(fake, path="/_control", **body) -> httpx.Response:
    response = httpx.post(f"{fake.url}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response


def played(fake, **spec) -> dict:
    response = httpx.post(f"{fake.url}/_update", json=spec, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


# --- MAX ---------------------------------------------------------------------------------------
def max_send(fake, body: dict, token: str = MAX_TOKEN, **query) -> httpx.Response:
    query = query or {"user_id": 123456789}
    return httpx.post(f"{fake.url}/messages", params=query, json=body, headers={"Authorization": token})


def test_max_answers_the_bot_and_refuses_a_bad_token(max_fake):
    me = httpx.get(f"{max_fake.url}/me", headers={"Authorization": MAX_TOKEN}).json()
    assert (me["username"], me["is_bot"]) == ("arenda_fake_bot", True) and me["user_id"]
    assert httpx.get(f"{max_fake.url}/me", params={"access_token": MAX_TOKEN}).status_code == 200
    for headers in ({}, {"Authorization": "wrong"}, {"Authorization": f"Bearer {MAX_TOKEN}"}):
        refused = httpx.get(f"{max_fake.url}/me", headers=headers)
        assert refused.status_code == 401
        assert refused.json() == {"code": "verify.token", "message": "Invalid access_token"}
    assert max_send(max_fake, {"text": "hi"}, token="wrong").status_code == 401
    assert httpx.get(f"{max_fake.url}/_sent").json()["messages"] == []


def test_max_takes_a_message_in_the_real_shape(max_fake):
    keyboard = {"type": "inline_keyboard", "payload": {"buttons": [KEYBOARD]}}
    body = {"text": "Заказ №1042", "attachments": [keyboard], "notify": True, "format": "markdown"}
    first = max_send(max_fake, body).json()["message"]
    assert first["recipient"] == {
        "chat_id": DIALOG_OFFSET + 123456789,
        "chat_type": "dialog",
        "user_id": 123456789,
    }
    assert first["sender"]["is_bot"] is True and first["timestamp"] > 10**12
    assert first["body"]["text"] == "Заказ №1042" and first["body"]["attachments"] == [keyboard]
    assert first["body"]["mid"].startswith("mid.") and isinstance(first["body"]["seq"], int)
    by_chat = max_send(max_fake, {"text": "ещё"}, chat_id=DIALOG_OFFSET + 123456789).json()["message"]
    assert by_chat["recipient"]["user_id"] == 123456789 and by_chat["body"]["mid"] != first["body"]["mid"]
    assert len(httpx.get(f"{max_fake.url}/_sent").json()["messages"]) == 2

    for query, bad in [
        ({}, {"text": "x"}),
        ({"user_id": 1}, {"text": ""}),
        ({"user_id": 2}, {"text": "я" * 4001}),
        ({"user_id": 3}, {"text": 5}),
    ]:
        refused = httpx.post(
            f"{max_fake.url}/messages", params=query, json=bad, headers={"Authorization": MAX_TOKEN}
        )
        assert (refused.status_code, refused.json()["code"]) == (400, "proto.payload")


def test_max_limits_messages_to_one_chat_per_second(max_fake):
    assert [max_send(max_fake, {"text": str(i)}).status_code for i in range(3)] == [200, 200, 429]
    assert max_send(max_fake, {"text": "x"}).json()["code"] == "too.many.requests"
    assert max_send(max_fake, {"text": "another chat"}, user_id=5).status_code == 200
    time.sleep(1.05)
    assert max_send(max_fake, {"text": "a second later"}).status_code == 200
    max_fake.per_chat_per_second = 0
    assert {max_send(max_fake, {"text": str(i)}, user_id=7).status_code for i in range(5)} == {200}


@pytest.mark.parametrize(
    ("fail", "status", "code"),
    [
        ("429", 429, "too.many.requests"),
        ("500", 500, "internal.error"),
        ("503", 503, "service.unavailable"),
        ("blocked", 403, "chat.denied"),
    ],
)
def test_max_injected_failures(max_fake, fail, status, code):
    control(max_fake, fail=fail, times=1)
    refused = max_send(max_fake, {"text": "x"})
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert max_send(max_fake, {"text": "x"}, user_id=2).status_code == 200


def test_max_timeout_takes_the_message_and_answers_late(max_fake):
    control(max_fake, fail="timeout", times=1, delay=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{max_fake.url}/messages",
            params={"user_id": 1},
            json={"text": "lost answer"},
            headers={"Authorization": MAX_TOKEN},
            timeout=0.3,
        )
    assert [m["body"]["text"] for m in httpx.get(f"{max_fake.url}/_sent").json()["messages"]] == [
        "lost answer"
    ]


def test_max_subscriptions(max_fake):
    auth = {"Authorization": MAX_TOKEN}
    bad = httpx.post(
        f"{max_fake.url}/subscriptions", json={"url": "https://x/h", "secret": "no"}, headers=auth
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "proto.payload")
    body = {"url": "https://x/h", "update_types": ["message_created"], "secret": "s3cret_ok"}
    assert httpx.post(f"{max_fake.url}/subscriptions", json=body, headers=auth).json() == {"success": True}
    [listed] = httpx.get(f"{max_fake.url}/subscriptions", headers=auth).json()["subscriptions"]
    assert listed["url"] == "https://x/h" and listed["update_types"] == ["message_created"] and listed["time"]
    assert "secret" not in listed
    gone = httpx.delete(f"{max_fake.url}/subscriptions", params={"url": "https://x/h"}, headers=auth)
    assert gone.json() == {"success": True}
    assert httpx.get(f"{max_fake.url}/subscriptions", headers=auth).json() == {"subscriptions": []}


def test_max_plays_a_user_to_the_webhook(max_fake, receiver):
    auth = {"Authorization": MAX_TOKEN}
    httpx.post(
        f"{max_fake.url}/subscriptions", json={"url": receiver.url + "/max", "secret": "s3cret"}, headers=auth
    )

    said = played(max_fake, say={"user_id": 42, "text": "Нужен кран", "name": "Иван Петров"})
    assert said["status"] == 200
    got = receiver.got[-1]
    assert got["headers"]["X-Max-Bot-Api-Secret"] == "s3cret" and got["path"] == "/max"
    update = got["body"]
    assert update == said["update"] and update["update_type"] == "message_created"
    assert (
        update["message"]["sender"]["user_id"] == 42 and update["message"]["sender"]["name"] == "Иван Петров"
    )
    assert update["message"]["recipient"]["chat_id"] == DIALOG_OFFSET + 42
    assert update["message"]["body"]["text"] == "Нужен кран" and update["user_locale"] == "ru"
    assert update["timestamp"] > 10**12

    started = played(max_fake, start={"user_id": 42, "payload": "invite-abc"})["update"]
    assert (started["update_type"], started["payload"], started["user_id"]) == (
        "bot_started",
        "invite-abc",
        42,
    )
    assert started["chat_id"] == DIALOG_OFFSET + 42 and started["user"]["user_id"] == 42

    keyboard = {"type": "inline_keyboard", "payload": {"buttons": [KEYBOARD]}}
    mid = max_send(max_fake, {"text": "Заказ", "attachments": [keyboard]}, user_id=42).json()["message"][
        "body"
    ]["mid"]
    pressed = played(max_fake, press=mid)["update"]
    assert pressed["update_type"] == "message_callback"
    assert (
        pressed["callback"]["payload"] == "order:1042:accept" and pressed["callback"]["user"]["user_id"] == 42
    )
    assert pressed["message"]["body"]["mid"] == mid
    callback_id = pressed["callback"]["callback_id"]
    answer = httpx.post(
        f"{max_fake.url}/answers",
        params={"callback_id": callback_id},
        json={"notification": "Принят"},
        headers=auth,
    )
    assert answer.json() == {"success": True}
    assert httpx.get(f"{max_fake.url}/_sent").json()["answers"][0]["notification"] == "Принят"
    unknown = httpx.post(
        f"{max_fake.url}/answers", params={"callback_id": "nope"}, json={"notification": "x"}, headers=auth
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not.found")

    contact = played(max_fake, contact={"user_id": 42, "phone": "+79001234567", "name": "Иван"})["update"]
    [attachment] = contact["message"]["body"]["attachments"]
    assert (
        attachment["type"] == "contact" and "TEL;TYPE=cell:+79001234567" in attachment["payload"]["vcf_info"]
    )
    assert attachment["payload"]["max_info"]["user_id"] == 42

    played(max_fake, say={"user_id": 42, "text": "forged"}, secret="wrong")
    assert receiver.got[-1]["headers"]["X-Max-Bot-Api-Secret"] == "wrong"
    played(max_fake, raw={"update_type": "message_created"}, no_secret=True)
    assert "X-Max-Bot-Api-Secret" not in receiver.got[-1]["headers"]
    receiver.status = 401
    assert played(max_fake, update={"update_type": "bot_stopped", "timestamp": 1})["status"] == 401
    assert httpx.post(f"{max_fake.url}/_update", json={"press": "mid.none"}).status_code == 400


# --- VK ----------------------------------------------------------------------------------------
def vk(fake, method: str, token: str | None = VK_TOKEN, **params) -> httpx.Response:
    data = {"v": "5.199", **params} | ({"access_token": token} if token else {})
    return httpx.post(f"{fake.url}/method/{method}", data=data, timeout=10)


def vk_send(fake, random_id: int, **params) -> dict:
    return vk(fake, "messages.send", peer_id=194250225, random_id=random_id, message="Заказ", **params).json()


def test_vk_wants_a_version_and_a_token(vk_fake):
    no_version = httpx.post(f"{vk_fake.url}/method/groups.getById", data={"access_token": VK_TOKEN}).json()
    assert no_version["error"]["error_code"] == 8
    assert no_version["error"]["error_msg"] == "Invalid request: v is required"
    wrong = vk(vk_fake, "messages.send", token="wrong", peer_id=1, random_id=1, message="x")
    assert wrong.status_code == 200
    error = wrong.json()["error"]
    assert error["error_code"] == 5 and error["error_msg"].startswith("User authorization failed")
    assert {"key": "method", "value": "messages.send"} in error["request_params"]
    assert vk(vk_fake, "groups.getById", token=None).json()["error"]["error_code"] == 5
    assert vk(vk_fake, "own.group").json()["error"]["error_code"] == 3
    bearer = httpx.post(
        f"{vk_fake.url}/method/groups.getById",
        data={"v": "5.199"},
        headers={"Authorization": f"Bearer {VK_TOKEN}"},
    ).json()
    assert bearer["response"]["groups"][0]["id"] == vk_fake.group_id


def test_vk_send_is_idempotent_on_random_id(vk_fake):
    keyboard = json.dumps({"inline": True, "buttons": [[{"action": {"type": "callback", "label": "Да"}}]]})
    first = vk_send(vk_fake, 817263541, keyboard=keyboard)["response"]
    assert isinstance(first, int)
    assert vk_send(vk_fake, 817263541, keyboard=keyboard)["response"] == first
    assert vk_send(vk_fake, 817263542)["response"] != first
    messages = httpx.get(f"{vk_fake.url}/_sent").json()["messages"]
    assert [(m["id"], m["repeats"]) for m in messages][0] == (first, 1) and len(messages) == 2

    missing = vk(vk_fake, "messages.send", peer_id=1, message="x").json()["error"]
    assert missing["error_code"] == 100
    assert vk_send(vk_fake, 2**31)["error"]["error_code"] == 100
    too_long = vk(vk_fake, "messages.send", peer_id=1, random_id=5, message="я" * 9001).json()
    assert too_long["error"]["error_code"] == 914
    assert vk_send(vk_fake, 6, keyboard="{not json")["error"]["error_code"] == 911
    assert vk_send(vk_fake, 7, keyboard='{"inline": true}')["error"]["error_code"] == 911


@pytest.mark.parametrize(
    ("fail", "message"),
    [
        ("6", "Too many requests per second"),
        ("9", "Flood control"),
        ("10", "Internal server error"),
        ("901", "Can't send messages for users without permission"),
        ("902", "Can't send messages to this user due to their privacy settings"),
        ("5", "User authorization failed: invalid access_token (4)."),
    ],
)
def test_vk_injected_errors(vk_fake, fail, message):
    control(vk_fake, fail=fail, times=1)
    error = vk_send(vk_fake, 11)["error"]
    assert (error["error_code"], error["error_msg"]) == (int(fail), message)
    assert "response" in vk_send(vk_fake, 11)


def test_vk_http500_and_timeout(vk_fake):
    control(vk_fake, fail="http500", times=1)
    assert vk(vk_fake, "messages.send", peer_id=1, random_id=1, message="x").status_code == 500
    control(vk_fake, fail="timeout", times=1, delay=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{vk_fake.url}/method/messages.send",
            data={"v": "5.199", "access_token": VK_TOKEN, "peer_id": 1, "random_id": 2, "message": "x"},
            timeout=0.3,
        )
    [taken] = httpx.get(f"{vk_fake.url}/_sent").json()["messages"]
    assert vk_send(vk_fake, 2)["response"] == taken["id"]  # the retry is not a second message


def test_vk_callback_api(vk_fake, receiver):
    group = vk_fake.group_id
    code = vk(vk_fake, "groups.getCallbackConfirmationCode", group_id=group).json()["response"]["code"]
    assert code == "a1b2c3d4"
    added = vk(
        vk_fake, "groups.addCallbackServer", group_id=group, url=receiver.url, title="arenda", secret_key="s3"
    )
    assert added.json() == {"response": {"server_id": 1}}

    receiver.reply = code
    confirmed = played(vk_fake, confirm=True)
    assert confirmed["confirmed"] is True and confirmed["body"] == code
    assert receiver.got[-1]["body"] == {"type": "confirmation", "group_id": group, "secret": "s3"}
    receiver.reply = "ok"
    assert played(vk_fake, confirm=True)["confirmed"] is False

    said = played(vk_fake, say={"from_id": 194250225, "text": "Привет"})
    event = receiver.got[-1]["body"]
    assert said["status"] == 200 and said["body"] == "ok" and event == said["event"]
    assert (event["type"], event["v"], event["secret"], event["group_id"]) == (
        "message_new",
        "5.199",
        "s3",
        group,
    )
    message = event["object"]["message"]
    assert (message["peer_id"], message["from_id"], message["text"], message["out"]) == (
        194250225,
        194250225,
        "Привет",
        0,
    )
    assert message["attachments"] == [] and message["conversation_message_id"] >= 1
    assert "callback" in event["object"]["client_info"]["button_actions"]

    payload = json.dumps({"cmd": "accept", "order": 1042})
    keyboard = json.dumps(
        {"inline": True, "buttons": [[{"action": {"type": "callback", "label": "Да", "payload": payload}}]]}
    )
    message_id = vk_send(vk_fake, 99, keyboard=keyboard)["response"]
    pressed = played(vk_fake, press=message_id)["event"]
    obj = pressed["object"]
    assert pressed["type"] == "message_event" and obj["payload"] == {"cmd": "accept", "order": 1042}
    assert (obj["user_id"], obj["peer_id"]) == (194250225, 194250225) and obj["event_id"]
    answered = vk(
        vk_fake,
        "messages.sendMessageEventAnswer",
        event_id=obj["event_id"],
        user_id=obj["user_id"],
        peer_id=obj["peer_id"],
        event_data=json.dumps({"type": "show_snackbar", "text": "Принят"}),
    )
    assert answered.json() == {"response": 1}
    assert httpx.get(f"{vk_fake.url}/_sent").json()["answers"][0]["event_data"]["text"] == "Принят"

    again = played(vk_fake, repeat=pressed["event_id"])
    assert receiver.got[-1]["headers"]["X-Retry-Counter"] == "1" and receiver.got[-1]["body"] == pressed
    assert again["event"] == pressed
    played(vk_fake, say={"from_id": 1, "text": "forged"}, secret="wrong")
    assert receiver.got[-1]["body"]["secret"] == "wrong"
    played(vk_fake, say={"from_id": 1, "text": "no secret"}, no_secret=True)
    assert "secret" not in receiver.got[-1]["body"]

    assert vk(vk_fake, "groups.setCallbackSettings", group_id=group, server_id=1, message_new=1).json() == {
        "response": 1
    }
    assert played(vk_fake, press=message_id)["status"] is None  # message_event is not switched on
    assert played(vk_fake, say={"from_id": 1, "text": "on"})["status"] == 200


# --- Avito -------------------------------------------------------------------------------------
def avito_token(fake) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    answer = httpx.post(f"{fake.url}/token", data=form).json()
    assert answer["expires_in"] == 86400 and answer["token_type"] == "Bearer"
    return answer["access_token"]


def avito_send(fake, token: str, chat_id: str, text: str = "Свободен", user_id=None) -> httpx.Response:
    path = f"/messenger/v1/accounts/{user_id or fake.account_id}/chats/{chat_id}/messages"
    body = {"message": {"text": text}, "type": "text"}
    return httpx.post(fake.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def avito_chat(fake, receiver, token) -> str:
    httpx.post(
        f"{fake.url}/messenger/v3/webhook",
        json={"url": receiver.url + "/hooks/avito?s=k3y"},
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    item = {"id": 4341979279, "title": "Автокран 25 т", "url": "https://avito.ru/4341979279"}
    return played(fake, say={"author_id": 107238239, "text": "Кран свободен?", "item": item})["chat_id"]


def test_avito_tokens(avito_fake):
    wrong = httpx.post(
        f"{avito_fake.url}/token",
        data={"grant_type": "client_credentials", "client_id": "test-client", "client_secret": "nope"},
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 401
    assert httpx.post(f"{avito_fake.url}/token", data={"grant_type": "password"}).status_code == 400
    token = avito_token(avito_fake)
    listed = httpx.post(
        f"{avito_fake.url}/messenger/v1/subscriptions", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.json() == {"subscriptions": []}
    no_token = httpx.post(f"{avito_fake.url}/messenger/v1/subscriptions")
    assert (no_token.status_code, no_token.json()) == (
        401,
        {"error": {"code": 401, "message": "Unauthorized"}},
    )

    control(avito_fake, expire_tokens=True)
    expired = httpx.post(
        f"{avito_fake.url}/messenger/v1/subscriptions", headers={"Authorization": f"Bearer {token}"}
    )
    assert expired.status_code == 401
    fresh = avito_token(avito_fake)
    assert (
        httpx.post(
            f"{avito_fake.url}/messenger/v1/subscriptions", headers={"Authorization": f"Bearer {fresh}"}
        ).status_code
        == 200
    )
    assert len(httpx.get(f"{avito_fake.url}/_sent").json()["tokens_issued"]) == 2


def test_avito_webhook_probe_and_delivery(avito_fake, receiver):
    token = avito_token(avito_fake)
    auth = {"Authorization": f"Bearer {token}"}
    receiver.status = 500
    refused = httpx.post(
        f"{avito_fake.url}/messenger/v3/webhook", json={"url": receiver.url + "/h"}, headers=auth
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 400
    receiver.status = 200
    chat_id = avito_chat(avito_fake, receiver, token)
    assert receiver.got[0]["body"] == {}  # the probe
    assert chat_id.startswith("u2i-")
    delivery = receiver.got[-1]
    assert delivery["path"] == "/hooks/avito?s=k3y"
    value = delivery["body"]["payload"]["value"]
    assert delivery["body"]["payload"]["type"] == "message" and delivery["body"]["version"]
    assert (value["chat_id"], value["user_id"], value["author_id"]) == (
        chat_id,
        avito_fake.account_id,
        107238239,
    )
    assert (value["type"], value["chat_type"], value["item_id"]) == ("text", "u2i", 4341979279)
    assert value["content"] == {"text": "Кран свободен?"} and value["read"] is None and value["published_at"]

    again = played(avito_fake, repeat=delivery["body"]["id"])
    assert again["status"] == 200 and receiver.got[-1]["body"] == delivery["body"]
    system = played(avito_fake, system={"chat_id": chat_id, "text": "[Системное сообщение]", "flow_id": "x"})
    assert system["delivery"]["payload"]["value"]["type"] == "system"

    chat = httpx.get(
        f"{avito_fake.url}/messenger/v2/accounts/{avito_fake.account_id}/chats/{chat_id}", headers=auth
    )
    context = chat.json()["context"]
    assert context["type"] == "item" and context["value"]["title"] == "Автокран 25 т"
    assert {u["id"] for u in chat.json()["users"]} == {avito_fake.account_id, 107238239}
    listed = httpx.post(f"{avito_fake.url}/messenger/v1/subscriptions", headers=auth).json()["subscriptions"]
    assert listed == [{"url": receiver.url + "/hooks/avito?s=k3y", "version": "3"}]
    gone = httpx.post(
        f"{avito_fake.url}/messenger/v1/webhook/unsubscribe", json={"url": listed[0]["url"]}, headers=auth
    )
    assert gone.json() == {"ok": True}


def test_avito_sends(avito_fake, receiver):
    token = avito_token(avito_fake)
    chat_id = avito_chat(avito_fake, receiver, token)
    sent = avito_send(avito_fake, token, chat_id).json()
    assert set(sent) == {"id", "type", "created", "direction", "content"}
    assert (sent["type"], sent["direction"], sent["content"]) == ("text", "out", {"text": "Свободен"})
    assert avito_send(avito_fake, token, "u2i-unknown").status_code == 404
    assert avito_send(avito_fake, token, chat_id, text="я" * 1001).status_code == 400
    forbidden = avito_send(avito_fake, token, chat_id, user_id=1)
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == 403
    assert [m["chat_id"] for m in httpx.get(f"{avito_fake.url}/_sent").json()["messages"]] == [chat_id]


@pytest.mark.parametrize("fail", ["429", "500", "503", "403"])
def test_avito_injected_failures(avito_fake, receiver, fail):
    token = avito_token(avito_fake)
    chat_id = avito_chat(avito_fake, receiver, token)
    control(avito_fake, fail=fail, times=1)
    refused = avito_send(avito_fake, token, chat_id)
    assert refused.status_code == int(fail) and refused.json()["error"]["code"] == int(fail)
    assert avito_send(avito_fake, token, chat_id).status_code == 200


def test_avito_timeout(avito_fake, receiver):
    token = avito_token(avito_fake)
    chat_id = avito_chat(avito_fake, receiver, token)
    control(avito_fake, fail="timeout", times=1, delay=1)
    path = f"/messenger/v1/accounts/{avito_fake.account_id}/chats/{chat_id}/messages"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            avito_fake.url + path,
            json={"message": {"text": "lost"}, "type": "text"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=0.3,
        )
    assert [m["content"]["text"] for m in httpx.get(f"{avito_fake.url}/_sent").json()["messages"]] == ["lost"]


# --- SMS: balance and statuses -------------------------------------------------------------------
@pytest.fixture
def sms_fake():
    server = _started(FakeSms())
    yield server
    server.stop()


def test_sms_balance_and_statuses(sms_fake):
    url = sms_fake.url
    assert httpx.post(f"{url}/my/balance", data={"api_id": fake_sms.API_ID, "json": 1}).json() == {
        "status": "OK",
        "status_code": 100,
        "balance": 512.35,
    }
    assert httpx.get(f"{url}/my/balance", params={"api_id": "x"}).json()["status_code"] == 200
    smsc_auth = {"login": fake_sms.LOGIN, "psw": fake_sms.PASSWORD, "fmt": 3}
    assert httpx.get(f"{url}/sys/balance.php", params=smsc_auth).json() == {"balance": "512.35"}
    assert httpx.get(f"{url}/sys/balance.php", params={"login": "x", "psw": "y"}).json()["error_code"] == 2

    smsru = httpx.post(
        f"{url}/sms/send", data={"api_id": fake_sms.API_ID, "to": "79991234567", "msg": "Код", "json": 1}
    ).json()
    sms_id = smsru["sms"]["79991234567"]["sms_id"]
    smsc_id = httpx.post(
        f"{url}/sys/send.php", data=smsc_auth | {"phones": "79991234567", "mes": "Код"}
    ).json()["id"]
    assert (
        httpx.get(f"{url}/sys/balance.php", params=smsc_auth).json()["balance"]
        == f"{512.35 - 2 * sms_fake.sms_cost:.2f}"
    )

    def smsru_code() -> int:
        return httpx.post(f"{url}/sms/status", data={"sms_id": sms_id}).json()["sms"][sms_id]["status_code"]

    def smsc_code() -> int:
        return httpx.get(
            f"{url}/sys/status.php", params=smsc_auth | {"id": smsc_id, "phone": "79991234567"}
        ).json()["status"]

    assert (smsru_code(), smsc_code()) == (103, 1)  # delivered unless told otherwise
    for state, smsru_expected, smsc_expected in [
        ("sent", 102, 0),
        ("read", 110, 2),
        ("failed", 106, 20),
        ("expired", 104, 3),
        ("delivered", 103, 1),
    ]:
        control(sms_fake, "/_status", id=sms_id, state=state)
        control(sms_fake, "/_status", id=smsc_id, state=state)
        assert (smsru_code(), smsc_code()) == (smsru_expected, smsc_expected)
    assert httpx.post(f"{url}/_status", json={"id": "404", "state": "read"}).status_code == 400

    control(sms_fake, balance=0)
    poor = httpx.post(
        f"{url}/sms/send", data={"api_id": fake_sms.API_ID, "to": "79991234567", "msg": "x"}
    ).json()
    assert poor["status_code"] == 201
    assert (
        httpx.post(f"{url}/sys/send.php", data=smsc_auth | {"phones": "7999", "mes": "x"}).json()[
            "error_code"
        ]
        == 3
    )
