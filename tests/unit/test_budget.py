"""The budget: contracts prorated by day into months of different lengths, planned against
actual to date, the straight-line forecast, and spend booked from a CSV all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.incidents.budget import budget_view, contract_month, entries, parse_csv
from tomconsole.models import BookSpend, SpendEntry

CONFIG = Config.model_validate(
    {
        "vendors": [{"name": "Dell"}],
        "budget": {
            "year": 2028,  # a leap year: February has 29 days
            "lines": [
                {"name": "support", "planned": 1000},
                {"name": "cloud", "planned": 6000, "per": "quarter"},
            ],
        },
        "contracts": [
            {
                "name": "prosupport",
                "vendor": "Dell",
                "covers": "group:prod",
                "start": "2028-01-15",
                "end": "2029-01-14",
                "cost": 12000,
                "per": "year",
                "budget_line": "support",
            }
        ],
    }
)
(PROSUPPORT,) = CONFIG.contracts


def test_a_contract_is_prorated_by_day_into_months_of_different_lengths() -> None:
    assert contract_month(PROSUPPORT, 2028, 1) == pytest.approx(1000 * 17 / 31)  # from the 15th
    assert contract_month(PROSUPPORT, 2028, 2) == pytest.approx(1000)  # 29 of 29 days
    assert contract_month(PROSUPPORT, 2028, 2, until=date(2028, 2, 10)) == pytest.approx(1000 * 10 / 29)
    assert contract_month(PROSUPPORT, 2029, 1) == pytest.approx(1000 * 14 / 31)  # to the 14th
    assert contract_month(PROSUPPORT, 2027, 12) == 0.0


def test_planned_actual_variance_and_forecast(tmp_path: Path) -> None:
    eng = Engine(
        CONFIG,
        data_dir=tmp_path,
        poll=False,
        background=False,
        wall=lambda: datetime(2028, 3, 31, tzinfo=UTC),
    )
    try:
        spend = (
            SpendEntry("2028-02-03", "cloud", 7000.0, "AWS", "[b]burst[/b]"),
            SpendEntry("2028-04-02", "cloud", 5.0),
        )
        reply = eng.incidents.desk.apply(BookSpend(spend, "ana", "cli"))  # type: ignore[union-attr]
        assert reply == {"ok": True, "booked": 2}
        support, cloud = budget_view(CONFIG, eng.incidents.store, date(2028, 3, 31))  # type: ignore[union-attr]
    finally:
        eng.close()
    # January 17/31, February and March whole: by hand, 548.39 + 1000 + 1000
    assert support.actual_to_date == pytest.approx(1000 * 17 / 31 + 2000)
    assert support.planned_to_date == pytest.approx(3000) and not support.over
    assert support.months == pytest.approx((1000 * 17 / 31, 1000, 1000))
    # the contract's whole year is known: 17/31 of January and eleven whole months
    assert support.forecast == pytest.approx(1000 * 17 / 31 + 11000) and not support.over
    assert cloud.planned_year == pytest.approx(24000) and cloud.planned_to_date == pytest.approx(6000)
    assert cloud.actual_to_date == pytest.approx(7000)  # April's entry is after the day asked about
    assert cloud.variance == pytest.approx(1000) and cloud.over
    assert cloud.forecast == pytest.approx(7000 / 91 * 366)  # 91 days of 366 elapsed: booked, straight on


def test_a_csv_with_a_bad_row_names_its_line_and_books_nothing(tmp_path: Path) -> None:
    good = "date,line,amount,vendor,note\n2028-01-05,cloud,10,AWS,x\n"
    bad = good + '2028-01-06,cloud,"1,5",AWS,y\n2028-01-07,clod,3,,\n'
    with pytest.raises(ValueError, match=r"^line 3: amount '1,5' is not a number"):
        parse_csv(CONFIG, bad)
    with pytest.raises(ValueError, match=r"^line 2: line 'clod' is not in budget.lines"):
        parse_csv(CONFIG, "date,line,amount\n2028-01-07,clod,3\n")
    with pytest.raises(ValueError, match=r"^line 2: date '2028-13-01' is not a date"):
        parse_csv(CONFIG, "date,line,amount\n2028-13-01,cloud,3\n")
    with pytest.raises(ValueError, match="the header needs amount"):
        parse_csv(CONFIG, "date,line,sum\n2028-01-01,cloud,3\n")
    assert parse_csv(CONFIG, good) == [
        {"date": "2028-01-05", "line": "cloud", "amount": 10.0, "vendor": "AWS", "note": "x"}
    ]


def test_booked_spend_is_checked_again_and_is_all_or_nothing(tmp_path: Path) -> None:
    eng = Engine(CONFIG, data_dir=tmp_path, poll=False, background=False)
    try:
        desk = eng.incidents.desk  # type: ignore[union-attr]
        mixed = (SpendEntry("2028-01-05", "cloud", 1.0), SpendEntry("2028-01-05", "nope", 1.0))
        with pytest.raises(ValueError, match="entry 2: line 'nope'"):
            desk.apply(BookSpend(mixed, "ana"))
        assert entries(eng.incidents.store) == []  # type: ignore[union-attr]
    finally:
        eng.close()


def test_an_import_run_twice_books_nothing_the_second_time(tmp_path: Path) -> None:
    eng = Engine(CONFIG, data_dir=tmp_path, poll=False, background=False)
    try:
        desk = eng.incidents.desk  # type: ignore[union-attr]
        rows = (
            SpendEntry("2028-01-05", "cloud", 10.0, "AWS", "jan"),
            SpendEntry("2028-02-05", "cloud", 10.0, "AWS", "feb"),
        )
        assert desk.apply(BookSpend(rows, "ana", "spend.csv"))["booked"] == 2
        with pytest.raises(ValueError, match="entry 1 is booked already"):
            desk.apply(BookSpend(rows, "ana", "spend.csv"))
        assert len(entries(eng.incidents.store)) == 2  # type: ignore[union-attr]
    finally:
        eng.close()
