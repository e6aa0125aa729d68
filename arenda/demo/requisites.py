"""Valid-by-construction Russian requisites for generated data.

Each identifier is built from a running index through a bijection, so values are unique
without any retry loop and still look scattered rather than sequential. The check digits
follow the same rules as ``arenda.core.validators`` (the tests hold the two together).
"""

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]  # 3 BIK digits + 20 account digits
PLATE_LETTERS = "АВЕКМНОРСТУХ"


def _weighted(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def inn10(body: str) -> str:
    """9 digits (region, inspection, serial) → a 10-digit organisation ИНН."""
    return body + str(_weighted(body, _INN10_WEIGHTS))


def inn12(body: str) -> str:
    """10 digits → a 12-digit ИНН of a person or sole trader."""
    first = str(_weighted(body, _INN12_WEIGHTS_1))
    return body + first + str(_weighted(body + first, _INN12_WEIGHTS_2))


def ogrn(body: str) -> str:
    """12 digits → a 13-digit ОГРН."""
    return body + str(int(body) % 11 % 10)


def ogrnip(body: str) -> str:
    """14 digits → a 15-digit ОГРНИП."""
    return body + str(int(body) % 13 % 10)


def _with_key(prefix3: str, account: str) -> str:
    """Put the control key (digit 9) into a 20-digit account so the ЦБ check passes."""
    body = account[:8] + "0" + account[9:]
    total = sum(int(d) * w for d, w in zip(prefix3 + body, _ACCOUNT_WEIGHTS, strict=True))
    # The key sits at weight 3, and 3·7 ≡ 1 (mod 10), so this key zeroes the sum mod 10.
    return body[:8] + str(-total * 7 % 10) + body[9:]


def settlement_account(bik: str, *, balance: str, branch: str, serial: int) -> str:
    """``balance`` is the 5-digit balance account (40702 company, 40802 sole trader,
    40817 person); roubles (810); ``branch`` 4 digits; ``serial`` up to 7 digits."""
    return _with_key(bik[-3:], f"{balance}8100{branch}{serial:07d}")


class Scatter:
    """A pseudo-random permutation of ``range(size)``: a 4-round Feistel network over the
    smallest even number of bits covering ``size``, cycle-walked back into range. Distinct
    indices always give distinct values, and neighbouring indices look unrelated."""

    def __init__(self, size: int, salt: int):
        self.size = size
        bits = max(2, (size - 1).bit_length())
        self.half = (bits + bits % 2) // 2
        self.mask = (1 << self.half) - 1
        self.keys = [(salt * 0x9E3779B1 + r * 0x85EBCA6B) & 0xFFFFFFFF for r in range(4)]

    def _permute(self, value: int) -> int:
        left, right = value >> self.half, value & self.mask
        for key in self.keys:
            mixed = ((right ^ key) * 0x45D9F3B) & 0xFFFFFFFF
            left, right = right, left ^ ((mixed ^ (mixed >> 16)) & self.mask)
        return (left << self.half) | right

    def __call__(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise OverflowError(f"index {index} out of the generator's range {self.size}")
        value = self._permute(index)
        while value >= self.size:
            value = self._permute(value)
        return value


class Requisites:
    """Hands out unique ИНН/ОГРН/accounts/plates for one generation run.

    Organisation ИНН = region(2) + inspection(2) + serial(5); persons and sole traders
    use a 6-digit serial. The (inspection, serial) pair comes from a running index via
    :class:`Scatter`, so two calls never give the same number whatever the region.
    """

    INSPECTIONS = 50  # tax inspectorates 01–50 in each region

    def __init__(self, salt: int = 0):
        self._legal = Scatter(self.INSPECTIONS * 90_000, salt + 1)
        self._private = Scatter(self.INSPECTIONS * 900_000, salt + 2)
        self._accounts = Scatter(10_000_000, salt + 3)
        self._plates = Scatter(999 * 12**3, salt + 4)
        self._tractor_plates = Scatter(9999 * 12**2, salt + 5)
        self._counters = dict.fromkeys(("legal", "private", "account", "plate", "tractor"), 0)

    def _next(self, name: str) -> int:
        value = self._counters[name]
        self._counters[name] = value + 1
        return value

    def legal(self, region: str, year: int) -> tuple[str, str, str]:
        """(ИНН, КПП, ОГРН) of an organisation registered in ``region`` in ``year``."""
        n = self._legal(self._next("legal"))
        inspection, serial = f"{n // 90_000 + 1:02d}", 10_000 + n % 90_000
        inn = inn10(f"{region}{inspection}{serial:05d}")
        return inn, f"{region}{inspection}01001", ogrn(f"1{year % 100:02d}{region}{inspection}{serial:05d}")

    def private(self, region: str, year: int) -> tuple[str, str]:
        """(ИНН, ОГРНИП) of a person; the ОГРНИП matters only if they trade."""
        n = self._private(self._next("private"))
        inspection, serial = f"{n // 900_000 + 1:02d}", 100_000 + n % 900_000
        inn = inn12(f"{region}{inspection}{serial:06d}")
        return inn, ogrnip(f"3{year % 100:02d}{region}{inspection}0{serial:06d}")

    def account(self, bik: str, *, balance: str = "40702", branch: str = "3800") -> str:
        return settlement_account(
            bik, balance=balance, branch=branch, serial=self._accounts(self._next("account"))
        )

    def plate(self, region: str) -> str:
        """Ordinary vehicle plate, «А123ВС77»."""
        n = self._plates(self._next("plate"))
        number, letters = n % 999 + 1, n // 999
        a, b, c = (
            PLATE_LETTERS[letters // 144],
            PLATE_LETTERS[letters // 12 % 12],
            PLATE_LETTERS[letters % 12],
        )
        return f"{a}{number:03d}{b}{c}{region}"

    def tractor_plate(self, region: str) -> str:
        """Self-propelled machine plate (Гостехнадзор), «1234АВ50»."""
        n = self._tractor_plates(self._next("tractor"))
        number, letters = n % 9999 + 1, n // 9999
        return f"{number:04d}{PLATE_LETTERS[letters // 12]}{PLATE_LETTERS[letters % 12]}{region}"
