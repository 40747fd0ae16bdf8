"""Well-formed Czech and Slovak numbers typed without a phonenumbers call per value.

At a million customers most of the ~1.5M distinct phone values are `+420` / `+421` and nine
digits, or nine digits in a CZ / SK row; phonenumbers took about a minute of the landing
stage on them. For exactly these shapes the library's answer is a pattern match of the nine
digits against its own metadata (the national number is the nine digits: no national prefix
to strip, as the first digit is never 0; one region per calling code), so it is done here
as vectorised regular expressions built from phonenumbers' metadata at import -- nothing is
copied, a library update moves both paths. Every other value still goes to the library.
(tests/test_phone_fast_path.py holds the shortcut to phonenumbers over every prefix.)
"""

from __future__ import annotations

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

FAST_REGIONS = ("CZ", "SK")
# in phonenumbers' own order (_number_type_helper): a number of any of these types is valid
# and not a mobile, whatever the fixed-line and mobile patterns say
_SPECIAL_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)
NINE_DIGITS = r"[1-9][0-9]{8}"  # ASCII digits only: `\d` would take other scripts' digits


def _matching(national: pl.Expr, desc: phonenumbers.PhoneNumberDesc | None) -> pl.Expr:
    """phonenumbers' _is_number_matching_desc: a possible length, then the whole pattern."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    matched = national.str.contains(f"^(?:{desc.national_number_pattern})$")
    if desc.possible_length:
        matched = national.str.len_bytes().is_in(list(desc.possible_length)) & matched
    return matched


def _verdict(national: pl.Expr, region: str) -> tuple[pl.Expr, pl.Expr]:
    """(valid, is_mobile) of a national number of `region`, as phonenumbers.number_type
    decides them (UNKNOWN = invalid; MOBILE or FIXED_LINE_OR_MOBILE = mobile)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    general = _matching(national, metadata.general_desc)
    special = pl.any_horizontal(
        [_matching(national, getattr(metadata, kind)) for kind in _SPECIAL_TYPES]
    )
    fixed = _matching(national, metadata.fixed_line)
    mobile = _matching(national, metadata.mobile)
    if metadata.same_mobile_and_fixed_line_pattern:
        typed, is_mobile = fixed, fixed
    else:
        typed, is_mobile = fixed | mobile, mobile
    valid = general & (special | typed)
    return valid, valid & ~special & is_mobile


def _calling_code(region: str) -> int:
    code = PhoneMetadata.metadata_for_region(region).country_code
    if phonenumbers.region_codes_for_country_code(code) != (region,):
        raise ValueError(f"calling code {code} of {region} is shared: no fast path for it")
    return code


_CALLING_CODES = {region: _calling_code(region) for region in FAST_REGIONS}


def fast_phone(dialled: pl.Series, region: pl.Series) -> pl.DataFrame:
    """(known, phone, valid, is_mobile) per value: `known` where the value (stripped of
    separators, `00` made `+`) has a fast-path shape, and then exactly contacts._phone's
    answer; the other columns are null where `known` is false. `region` is the row's
    region, already upper-cased and defaulted. The patterns run once per distinct pair."""
    rows = pl.DataFrame({"dialled": dialled, "row_region": region})
    calling = pl.col("dialled").str.extract(rf"^\+([0-9]{{3}}){NINE_DIGITS}$", 1)
    by_code = {str(code): name for name, code in _CALLING_CODES.items()}
    shaped = (
        rows.unique()
        .with_columns(
            # +420 / +421 and nine digits in any row; nine digits alone in a CZ or SK row
            number_region=pl.when(calling.is_not_null())
            .then(calling.replace_strict(by_code, default=None))
            .when(
                pl.col("dialled").str.contains(rf"^{NINE_DIGITS}$")
                & pl.col("row_region").is_in(list(FAST_REGIONS))
            )
            .then(pl.col("row_region")),
            national=pl.col("dialled").str.extract(rf"({NINE_DIGITS})$", 1),
        )
        .drop_nulls("number_region")
    )
    verdicts = []
    for name, code in _CALLING_CODES.items():
        valid, is_mobile = _verdict(pl.col("national"), name)
        verdicts.append(
            shaped.filter(pl.col("number_region") == name).select(
                "dialled",
                "row_region",
                pl.lit(True).alias("known"),
                pl.when(valid).then(pl.lit(f"+{code}") + pl.col("national")).alias("phone"),
                valid.alias("valid"),
                pl.when(valid).then(is_mobile).alias("is_mobile"),
            )
        )
    return rows.join(
        pl.concat(verdicts),
        on=["dialled", "row_region"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).select(pl.col("known").fill_null(False), "phone", "valid", "is_mobile")
