import json
from datetime import date

import pytest

from billing.discount import Discount, parse_code
from billing.invoice import Invoice
from billing.money import Money
from billing.tax import TaxRule


def _invoice(**kwargs):
    invoice = Invoice("2024-001", issued=date(2024, 3, 1), **kwargs)
    invoice.add("Widget", "10.00", quantity=2)
    invoice.add("Manual", "5.00", taxable=False)
    return invoice


def test_subtotal():
    assert _invoice().subtotal() == Money(2500)


def test_add_rejects_zero_quantity():
    with pytest.raises(ValueError):
        _invoice().add("Nothing", "1.00", quantity=0)


def test_total_with_tax_on_taxable_lines_only():
    invoice = _invoice(taxes=[TaxRule("GST", "5")])
    assert invoice.tax_lines() == [("GST", Money(100))]
    assert invoice.total() == Money(2600)


def test_discounts_apply_in_order_on_what_is_left():
    invoice = _invoice(discounts=[parse_code("SAVE10"), parse_code("SAVE10")])
    assert invoice.discount_lines() == [("SAVE10", Money(250)), ("SAVE10", Money(225))]
    assert invoice.total() == Money(2025)


def test_discount_reduces_the_taxable_amount():
    invoice = _invoice(discounts=[parse_code("TAKE5")], taxes=[TaxRule("GST", "10")])
    assert invoice.taxable_amount() == Money(1500)
    assert invoice.total() == Money(2500 - 500 + 150)


def test_gift_card_larger_than_invoice_totals_zero():
    invoice = Invoice("2024-002", issued=date(2024, 3, 1), taxes=[TaxRule("GST", "5")])
    invoice.add("Sticker", "12.00")
    invoice.discounts.append(Discount("GIFT", amount=Money(2000)))
    assert invoice.discount_total() == Money(1200)
    assert invoice.total() == Money(0)


def test_due_date_follows_terms():
    assert _invoice(terms="NET 15").due() == date(2024, 3, 16)


def test_to_dict_has_amounts_as_strings():
    invoice = _invoice(discounts=[parse_code("SAVE10")], taxes=[TaxRule("GST", "5")])
    data = invoice.to_dict()
    assert data["number"] == "2024-001"
    assert data["issued"] == "2024-03-01"
    assert data["due"] == "2024-03-31"
    assert data["currency"] == "USD"
    assert data["lines"][0] == {
        "description": "Widget",
        "unit_price": "10.00",
        "quantity": 2,
        "total": "20.00",
    }
    assert data["subtotal"] == "25.00"
    assert data["discounts"] == [{"code": "SAVE10", "amount": "2.50"}]
    assert data["taxes"] == [{"name": "GST", "amount": "0.88"}]
    assert data["total"] == "23.38"


def test_to_dict_is_json_serialisable():
    data = _invoice().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["discounts"] == [] and data["taxes"] == []
