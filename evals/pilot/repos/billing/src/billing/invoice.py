"""Invoices: line items, discounts and taxes, and the totals they add up to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from billing.discount import Discount, discount_for
from billing.money import Money, sum_money
from billing.tax import TaxRule, tax_lines
from billing.terms import due_date


@dataclass(frozen=True)
class LineItem:
    """One line: ``quantity`` times ``unit_price``; untaxed lines skip every tax."""

    description: str
    unit_price: Money
    quantity: int = 1
    taxable: bool = True

    @property
    def total(self) -> Money:
        """The line's amount before discounts and taxes."""
        return self.unit_price * self.quantity


@dataclass
class Invoice:
    """An invoice in one currency.

    Discounts apply one after the other to what is left of the subtotal; they reduce
    the taxable amount first. Taxes are charged on the taxable amount after discounts.
    """

    number: str
    issued: date
    currency: str = "USD"
    terms: str = "NET 30"
    lines: list[LineItem] = field(default_factory=list)
    discounts: list[Discount] = field(default_factory=list)
    taxes: list[TaxRule] = field(default_factory=list)

    def add(
        self, description: str, unit_price: str | Money, quantity: int = 1, taxable: bool = True
    ) -> LineItem:
        """Add a line; ``unit_price`` may be text such as ``"12.50"``."""
        if isinstance(unit_price, str):
            unit_price = Money.parse(unit_price, self.currency)
        if quantity < 1:
            raise ValueError("a line needs a quantity of at least 1")
        line = LineItem(description, unit_price, quantity, taxable)
        self.lines.append(line)
        return line

    def subtotal(self) -> Money:
        """All lines together, before discounts and taxes."""
        return sum_money((line.total for line in self.lines), self.currency)

    def discount_lines(self) -> list[tuple[str, Money]]:
        """Each discount's code and the amount it takes off, in order."""
        left = self.subtotal()
        lines = []
        for discount in self.discounts:
            off = discount_for(left, discount)
            lines.append((discount.code, off))
            left = left - off
        return lines

    def discount_total(self) -> Money:
        """Everything the discounts take off."""
        return sum_money((off for _, off in self.discount_lines()), self.currency)

    def taxable_amount(self) -> Money:
        """The taxable lines' amount less the discounts (never below zero)."""
        taxable = sum_money((ln.total for ln in self.lines if ln.taxable), self.currency)
        left = taxable - self.discount_total()
        return left if left.cents > 0 else Money.zero(self.currency)

    def tax_lines(self) -> list[tuple[str, Money]]:
        """Each tax's name and amount."""
        return tax_lines(self.taxable_amount(), self.taxes)

    def total(self) -> Money:
        """What the customer pays: subtotal less discounts plus taxes."""
        taxes = sum_money((amount for _, amount in self.tax_lines()), self.currency)
        return self.subtotal() - self.discount_total() + taxes

    def due(self) -> date:
        """The due date under the invoice's terms."""
        return due_date(self.issued, self.terms)

    def to_dict(self) -> dict[str, Any]:
        """The invoice as JSON-ready data: amounts as strings such as ``"12.50"``."""
        return {
            "number": self.number,
            "issued": self.issued.isoformat(),
            "due": self.due().isoformat(),
            "currency": self.currency,
            "lines": [
                {
                    "description": line.description,
                    "unit_price": line.unit_price.amount(),
                    "quantity": line.quantity,
                    "total": line.total.amount(),
                }
                for line in self.lines
            ],
            "subtotal": self.subtotal().amount(),
            "discounts": [{"code": c, "amount": m.amount()} for c, m in self.discount_lines()],
            "taxes": [{"name": n, "amount": m.amount()} for n, m in self.tax_lines()],
            "total": self.total().amount(),
        }
