"""«Справка о работе машины» (ЭСМ-7 in spirit): the customer's person on site signs the
shift's figures on the driver's phone (the trip page, ``bookings/sign_views.py``).

- **What is signed** is the driver's report from the trip page (pending or confirmed), or
  else the booking's latest waybill, frozen in ``ShiftReport.snapshot`` as text.
- **The code.** When the site contact has a phone, a 6-digit code goes to it (Telegram when
  a bound chat — a driver's or a lead's — has this phone, else SMS when a gateway is set
  up). Read out to the driver, it shows the signer holds that phone. Only an HMAC of it is
  kept; it lives ``CODE_TTL``, allows ``CODE_MAX_ATTEMPTS`` wrong tries, and one booking
  gets at most one code a minute and ``CODE_HOURLY`` an hour. No phone or no way to send:
  signed without a code, recorded ``code_confirmed=False``.
- **The hash.** ``content_sha256`` is the SHA-256 of the canonical signed content
  (``signed_content``: sorted-keys JSON of the snapshot, the signer, the signature image's
  SHA-256, ``code_confirmed`` and the time signed), printed on the PDF; ``verify`` reads
  the PDF back and checks it (docs/shift-report.md).
"""

import base64
import binascii
import hashlib
import hmac
import io
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.bookings.dispatch import order_context
from arenda.bookings.models import Booking, DriverReport, ShiftReport, SignCode, Waybill
from arenda.bookings.shift_report_print import render_pdf
from arenda.core.services import locked
from arenda.core.validators import normalize_phone
from arenda.crm.models import Lead
from arenda.crm.proposal import organization_for
from arenda.directory.models import Driver
from arenda.integrations.messaging import config, outbox
from arenda.integrations.messaging.channels.sms import configured as sms_configured

CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODE_INTERVAL = timedelta(seconds=60)
CODE_HOURLY = 5
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_SIDE = 3000
# A drawn signature has at least this many dark pixels; fewer is an empty canvas or a dot.
MIN_INK_PIXELS = 40
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SignRefused(Exception):
    """Nothing to sign, or no code can be sent now (``code``, ``detail`` for the person).
    Only the trip page answers it; the API has no sign-off."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def field_error(name: str, message: str, code: str) -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


# --- what is signed -----------------------------------------------------------------------------
@dataclass
class Basis:
    driver_report: DriverReport | None = None
    waybill: Waybill | None = None
    figures: dict = field(default_factory=dict)


def basis(booking: Booking) -> Basis | None:
    """The figures to sign: the driver's latest trip-page report (waiting or confirmed),
    else the booking's latest waybill; None when the driver has reported nothing yet."""
    report = (
        DriverReport.objects.filter(
            booking_id=booking.pk,
            source=DriverReport.Source.TRIP,
            status__in=[DriverReport.Status.PENDING, DriverReport.Status.CONFIRMED],
        )
        .order_by("-created_at", "-id")
        .first()
    )
    source = report
    waybill = None
    if report is None:
        waybill = Waybill.objects.filter(booking_id=booking.pk).order_by("-started_at", "-id").first()
        source = waybill
    elif report.waybill_id:
        waybill = report.waybill
    if source is None:
        return None
    figures = {
        "number": source.number,
        "started_at": source.started_at,
        "finished_at": source.finished_at,
        "hours": source.hours,
        "km": source.km,
        "downtime_hours": source.downtime_hours,
    }
    return Basis(driver_report=report, waybill=waybill, figures=figures)


def _when(value) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else ""


def _decimal(value) -> str:
    return "" if value is None else str(value)


def snapshot(booking: Booking, found: Basis) -> dict:
    """What is signed, all text (the canonical JSON is then the same whatever the types)."""
    order = order_context(booking)
    deal = booking.deal
    customer, org = deal.counterparty, organization_for(deal)[0]  # the deal's, else the default
    figures = found.figures
    start = figures["started_at"]
    return {
        "booking": str(booking.pk),
        "organization": (org.full_name or org.name) if org else "",
        "organization_inn": org.inn if org else "",
        "customer": customer.full_name or customer.name,
        "customer_inn": customer.inn or "",
        "site_address": booking.site_address,
        "machine": order["machine"],
        "plate": order["plate"],
        "driver": order["driver"],
        "date": timezone.localtime(start).date().isoformat() if start else "",
        "departed_at": _when(booking.departed_at),
        "arrived_at": _when(booking.arrived_at),
        **figures_text(found),
        "source": f"driver_report:{found.driver_report.pk}"
        if found.driver_report
        else f"waybill:{found.waybill.pk}",
    }


def signed_content(
    *, snapshot: dict, name: str, position: str, phone: str, signature_sha256: str, code_confirmed, signed_at
) -> dict:
    return {
        "snapshot": snapshot,
        "signer": {"name": name, "position": position, "phone": phone},
        "signature_sha256": signature_sha256,
        "code_confirmed": bool(code_confirmed),
        "signed_at": signed_at if isinstance(signed_at, str) else timezone.localtime(signed_at).isoformat(),
    }


def canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def report_content(report: ShiftReport) -> dict:
    """The signed content of a stored report, rebuilt from what it keeps."""
    return signed_content(
        snapshot=report.snapshot,
        name=report.signer_name,
        position=report.signer_position,
        phone=report.signer_phone,
        signature_sha256=report.signature_sha256,
        code_confirmed=report.code_confirmed,
        signed_at=report.signed_at,
    )


# --- the phone and the code ---------------------------------------------------------------------
def contact_phone(booking: Booking) -> str:
    """The site contact's phone in E.164, or "" (none, or not a phone)."""
    try:
        return normalize_phone(booking.site_contact_phone or "")
    except ValidationError:
        return ""


def bound_chat(phone: str) -> str:
    """A Telegram chat bound to this phone: a driver's (bound with an invite link) or a
    lead's (the person wrote to the bot); "" when none or the bot is not set up."""
    if not phone or not config.get("telegram").ready:
        return ""
    for model in (Driver, Lead):
        chat = (
            model.objects.filter(phone=phone)
            .exclude(telegram_chat_id="")
            .order_by("-id")
            .values_list("telegram_chat_id", flat=True)
            .first()
        )
        if chat:
            return chat
    return ""


def code_route(phone: str) -> tuple[str, str] | None:
    """``(channel, recipient)`` a code to this phone goes by, or None."""
    if not phone:
        return None
    if chat := bound_chat(phone):
        return SignCode.Channel.TELEGRAM, chat
    if sms_configured():
        return SignCode.Channel.SMS, phone
    return None


def _code_hash(salt: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"sign-code:{salt}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def send_code(*, booking: Booking) -> SignCode:
    """Send a new code to the site contact's phone (see the module's docstring)."""
    booking = locked(Booking, booking.pk)  # two presses at once: one code
    phone = contact_phone(booking)
    if not phone:
        raise SignRefused("no_phone", _("The site contact has no phone: sign without a code."))
    route = code_route(phone)
    if route is None:
        raise SignRefused(
            "no_route", _("No Telegram chat or SMS gateway reaches this phone: sign without a code.")
        )
    now = timezone.now()
    recent = SignCode.objects.filter(booking_id=booking.pk, created_at__gt=now - timedelta(hours=1))
    last = recent.order_by("-created_at").first()
    if last is not None and last.created_at > now - CODE_INTERVAL:
        wait = int((last.created_at + CODE_INTERVAL - now).total_seconds()) + 1
        raise SignRefused("too_soon", _("A code was sent just now; a new one in %(s)s s.") % {"s": wait})
    if recent.count() >= CODE_HOURLY:
        raise SignRefused("too_many", _("Too many codes this hour; try later or sign without a code."))
    channel, recipient = route
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    row = SignCode.objects.create(
        booking=booking,
        phone=phone,
        salt=salt,
        code_hash=_code_hash(salt, code),
        channel=channel,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "Code %(code)s: signing the machine work report for order No. %(booking)s. Tell it only to the driver."
        ) % {
            "code": code,
            "booking": booking.pk,
        }
    row.message = outbox.enqueue(
        channel=channel, recipient=recipient, text=text, idempotency_key=f"sign-code:{row.pk}"
    )
    row.save(update_fields=["message"])
    return row


def check_code(*, booking: Booking, phone: str, code: str) -> SignCode:
    """The code the signer read out, against the last one sent to ``phone``. A wrong one
    counts an attempt (committed, whatever the caller does next) and raises a
    ValidationError on ``code``."""
    code = re.sub(r"\s+", "", code or "")
    with transaction.atomic():
        row = (
            SignCode.objects.select_for_update()
            .filter(booking_id=booking.pk, phone=phone, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            raise field_error("code", _("No code was sent to this phone: send one first."), "no_code")
        if row.expires_at <= timezone.now():
            raise field_error("code", _("The code has expired: send a new one."), "expired")
        if row.attempts >= CODE_MAX_ATTEMPTS:
            raise field_error("code", _("Too many wrong tries: send a new code."), "too_many_attempts")
        if hmac.compare_digest(_code_hash(row.salt, code), row.code_hash):
            return row
        row.attempts += 1
        row.save(update_fields=["attempts"])
        left = CODE_MAX_ATTEMPTS - row.attempts
    raise field_error("code", _("Wrong code. Tries left: %(n)s.") % {"n": left}, "wrong_code")


# --- the signature --------------------------------------------------------------------------
def signature_png(data_url: str) -> bytes:
    """The drawn signature (a PNG data URL from the canvas) as a clean PNG — decoded,
    checked to be a whole PNG of sane size with some ink on it, and written anew (flattened
    on white), so nothing but pixels is kept. Raises a ValidationError on ``signature``."""
    from PIL import Image  # Pillow: only when a signature comes in

    def refuse(message, code):
        return field_error("signature", message, code)

    prefix = "data:image/png;base64,"
    text = (data_url or "").strip()
    if not text:
        raise refuse(_("Sign in the box."), "required")
    if not text.startswith(prefix) or len(text) > MAX_SIGNATURE_BYTES * 4 // 3 + len(prefix) + 4:
        raise refuse(_("The signature is not a picture we take."), "bad_type")
    try:
        raw = base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise refuse(_("The signature is not a picture we take."), "bad_type") from None
    if not raw.startswith(PNG_MAGIC):
        raise refuse(_("The signature is not a picture we take."), "bad_type")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG" or max(image.size) > MAX_SIGNATURE_SIDE:
                raise refuse(_("The signature is not a picture we take."), "bad_type")
            image.load()
            rgba = image.convert("RGBA")
    except ValidationError:
        raise
    except Exception:  # Pillow raises many kinds for a broken file; all mean "not an image"
        raise refuse(_("The signature is not a picture we take."), "bad_type") from None
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    gray = flat.convert("L")
    if sum(gray.histogram()[:160]) < MIN_INK_PIXELS:
        raise refuse(_("The signature is empty: sign in the box."), "blank")
    out = io.BytesIO()
    gray.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- signing ----------------------------------------------------------------------------------
def customer_email(booking: Booking) -> str:
    deal = booking.deal
    return deal.counterparty.email or (deal.contact.email if deal.contact_id else "")


def figures_text(found: Basis) -> dict:
    """The signed figures as the snapshot writes them."""
    figures = found.figures
    return {
        "waybill_number": figures["number"] or "",
        "started_at": _when(figures["started_at"]),
        "finished_at": _when(figures["finished_at"]),
        "hours": _decimal(figures["hours"]),
        "km": _decimal(figures["km"]),
        "downtime_hours": _decimal(figures["downtime_hours"]),
    }


def figures_digest(found: Basis) -> str:
    """A short digest of the figures the page showed: the sign-off is refused when they
    changed between showing and signing (the signer signs what they saw)."""
    return hashlib.sha256(canonical(figures_text(found))).hexdigest()[:32]


def existing(*, booking: Booking, idempotency_key: str, found: Basis | None) -> ShiftReport | None:
    """The report this submission already made (same key), or the one signed for the same
    figures of the same driver's report or waybill: a second sign-off returns the first.
    Figures corrected since (the driver sent the waybill again) are signed anew."""
    if idempotency_key:
        report = ShiftReport.objects.filter(booking_id=booking.pk, idempotency_key=idempotency_key).first()
        if report is not None:
            return report
    if found is None:
        return None
    if found.driver_report is not None:
        candidates = ShiftReport.objects.filter(booking_id=booking.pk, driver_report=found.driver_report)
    else:
        candidates = ShiftReport.objects.filter(
            booking_id=booking.pk, driver_report__isnull=True, waybill=found.waybill
        )
    wanted = figures_text(found)
    for report in candidates.order_by("-signed_at", "-id"):
        if all(report.snapshot.get(key) == value for key, value in wanted.items()):
            return report
    return None


def sign(
    *,
    booking: Booking,
    name: str,
    position: str,
    signature: str,
    code: str = "",
    idempotency_key: str,
    shown: str = "",
) -> ShiftReport:
    """Sign the shift: check everything (all errors at once, by field), check the code if
    one was given (a wrong one counts), then write the report, its PDF and the e-mail to
    the customer in one transaction."""
    found = basis(booking)
    if (done := existing(booking=booking, idempotency_key=idempotency_key, found=found)) is not None:
        return done
    if found is None:
        raise SignRefused("nothing_to_sign", _("The driver has not reported the shift yet: nothing to sign."))
    if shown and shown != figures_digest(found):
        raise SignRefused(
            "figures_changed",
            _("The figures have changed since the page was opened: check them and sign again."),
        )
    name, position = (name or "").strip(), (position or "").strip()
    errors: dict = {}
    if not name:
        errors["name"] = _("Give the name of the person signing.")
    if not position:
        errors["position"] = _("Give the position of the person signing.")
    png = b""
    try:
        png = signature_png(signature)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not idempotency_key or len(idempotency_key) > 64:
        errors["key"] = _("The page is out of date: open it again.")
    if errors:
        raise ValidationError(errors)
    phone = contact_phone(booking)
    code_row = check_code(booking=booking, phone=phone, code=code) if (code or "").strip() else None
    return _write(
        booking=booking,
        found=found,
        name=name[:200],
        position=position[:200],
        phone=phone,
        png=png,
        code_row=code_row,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def _write(*, booking, found, name, position, phone, png, code_row, idempotency_key) -> ShiftReport:
    booking = locked(Booking, booking.pk)
    booking = Booking.objects.select_related(
        "deal__counterparty", "deal__organization", "deal__contact", "unit", "driver", "equipment_type"
    ).get(pk=booking.pk)
    if (done := existing(booking=booking, idempotency_key=idempotency_key, found=found)) is not None:
        return done  # the same submission, or a concurrent sign-off of the same figures
    if code_row is not None:
        used = SignCode.objects.filter(pk=code_row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not used:
            raise field_error("code", _("This code was used already: send a new one."), "used")
    signed_at = timezone.now().replace(microsecond=0)
    frozen = snapshot(booking, found)
    report = ShiftReport(
        booking=booking,
        driver_report=found.driver_report,
        waybill=found.waybill,
        snapshot=frozen,
        signer_name=name,
        signer_position=position,
        signer_phone=phone,
        signature_sha256=hashlib.sha256(png).hexdigest(),
        code_confirmed=code_row is not None,
        signed_at=signed_at,
        idempotency_key=idempotency_key,
    )
    report.content_sha256 = content_hash(report_content(report))
    stored: list = []
    try:
        report.signature.save("signature.png", ContentFile(png), save=False)
        stored.append(report.signature)
        report.save()
        report.pdf.save(pdf_filename(report), ContentFile(render_pdf(report)), save=False)
        stored.append(report.pdf)
        if address := customer_email(booking):
            report.email_message = _queue_email(report, address)
        report.save(update_fields=["pdf", "email_message"])
    except BaseException:
        for file in stored:
            file.storage.delete(file.name)
        raise
    return report


def pdf_filename(report: ShiftReport) -> str:
    return f"Spravka-ESM7-{report.booking_id}-{report.pk}.pdf"


def _queue_email(report: ShiftReport, address: str):
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Machine work report for order No. %(booking)s") % {"booking": report.booking_id}
        text = _(
            "Good day!\n\nThe machine work report signed on site by %(name)s (%(position)s) on "
            "%(when)s is attached.\nSHA-256 of the signed content: %(hash)s"
        ) % {
            "name": report.signer_name,
            "position": report.signer_position,
            "when": timezone.localtime(report.signed_at).strftime("%d.%m.%Y %H:%M"),
            "hash": report.content_sha256,
        }
    return outbox.enqueue(
        channel="email",
        recipient=address,
        title=title,
        text=text,
        subject=report,
        idempotency_key=f"shift-report:{report.pk}:email",
        attachments=[
            {"name": report.pdf.name, "filename": pdf_filename(report), "content_type": "application/pdf"}
        ],
    )


# --- verification -----------------------------------------------------------------------------
HASH_ON_PDF = re.compile(r"SHA-256[^:]*:([0-9a-f]{64})")


@dataclass
class Verification:
    stored: str
    recomputed: str = ""
    printed: str = ""
    signature_ok: bool = False
    images: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def pdf_facts(data: bytes) -> tuple[str, int]:
    """``(the hash printed on the PDF or "", the number of images in it)``."""
    from pypdf import PdfReader  # only when a PDF is checked

    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    match = HASH_ON_PDF.search(re.sub(r"\s+", "", text))
    images = sum(len(page.images) for page in reader.pages)
    return (match.group(1) if match else ""), images


def verify(report: ShiftReport) -> Verification:
    """Read the stored PDF back: the hash printed on it must be the stored one, the stored
    one must be recomputed from the stored snapshot, signer and signature, the signature
    file must be the one hashed, and the PDF must carry an image (the signature)."""
    result = Verification(stored=report.content_sha256)
    try:
        with report.signature.open("rb") as handle:
            result.signature_ok = hashlib.sha256(handle.read()).hexdigest() == report.signature_sha256
    except (FileNotFoundError, ValueError):
        result.problems.append("signature_missing")
    if not result.signature_ok and "signature_missing" not in result.problems:
        result.problems.append("signature_changed")
    result.recomputed = content_hash(report_content(report))
    if result.recomputed != report.content_sha256:
        result.problems.append("content_changed")
    try:
        with report.pdf.open("rb") as handle:
            result.printed, result.images = pdf_facts(handle.read())
    except (FileNotFoundError, ValueError):
        result.problems.append("pdf_missing")
        return result
    if result.printed != report.content_sha256:
        result.problems.append("printed_hash_differs")
    if result.images < 1:
        result.problems.append("no_signature_image")
    return result
