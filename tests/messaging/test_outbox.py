"""The outbox against the fake Telegram: written with the caller's transaction, sent once
it commits, retried as Telegram asks, given up on clearly, and at least once — made
visible — when a worker dies in the middle of an attempt."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from arenda.crm.services import intake_receive, lead_reply
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.channels import Outcome, SendResult, channel_for
from arenda.integrations.messaging.models import OutboxMessage
from arenda.integrations.messaging.outbox import send_message
from tests.messaging.conftest import calls, control, sent

pytestmark = pytest.mark.django_db
S = OutboxMessage.Status


def _enqueue(**kwargs):
    data = {"channel": "telegram", "recipient": "5551", "text": "Заказ на 12.05, 08:00"} | kwargs
    return outbox.enqueue(**data)


def _make_due(message):
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def _expire_lease(message):
    OutboxMessage.objects.filter(pk=message.pk).update(
        sending_at=timezone.now() - outbox.SENDING_LEASE - timedelta(seconds=1)
    )


def _near(moment, expected, slack=5):
    return abs((moment - expected).total_seconds()) < slack


def test_nothing_is_sent_before_the_caller_commits(fake, tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        message = _enqueue(buttons=[outbox.ack_button()])
        assert tasks == []
    assert message.status == S.QUEUED and sent(fake) == []
    for callback in callbacks:
        callback()
    assert [(t.task.name, t.args) for t in tasks] == [(send_message.name, [message.pk])]

    assert send_message.call(message.pk) == S.DELIVERED
    message.refresh_from_db()
    [got] = sent(fake)
    assert (got["chat"]["id"], got["text"]) == (5551, "Заказ на 12.05, 08:00")
    assert got["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"ack:{message.pk}"
    assert message.external_id == str(got["message_id"])
    assert (message.status, message.attempts, message.in_doubt) == (S.DELIVERED, 1, False)
    assert [h["status"] for h in message.history] == [S.QUEUED, S.SENDING, S.DELIVERED]
    assert outbox.deliver(message.pk) is None and len(sent(fake)) == 1


def test_a_rolled_back_action_sends_nothing(fake, tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _enqueue()
        raise RuntimeError
    assert OutboxMessage.objects.count() == 0 and tasks == []


def test_429_waits_as_long_as_telegram_says(fake, tasks, django_capture_on_commit_callbacks):
    message = _enqueue()
    control(fake, fail="429", times=1, retry_after=7)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.deliver(message.pk) == S.QUEUED
    message.refresh_from_db()
    assert _near(message.next_attempt_at, timezone.now() + timedelta(seconds=7))
    assert "429" in message.last_error
    # The retry is a task deferred to that moment; until then nobody sends it.
    assert tasks[-1].task.run_after == message.next_attempt_at
    assert outbox.deliver(message.pk) is None
    _make_due(message)
    assert outbox.deliver(message.pk) == S.DELIVERED
    assert len(sent(fake)) == 1


def test_500_and_timeouts_are_retried_with_back_off(fake, tasks):
    message = _enqueue()
    control(fake, fail="500", times=1)
    assert outbox.deliver(message.pk) == S.QUEUED
    message.refresh_from_db()
    assert _near(message.next_attempt_at, timezone.now() + outbox.backoff(1))
    assert (message.in_doubt, sent(fake)) == (False, [])

    # Telegram takes the message but its answer never comes: it may have arrived.
    control(fake, fail="timeout", times=1, delay=1.5)
    _make_due(message)
    assert outbox.deliver(message.pk) == S.QUEUED
    message.refresh_from_db()
    assert _near(message.next_attempt_at, timezone.now() + outbox.backoff(2))
    assert outbox.backoff(2) == 2 * outbox.backoff(1)
    assert message.in_doubt

    _make_due(message)
    assert outbox.deliver(message.pk) == S.DELIVERED
    first, second = sent(fake)
    # The repeat is marked as such for the recipient; the record keeps the text as written.
    assert first["text"] == message.text
    assert second["text"] != message.text and second["text"].endswith(message.text)
    message.refresh_from_db()
    assert (message.attempts, message.external_id) == (3, str(second["message_id"]))


def test_403_fails_at_once_with_the_reason(fake, tasks, django_capture_on_commit_callbacks):
    message = _enqueue()
    control(fake, fail="403", times=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.deliver(message.pk) == S.FAILED
    message.refresh_from_db()
    assert "bot was blocked by the user" in message.last_error
    assert tasks == [] and outbox.deliver_due() == {"recovered": 0, "attempted": 0}
    assert len(calls(fake, "sendMessage")) == 1


def test_gives_up_after_max_attempts(fake, tasks):
    message = _enqueue()
    control(fake, fail="500", times=100)
    for _attempt in range(outbox.MAX_ATTEMPTS):
        _make_due(message)
        outbox.deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (S.FAILED, outbox.MAX_ATTEMPTS)
    assert "500" in message.last_error
    assert len(calls(fake, "sendMessage")) == outbox.MAX_ATTEMPTS

    control(fake, fail="none")
    outbox.retry(message)
    assert outbox.deliver(message.pk) == S.DELIVERED


def test_worker_dies_after_sending_at_least_once_made_visible(fake, tasks):
    message = _enqueue(buttons=[outbox.ack_button()])
    # The worker claims the message and Telegram takes it; the worker dies before recording.
    claimed = outbox._claim(message.pk)
    assert channel_for("telegram").send(claimed).external_id
    message.refresh_from_db()
    assert message.status == S.SENDING

    # Within the lease nobody touches it: the worker may still be alive.
    assert outbox.deliver_due() == {"recovered": 0, "attempted": 0}
    assert outbox.deliver(message.pk) is None and len(sent(fake)) == 1

    _expire_lease(message)
    assert outbox.deliver_due() == {"recovered": 1, "attempted": 1}
    message.refresh_from_db()
    first, second = sent(fake)
    assert (message.status, message.attempts, message.in_doubt) == (S.DELIVERED, 2, True)
    assert second["text"].endswith(message.text) and second["text"] != first["text"]
    assert message.external_id == str(second["message_id"])
    # Both copies' buttons name the same record.
    assert first["reply_markup"] == second["reply_markup"]
    assert outbox.acknowledge(message.pk, chat_id=first["chat"]["id"]).status == S.ACKNOWLEDGED


def test_a_late_answer_from_a_recovered_attempt_changes_nothing(fake):
    message = _enqueue()
    stalled = outbox._claim(message.pk)
    _expire_lease(message)
    assert outbox._recover(message.pk, timezone.now()) == 1
    retrying = outbox._claim(message.pk)
    assert (
        outbox._record(message.pk, stalled.attempt_id, SendResult(Outcome.FAILED, error="late")) == S.SENDING
    )
    message.refresh_from_db()
    assert (message.attempt_id, message.last_error) == (retrying.attempt_id, retrying.last_error)
    result = channel_for("telegram").send(retrying)
    assert outbox._record(message.pk, retrying.attempt_id, result) == S.DELIVERED


def test_an_acknowledgement_during_the_attempt_wins(fake):
    message = _enqueue(buttons=[outbox.ack_button()])
    claimed = outbox._claim(message.pk)
    outbox.acknowledge(message.pk, chat_id=5551)
    result = channel_for("telegram").send(claimed)
    assert outbox._record(message.pk, claimed.attempt_id, result) == S.ACKNOWLEDGED
    message.refresh_from_db()
    assert message.external_id == result.external_id and message.acknowledged_at


def test_only_the_recipient_acknowledges():
    message = _enqueue()
    assert outbox.acknowledge(message.pk, chat_id=9999) is None
    assert outbox.acknowledge(message.pk, chat_id="5551").status == S.ACKNOWLEDGED


def test_the_same_idempotency_key_queues_one_message(tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        one = _enqueue(idempotency_key="dispatch:booking:1:v1")
        two = _enqueue(idempotency_key="dispatch:booking:1:v1", text="other")
    assert one.pk == two.pk and len(tasks) == 1 and OutboxMessage.objects.count() == 1


def test_empty_messages_and_unknown_channels_are_refused():
    with pytest.raises(ValidationError):
        _enqueue(text="  ")
    with pytest.raises(ValidationError):
        _enqueue(recipient="")
    with pytest.raises(ValueError):
        _enqueue(channel="pigeon")


def test_no_bot_token_fails_with_a_clear_reason(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    message = _enqueue()
    assert outbox.deliver(message.pk) == S.FAILED
    message.refresh_from_db()
    assert "TELEGRAM_BOT_TOKEN" in message.last_error


def test_a_lead_reply_goes_to_the_chat_and_its_status_follows(fake, make_user):
    lead = intake_receive(source="telegram", telegram_chat_id="777", name="Иван", message="Нужен кран").lead
    entry = lead_reply(lead=lead, text="Здравствуйте! Есть КС-45717.", by=make_user())
    assert entry.delivery_status == S.QUEUED
    message = OutboxMessage.objects.get()
    assert (message.recipient, message.subject) == ("777", entry)
    outbox.deliver(message.pk)
    entry.refresh_from_db()
    assert entry.delivery_status == S.DELIVERED
    assert [m["text"] for m in sent(fake)] == ["Здравствуйте! Есть КС-45717."]


def test_send_outbox_command_sends_what_is_due(fake, tasks):
    message = _enqueue()
    call_command("send_outbox", stdout=(out := io.StringIO()))
    assert "attempted: 1" in out.getvalue()
    message.refresh_from_db()
    assert message.status == S.DELIVERED


def test_the_subject_shows_its_latest_message_not_a_late_answer_about_an_older_one():
    from tests.factories import BookingFactory

    booking = BookingFactory()
    old = outbox.enqueue(channel="telegram", recipient="5551", text="order", subject=booking)
    new = outbox.enqueue(channel="telegram", recipient="5551", text="order, updated", subject=booking)
    outbox.acknowledge(new.pk, chat_id="5551")
    booking.refresh_from_db()
    assert booking.delivery_status == S.ACKNOWLEDGED
    outbox.acknowledge(old.pk, chat_id="5551")  # the older copy, answered late
    outbox.retry(OutboxMessage.objects.get(pk=old.pk))
    booking.refresh_from_db()
    assert booking.delivery_status == S.ACKNOWLEDGED
