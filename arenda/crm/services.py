"""Writes of the sales side: leads from every channel, the lead funnel, deals, their lines
and comments, and the stage moves.

Rules of the funnels live here (``DEAL_MOVES``, ``deal_move``). What crosses into other
apps — "КП agreed → bookings", the deal following its bookings and invoices — is
``flows/deals.py``'s, which calls these. Views, API, the Telegram webhook and the mail
reader call these functions (or the flows).
"""

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from arenda.core.metrics import LEADS
from arenda.core.models import User
from arenda.core.money import MAX_LINES
from arenda.core.notify import notify
from arenda.core.roles import Role
from arenda.core.services import locked, record_create, record_update, set_author
from arenda.core.validators import inn_is_valid, normalize_phone
from arenda.crm.models import CHAT_FIELDS, Deal, DealComment, DealLine, Lead, LeadMessage, ProposalResponse
from arenda.crm.proposal import is_expired, proposal_version, valid_until
from arenda.directory.models import Contact, Counterparty
from arenda.integrations.messaging import outbox


@dataclass
class FunnelRefused(Exception):
    """A move the funnel does not allow; the API answers 409 with ``code``."""

    code: str
    detail: str

    def __str__(self):
        return self.detail


# --- the deal funnel ----------------------------------------------------------------------
S = Deal.Stage
# Where a manager may move a deal from each stage. "agreed" is reached by agreeing the
# proposal (``flows/deals.py``), "won" only when the work is done and paid (the deal follows
# its bookings, ``flows/deals.py``) — or by hand from "closing".
DEAL_MOVES: dict[str, set[str]] = {
    S.NEW: {S.SELECTION, S.PROPOSAL, S.LOST},
    S.SELECTION: {S.NEW, S.PROPOSAL, S.LOST},
    S.PROPOSAL: {S.SELECTION, S.AGREED, S.LOST},
    S.AGREED: {S.INVOICING, S.IN_PROGRESS, S.LOST},
    S.INVOICING: {S.AGREED, S.IN_PROGRESS, S.LOST},
    S.IN_PROGRESS: {S.CLOSING},
    S.CLOSING: {S.IN_PROGRESS, S.WON},
    S.WON: set(),
    S.LOST: {S.NEW},
}


@transaction.atomic
def deal_create(*, by, **data) -> Deal:
    if data.get("manager") is None and getattr(by, "is_authenticated", False) and by.role == Role.MANAGER:
        data["manager"] = by
    data.pop("stage", None)
    return record_create(Deal, data=data, by=by)


@transaction.atomic
def deal_update(*, instance: Deal, by, **data) -> Deal:
    """Change a deal's details. A stage change goes through ``deal_move`` (agreeing, through
    ``flows/deals.py``)."""
    stage = data.pop("stage", None)
    reason = data.pop("lost_reason", None)
    deal = record_update(locked(Deal, instance.pk), data=data, by=by) if data else instance
    if stage and stage != deal.stage:
        deal = deal_move(deal=deal, stage=stage, by=by, reason=reason or "")
    return deal


def move_allowed(deal: Deal, stage: str) -> bool:
    """Whether the funnel lets the deal go to ``stage``: False when it is there already;
    refuses (``FunnelRefused``, with the reason in words) a move it does not allow."""
    if stage not in Deal.Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    if stage == deal.stage:
        return False
    if stage not in DEAL_MOVES[deal.stage]:
        raise FunnelRefused(
            "stage_move_refused",
            _("A deal cannot go from «%(old)s» to «%(new)s».")
            % {"old": deal.get_stage_display(), "new": Deal.Stage(stage).label},
        )
    return True


@transaction.atomic
def deal_move(*, deal: Deal, stage: str, by, reason: str = "") -> Deal:
    """Move a deal along the funnel, refusing a move the funnel does not allow — with the
    reason in words (the kanban board shows it). Agreeing makes bookings, so the move to
    "agreed" is ``flows/deals.py``'s."""
    deal = locked(Deal, deal.pk)
    if not move_allowed(deal, stage):
        return deal
    if stage == S.AGREED:
        raise FunnelRefused("stage_move_refused", _("A deal is agreed by agreeing its proposal."))
    if stage == S.PROPOSAL and not deal.lines.exists():
        raise FunnelRefused(
            "no_lines", _("Add at least one line (machine, dates, rate) before the proposal.")
        )
    if stage == S.LOST:
        if not (reason or "").strip():
            raise ValidationError({"lost_reason": _("Say why the deal is lost.")})
        active = deal.bookings.active().count()
        if active:
            raise FunnelRefused(
                "active_bookings",
                _("Cancel the deal's %(n)s active bookings first.") % {"n": active},
            )
        deal.lost_reason = reason.strip()
    if stage == S.WON and deal.bookings.exclude(status__in=["closed", "cancelled"]).exists():
        raise FunnelRefused("work_not_done", _("A deal is won when all its bookings are closed."))
    deal.stage = stage
    set_author(deal, by)
    deal.save()
    return deal


def proposal_token_for(deal: Deal) -> str:
    """The deal's unguessable public proposal link token, made on first use (and when: a
    КП without a date of its own is valid from then, ``crm/proposal.py valid_until``)."""
    if deal.proposal_token:
        return deal.proposal_token
    Deal.objects.filter(pk=deal.pk, proposal_token__isnull=True).update(
        proposal_token=secrets.token_urlsafe(32), proposal_sent_at=timezone.now()
    )
    deal.refresh_from_db(fields=["proposal_token", "proposal_sent_at"])
    return deal.proposal_token


@transaction.atomic
def proposal_offer(*, deal: Deal) -> Deal:
    """The customer's link of a deal that still has something to offer (the API's
    ``proposal-link``): refuses a closed deal and an agreed one."""
    deal = locked(Deal, deal.pk)
    if deal.is_closed:
        raise FunnelRefused("deal_closed", _("The deal is closed."))
    if deal.agreed_at is not None:
        raise FunnelRefused("deal_agreed", _("The proposal is agreed: there is nothing left to offer."))
    proposal_token_for(deal)
    return deal


def _changed() -> FunnelRefused:
    return FunnelRefused(
        "proposal_changed",
        _(
            "The proposal has changed since it was opened: look at the new version and accept it if it suits you."
        ),
    )


def proposal_check(deal: Deal, *, version: str | None, by_customer: bool) -> None:
    """Whether the КП may be agreed as it stands: the customer's acceptance refuses an
    expired one; an acceptance that names the ``version`` it saw refuses one changed since
    (``crm/proposal.py proposal_version``). The caller holds the deal's lock, in the
    transaction that agrees it — so no line changes in between."""
    if by_customer and is_expired(deal):
        raise FunnelRefused(
            "proposal_expired",
            _("The proposal expired on %(date)s and can no longer be accepted: ask for a new one.")
            % {"date": date_format(valid_until(deal), "DATE_FORMAT")},
        )
    if version is not None and version != proposal_version(deal):
        raise _changed()


def agreeable_lines(deal: Deal) -> list[DealLine]:
    """The lines an agreement books, one booking each; refuses a closed deal or one
    without lines. The caller holds the deal's lock and has seen it is not agreed yet."""
    if deal.is_closed:
        raise FunnelRefused("deal_closed", _("The deal is closed."))
    lines = list(deal.lines.select_related("equipment_type"))
    if not lines:
        raise FunnelRefused("no_lines", _("The deal has no lines to book."))
    return lines


@transaction.atomic
def deal_mark_agreed(*, deal: Deal, by, by_customer: bool = False) -> Deal:
    """The deal is agreed (its bookings made by ``flows/deals.py``): stage "agreed", who
    agreed and when; the manager hears when the customer did it."""
    deal.agreed_at = timezone.now()
    deal.agreed_by_customer = by_customer
    deal.stage = S.AGREED
    set_author(deal, by)
    deal.save()
    if by_customer and deal.manager_id:
        transaction.on_commit(
            lambda: notify(
                deal.manager,
                _("The customer accepted the proposal: %(deal)s") % {"deal": deal.title},
                deal.get_absolute_url(),
            )
        )
    return deal


@transaction.atomic
def deal_follow(*, deal_id: int, bookings_closed: bool, bookings_done: bool, in_work: bool, unpaid: bool):
    """Move the deal to where its work says it is; returns the new stage, if any: a booking
    in work → "in progress"; every booking done → "closing"; every booking closed and every
    invoice paid → "won". Never moves a deal backwards or out of "won"/"lost". The facts
    come from the other apps (``flows/deals.py``)."""
    deal = Deal.objects.select_for_update().filter(pk=deal_id).first()
    if deal is None or deal.is_closed:
        return None
    target = None
    if bookings_closed:
        target = S.CLOSING if unpaid else S.WON
    elif bookings_done:
        target = S.CLOSING
    elif in_work:
        target = S.IN_PROGRESS
    order = list(S.values)
    if target is None or order.index(target) <= order.index(deal.stage):
        return None
    deal.stage = target
    deal.save(update_fields=["stage", "updated_at"])
    return target


# --- what the customer says through the link ------------------------------------------------
def _proposal_recipients(deal: Deal) -> list[User]:
    """The deal's manager; a deal without an active one — the active administrators."""
    if deal.manager_id and deal.manager.is_active:
        return [deal.manager]
    return list(User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk"))


def _response_notice(response: ProposalResponse) -> str:
    values = {"deal": response.deal.title, "text": response.text}
    if response.kind == ProposalResponse.Kind.DECLINED:
        return _("The customer declined the proposal «%(deal)s»: %(text)s") % values
    if response.kind == ProposalResponse.Kind.QUESTION:
        return _("The customer asks about the proposal «%(deal)s»: %(text)s") % values
    return (_("The customer asks for a new proposal «%(deal)s».") % values + " " + response.text).strip()


@transaction.atomic
def proposal_respond(*, deal: Deal, kind: str, text: str = "", version: str = "") -> ProposalResponse:
    """The customer declines the КП (the reason required), asks a question, or asks for a
    new КП; the manager is told and the deal's timeline shows it. Declining marks the КП as
    it stands declined; the deal stays where it is (the manager decides). A decline of a КП
    changed since ``version`` is refused, as an acceptance would be."""
    if kind not in ProposalResponse.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of response.")})
    text = (text or "").strip()
    if len(text) > ProposalResponse.TEXT_LIMIT:
        raise ValidationError(
            {"text": _("At most %(n)s characters, please.") % {"n": ProposalResponse.TEXT_LIMIT}}
        )
    if not text and kind == ProposalResponse.Kind.DECLINED:
        raise ValidationError({"text": _("Say why the proposal does not suit you.")})
    if not text and kind == ProposalResponse.Kind.QUESTION:
        raise ValidationError({"text": _("Write your question.")})
    deal = locked(Deal, deal.pk)
    current = proposal_version(deal)
    if kind != ProposalResponse.Kind.QUESTION:
        if deal.is_closed:
            raise FunnelRefused("deal_closed", _("The deal is closed."))
        if deal.agreed_at is not None:
            raise FunnelRefused("deal_agreed", _("The proposal is already accepted."))
    if kind == ProposalResponse.Kind.DECLINED and version != current:
        raise _changed()
    response = ProposalResponse.objects.create(deal=deal, kind=kind, text=text, version=current)
    notice, url = _response_notice(response), f"{deal.get_absolute_url()}#timeline"
    recipients = _proposal_recipients(deal)
    transaction.on_commit(lambda: [notify(user, notice, url) for user in recipients])
    return response


def _editable(deal: Deal) -> None:
    if not deal.is_editable():
        raise FunnelRefused(
            "deal_agreed", _("The proposal is agreed: change the bookings, not the deal's lines.")
        )


@transaction.atomic
def deal_line_add(*, deal: Deal, by, **data) -> DealLine:
    deal = locked(Deal, deal.pk)
    _editable(deal)
    if deal.lines.count() >= MAX_LINES:
        raise ValidationError({"__all__": _("A deal has at most %(n)d lines.") % {"n": MAX_LINES}})
    data.setdefault("position", (deal.lines.aggregate(last=Max("position"))["last"] or 0) + 1)
    return record_create(DealLine, data={"deal": deal, **data}, by=by)


@transaction.atomic
def deal_line_update(*, line: DealLine, by, **data) -> DealLine:
    _editable(locked(Deal, line.deal_id))
    data.pop("deal", None)
    return record_update(line, data=data, by=by)


@transaction.atomic
def deal_line_delete(*, line: DealLine, by) -> None:
    _editable(locked(Deal, line.deal_id))
    set_author(line, by)
    line.delete()


@transaction.atomic
def deal_comment_add(*, deal: Deal, text: str, by) -> DealComment:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the comment.")})
    return DealComment.objects.create(deal=deal, author=by, text=text)


# --- leads --------------------------------------------------------------------------------
def next_manager():
    """Leads go to the active managers in turn: the one whose last assigned lead is oldest
    (or who has none yet)."""
    managers = User.objects.filter(is_active=True, role=Role.MANAGER).annotate(last=Max("leads__created_at"))
    return managers.order_by(F("last").asc(nulls_first=True), "pk").first()


def _known_party(*, phone: str, inn: str):
    """The counterparty and contact a phone or an INN belongs to, if we know them."""
    if inn:
        counterparty = Counterparty.objects.filter(inn=inn).order_by("pk").first()
        if counterparty:
            return counterparty, None
    if phone:
        contact = Contact.objects.filter(phone=phone).select_related("counterparty").order_by("pk").first()
        if contact:
            return contact.counterparty, contact
        counterparty = Counterparty.objects.filter(phone=phone).order_by("pk").first()
        if counterparty:
            return counterparty, None
    return None, None


@dataclass
class Intake:
    lead: Lead
    created: bool
    message: LeadMessage | None


def _clean_intake(*, phone, email, inn, name, message) -> dict:
    errors = {}
    try:
        phone = normalize_phone(phone or "")
    except ValidationError as exc:
        errors["phone"] = exc.messages
    inn = (inn or "").strip()
    if inn and not inn_is_valid(inn):
        errors["inn"] = [_("INN check digit is wrong — please check the number.")]
    if errors:
        raise ValidationError(errors)
    return {
        "phone": phone,
        "email": (email or "").strip()[:254],
        "inn": inn,
        "name": (name or "").strip()[:200],
        "message": (message or "").strip()[:10000],
    }


def intake_receive(
    *,
    source: str,
    phone: str = "",
    email: str = "",
    name: str = "",
    message: str = "",
    inn: str = "",
    company: str = "",
    telegram_chat_id: str = "",
    chat_id: str = "",
    ad_title: str = "",
    ad_url: str = "",
    external_id: str = "",
    recording_url: str = "",
    by=None,
) -> Intake:
    """A request from any channel. It joins the open lead of the same phone or the same
    messenger chat (``chat_id`` in the ``source`` messenger: ``CHAT_FIELDS``) — appending
    the message and telling its manager — or makes a new lead, assigned to the next manager
    and linked to a known counterparty/contact by phone or INN. A chat whose lead became a
    deal still in work joins that lead: the deal's timeline shows the message. A webhook
    delivered twice (same ``external_id``) changes nothing."""
    if source not in Lead.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    data = _clean_intake(phone=phone, email=email, inn=inn, name=name, message=message)
    chat = {}
    if telegram_chat_id:
        chat["telegram_chat_id"] = str(telegram_chat_id)
    if chat_id:
        if source not in CHAT_FIELDS:
            raise ValidationError({"chat_id": _("This source has no chats.")})
        chat[CHAT_FIELDS[source]] = str(chat_id)[:100]
    if not (data["phone"] or data["email"] or chat):
        raise ValidationError({"phone": _("Give a phone or an e-mail to reply to.")})
    ad = {"ad_title": (ad_title or "").strip()[:300], "ad_url": (ad_url or "").strip()[:500]}
    for attempt in range(3):
        try:
            intake = _intake_once(
                source=source,
                data=data,
                company=company,
                chat=chat,
                ad=ad,
                external_id=str(external_id or "")[:200],
                recording_url=recording_url or "",
                by=by,
            )
        except IntegrityError:
            # Two requests from one phone at once: the other made the open lead; join it.
            if attempt == 2:
                raise
        else:
            LEADS.labels(source=source, outcome="new" if intake.created else "joined").inc()
            return intake
    raise AssertionError("unreachable")


def _lead_of_chat(chat: dict) -> Lead | None:
    """The qualified lead of this chat whose deal is still in work, if any."""
    if not chat:
        return None
    match = Q()
    for field, value in chat.items():
        match |= Q(**{field: value})
    return (
        Lead.objects.filter(match, status=Lead.Status.QUALIFIED)
        .exclude(deal__stage__in=Deal.CLOSED_STAGES)
        .select_for_update(of=("self",))
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def _intake_once(*, source, data, company, chat, ad, external_id, recording_url, by) -> Intake:
    if external_id:
        seen = (
            LeadMessage.objects.filter(channel=source, external_id=external_id).select_related("lead").first()
        )
        if seen is not None:
            return Intake(seen.lead, False, seen)
    match = Q()
    if data["phone"]:
        match |= Q(phone=data["phone"])
    for field, value in chat.items():
        match |= Q(**{field: value})
    lead = Lead.objects.open().filter(match).select_for_update().order_by("pk").first() if match else None
    if lead is None:
        lead = _lead_of_chat(chat)
    now = timezone.now()
    created = lead is None
    with transaction.atomic():
        if created:
            counterparty, contact = _known_party(phone=data["phone"], inn=data["inn"])
            manager = (
                counterparty
                and counterparty.deals.order_by("-created_at").values_list("manager", flat=True).first()
            )
            lead = Lead.objects.create(
                source=source,
                name=data["name"] or (contact.full_name if contact else ""),
                phone=data["phone"],
                email=data["email"],
                inn=data["inn"],
                company=company[:300],
                message=data["message"],
                counterparty=counterparty,
                contact=contact,
                manager_id=manager or getattr(next_manager(), "pk", None),
                last_message_at=now,
                **chat,
                **ad,
            )
        else:
            updates = {"last_message_at": now}
            for field in ("name", "email", "inn"):
                if data[field] and not getattr(lead, field):
                    updates[field] = data[field]
            if data["phone"] and not lead.phone and lead.is_open and not _phone_taken(data["phone"], lead):
                updates["phone"] = data["phone"]
            for field, value in {**chat, **ad}.items():
                if (
                    value
                    and not getattr(lead, field)
                    and not (lead.is_open and _chat_taken(field, value, lead))
                ):
                    updates[field] = value
            for field, value in updates.items():
                setattr(lead, field, value)
            if len(updates) > 1:
                # Saved, not updated in SQL: the lead's history shows what the customer's
                # message added (a chat, a phone) as the system's, not as the next editor's.
                lead._history_user = None
                lead.save(update_fields=[*updates, "updated_at"])
            else:
                Lead.objects.filter(pk=lead.pk).update(**updates)
        entry = LeadMessage.objects.create(
            lead=lead,
            direction=LeadMessage.Direction.IN,
            channel=source,
            text=data["message"],
            author=by if getattr(by, "is_authenticated", False) else None,
            external_id=external_id,
            recording_url=recording_url,
        )
    if lead.manager_id:
        text = (
            _("New lead: %(lead)s") % {"lead": lead}
            if created
            else _("New message in the lead %(lead)s") % {"lead": lead}
        )
        url = lead.deal.get_absolute_url() if lead.deal_id and not lead.is_open else lead.get_absolute_url()
        transaction.on_commit(lambda: notify(lead.manager, text, url))
    return Intake(lead, created, entry)


def _phone_taken(phone: str, lead: Lead) -> bool:
    return Lead.objects.open().filter(phone=phone).exclude(pk=lead.pk).exists()


def _chat_taken(field: str, value: str, lead: Lead) -> bool:
    if field not in CHAT_FIELDS.values():
        return False
    return Lead.objects.open().filter(**{field: value}).exclude(pk=lead.pk).exists()


def _first_response(lead: Lead, when) -> None:
    if lead.first_response_at is None:
        lead.first_response_at = when


@transaction.atomic
def lead_take(*, lead: Lead, by) -> Lead:
    """A manager picks the lead up: it is theirs and "in work"; the first response is now."""
    lead = locked(Lead, lead.pk)
    if not lead.is_open:
        raise FunnelRefused("lead_closed", _("The lead is already closed."))
    if lead.manager_id is None or lead.status == Lead.Status.NEW:
        lead.manager = lead.manager or by
    lead.status = Lead.Status.IN_WORK
    _first_response(lead, timezone.now())
    set_author(lead, by)
    lead.save()
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, manager, by) -> Lead:
    lead = locked(Lead, lead.pk)
    if manager is not None and (manager.role != Role.MANAGER or not manager.is_active):
        raise ValidationError({"manager": _("Choose an active manager.")})
    lead.manager = manager
    set_author(lead, by)
    lead.save()
    if manager is not None and manager != by:
        transaction.on_commit(
            lambda: notify(manager, _("A lead is yours: %(lead)s") % {"lead": lead}, lead.get_absolute_url())
        )
    return lead


def reply_channels(lead: Lead) -> list[str]:
    """The messengers the manager can answer this lead in: those it has a chat in, the one
    the customer last wrote from first."""
    chats = [channel for channel, field in CHAT_FIELDS.items() if getattr(lead, field)]
    last = (
        lead.messages.filter(direction=LeadMessage.Direction.IN, channel__in=chats)
        .order_by("-created_at", "-pk")
        .values_list("channel", flat=True)
        .first()
    )
    return sorted(chats, key=lambda channel: channel != last)


@transaction.atomic
def lead_reply(*, lead: Lead, text: str, by, channel: str = "") -> LeadMessage:
    """The manager's answer, in the messenger ``channel`` (default: the one the customer
    last wrote from) through the outbox; a lead with no chat keeps it as a note of what
    was said (by phone, by mail)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the reply.")})
    lead = locked(Lead, lead.pk)
    channels = reply_channels(lead)
    if channel and channel not in channels:
        raise ValidationError({"channel": _("The customer has no chat in this channel.")})
    channel = channel or (channels[0] if channels else "")
    entry = LeadMessage.objects.create(
        lead=lead,
        direction=LeadMessage.Direction.OUT,
        channel=channel or lead.source,
        text=text,
        author=by,
    )
    if channel:
        message = outbox.enqueue(
            channel=channel, recipient=getattr(lead, CHAT_FIELDS[channel]), text=text, subject=entry
        )
        entry.delivery_status = message.status
        entry.save(update_fields=["delivery_status"])
    if lead.status == Lead.Status.NEW:
        lead.status = Lead.Status.IN_WORK
        lead.manager = lead.manager or by
    if lead.is_open:
        _first_response(lead, entry.created_at)
        set_author(lead, by)
        lead.save()
    return entry


@transaction.atomic
def lead_reject(*, lead: Lead, reason: str, by) -> Lead:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the lead is junk.")})
    lead = locked(Lead, lead.pk)
    if not lead.is_open:
        raise FunnelRefused("lead_closed", _("The lead is already closed."))
    lead.status = Lead.Status.JUNK
    lead.junk_reason = reason
    _first_response(lead, timezone.now())
    set_author(lead, by)
    lead.save()
    return lead


@dataclass
class Qualified:
    deal: Deal
    created: bool


@transaction.atomic
def lead_qualify(*, lead: Lead, by, counterparty: Counterparty | None = None, title: str = "") -> Qualified:
    """The lead is a real customer: a deal is made with the given, the linked, or a new
    counterparty and contact. Qualifying twice (two clicks at once) makes one deal — the
    second call waits for the lead's lock and finds it."""
    lead = locked(Lead, lead.pk)
    if lead.status == Lead.Status.QUALIFIED:
        return Qualified(lead.deal, False)
    if lead.status == Lead.Status.JUNK:
        raise FunnelRefused("lead_closed", _("The lead is marked as junk."))
    counterparty = counterparty or lead.counterparty
    contact = (
        lead.contact
        if lead.contact and counterparty and lead.contact.counterparty_id == counterparty.pk
        else None
    )
    if counterparty is None:
        counterparty = _counterparty_from_lead(lead, by)
    if contact is None and (lead.phone or lead.email):
        contact = (
            counterparty.contacts.filter(phone=lead.phone).first() if lead.phone else None
        ) or record_create(
            Contact,
            data={
                "counterparty": counterparty,
                "full_name": lead.name or lead.phone or lead.email,
                "phone": lead.phone,
                "email": lead.email,
            },
            by=by,
        )
    deal = record_create(
        Deal,
        data={
            "title": title or _("Rental for %(customer)s") % {"customer": counterparty.name},
            "counterparty": counterparty,
            "contact": contact,
            "manager": lead.manager or (by if getattr(by, "role", None) == Role.MANAGER else None),
        },
        by=by,
    )
    lead.deal, lead.counterparty, lead.contact = deal, counterparty, contact
    lead.status = Lead.Status.QUALIFIED
    _first_response(lead, timezone.now())
    set_author(lead, by)
    lead.save()
    return Qualified(deal, True)


def _counterparty_from_lead(lead: Lead, by) -> Counterparty:
    """A new counterparty from what the lead tells: an organisation or a sole trader when its
    company or INN says so (``Counterparty.kind_for``), otherwise a person. An organisation's
    KPP (and an INN not given) are completed before it is invoiced."""
    kind = Counterparty.kind_for(name=lead.company, inn=lead.inn)
    name = lead.company or lead.name or lead.phone or lead.email
    return record_create(
        Counterparty,
        data={"kind": kind, "name": name, "inn": lead.inn, "phone": lead.phone, "email": lead.email},
        by=by,
    )
