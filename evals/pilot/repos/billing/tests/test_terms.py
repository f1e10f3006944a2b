from datetime import date

import pytest

from billing.money import Money
from billing.terms import TermsError, days_overdue, due_date, end_of_month, late_fee


def test_net_terms():
    assert due_date(date(2024, 3, 1), "NET 30") == date(2024, 3, 31)
    assert due_date(date(2024, 3, 1), "net15") == date(2024, 3, 16)


def test_due_on_receipt():
    assert due_date(date(2024, 3, 1), "Due on receipt") == date(2024, 3, 1)
    assert due_date(date(2024, 3, 1), "COD") == date(2024, 3, 1)


def test_end_of_month():
    assert end_of_month(date(2024, 2, 10)) == date(2024, 2, 29)
    assert end_of_month(date(2023, 2, 10)) == date(2023, 2, 28)
    assert end_of_month(date(2024, 4, 30)) == date(2024, 4, 30)


def test_end_of_month_in_december():
    assert end_of_month(date(2024, 12, 5)) == date(2024, 12, 31)


def test_eom_terms():
    assert due_date(date(2024, 6, 12), "EOM") == date(2024, 6, 30)


def test_eom_terms_in_december():
    assert due_date(date(2023, 12, 1), "eom") == date(2023, 12, 31)


def test_net_eom_terms():
    assert due_date(date(2024, 1, 15), "NET 30 EOM") == date(2024, 3, 1)
    assert due_date(date(2024, 4, 2), "net 10 eom") == date(2024, 5, 10)


def test_net_eom_terms_across_year_end():
    assert due_date(date(2024, 12, 20), "NET 15 EOM") == date(2025, 1, 15)


def test_unknown_terms_fail():
    for terms in ("NET", "NET -5", "sometime", "NET 30 days"):
        with pytest.raises(TermsError):
            due_date(date(2024, 1, 1), terms)


def test_days_overdue():
    assert days_overdue(date(2024, 3, 1), "NET 30", date(2024, 3, 31)) == 0
    assert days_overdue(date(2024, 3, 1), "NET 30", date(2024, 4, 10)) == 10
    assert days_overdue(date(2024, 3, 1), "NET 30", date(2024, 3, 5)) == 0


def test_late_fee_per_started_period():
    assert late_fee(Money(10000), 0) == Money(0)
    assert late_fee(Money(10000), 1) == Money(150)
    assert late_fee(Money(10000), 30) == Money(150)
    assert late_fee(Money(10000), 31) == Money(300)
    assert late_fee(Money(10000), 45, monthly_rate="2") == Money(400)


def test_late_fee_rejects_negative_days():
    with pytest.raises(TermsError):
        late_fee(Money(100), -1)
