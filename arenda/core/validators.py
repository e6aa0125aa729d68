"""Russian identifiers, accounts, plates and phones — validated and normalised here only.

Models use these as field validators and in ``clean()``; forms and API serializers get
them through the models (``full_clean``), so the rules live in one place.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.ru import inn as stdnum_inn

# ASCII only: ``\d`` would also accept Arabic-Indic and other Unicode digits, which int() reads.
_DIGITS = re.compile(r"[0-9]+")


def _is_digits(value, *lengths: int) -> bool:
    """Exactly the digits, nothing around them: values are validated as they will be stored."""
    return isinstance(value, str) and len(value) in lengths and bool(_DIGITS.fullmatch(value))


def _digits(value: str, lengths: tuple[int, ...], message) -> None:
    if not _is_digits(value, *lengths):
        raise ValidationError(message, code="format")


# --- ИНН ---------------------------------------------------------------------------------
def inn_is_valid(value: str) -> bool:
    return _is_digits(value, 10, 12) and stdnum_inn.is_valid(value)


def validate_inn(value: str) -> None:
    _digits(value, (10, 12), _("INN must be 10 digits (organisation) or 12 digits (person, sole trader)."))
    if not stdnum_inn.is_valid(value):
        raise ValidationError(_("INN check digit is wrong — please check the number."), code="checksum")


def validate_inn_for_kind(value: str, kind: str) -> None:
    """Organisations have 10-digit INNs; sole traders and persons 12-digit ones."""
    validate_inn(value)
    expected = 10 if kind == "legal" else 12
    if len(value) != expected:
        if expected == 10:
            raise ValidationError(_("An organisation's INN has 10 digits."), code="length")
        raise ValidationError(_("A sole trader's or a person's INN has 12 digits."), code="length")


# --- КПП -----------------------------------------------------------------------------------
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")


def validate_kpp(value: str) -> None:
    if not isinstance(value, str) or not _KPP.fullmatch(value):
        raise ValidationError(
            _("KPP is 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits."), code="format"
        )


# --- ОГРН / ОГРНИП --------------------------------------------------------------------------
def ogrn_is_valid(value: str) -> bool:
    if not _is_digits(value, 13, 15):
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    # ОГРНИП. python-stdnum 2.2 omits the final "% 10" and so rejects every valid
    # ОГРНИП whose remainder is 10, 11 or 12.
    return int(value[:14]) % 13 % 10 == int(value[14])


def validate_ogrn(value: str) -> None:
    _digits(value, (13, 15), _("OGRN has 13 digits, OGRNIP 15 digits."))
    if not ogrn_is_valid(value):
        raise ValidationError(_("OGRN check digit is wrong — please check the number."), code="checksum")


# --- БИК and accounts ------------------------------------------------------------------------
def validate_bik(value: str) -> None:
    _digits(value, (9,), _("BIK is 9 digits."))


_ACCOUNT_WEIGHTS = (7, 1, 3) * 8


def _account_key_ok(prefix3: str, account: str) -> bool:
    digits = prefix3 + account
    return sum(int(d) * w for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=False)) % 10 == 0


def account_is_valid(account: str, bik: str) -> bool:
    """Settlement account key (ЦБ rule): last 3 digits of the BIK + the 20 digits."""
    return _is_digits(account, 20) and _is_digits(bik, 9) and _account_key_ok(bik[-3:], account)


def corr_account_is_valid(corr_account: str, bik: str) -> bool:
    """Correspondent account key: "0" + BIK digits 5–6 + the 20 digits."""
    return (
        _is_digits(corr_account, 20) and _is_digits(bik, 9) and _account_key_ok("0" + bik[4:6], corr_account)
    )


def validate_account_number(value: str) -> None:
    _digits(value, (20,), _("An account number is 20 digits."))


def check_accounts(*, bik: str, account: str = "", corr_account: str = "") -> dict[str, ValidationError]:
    """Cross-field check of accounts against the BIK, as errors keyed by field name."""
    errors: dict[str, ValidationError] = {}
    if not _is_digits(bik, 9):
        return errors
    if _is_digits(account, 20) and not account_is_valid(account, bik):
        errors["account"] = ValidationError(
            _("The account number does not match the BIK (control key is wrong)."), code="key"
        )
    if _is_digits(corr_account, 20) and not corr_account_is_valid(corr_account, bik):
        errors["corr_account"] = ValidationError(
            _("The correspondent account does not match the BIK (control key is wrong)."), code="key"
        )
    return errors


# --- Plates (госномера) -----------------------------------------------------------------------
_LATIN_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
_PLATE_LETTERS = "АВЕКМНОРСТУХ"
_PLATE_ORDINARY = re.compile(rf"[{_PLATE_LETTERS}][0-9]{{3}}[{_PLATE_LETTERS}]{{2}}[0-9]{{2,3}}")
_PLATE_TRACTOR = re.compile(rf"[0-9]{{4}}[{_PLATE_LETTERS}]{{2}}[0-9]{{2,3}}")


def normalize_plate(value: str) -> str:
    """Upper-case, no spaces or dashes, Latin look-alikes turned Cyrillic: «а 123 вс 77» →
    «А123ВС77»."""
    cleaned = re.sub(r"[\s\-_|]", "", value or "").upper()
    return cleaned.translate(_LATIN_TO_CYRILLIC).replace("Ё", "Е")


def plate_is_valid(value: str) -> bool:
    plate = normalize_plate(value)
    return bool(_PLATE_ORDINARY.fullmatch(plate) or _PLATE_TRACTOR.fullmatch(plate))


def validate_plate(value: str) -> None:
    if not plate_is_valid(value):
        raise ValidationError(
            _("Not a Russian plate: expected like А123ВС77 (vehicle) or 1234АВ77 (tractor, machine)."),
            code="format",
        )


# --- Phones ---------------------------------------------------------------------------------------
def normalize_phone(value: str) -> str:
    """E.164 (+79123456789) for anything a person would type: «8 (912) 345-67-89»,
    «9123456789», «+7 912 345 67 89». Raises ValidationError when it is not a phone."""
    raw = (value or "").strip()
    if not raw:
        return ""
    digits = re.sub(r"\D", "", raw)
    if not raw.startswith("+") and len(digits) == 10 and digits[0] == "9":
        raw = "+7" + digits
    elif not raw.startswith("+") and len(digits) == 11 and digits[0] in "78":
        raw = "+7" + digits[1:]
    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Not a phone number."), code="format")
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Not a valid phone number."), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    normalize_phone(value)


def find_phone(text: str) -> str:
    """The first valid phone number written in a message («звоните 8 916 123-45-67»), in
    E.164; "" when there is none. Messenger customers often leave one in the text."""
    for match in phonenumbers.PhoneNumberMatcher(text or "", "RU", leniency=phonenumbers.Leniency.VALID):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def format_phone(value: str) -> str:
    """+79123456789 → «+7 912 345-67-89» for display."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- periods ---------------------------------------------------------------------------------------
def period_error(start, end, message=None) -> str | None:
    """The one rule of every period (a booking, a deal line, a maintenance window, a waybill,
    a search): it ends after it starts. The message, or None when it holds (or a bound is
    missing: "required" is the field's own error)."""
    if start is not None and end is not None and end <= start:
        return str(message or _("The end must be after the start."))
    return None


def check_period(start, end, *, end_field: str = "end", message=None) -> None:
    """``period_error`` as a ValidationError on the end's field (for ``clean()``)."""
    if error := period_error(start, end, message):
        raise ValidationError({end_field: ValidationError(error, code="order")})
