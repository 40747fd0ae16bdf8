"""Identifier validators: compacted first, invalid only for a wrong length or check digit.

feeds.md: spaces, dots, dashes and slashes are removed before checking, IČO is left-padded
to 8 digits and VAT numbers are upper-cased. The normalised output is null when invalid,
because staged data carries only values downstream stages may trust.
"""

from __future__ import annotations

import logging
from types import ModuleType

import polars as pl
import stdnum
from stdnum import iban as stdnum_iban
from stdnum.cz import rc as cz_rc
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.gb import vat as gb_vat
from stdnum.sk import rc as sk_rc

from crm_pipelines.validate.parsing import clean_text, map_distinct

logger = logging.getLogger(__name__)

_SEPARATORS = r"[\s./\-]"
_ICO_COUNTRIES = frozenset({"CZ", "SK"})
_ICO_WEIGHTS = (8, 7, 6, 5, 4, 3, 2)
_MAX_ID_CHARS = 64  # a longer compacted value is a wrong length for any identifier


def compact(values: pl.Series) -> pl.Series:
    """Trimmed, blank -> null, separators (spaces, dots, dashes, slashes) removed."""
    return clean_text(values).str.replace_all(_SEPARATORS, "")


def _country(countries: pl.Series) -> pl.Series:
    return clean_text(countries).str.to_uppercase().alias("country")


def ico_is_valid(digits: str) -> bool:
    """CZ/SK IČO: 8 digits, the last a mod-11 check digit over weights 8..2."""
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return False
    remainder = sum(w * int(d) for w, d in zip(_ICO_WEIGHTS, digits, strict=False)) % 11
    return int(digits[7]) == (11 - remainder) % 10


def _registration_no(text: str, country: str | None) -> tuple[str | None, bool]:
    if not text or len(text) > _MAX_ID_CHARS:
        return None, False
    if country not in _ICO_COUNTRIES:
        return text, True
    padded = text.rjust(8, "0") if text.isascii() and text.isdigit() else text
    return (padded, True) if ico_is_valid(padded) else (None, False)


def check_registration_no(values: pl.Series, countries: pl.Series) -> pl.DataFrame:
    """CZ/SK IČO (padded to 8 digits, mod-11); other countries' ids accepted compacted."""
    return map_distinct(
        {"value": compact(values), "country": _country(countries)},
        _registration_no,
        {"registration_no": pl.String, "valid": pl.Boolean},
    )


def _vat_module(prefix: str) -> ModuleType | None:
    if prefix == "GB":
        return gb_vat
    if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":  # Greece's VAT prefix
        return eu_vat
    if not prefix.isascii() or not prefix.isalpha():
        return None
    try:
        return stdnum.get_cc_module(prefix.lower(), "vat")
    except (ImportError, ValueError):
        return None


def _vat(text: str) -> tuple[str | None, bool]:
    number = text.upper()
    module = _vat_module(number[:2]) if len(number) <= _MAX_ID_CHARS else None
    if module is None:
        return None, False
    # non-EU modules may not expect the prefix; eu.vat and gb.vat need/strip it themselves
    candidates = (number,) if module in (eu_vat, gb_vat) else (number, number[2:])
    for candidate in candidates:
        try:
            module.validate(candidate)
        except ValidationError:
            continue
        return number, True
    return None, False


def check_vat(values: pl.Series) -> pl.DataFrame:
    """VAT number with its country prefix: eu.vat, gb.vat, else stdnum's module for the prefix.

    An unknown prefix is invalid; Greek numbers are accepted with EL (and GR) as sent.
    """
    return map_distinct(
        {"value": compact(values)}, _vat, {"vat_no": pl.String, "valid": pl.Boolean}
    )


def _birth_number(text: str, country: str | None) -> tuple[str | None, bool, object]:
    if len(text) > _MAX_ID_CHARS:
        return None, False, None
    module = {"CZ": cz_rc, "SK": sk_rc, None: cz_rc}.get(country)
    if module is None:
        # A foreign national id cannot be checked: kept as sent, unless it is a valid
        # Czech birth number, whose birth date is worth having.
        if cz_rc.is_valid(text):
            return text, True, cz_rc.get_birth_date(text)
        return text, True, None
    if not module.is_valid(text):
        return None, False, None
    # sk.rc has no get_birth_date; the Slovak number has the Czech structure
    return text, True, cz_rc.get_birth_date(text)


# A ten-digit birth number is its birth date (YYMMDD; 50 and 20 added to the month) and a
# mod-11 check digit, and stdnum's cz.rc (sk.rc is the same module) checks that much and no
# more: so the ten-digit numbers of CZ, SK and unstated rows are checked here, vectorised,
# and only the rest goes to stdnum (tests/test_birth_number_fast_path.py holds it to stdnum).
_PLAIN_BIRTH_NUMBER = r"^[0-9]{10}$"
_BIRTH_NUMBER_COUNTRIES = ("CZ", "SK")


def _ten_digit_birth_number(numbers: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(birth date, or null when there is no such day; check digit holds) of ten-digit
    birth numbers, as cz.rc.get_birth_date and cz.rc.validate read them."""

    def number(start: int, length: int) -> pl.Expr:  # null, not an error, off the shape
        return numbers.str.slice(start, length).cast(pl.Int64, strict=False)

    two = number(0, 2)
    year = 1900 + two + pl.when(two < 54).then(100).otherwise(0)  # 10 digits: from 1954
    month = number(2, 2) % 50 % 20
    day = number(4, 2)
    birth_date = pl.concat_str(
        year.cast(pl.String).str.zfill(4),
        month.cast(pl.String).str.zfill(2),
        day.cast(pl.String).str.zfill(2),
        separator="-",
    ).str.to_date("%Y-%m-%d", strict=False)
    return birth_date, number(0, 9) % 11 % 10 == number(9, 1)


def check_birth_number(values: pl.Series, countries: pl.Series) -> pl.DataFrame:
    """CZ/SK birth number (cz.rc / sk.rc; cz.rc when the country is null) with its birth date.

    Other countries' national ids are accepted compacted (valid, no birth date) because no
    check for them is configured; a valid Czech birth number still yields its date.
    """
    country = _country(countries)
    frame = pl.DataFrame({"value": compact(values), "country": country}).with_columns(
        (
            pl.col("value").str.contains(_PLAIN_BIRTH_NUMBER)
            & (pl.col("country").is_null() | pl.col("country").is_in(_BIRTH_NUMBER_COUNTRIES))
        ).alias("plain")
    )
    checked = map_distinct(
        {
            "value": frame.select(pl.when(~pl.col("plain")).then(pl.col("value"))).to_series(),
            "country": country,
        },
        _birth_number,
        {"national_id": pl.String, "valid": pl.Boolean, "birth_date": pl.Date},
    )
    birth_date, check = _ten_digit_birth_number(pl.col("value"))
    good = birth_date.is_not_null() & check
    plain = pl.col("plain")
    return pl.concat([frame.drop("country"), checked], how="horizontal").select(
        pl.when(plain)
        .then(pl.when(good).then("value"))
        .otherwise("national_id")
        .alias("national_id"),
        pl.when(plain).then(good).otherwise("valid").alias("valid"),
        pl.when(plain)
        .then(pl.when(good).then(birth_date))
        .otherwise("birth_date")
        .alias("birth_date"),
    )


def _iban(text: str) -> tuple[str | None, bool]:
    if len(text) > _MAX_ID_CHARS or not stdnum_iban.is_valid(text):
        return None, False
    return stdnum_iban.compact(text), True


# stdnum checks an IBAN of these countries by its length, digits and mod 97 alone (no national
# module: tests/test_iban_fast_path.py holds that), so the well-formed ones are checked here,
# vectorised, and only the rest goes to stdnum -- a million accounts carry a million IBANs.
_PLAIN_IBAN_COUNTRIES = ("CZ", "SK")
_PLAIN_IBAN = rf"^(?:{'|'.join(_PLAIN_IBAN_COUNTRIES)})[0-9]{{22}}$"
_COUNTRY_DIGITS = {cc: "".join(str(int(c, 36)) for c in cc) for cc in _PLAIN_IBAN_COUNTRIES}


def _mod97(ibans: pl.Expr) -> pl.Expr:
    """ISO 7064 mod 97-10 of a plain IBAN (BBAN, country as digits, check digits): 26 digits,
    taken as two 13-digit halves."""
    digits = pl.concat_str(
        ibans.str.slice(4),
        ibans.str.slice(0, 2).replace_strict(_COUNTRY_DIGITS, default=None),
        ibans.str.slice(2, 2),
    )
    high = digits.str.slice(0, 13).cast(pl.Int64, strict=False)
    low = digits.str.slice(13).cast(pl.Int64, strict=False)
    return ((high % 97) * (10**13 % 97) + low) % 97


def check_iban(values: pl.Series) -> pl.DataFrame:
    """IBAN, compacted and upper-cased, with its mod-97 and national format checked."""
    frame = pl.DataFrame({"value": compact(values)}).with_columns(
        pl.col("value").str.contains(_PLAIN_IBAN).alias("plain")
    )
    checked = map_distinct(
        {"value": frame.select(pl.when(~pl.col("plain")).then(pl.col("value"))).to_series()},
        _iban,
        {"iban": pl.String, "valid": pl.Boolean},
        memo=True,
    )
    good = _mod97(pl.col("value")) == 1
    return pl.concat([frame, checked], how="horizontal").select(
        pl.when(pl.col("plain"))
        .then(pl.when(good).then(pl.col("value")))
        .otherwise(pl.col("iban"))
        .alias("iban"),
        pl.when(pl.col("plain")).then(good).otherwise(pl.col("valid")).alias("valid"),
    )
