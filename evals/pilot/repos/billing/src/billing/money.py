"""Money as an integer number of minor units (cents), so sums never drift."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MINOR_DIGITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class MoneyError(ValueError):
    """An amount cannot be parsed, or two currencies were mixed."""


def minor_digits(currency: str) -> int:
    """How many decimals the currency has (2 for USD, 0 for JPY)."""
    try:
        return MINOR_DIGITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def round_half_up(value: Decimal) -> int:
    """Round to a whole number, halves away from zero (the accountants' rule)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Money:
    """An amount in minor units of one currency: ``Money(1250, "USD")`` is $12.50."""

    cents: int
    currency: str = "USD"

    @classmethod
    def parse(cls, text: str, currency: str = "USD") -> Money:
        """Read ``"1,234.50"``, ``"-3.05"`` or ``"12"`` as money in ``currency``."""
        scale = minor_digits(currency)
        cleaned = text.strip().replace(",", "")
        sign = -1 if cleaned.startswith("-") else 1
        whole, _, frac = cleaned.lstrip("+-").partition(".")
        if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > scale:
            raise MoneyError(f"not an amount in {currency}: {text!r}")
        cents = int(whole) * 10**scale + int(frac.ljust(scale, "0") or "0")
        return cls(sign * cents, currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        """No money at all."""
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise MoneyError("money can only be multiplied by a whole quantity")
        return Money(self.cents * quantity, self.currency)

    def percent(self, rate: Decimal | str | int) -> Money:
        """``rate`` percent of this amount, rounded half up to the minor unit."""
        exact = Decimal(self.cents) * Decimal(str(rate)) / 100
        return Money(round_half_up(exact), self.currency)

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` without losing a cent.

        The cents that do not divide evenly go one each to the first parts.
        """
        if not ratios or any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise MoneyError("ratios must be non-negative and not all zero")
        total = sum(ratios)
        parts = [self.cents * ratio // total for ratio in ratios]
        for i in range(self.cents - sum(parts)):
            parts[i % len(parts)] += 1
        return [Money(part, self.currency) for part in parts]

    def to_decimal(self) -> Decimal:
        """The amount in major units, e.g. ``Decimal("12.50")``."""
        return Decimal(self.cents).scaleb(-minor_digits(self.currency))

    def amount(self) -> str:
        """The plain amount with its decimals and no symbol: ``"-1234.50"``."""
        return str(self.to_decimal())

    def format(self, symbol: bool = True) -> str:
        """``$1,234.50``, ``-$3.05``, ``¥1,200``; without symbol: ``1,234.50 USD``."""
        scale = minor_digits(self.currency)
        whole, frac = divmod(abs(self.cents), 10**scale)
        text = f"{whole:,}" + (f".{frac:0{scale}d}" if scale else "")
        sign = "-" if self.cents < 0 else ""
        if symbol:
            return f"{sign}{SYMBOLS[self.currency]}{text}"
        return f"{sign}{text} {self.currency}"


def sum_money(amounts: Iterable[Money], currency: str = "USD") -> Money:
    """The sum of ``amounts`` (zero in ``currency`` when there are none)."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total
