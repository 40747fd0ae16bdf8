"""Contact validity as the contract defines it, evaluated once per distinct value."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email

from crm_pipelines.validate.contacts import plainly_valid_email
from crm_pipelines.validate.phone_fast_path import fast_phone

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def is_valid_email(value: str) -> bool:
    """email-validator accepts it without a DNS lookup, and it is already lower-cased."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return value == value.strip().lower()


def is_e164_mobile(value: str) -> bool:
    """phonenumbers says MOBILE (or FIXED_LINE_OR_MOBILE), and it is written in E.164."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) in MOBILE_TYPES
        and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value
    )


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "email": is_valid_email,
    "mobile": is_e164_mobile,
}


def validate_distinct(values: pl.Series, kind: str) -> pl.DataFrame:
    """(value, valid) for each distinct non-null value: the validator runs once per value
    (pure Python, ~15-20 us each), except where a vectorised shortcut gives its answer
    (_shortcut). Kept in-process on purpose: a
    spawned worker pool re-imports the caller's main module, which breaks scripts without a
    main guard."""
    validator = VALIDATORS[kind]
    distinct = values.drop_nulls().unique()
    known, answer = _shortcut(distinct, kind)
    return pl.DataFrame(
        {
            "value": distinct,
            "valid": [
                shortcut if is_known else validator(v)
                for v, is_known, shortcut in zip(
                    distinct.to_list(), known.to_list(), answer.to_list(), strict=True
                )
            ],
        },
        schema={"value": pl.String, "valid": pl.Boolean},
    )


def _shortcut(distinct: pl.Series, kind: str) -> tuple[pl.Series, pl.Series]:
    """(known, valid) per value where a vectorised check gives the library's answer: plain
    e-mail addresses (validate/contacts.py), `+420` / `+421` and nine digits
    (validate/phone_fast_path.py: in E.164 by its shape, so only MOBILE is asked)."""
    if kind == "email":
        plain = pl.select(plainly_valid_email(pl.lit(distinct))).to_series()
        return plain.fill_null(False), plain.fill_null(False)
    # no region: a number without its calling code is left to phonenumbers (parse(v, None))
    fast = fast_phone(distinct, pl.Series([None] * distinct.len(), dtype=pl.String))
    return fast["known"], fast["is_mobile"].fill_null(False)
