"""Discount codes: a percentage off (``SAVE10``) or a fixed amount off (``TAKE5``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from billing.money import Money

_PERCENT = re.compile(r"^SAVE(\d{1,2})$")
_FIXED = re.compile(r"^TAKE(\d{1,4})$")


class DiscountError(ValueError):
    """A discount code is not valid."""


@dataclass(frozen=True)
class Discount:
    """A discount: exactly one of ``percent`` and ``amount``, and an optional minimum."""

    code: str
    percent: Decimal | None = None
    amount: Money | None = None
    min_subtotal: Money | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise DiscountError(f"{self.code}: give a percent or an amount, not both")
        if self.percent is not None and not 0 < self.percent <= 100:
            raise DiscountError(f"{self.code}: a percent discount is from 1 to 100")
        if self.amount is not None and self.amount.cents <= 0:
            raise DiscountError(f"{self.code}: a fixed discount must be positive")


def parse_code(code: str, currency: str = "USD") -> Discount:
    """The discount a code stands for: ``SAVE15`` is 15 % off, ``TAKE20`` is 20.00 off.

    Codes are case-insensitive; fixed codes need a subtotal of at least twice their value.
    """
    clean = code.strip().upper()
    if match := _PERCENT.match(clean):
        percent = Decimal(match.group(1))
        if percent == 0:
            raise DiscountError(f"{code!r} takes nothing off")
        return Discount(clean, percent=percent)
    if match := _FIXED.match(clean):
        amount = Money.parse(match.group(1), currency)
        if amount.cents == 0:
            raise DiscountError(f"{code!r} takes nothing off")
        return Discount(clean, amount=amount, min_subtotal=amount * 2)
    raise DiscountError(f"unknown discount code {code!r}")


def discount_for(subtotal: Money, discount: Discount) -> Money:
    """How much ``discount`` takes off ``subtotal``: never more than the subtotal itself.

    Below the discount's ``min_subtotal`` nothing is taken off.
    """
    if discount.min_subtotal is not None and subtotal.cents < discount.min_subtotal.cents:
        return Money.zero(subtotal.currency)
    if discount.percent is not None:
        off = subtotal.percent(discount.percent)
    else:
        assert discount.amount is not None
        off = discount.amount
    return off if off.cents <= subtotal.cents else subtotal
