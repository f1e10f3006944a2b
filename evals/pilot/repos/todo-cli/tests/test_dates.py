from datetime import date

import pytest

from todo.dates import DateError, describe_due, parse_due

MONDAY = date(2024, 5, 6)


def test_today_and_tomorrow():
    assert parse_due("today", MONDAY) == MONDAY
    assert parse_due(" Tomorrow ", MONDAY) == date(2024, 5, 7)


def test_offsets_in_days_and_weeks():
    assert parse_due("+3d", MONDAY) == date(2024, 5, 9)
    assert parse_due("+0d", MONDAY) == MONDAY
    assert parse_due("+2w", MONDAY) == date(2024, 5, 20)


def test_weekday_name_means_the_next_one():
    assert parse_due("fri", MONDAY) == date(2024, 5, 10)
    assert parse_due("mon", MONDAY) == date(2024, 5, 13)


def test_weekday_on_that_day_is_a_week_on():
    sunday = date(2024, 5, 12)
    assert parse_due("sunday", sunday) == date(2024, 5, 19)
    assert parse_due("SUN", sunday) == date(2024, 5, 19)


def test_full_weekday_names_any_case():
    assert parse_due("Wednesday", MONDAY) == date(2024, 5, 8)


def test_iso_dates():
    assert parse_due("2024-12-31", MONDAY) == date(2024, 12, 31)


def test_bad_dates_fail():
    for text in ("soon", "+3m", "-1d", "2024-13-01", "", "fr"):
        with pytest.raises(DateError):
            parse_due(text, MONDAY)


def test_describe_due():
    assert describe_due(MONDAY, MONDAY) == "today"
    assert describe_due(date(2024, 5, 7), MONDAY) == "tomorrow"
    assert describe_due(date(2024, 5, 5), MONDAY) == "yesterday"
    assert describe_due(date(2024, 5, 9), MONDAY) == "in 3 days"
    assert describe_due(date(2024, 5, 1), MONDAY) == "5 days ago"
