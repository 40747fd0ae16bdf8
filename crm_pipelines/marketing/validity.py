"""Contact validity as the contract defines it, evaluated once per distinct value."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email

from crm_pipelines.validate.contacts import plainly_valid_email

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
    (pure Python, ~15-20 us each), except for e-mail addresses of the plain shape
    email-validator accepts unchanged (validate/contacts.py). Kept in-process on purpose: a
    spawned worker pool re-imports the caller's main module, which breaks scripts without a
    main guard."""
    validator = VALIDATORS[kind]
    distinct = values.drop_nulls().unique()
    plain = (
        pl.select(plainly_valid_email(pl.lit(distinct))).to_series()
        if kind == "email"
        else pl.Series([False] * distinct.len(), dtype=pl.Boolean)
    )
    return pl.DataFrame(
        {
            "value": distinct,
            "valid": [
                True if known else validator(v)
                for v, known in zip(distinct.to_list(), plain.to_list(), strict=True)
            ],
        },
        schema={"value": pl.String, "valid": pl.Boolean},
    )
