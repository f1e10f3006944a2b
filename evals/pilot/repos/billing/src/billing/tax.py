"""Tax rules: simple ones charged on the net amount, compound ones on the net plus earlier taxes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from billing.money import Money


class TaxError(ValueError):
    """A tax rate cannot be read."""


def parse_rate(text: str | int | Decimal) -> Decimal:
    """A percentage from ``"7.5"``, ``"7.5%"``, ``7`` or ``Decimal("7.5")``; 0 to 100."""
    raw = str(text).strip().removesuffix("%").strip()
    try:
        rate = Decimal(raw)
    except InvalidOperation:
        raise TaxError(f"not a tax rate: {text!r}") from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise TaxError(f"a tax rate is a percentage from 0 to 100, got {text!r}")
    return rate


@dataclass(frozen=True)
class TaxRule:
    """One tax: ``TaxRule("GST", "5")``; ``compound=True`` also taxes the taxes before it."""

    name: str
    rate: Decimal | str | int
    compound: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", parse_rate(self.rate))


def tax_lines(net: Money, rules: Sequence[TaxRule]) -> list[tuple[str, Money]]:
    """Each rule's name and amount on ``net``, in order.

    A simple rule is charged on ``net``; a compound rule on ``net`` plus every tax
    charged before it (as with Quebec's QST on top of the GST).
    """
    lines = []
    running = net
    for rule in rules:
        taxable = running if rule.compound else net
        amount = taxable.percent(rule.rate)
        lines.append((rule.name, amount))
        running = running + amount
    return lines
