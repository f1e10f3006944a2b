from decimal import Decimal

import pytest

from billing.money import Money, MoneyError, sum_money


def test_parse_plain_amount():
    assert Money.parse("12.50") == Money(1250)
    assert Money.parse("12") == Money(1200)
    assert Money.parse("0.05") == Money(5)


def test_parse_thousands_separator():
    assert Money.parse("1,234.50") == Money(123450)


def test_parse_negative_amount():
    assert Money.parse("-3.05") == Money(-305)


def test_parse_negative_cents_only():
    assert Money.parse("-0.50") == Money(-50)


def test_parse_negative_with_thousands():
    assert Money.parse("-1,234.56") == Money(-123456)


def test_parse_rejects_bad_text():
    for text in ("", "abc", "1.234", "1.2.3", "$5", ".5"):
        with pytest.raises(MoneyError):
            Money.parse(text)


def test_parse_currency_without_decimals():
    assert Money.parse("1200", "JPY") == Money(1200, "JPY")
    with pytest.raises(MoneyError):
        Money.parse("12.5", "JPY")


def test_arithmetic():
    assert Money(1000) + Money(250) == Money(1250)
    assert Money(1000) - Money(250) == Money(750)
    assert -Money(5) == Money(-5)
    assert Money(250) * 3 == Money(750)


def test_mixing_currencies_fails():
    with pytest.raises(MoneyError):
        Money(100, "USD") + Money(100, "EUR")


def test_multiplying_by_a_fraction_fails():
    with pytest.raises(MoneyError):
        Money(100) * 1.5


def test_percent():
    assert Money(10000).percent("7.5") == Money(750)
    assert Money(1999).percent(10) == Money(200)


def test_percent_rounds_half_up():
    assert Money(25).percent(10) == Money(3)
    assert Money(45).percent(10) == Money(5)
    assert Money(-25).percent(10) == Money(-3)


def test_allocate_even():
    assert Money(900).allocate([1, 1, 1]) == [Money(300)] * 3


def test_allocate_distributes_remainder():
    parts = Money(100).allocate([1, 1, 1])
    assert parts == [Money(34), Money(33), Money(33)]


def test_allocate_by_ratio_keeps_every_cent():
    parts = Money(1001).allocate([3, 7])
    assert sum(p.cents for p in parts) == 1001
    assert parts == [Money(301), Money(700)]
    assert Money(7).allocate([1, 1, 1, 1, 1]) == [Money(2), Money(2), Money(1), Money(1), Money(1)]
    assert sum(p.cents for p in Money(7).allocate([2, 3])) == 7


def test_allocate_rejects_bad_ratios():
    for ratios in ([], [0, 0], [1, -1]):
        with pytest.raises(MoneyError):
            Money(100).allocate(ratios)


def test_to_decimal_and_amount():
    assert Money(1250).to_decimal() == Decimal("12.50")
    assert Money(-5).amount() == "-0.05"
    assert Money(1200, "JPY").amount() == "1200"


def test_format():
    assert Money(123450).format() == "$1,234.50"
    assert Money(-305).format() == "-$3.05"
    assert Money(120000, "JPY").format() == "¥120,000"
    assert Money(990, "EUR").format(symbol=False) == "9.90 EUR"


def test_sum_money():
    assert sum_money([Money(100), Money(250)]) == Money(350)
    assert sum_money([], "EUR") == Money(0, "EUR")
