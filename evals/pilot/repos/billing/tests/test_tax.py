from decimal import Decimal

import pytest

from billing.money import Money
from billing.tax import TaxError, TaxRule, parse_rate, tax_lines


def test_parse_rate_forms():
    assert parse_rate("7.5") == Decimal("7.5")
    assert parse_rate("7.5%") == Decimal("7.5")
    assert parse_rate(7) == Decimal(7)


def test_parse_rate_rejects_bad_rates():
    for text in ("abc", "-1", "101", "nan"):
        with pytest.raises(TaxError):
            parse_rate(text)


def test_rule_normalises_its_rate():
    assert TaxRule("VAT", "20%").rate == Decimal(20)


def test_simple_tax():
    assert tax_lines(Money(10000), [TaxRule("GST", "5")]) == [("GST", Money(500))]


def test_simple_taxes_are_each_charged_on_the_net_amount():
    rules = [TaxRule("GST", "5"), TaxRule("PST", "7")]
    assert tax_lines(Money(10000), rules) == [("GST", Money(500)), ("PST", Money(700))]


def test_compound_tax_charges_tax_on_tax():
    rules = [TaxRule("GST", "5"), TaxRule("QST", "9.975", compound=True)]
    assert tax_lines(Money(10000), rules) == [("GST", Money(500)), ("QST", Money(1047))]


def test_compound_rule_first_is_charged_on_the_net():
    rules = [TaxRule("A", "10", compound=True), TaxRule("B", "10", compound=True)]
    assert tax_lines(Money(10000), rules) == [("A", Money(1000)), ("B", Money(1100))]


def test_tax_rounds_half_up_to_the_cent():
    assert tax_lines(Money(25), [TaxRule("T", "10")]) == [("T", Money(3))]
    assert tax_lines(Money(1050), [TaxRule("T", "5")]) == [("T", Money(53))]


def test_no_rules_no_tax():
    assert tax_lines(Money(10000), []) == []
