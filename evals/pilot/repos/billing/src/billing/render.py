"""A plain-text rendering of an invoice, for e-mails and terminals."""

from __future__ import annotations

from billing.invoice import Invoice
from billing.money import Money

WIDTH = 60


def _row(label: str, amount: Money, width: int) -> str:
    value = amount.format()
    return f"{label[: width - len(value) - 1]:<{width - len(value)}}{value}"


def render_invoice(invoice: Invoice, width: int = WIDTH) -> str:
    """The invoice as lines of exactly ``width`` characters (a header, lines, totals)."""
    head = f"INVOICE {invoice.number}"
    dates = f"issued {invoice.issued.isoformat()}  due {invoice.due().isoformat()}"
    out = [f"{head}{dates:>{width - len(head)}}", "-" * width]
    for line in invoice.lines:
        label = f"{line.description}  {line.quantity} x {line.unit_price.format()}"
        out.append(_row(label, line.total, width))
    out.append("-" * width)
    out.append(_row("Subtotal", invoice.subtotal(), width))
    for code, off in invoice.discount_lines():
        out.append(_row(f"Discount {code}", -off, width))
    for name, amount in invoice.tax_lines():
        out.append(_row(name, amount, width))
    out.append(_row("Total", invoice.total(), width))
    return "\n".join(out) + "\n"
