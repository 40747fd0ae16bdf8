"""The ten-digit birth-number shortcut (validate/identifiers.py) must say exactly what stdnum says.

Staging checks ten-digit CZ / SK birth numbers by their date and check digit, vectorised,
instead of calling stdnum's cz.rc / sk.rc per value; these tests hold the shortcut to the
library over every month code, impossible days, both centuries and every check digit.
"""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipelines.validate.identifiers import _birth_number, check_birth_number

COUNTRIES = ["CZ", "SK", None, "cz", "DE", ""]


def _numbers() -> list[str]:
    """Every year, month code (00-99) and check digit once, with days around month ends."""
    rng = random.Random(20261207)
    numbers = []
    for month in range(100):
        for day in (0, 1, 28, 29, 30, 31, 32, rng.randrange(1, 28)):
            year = rng.randrange(100)
            serial = f"{rng.randrange(1000):03d}"
            numbers += [f"{year:02d}{month:02d}{day:02d}{serial}{d}" for d in "0123456789"]
    numbers += [
        f"{y:02d}0229{rng.randrange(1000):03d}{d}" for y in range(100) for d in "0123456789"
    ]
    return numbers


def _agrees(values: list[str], countries: list[str | None]) -> list[tuple]:
    checked = check_birth_number(
        pl.Series(values, dtype=pl.String), pl.Series(countries, dtype=pl.String)
    )
    wrong = []
    for value, country, row in zip(values, countries, checked.iter_rows(named=True), strict=True):
        text = value.strip().replace(" ", "").replace("/", "").replace("-", "").replace(".", "")
        stated = (country or "").strip().upper() or None
        expected = _birth_number(text, stated) if text else (None, None, None)
        if (row["national_id"], row["valid"], row["birth_date"]) != expected:
            wrong.append((value, country, row, expected))
    return wrong


def test_ten_digit_birth_numbers_are_read_as_stdnum_reads_them() -> None:
    numbers = _numbers()
    countries = [COUNTRIES[i % len(COUNTRIES)] for i in range(len(numbers))]
    assert _agrees(numbers, countries) == []
    valid = check_birth_number(pl.Series(numbers), pl.Series(countries))["valid"]
    assert 0 < valid.sum() < len(numbers)  # both answers occur


def test_other_shapes_still_go_to_stdnum() -> None:
    values = ["530101123", "5301011234", "780123/4567", " 780123 4567 ", "78012345678"]
    values += ["7801234567x", "٧٨٠١٢٣٤٥٦٧", "0002291234", "5402290000", "5352291230"]
    values += ["AB12345678", "AB12345678", "7801234567"]  # a foreign id; a valid one abroad
    countries = ["CZ", "SK", None, "CZ", "CZ", "CZ", "CZ", "SK", None, "CZ", "DE", "CZ", "AT"]
    assert _agrees(values, countries) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="0123456789", min_size=10, max_size=10), st.sampled_from(COUNTRIES)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_shortcut_never_answers_otherwise_than_stdnum(pairs) -> None:
    values, countries = zip(*pairs, strict=True)
    assert _agrees(list(values), list(countries)) == []
