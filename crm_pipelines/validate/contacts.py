"""E-mail and phone validators: contacts are compared and used in their canonical form."""

from __future__ import annotations

import logging

import phonenumbers
import polars as pl
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from crm_pipelines.validate.parsing import clean_text, map_distinct
from crm_pipelines.validate.phone_fast_path import fast_phone

logger = logging.getLogger(__name__)

DEFAULT_PHONE_REGION = "CZ"
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_KNOWN_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
_MAX_PHONE_CHARS = 64
# what a spreadsheet reads as the start of a formula (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# An address of this plain shape is one email-validator accepts as it is (ASCII letters and
# digits, single `.`/`_`/`-` separators, no Punycode, a letter TLD), so it needs no Python
# call: at a million customers most of the ~2M distinct addresses are this shape.
# (tests/test_email_fast_path.py checks the claim against email-validator itself.)
_PLAIN_LOCAL = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
_PLAIN_LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)*"
PLAIN_EMAIL = rf"^{_PLAIN_LOCAL}@(?:{_PLAIN_LABEL}\.)+[a-z]{{2,63}}$"
_SPECIAL_USE = "|".join(SPECIAL_USE_DOMAIN_NAMES)


def plainly_valid_email(addresses: pl.Expr) -> pl.Expr:
    """True for a lower-case address email-validator accepts unchanged (null stays null);
    False means "ask email-validator", not "invalid"."""
    local = addresses.str.extract(r"^([^@]*)@")
    return (
        addresses.str.contains(PLAIN_EMAIL)
        & (addresses.str.len_bytes() <= 254)
        & (local.str.len_bytes() <= 64)
        & ~addresses.str.contains(r"[^.@]{64}")  # a DNS label is at most 63 characters
        & ~addresses.str.contains(rf"[@.](?:{_SPECIAL_USE})$")
    )


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
    lowered = clean_text(values).str.to_lowercase()
    plain = pl.select(plainly_valid_email(pl.lit(lowered))).to_series()
    checked = map_distinct(
        {"value": pl.select(pl.when(~plain).then(lowered)).to_series()},
        _email,
        {"email": pl.String, "valid": pl.Boolean},
        memo=True,
    )
    return pl.select(
        pl.when(plain).then(lowered).otherwise(checked["email"]).alias("email"),
        pl.when(plain).then(True).otherwise(checked["valid"]).alias("valid"),
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
    # well-formed CZ / SK numbers are typed vectorised, only the rest by phonenumbers
    fast = fast_phone(dialled, region)
    rest = map_distinct(
        {"value": pl.select(pl.when(~fast["known"]).then(dialled)).to_series(), "region": region},
        _phone,
        {"phone": pl.String, "valid": pl.Boolean, "is_mobile": pl.Boolean},
        memo=True,
    )
    return pl.select(
        pl.when(fast["known"]).then(fast[name]).otherwise(rest[name]).alias(name)
        for name in rest.columns
    )
