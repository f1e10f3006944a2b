"""billing: invoices, money, taxes, discounts and payment terms."""

from billing.discount import Discount, DiscountError, discount_for, parse_code
from billing.invoice import Invoice, LineItem
from billing.money import Money, MoneyError, sum_money
from billing.render import render_invoice
from billing.tax import TaxRule, parse_rate, tax_lines
from billing.terms import TermsError, days_overdue, due_date, end_of_month, late_fee

__all__ = [
    "Discount",
    "DiscountError",
    "Invoice",
    "LineItem",
    "Money",
    "MoneyError",
    "TaxRule",
    "TermsError",
    "days_overdue",
    "discount_for",
    "due_date",
    "end_of_month",
    "late_fee",
    "parse_code",
    "parse_rate",
    "render_invoice",
    "sum_money",
    "tax_lines",
]
