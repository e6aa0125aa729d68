"""The channels page (Administration → Channels, the admin's): each messaging channel's
settings, its secrets write-only (stored encrypted, never shown back), the webhook address
to paste into the platform, a test message, the last delivery error and the on/off switch
(docs/channels.md). The settings are ``integrations/messaging/config.py``'s."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from arenda.core import audit
from arenda.core.roles import Role, role_of
from arenda.integrations.messaging import config, outbox
from arenda.integrations.messaging.channels import avito, sms
from arenda.integrations.messaging.channels import max as max_channel
from arenda.integrations.messaging.models import ChannelConfig, OutboxMessage
from arenda.integrations.outbound import OutboundRefused, check_url

LABELS = {
    "api_url": gettext_lazy("API address"),
    "bot_username": gettext_lazy("Bot's username"),
    "group_id": gettext_lazy("Community id"),
    "confirmation_code": gettext_lazy("Confirmation string (Callback API)"),
    "client_id": gettext_lazy("Client id"),
    "account_id": gettext_lazy("Avito profile number"),
    "gateway": gettext_lazy("Gateway"),
    "smsru_url": gettext_lazy("SMS.ru address"),
    "smsc_url": gettext_lazy("SMSC address"),
    "login": gettext_lazy("SMSC login"),
    "sender": gettext_lazy("Sender name"),
    "daily_cap": gettext_lazy("SMS a day at most (0: no cap)"),
    "token": gettext_lazy("Token"),
    "webhook_secret": gettext_lazy("Webhook secret"),
    "secret_key": gettext_lazy("Secret key"),
    "client_secret": gettext_lazy("Client secret"),
    "webhook_key": gettext_lazy("Webhook key"),
    "api_id": gettext_lazy("SMS.ru api_id"),
    "password": gettext_lazy("SMSC password"),
}
WEBHOOKS = {
    "telegram": "messaging:telegram-webhook",
    "max": "channels:max-webhook",
    "vk": "channels:vk-webhook",
}
SUBSCRIBE = {"max": max_channel.subscribe, "avito": avito.subscribe}
TEST_HINT = {
    "telegram": gettext_lazy("chat id"),
    "max": gettext_lazy("MAX user id"),
    "vk": gettext_lazy("VK peer id"),
    "avito": gettext_lazy("Avito chat id"),
    "sms": gettext_lazy("phone"),
}


def _admin(request) -> None:
    if role_of(request.user) != Role.ADMIN:
        raise PermissionDenied


def _kind(kind: str) -> str:
    if kind not in config.OPTIONS:
        raise Http404
    return kind


class ChannelForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("On"), required=False)

    def __init__(self, *args, kind: str, current: config.Config, **kwargs):
        # One form per channel on the page: the prefix keeps their fields' ids apart.
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        saved = current.row.options if current.row is not None else {}
        self.fields["enabled"].initial = current.enabled
        for name in config.OPTIONS[kind]:
            if name == "gateway":
                field = forms.ChoiceField(
                    label=LABELS[name],
                    required=False,
                    choices=[("", _("— off —")), ("smsru", "SMS.ru"), ("smsc", "SMSC.ru")],
                )
            elif name == "daily_cap":
                field = forms.IntegerField(label=LABELS[name], required=False, min_value=0, max_value=100000)
            elif name == "api_url" or name.endswith("_url"):
                field = forms.URLField(label=LABELS[name], required=False, max_length=300)
            else:
                field = forms.CharField(label=LABELS[name], required=False, max_length=200)
            field.initial = saved.get(name, "")
            field.help_text = _("From the environment: %(value)s") % {
                "value": current.values.get(name) or "—"
            }
            self.fields[name] = field
        for name in config.SECRETS[kind]:
            self.fields[name] = forms.CharField(
                label=LABELS[name],
                required=False,
                max_length=500,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=_("set") if current.is_set(name) else _("not set"),
            )
            self.fields[f"{name}__clear"] = forms.BooleanField(label=_("remove"), required=False)

    def clean(self):
        data = super().clean()
        for name in config.OPTIONS[self.kind]:
            if name.endswith("_url") and data.get(name):
                try:
                    check_url(data[name])  # the app calls it with the channel's secrets
                except OutboundRefused as exc:
                    self.add_error(name, exc.message)
        if self.kind == "max" and data.get("webhook_secret"):
            secret = data["webhook_secret"]
            if not (5 <= len(secret) <= 256 and all(ch.isalnum() or ch in "_-" for ch in secret)):
                self.add_error("webhook_secret", _("5 to 256 letters, digits, «_» or «-» (MAX's rule)."))
        return data

    def option_fields(self):
        return [self[name] for name in config.OPTIONS[self.kind]]

    def secret_fields(self):
        return [(self[name], self[f"{name}__clear"]) for name in config.SECRETS[self.kind]]


def _webhook_url(request, kind: str, current: config.Config) -> str:
    if kind == "avito":
        key = current.values.get("webhook_key")
        return request.build_absolute_uri(reverse("channels:avito-webhook", args=[key])) if key else ""
    return request.build_absolute_uri(reverse(WEBHOOKS[kind])) if kind in WEBHOOKS else ""


def _last_errors() -> dict:
    """Each channel's latest message with an error: two queries whatever the channels."""
    latest = (
        OutboxMessage.objects.exclude(last_error="")
        .values("channel")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    messages = OutboxMessage.objects.filter(pk__in=list(latest)).only(
        "channel", "last_error", "queued_at", "status"
    )
    return {message.channel: message for message in messages}


def _cards(request, forms_by_kind=None) -> list[dict]:
    forms_by_kind = forms_by_kind or {}
    configs, errors = config.all_configs(), _last_errors()
    cards = []
    for kind, current in configs.items():
        card = {
            "kind": kind,
            "label": ChannelConfig.Kind(kind).label,
            "config": current,
            "form": forms_by_kind.get(kind) or ChannelForm(kind=kind, current=current),
            "webhook": _webhook_url(request, kind, current),
            "last_error": errors.get(kind),
            "test_hint": TEST_HINT[kind],
            "can_subscribe": kind in SUBSCRIBE and current.ready,
        }
        if kind == "sms" and current.ready:
            card["balance"] = sms.balance()
        cards.append(card)
    return cards


@require_http_methods(["GET"])
def channels_page(request):
    _admin(request)
    return render(request, "ops/channels.html", {"cards": _cards(request)})


@require_POST
def channel_save(request, kind):
    _admin(request)
    kind = _kind(kind)
    current = config.get(kind)
    form = ChannelForm(request.POST, kind=kind, current=current)
    if not form.is_valid():
        return render(request, "ops/channels.html", {"cards": _cards(request, {kind: form})}, status=400)
    data = form.cleaned_data
    secrets = {}
    for name in config.SECRETS[kind]:
        if data.get(f"{name}__clear"):
            secrets[name] = None
        elif data.get(name):
            secrets[name] = data[name]
    options = {name: "" if data.get(name) is None else str(data[name]) for name in config.OPTIONS[kind]}
    config.save(kind, enabled=data["enabled"], options=options, secrets=secrets, by=request.user)
    if kind in config.GENERATED:
        config.ensure_generated(kind)
    audit.record(
        audit.Kind.CHANNEL_CHANGED,
        by=request.user,
        target=ChannelConfig.Kind(kind).label,
        enabled=data["enabled"],
        options=sorted(name for name, value in options.items() if value),
        secrets_changed=sorted(secrets),
    )
    messages.success(request, _("The channel's settings are saved."))
    return redirect(f"{reverse('ops:channels')}#channel-{kind}")


@require_POST
def channel_test(request, kind):
    _admin(request)
    kind = _kind(kind)
    recipient = (request.POST.get("recipient") or "").strip()
    if not recipient:
        messages.error(request, _("Say whom to send the test message to."))
        return redirect(f"{reverse('ops:channels')}#channel-{kind}")
    outbox.enqueue(
        channel=kind,
        recipient=recipient,
        text=_("A test message from Arenda: the channel works."),
        title=_("Test message"),
    )
    config.tested(kind)
    messages.success(
        request, _("The test message is queued: its delivery shows below within a minute (refresh the page).")
    )
    return redirect(f"{reverse('ops:channels')}#channel-{kind}")


@require_POST
def channel_subscribe(request, kind):
    _admin(request)
    kind = _kind(kind)
    if kind not in SUBSCRIBE:
        raise Http404
    current = config.get(kind)
    if kind == "avito":
        config.ensure_generated(kind)
        current = config.get(kind)
    error = SUBSCRIBE[kind](_webhook_url(request, kind, current))
    if error:
        messages.error(request, _("The platform refused the webhook: %(error)s") % {"error": error})
    else:
        messages.success(request, _("The platform will call the webhook now."))
    return redirect(f"{reverse('ops:channels')}#channel-{kind}")
