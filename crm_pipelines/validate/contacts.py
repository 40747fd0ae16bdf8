"""E-mail and phone validators: contacts are compared and used in their canonical form."""

from __future__ import annotations

import logging

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email

from crm_pipelines.validate.parsing import clean_text, map_distinct

logger = logging.getLogger(__name__)

DEFAULT_PHONE_REGION = "CZ"
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_KNOWN_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
_MAX_PHONE_CHARS = 64
# what a spreadsheet reads as the start of a formula (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _email(text: str) -> tuple[str | None, bool]:
    if text.startswith(FORMULA_START):  # `=1+2@seznam.cz` is a formula in a spreadsheet
        return None, False
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None, False
    return result.normalized.lower(), True


def check_email(values: pl.Series) -> pl.DataFrame:
    """Lower-cased whole address, accepted by email-validator without a DNS lookup.

    feeds.md compares addresses lower-cased as a whole, so the local part is lower-cased
    too (after email-validator's Unicode NFC normalisation); ``email`` is null when invalid.
    """
    # Case does not change validity, so lower-casing first merges case variants into one value.
    return map_distinct(
        {"value": clean_text(values).str.to_lowercase()},
        _email,
        {"email": pl.String, "valid": pl.Boolean},
        memo=True,
    )


def _phone(text: str, region: str) -> tuple[str | None, bool, bool | None]:
    if len(text) > _MAX_PHONE_CHARS:
        return None, False, None
    dialled = "+" + text[2:].lstrip() if text.startswith("00") else text
    try:
        number = phonenumbers.parse(dialled, region)
    except phonenumbers.NumberParseException:
        return None, False, None
    # number_type is UNKNOWN exactly when is_valid_number is False (both match the number
    # against its region's patterns), so one call answers both questions at half the cost.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None, False, None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, True, kind in _MOBILE_TYPES


def check_phone(values: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """E.164 phone and whether it is a mobile, read in the row's region when not international.

    A null or unknown region means CZ (feeds.md). "00" is the international prefix whatever
    the region. ``phone`` and ``is_mobile`` are null when the number is invalid.
    """
    region = clean_text(regions).str.to_uppercase()
    region = pl.select(
        pl.when(region.is_in(list(_KNOWN_REGIONS)))
        .then(region)
        .otherwise(pl.lit(DEFAULT_PHONE_REGION))
        .alias("region")
    ).to_series()
    # Separators mean nothing to phonenumbers: dropping them first merges format variants.
    dialled = clean_text(values).str.replace_all(r"[\s().\-/]", "").str.replace(r"^00", "+")
    return map_distinct(
        {"value": dialled, "region": region},
        _phone,
        {"phone": pl.String, "valid": pl.Boolean, "is_mobile": pl.Boolean},
        memo=True,
    )
