"""Forms of the closing documents' pages (``arenda/billing/act_views.py``). They collect input;
``arenda.billing.acts`` writes."""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.core import files
from arenda.core.files import MAX_SCAN_BYTES, scan_kind
from arenda.front.forms import ServiceErrorsMixin

# What a signed act's scan may be (told by its content, at most MAX_SCAN_BYTES).
SIGNED_SCAN_KINDS = ("pdf", "jpeg", "png")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def check_signed_scan(file, field: str = "scan") -> str:
    """The kind of an uploaded signed scan: a PDF, JPEG or PNG by its content, at most
    ``MAX_SCAN_BYTES`` (the checks of waybills' scans, ``arenda/core/files.py``). Raises a
    ValidationError on ``field`` otherwise. Shared with the API."""
    wrong = ValidationError({field: _("The signed scan must be a PDF, a JPEG or a PNG.")}, code="bad_type")
    try:
        kind = scan_kind(file, field)
    except ValidationError as exc:
        size = getattr(file, "size", None)
        if size and size <= files.MAX_SCAN_BYTES:  # neither empty nor too large: its type
            raise wrong from exc
        raise
    if kind not in SIGNED_SCAN_KINDS:
        raise wrong
    return kind


def parse_month(value: str) -> date | None:
    """«2026-11» → 1 November 2026; anything else → None."""
    found = MONTH.match((value or "").strip())
    if not found:
        return None
    year, month = int(found[1]), int(found[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class SignForm(ServiceErrorsMixin, forms.Form):
    """The accountant marks an act signed by the customer, with the signed scan if any."""

    signer = forms.CharField(label=_("Signed by (customer's person)"), max_length=200, required=False)
    signed_on = forms.DateField(
        label=_("Signed on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    scan = forms.FileField(
        label=_("Signed scan"),
        required=False,
        help_text=_("A PDF, JPEG or PNG, at most %(mb)s MB.") % {"mb": MAX_SCAN_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if scan:
            try:
                check_signed_scan(scan)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["scan"]) from exc
        return scan or None


class MonthForm(ServiceErrorsMixin, forms.Form):
    """«Акт за месяц» on the counterparty's page."""

    month = forms.CharField(
        label=_("Month"),
        max_length=7,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("Its completed bookings that no act closes yet."),
    )

    def clean_month(self):
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise ValidationError(_("Give the month as YYYY-MM."), code="invalid")
        return month
