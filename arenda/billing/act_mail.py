"""The closing document goes to the customer (docs/closing-forms.md): ``act_send`` e-mails
its PDF through the outbox with the customer's link in the text, and the link's
``act_accept`` is the customer accepting it (the accountant is told).

The e-mail is queued in the transaction that marks the act sent, so the two go together;
an idempotency key (the send form's, or the caller's) makes a double click one e-mail."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from arenda.billing import acts
from arenda.billing.act_printing import act_filename, render_act_pdf
from arenda.billing.models import Act
from arenda.billing.services import BillingRefused
from arenda.core.links import absolute
from arenda.core.models import User
from arenda.core.money import format_rub
from arenda.core.notify import notify
from arenda.core.roles import Role
from arenda.core.services import locked
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def act_link(act: Act) -> str:
    """The customer's link of an issued act (empty before it is issued)."""
    if not act.accept_token:
        return ""
    return absolute(reverse("act_public:page", args=[act.accept_token]))


def default_recipient(act: Act) -> str:
    """The counterparty's e-mail, else the e-mail of the deal's contact."""
    counterparty = act.counterparty
    if counterparty.email:
        return counterparty.email
    deal = act.deal
    if deal is not None and deal.contact_id and deal.contact.email:
        return deal.contact.email
    return ""


def new_key() -> str:
    """A key for one shown send form."""
    return uuid.uuid4().hex


def send_key(act: Act, by, key: str) -> str:
    """The outbox key of one send: the form's key (one per page shown) of this act and this
    user; without one, a fresh key (every call sends)."""
    key = (key or "").strip()
    if key and not KEY_PATTERN.match(key):
        raise ValidationError({"key": _("A bad idempotency key.")})
    user = getattr(by, "pk", None) or 0
    return f"act-send:{act.pk}:{user}:{key or uuid.uuid4().hex}"


def _title_and_text(act: Act) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        document = str(act)
        date = act.date.strftime("%d.%m.%Y") if act.date else ""
        organization = act.organization.full_name or act.organization.name
        title = _("%(document)s of %(date)s — %(organization)s") % {
            "document": document,
            "date": date,
            "organization": act.organization.name,
        }
        text = _(
            "Good day!\n\n%(document)s of %(date)s for %(total)s is attached.\n\n"
            "Read it, download it or accept it online: %(link)s\n"
            "Or sign it and send us a signed copy.\n\n%(organization)s"
        ) % {
            "document": document,
            "date": date,
            "total": format_rub(act.total),
            "link": act_link(act),
            "organization": organization,
        }
    return title, text


@transaction.atomic
def act_send(*, act: Act, to: str, by, key: str = "") -> OutboxMessage:
    """E-mail the act's PDF to ``to`` (the outbox sends it after the commit) and mark the act
    sent. The same ``key`` again returns the message already queued and sends nothing.
    Refuses ``not_issued`` for a draft or a cancelled act; a bad address is a
    ``ValidationError`` on ``to``."""
    to = (to or "").strip()
    if not to:
        raise ValidationError({"to": _("Give the e-mail address to send the document to.")})
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError({"to": _("Enter a valid e-mail address.")})
    if len(to) > 254:
        raise ValidationError({"to": _("Enter a valid e-mail address.")})
    outbox_key = send_key(act, by, key)
    act = locked(Act, act.pk)  # one send of an act at a time: the key is seen below
    if (known := OutboxMessage.objects.filter(idempotency_key=outbox_key).first()) is not None:
        return known
    if act.status not in Act.COUNTED_STATUSES:
        raise BillingRefused("not_issued", _("Issue the closing document before sending it."))
    act = Act.objects.select_related("organization", "counterparty", "deal__contact", "corrects").get(
        pk=act.pk
    )
    name = default_storage.save(
        f"acts/{act.pk}/mail/{uuid.uuid4().hex}.pdf", ContentFile(render_act_pdf(act))
    )
    try:
        acts.act_mark_sent(act=act, to=to, by=by)
        title, text = _title_and_text(act)
        message = outbox.enqueue(
            channel="email",
            recipient=to,
            title=title,
            text=text,
            subject=act,
            idempotency_key=outbox_key,
            attachments=[{"name": name, "filename": act_filename(act), "content_type": "application/pdf"}],
        )
    except BaseException:
        default_storage.delete(name)
        raise
    return message


# --- the customer's link ---------------------------------------------------------------------
def act_accountants(act: Act) -> list[User]:
    """Who hears of the customer's signature: the active accountants and whoever issued the
    act; with none of them, the active administrators."""
    people = list(
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.ACCOUNTANT) | Q(pk=act.issued_by_id or 0))
        .order_by("pk")
    )
    if people:
        return people
    return list(
        User.objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True)).order_by("pk")
    )


@transaction.atomic
def act_accept(*, act: Act, signer: str) -> Act:
    """The customer accepts the act through its link, naming who signs. An act signed
    already stays as it was (nobody is told twice)."""
    signer = (signer or "").strip()
    if not signer:
        raise ValidationError({"signer": _("Give the name of who accepts the document.")})
    if len(signer) > 200:
        raise ValidationError({"signer": _("At most %(n)s characters, please.") % {"n": 200}})
    act = locked(Act, act.pk)
    if act.status == Act.Status.SIGNED:
        return act
    act = acts.act_mark_signed(act=act, by=None, signer=signer, via=Act.SignedVia.LINK)
    with translation.override(settings.LANGUAGE_CODE):
        text = _("The customer accepted %(document)s through the link: %(signer)s.") % {
            "document": act,
            "signer": signer,
        }
    url = act_page_url(act)
    recipients = act_accountants(act)
    transaction.on_commit(lambda: [notify(user, text, url) for user in recipients])
    return act


def act_page_url(act: Act) -> str:
    try:
        return act.get_absolute_url()
    except NoReverseMatch:  # the act's page is not in every build of the URLs (its PDF is)
        return reverse("billing:act_pdf", args=[act.pk])
