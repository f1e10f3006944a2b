"""Payment terms: when an invoice is due, how late it is, and what lateness costs."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from billing.money import Money

_NET = re.compile(r"^NET ?(\d{1,3})$")
_NET_EOM = re.compile(r"^NET ?(\d{1,3}) EOM$")
_ON_RECEIPT = ("DUE ON RECEIPT", "COD")


class TermsError(ValueError):
    """Payment terms that cannot be read."""


def end_of_month(day: date) -> date:
    """The last day of ``day``'s month."""
    first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def due_date(issued: date, terms: str) -> date:
    """The date an invoice issued on ``issued`` is due under ``terms``.

    Terms: ``NET 30`` (30 days after issue), ``NET 30 EOM`` (30 days after the end of
    the month of issue), ``EOM`` (the end of the month of issue), ``DUE ON RECEIPT``
    or ``COD`` (the day of issue). Case and spacing do not matter.
    """
    clean = " ".join(terms.upper().split())
    if clean in _ON_RECEIPT:
        return issued
    if clean == "EOM":
        return end_of_month(issued)
    if match := _NET.match(clean):
        return issued + timedelta(days=int(match.group(1)))
    if match := _NET_EOM.match(clean):
        return end_of_month(issued) + timedelta(days=int(match.group(1)))
    raise TermsError(f"unknown payment terms {terms!r}")


def days_overdue(issued: date, terms: str, today: date) -> int:
    """Whole days past the due date (0 when not yet due)."""
    return max(0, (today - due_date(issued, terms)).days)


def late_fee(balance: Money, days: int, monthly_rate: Decimal | str = "1.5") -> Money:
    """The fee on ``balance`` after ``days`` overdue: ``monthly_rate`` % per started 30 days."""
    if days < 0:
        raise TermsError("days overdue cannot be negative")
    periods = -(-days // 30)
    return balance.percent(Decimal(str(monthly_rate)) * periods)
