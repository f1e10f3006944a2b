from decimal import Decimal

import pytest

from billing.discount import Discount, DiscountError, discount_for, parse_code
from billing.money import Money


def test_percent_code():
    assert parse_code("SAVE10") == Discount("SAVE10", percent=Decimal(10))


def test_codes_are_case_insensitive():
    assert parse_code(" save15 ").code == "SAVE15"


def test_fixed_code_needs_twice_its_value():
    discount = parse_code("TAKE5")
    assert discount.amount == Money(500)
    assert discount.min_subtotal == Money(1000)


def test_unknown_or_empty_codes_fail():
    for code in ("FREE", "SAVE", "SAVE0", "TAKE0", "SAVE100"):
        with pytest.raises(DiscountError):
            parse_code(code)


def test_a_discount_needs_exactly_one_kind():
    with pytest.raises(DiscountError):
        Discount("X")
    with pytest.raises(DiscountError):
        Discount("X", percent=Decimal(5), amount=Money(100))


def test_percent_discount():
    assert discount_for(Money(2000), parse_code("SAVE10")) == Money(200)


def test_fixed_discount():
    assert discount_for(Money(2000), parse_code("TAKE5")) == Money(500)


def test_below_the_minimum_nothing_is_taken_off():
    assert discount_for(Money(999), parse_code("TAKE5")) == Money(0)
    assert discount_for(Money(1000), parse_code("TAKE5")) == Money(500)


def test_fixed_discount_never_exceeds_subtotal():
    gift = Discount("GIFT", amount=Money(2000))
    assert discount_for(Money(1200), gift) == Money(1200)
