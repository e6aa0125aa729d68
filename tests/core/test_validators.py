"""Russian identifiers, accounts, plates and phones: the check digits and formats of
``arenda/core/validators.py``.

The generated-number tests compute check digits from the published formulas (written out
below), not from the code under test, and then try every single-digit change. Whether a change must be
caught is worked out per scheme:

- ИНН and ОГРН use ``sum % 11 % 10``. Every weight (and every power of 10) is a unit mod 11
  and a digit changes by 1..9, so the remainder always moves; the change is invisible only
  when the remainder moves between 0 and 10, which both give check digit 0.
- ОГРНИП uses ``% 13 % 10``: the remainder always moves (13 is prime), and the change is
  invisible only between 0↔10, 1↔11, 2↔12.
- Account keys use weights 7, 1, 3, all coprime with 10, so every single-digit change of the
  account (or of the БИК digits that enter the key) is caught.
"""

import pytest
import stdnum.ru.ogrn
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from arenda.core.validators import (
    account_is_valid,
    check_accounts,
    corr_account_is_valid,
    format_phone,
    inn_is_valid,
    normalize_phone,
    normalize_plate,
    ogrn_is_valid,
    plate_is_valid,
    validate_account_number,
    validate_bik,
    validate_inn,
    validate_inn_for_kind,
    validate_kpp,
    validate_ogrn,
    validate_phone,
    validate_plate,
)

INN10_W = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_W1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_W2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
KEY_W = (7, 1, 3) * 8


def digits(n: int):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def weighted(number: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(number, weights, strict=True))


def mutations(number: str):
    """Every single-digit change: (position, changed number)."""
    for pos, old in enumerate(number):
        for new in "0123456789":
            if new != old:
                yield pos, number[:pos] + new + number[pos + 1 :]


def inn12(body: str) -> str:
    c1 = weighted(body, INN12_W1) % 11 % 10
    c2 = weighted(body + str(c1), INN12_W2) % 11 % 10
    return f"{body}{c1}{c2}"


def with_key(prefix3: str, account: str) -> str:
    """The account with its key (digit 9) set so the weighted sum ends in 0."""
    zeroed = account[:8] + "0" + account[9:]
    # Digit 9 of the account is digit 12 of the 23, weight 3; 3 × 7 ≡ 1 (mod 10).
    key = (-weighted(prefix3 + zeroed, KEY_W[:23])) * 7 % 10
    return account[:8] + str(key) + account[9:]


# --- ИНН ---------------------------------------------------------------------------------------
@given(digits(9))
def test_inn10_generated_pass_and_single_digit_changes_fail(body):
    r = weighted(body, INN10_W) % 11
    inn = body + str(r % 10)
    assert inn_is_valid(inn)
    validate_inn(inn)
    for pos, mutant in mutations(inn):
        if pos == 9:
            assert not inn_is_valid(mutant)
            continue
        r2 = weighted(mutant[:9], INN10_W) % 11
        assert r2 != r
        assert inn_is_valid(mutant) is ({r, r2} == {0, 10}), mutant


@given(digits(10))
def test_inn12_generated_pass_and_single_digit_changes_fail(body):
    inn = inn12(body)
    assert inn_is_valid(inn)
    validate_inn(inn)
    r1, r2 = weighted(body, INN12_W1) % 11, weighted(inn[:11], INN12_W2) % 11
    for pos, mutant in mutations(inn):
        if pos >= 10:
            assert not inn_is_valid(mutant)
            continue
        m1 = weighted(mutant[:10], INN12_W1) % 11
        m2 = weighted(mutant[:10] + inn[10], INN12_W2) % 11
        assert m1 != r1 and m2 != r2
        assert inn_is_valid(mutant) is ({r1, m1} == {0, 10} and {r2, m2} == {0, 10}), mutant


def test_inn_blind_spot_is_the_schemes_not_ours():
    # Remainders 10 and 0 both give check digit 0; these two differ in digit 8 and are both valid.
    assert weighted("770708309", INN10_W) % 11 == 10
    assert weighted("770708329", INN10_W) % 11 == 0
    assert inn_is_valid("7707083090") and inn_is_valid("7707083290")


@pytest.mark.parametrize(
    "inn",
    [
        "7707083893",  # ПАО Сбербанк
        "7736050003",  # ПАО «Газпром»
        "7702070139",  # Банк ВТБ (ПАО)
        "7728168971",  # АО «Альфа-Банк»
        "7710140679",  # АО «ТБанк»
        "7736207543",  # ООО «Яндекс»
        # 12-digit personal INN, built here: 5001007322 → Σ w1 = 148, 148 % 11 = 5;
        # 50010073225 → Σ w2 = 141, 141 % 11 = 9.
        "500100732259",
    ],
)
def test_published_inns_pass(inn):
    assert inn_is_valid(inn)
    validate_inn(inn)


def test_constructed_personal_inn_worked_example():
    assert weighted("5001007322", INN12_W1) == 148
    assert weighted("50010073225", INN12_W2) == 141


@pytest.mark.parametrize(
    "value, code",
    [
        ("7707083894", "checksum"),
        ("500100732258", "checksum"),
        ("770708389", "format"),
        ("77070838931", "format"),
        ("77070838 93", "format"),
        (" 7707083893", "format"),  # validated as stored: the form or serializer strips
        ("7707083893\n", "format"),
        ("٧٧٠٧٠٨٣٨٩٣", "format"),  # Arabic-Indic digits: int() reads them, we do not
        ("", "format"),
    ],
)
def test_bad_inns_fail(value, code):
    assert not inn_is_valid(value)
    with pytest.raises(ValidationError) as exc:
        validate_inn(value)
    assert exc.value.code == code


def test_inn_length_per_kind():
    validate_inn_for_kind("7707083893", "legal")
    validate_inn_for_kind("500100732259", "sole_trader")
    with pytest.raises(ValidationError) as exc:
        validate_inn_for_kind("500100732259", "legal")
    assert exc.value.code == "length"
    with pytest.raises(ValidationError) as exc:
        validate_inn_for_kind("7707083893", "sole_trader")
    assert exc.value.code == "length"


# --- КПП ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kpp", ["773601001", "997250001", "7736AB001", "77360Z001"])
def test_kpp_valid(kpp):
    validate_kpp(kpp)


@pytest.mark.parametrize(
    "kpp", ["77360100", "7736010011", "7736ab001", "7736АВ001", "A73601001", "77360100A", " 773601001", ""]
)
def test_kpp_invalid(kpp):
    with pytest.raises(ValidationError):
        validate_kpp(kpp)


# --- ОГРН / ОГРНИП ---------------------------------------------------------------------------------
@given(digits(12))
def test_ogrn_generated_pass_and_single_digit_changes_fail(body):
    r = int(body) % 11
    ogrn = body + str(r % 10)
    assert ogrn_is_valid(ogrn)
    validate_ogrn(ogrn)
    for pos, mutant in mutations(ogrn):
        if pos == 12:
            assert not ogrn_is_valid(mutant)
            continue
        r2 = int(mutant[:12]) % 11
        assert r2 != r
        assert ogrn_is_valid(mutant) is ({r, r2} == {0, 10}), mutant


@given(digits(14))
def test_ogrnip_generated_pass_and_single_digit_changes_fail(body):
    r = int(body) % 13
    ogrnip = body + str(r % 10)
    assert ogrn_is_valid(ogrnip)
    validate_ogrn(ogrnip)
    for pos, mutant in mutations(ogrnip):
        if pos == 14:
            assert not ogrn_is_valid(mutant)
            continue
        r2 = int(mutant[:14]) % 13
        assert r2 != r
        assert ogrn_is_valid(mutant) is (r % 10 == r2 % 10), mutant


@pytest.mark.parametrize(
    "ogrn",
    [
        "1027700132195",  # ПАО Сбербанк
        "1027700070518",  # ПАО «Газпром»
        "1027739609391",  # Банк ВТБ (ПАО)
        "1027700067328",  # АО «Альфа-Банк»
        "1027739642281",  # АО «ТБанк»
        "1027700229193",  # ООО «Яндекс»
        "304500116000157",  # ОГРНИП, the example of the Russian Wikipedia article
        "385768585948949",  # ОГРНИП from python-stdnum's own documentation
    ],
)
def test_published_ogrns_pass(ogrn):
    assert ogrn_is_valid(ogrn)
    validate_ogrn(ogrn)


@pytest.mark.parametrize(
    "ogrnip, remainder",
    [("304500116000050", 10), ("304500116000061", 11), ("304500116000072", 12)],
)
def test_ogrnip_fix_over_stdnum(ogrnip, remainder):
    """python-stdnum 2.2 compares the last digit with ``% 13`` alone, so it rejects every
    ОГРНИП whose remainder is 10–12; the correct ``% 13 % 10`` accepts them."""
    assert int(ogrnip[:14]) % 13 == remainder
    assert ogrn_is_valid(ogrnip)
    assert not stdnum.ru.ogrn.is_valid(ogrnip)


@pytest.mark.parametrize(
    "value, code",
    [
        ("1027700132194", "checksum"),
        ("304500116000158", "checksum"),
        ("102770013219", "format"),
        ("10277001321955", "format"),
        ("١٠٢٧٧٠٠١٣٢١٩٥", "format"),
        ("1027700132195 ", "format"),
    ],
)
def test_bad_ogrns_fail(value, code):
    assert not ogrn_is_valid(value)
    with pytest.raises(ValidationError) as exc:
        validate_ogrn(value)
    assert exc.value.code == code


# --- БИК and accounts ------------------------------------------------------------------------------
@pytest.mark.parametrize("bik", ["044525225", "049805746", "004525988", "123456789"])
def test_bik_nine_digits_any_prefix(bik):
    validate_bik(bik)


@pytest.mark.parametrize("bik", ["04452522", "0445252250", "04452522X", "٠٤٤٥٢٥٢٢٥", ""])
def test_bik_invalid(bik):
    with pytest.raises(ValidationError):
        validate_bik(bik)


@given(bik=digits(9), raw=digits(20))
def test_settlement_account_generated_pass_and_single_digit_changes_fail(bik, raw):
    account = with_key(bik[-3:], raw)
    assert account_is_valid(account, bik)
    assert check_accounts(bik=bik, account=account) == {}
    for _pos, mutant in mutations(account):
        assert not account_is_valid(mutant, bik), mutant
    for pos, other_bik in mutations(bik):
        # Only the last three БИК digits (the bank's number) enter the settlement key.
        assert account_is_valid(account, other_bik) is (pos < 6), other_bik


@given(bik=digits(9), raw=digits(20))
def test_corr_account_generated_pass_and_single_digit_changes_fail(bik, raw):
    corr = with_key("0" + bik[4:6], raw)
    assert corr_account_is_valid(corr, bik)
    assert check_accounts(bik=bik, corr_account=corr) == {}
    for _pos, mutant in mutations(corr):
        assert not corr_account_is_valid(mutant, bik), mutant
    for pos, other_bik in mutations(bik):
        # Only БИК digits 5–6 (the RKC's number) enter the correspondent key.
        assert corr_account_is_valid(corr, other_bik) is (pos not in (4, 5)), other_bik


@pytest.mark.parametrize(
    "bik, corr",
    [
        ("049805000", "30101810800000000746"),  # ЦБ РФ, Порядок № 515 of 08.09.1997, example 1
        ("044525225", "30101810400000000225"),  # ПАО Сбербанк
        ("044525187", "30101810700000000187"),  # Банк ВТБ (ПАО)
        ("044525593", "30101810200000000593"),  # АО «Альфа-Банк»
        ("044525974", "30101810145250000974"),  # АО «ТБанк»
    ],
)
def test_published_corr_accounts_pass(bik, corr):
    assert corr_account_is_valid(corr, bik)
    assert check_accounts(bik=bik, corr_account=corr) == {}


def test_cbr_settlement_account_example_passes():
    # ЦБ РФ, Порядок № 515, example 3: client account of the bank with БИК 049805746.
    assert account_is_valid("40602810700000000025", "049805746")
    assert check_accounts(bik="049805746", account="40602810700000000025") == {}


def test_check_accounts_names_the_wrong_field():
    errors = check_accounts(
        bik="044525225", account="40702810000000000001", corr_account="30101810500000000225"
    )
    assert set(errors) == {"account", "corr_account"}
    assert all(e.code == "key" for e in errors.values())


def test_check_accounts_leaves_format_errors_to_field_validators():
    assert check_accounts(bik="04452522", account="40602810700000000025") == {}
    assert check_accounts(bik="044525225", account="4060281070000000002") == {}
    with pytest.raises(ValidationError):
        validate_account_number("4060281070000000002")
    with pytest.raises(ValidationError):
        validate_account_number("4060281070000000002X")


# --- Plates ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, normal",
    [
        ("a123bc77", "А123ВС77"),  # Latin look-alikes, lower case
        ("А 123 ВС 777", "А123ВС777"),
        ("1234АВ50", "1234АВ50"),  # tractor / self-propelled machine
        ("1234 ab 50", "1234АВ50"),
        ("х-001-ук-199", "Х001УК199"),
        ("M\u00a0777 OP 77", "М777ОР77"),
    ],
)
def test_valid_plates_normalise(raw, normal):
    assert plate_is_valid(raw)
    validate_plate(raw)
    assert normalize_plate(raw) == normal
    assert not any("A" <= ch <= "Z" for ch in normal)


@pytest.mark.parametrize(
    "raw",
    ["А123ВБ77", "1234567", "А123ВС7", "А123ВС7777", "АА123В77", "12345АВ77", "Z123ВС77", "А١٢٣ВС77", ""],
)
def test_invalid_plates(raw):
    assert not plate_is_valid(raw)
    with pytest.raises(ValidationError):
        validate_plate(raw)


# --- Phones ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw", ["8 (912) 345-67-89", "+79123456789", "9123456789", "+7 912 345 67 89", "7 912 3456789"]
)
def test_phones_normalise_to_e164(raw):
    assert normalize_phone(raw) == "+79123456789"
    validate_phone(raw)


def test_moscow_landline_and_display():
    assert normalize_phone("8 (495) 123-45-67") == "+74951234567"
    assert format_phone("+79123456789") == "+7 912 345-67-89"
    assert normalize_phone("") == ""


@pytest.mark.parametrize(
    "raw", ["abc", "12345", "+7 000 000-00-00", "8 (912) 345-67-8", "+79123456789012345"]
)
def test_garbage_phones_fail(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)
    with pytest.raises(ValidationError):
        validate_phone(raw)
