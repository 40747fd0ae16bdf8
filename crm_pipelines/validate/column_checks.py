"""Column checks: one spec type -> typed values plus the rows that fail its rule.

Each check returns a ColumnOutcome; validate/feed.py turns failures into quality.rejected (ERROR)
or quality.finding (WARNING) rows. Value-level work happens in crm_pipelines.validate.values,
once per distinct value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from crm_pipelines.ingest.specs import ColumnSpec
from crm_pipelines.paths import quality_rules
from crm_pipelines.validate import values
from crm_pipelines.validate.codes import canonical_codes
from crm_pipelines.validate.parsing import (
    CONTROL_CHARACTERS,
    clean_text,
    without_control_characters,
)


@dataclass
class ColumnOutcome:
    column: str
    typed: pl.Series  # null where the value is invalid
    failed: pl.Series  # Boolean: the rule failed on this row
    rule_id: str
    message: str  # "{value}" is replaced by the (shortened) raw value
    messages: pl.Series | None = None  # per-row message, when one template does not fit
    extra: dict[str, pl.Series] = field(default_factory=dict)  # more typed columns
    also: list[tuple[str, pl.Series, str]] = field(default_factory=list)  # (rule, failed, message)


@dataclass
class RowContext:
    """What a check may need besides the column itself."""

    frame: pl.DataFrame  # the feed's winning rows, raw text columns
    source_system: pl.Series  # canonical (or raw when unknown)
    country: pl.Series  # the record's country (person: its customer's), may be null
    as_of: dt.date
    entity: str


def _bad(valid: pl.Series) -> pl.Series:
    return valid.eq(False).fill_null(False)


def check_code(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    code = canonical_codes(raw, ctx.source_system, spec.code_table or spec.name)
    failed = raw.is_not_null() & code.is_null()
    if spec.required:
        return ColumnOutcome(
            spec.name,
            code,
            failed,
            "UNKNOWN_CODE",
            f"{spec.name} '{{value}}' is not a code of table {spec.code_table} (nor a mapped alias)",
        )
    return ColumnOutcome(
        spec.name,
        code,
        failed,
        "UNKNOWN_OPTIONAL_CODE",
        f"{spec.name} '{{value}}' is not a code of table {spec.code_table}; left out",
    )


def check_code_list(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    items = (
        pl.DataFrame({"raw": raw})
        .with_row_index("__i")
        .with_columns(pl.col("raw").str.split("|").alias("item"))
        .explode("item")
        .with_columns(pl.col("item").str.strip_chars())
        .filter(pl.col("item").str.len_chars() > 0)
    )
    if spec.code_table == "country":
        canonical = values.check_country(items["item"])["country"]
    else:
        canonical = canonical_codes(items["item"], None, spec.code_table or spec.name)
    items = items.with_columns(canonical.alias("code"))
    per_row = items.group_by("__i").agg(
        pl.col("code").drop_nulls().unique(maintain_order=True).alias("codes"),
        (pl.col("code").is_null().any()).alias("bad"),
    )
    joined = (
        pl.DataFrame({"__i": pl.arange(0, len(raw), eager=True).cast(pl.UInt32)})
        .join(per_row, on="__i", how="left", maintain_order="left")
        .with_columns(pl.col("codes").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )
    return ColumnOutcome(
        spec.name,
        joined["codes"],
        joined["bad"].fill_null(False),
        "UNKNOWN_OPTIONAL_CODE",
        f"{spec.name} '{{value}}' holds codes unknown to table {spec.code_table}; they are left out",
    )


def _parsed(
    parser: Callable[[pl.Series], pl.DataFrame], rule: str, message: str
) -> Callable[[ColumnSpec, pl.Series, RowContext], ColumnOutcome]:
    def check(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
        parsed = parser(raw)
        return ColumnOutcome(
            spec.name,
            parsed["value"],
            _bad(parsed["valid"]),
            rule,
            message.format(column=spec.name),
        )

    return check


def check_timestamp(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    parsed = values.parse_timestamp(raw)
    return ColumnOutcome(
        spec.name,
        parsed["value"],
        _bad(parsed["valid"]),
        "INVALID_TIMESTAMP",
        f"{spec.name} '{{value}}' is not an ISO 8601 timestamp",
    )


def check_date(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    parsed = values.parse_date(raw)
    rule = "INVALID_REQUIRED_DATE" if spec.required else "UNPARSEABLE_VALUE"
    return ColumnOutcome(
        spec.name,
        parsed["value"],
        _bad(parsed["valid"]),
        rule,
        f"{spec.name} '{{value}}' is not a date (YYYY-MM-DD)",
    )


def _with_country(
    checker: Callable[[pl.Series, pl.Series], pl.DataFrame], out: str, rule: str, what: str
) -> Callable[[ColumnSpec, pl.Series, RowContext], ColumnOutcome]:
    def check(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
        result = checker(raw, ctx.country)
        return ColumnOutcome(
            spec.name,
            result[out],
            _bad(result["valid"]),
            rule,
            f"{spec.name} '{{value}}' is not a valid {what}; left out",
        )

    return check


def _plain(
    checker: Callable[[pl.Series], pl.DataFrame], out: str, rule: str, what: str
) -> Callable[[ColumnSpec, pl.Series, RowContext], ColumnOutcome]:
    def check(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
        result = checker(raw)
        verb = "" if rule in ("INVALID_COUNTRY", "INVALID_CURRENCY") else "; left out"
        return ColumnOutcome(
            spec.name,
            result[out],
            _bad(result["valid"]),
            rule,
            f"{spec.name} '{{value}}' is not a valid {what}{verb}",
        )

    return check


def check_string(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    """Free text is data as it came, but control characters are never published (a line
    break or tab becomes a space, the rest is removed: TEXT_CONTROL_CHARACTERS) and text
    longer than the spec's max_length is left out (TEXT_TOO_LONG)."""
    controls = raw.str.contains(CONTROL_CHARACTERS).fill_null(False)
    # most columns hold no control character at all: then the text is not copied
    cleaned, left_out = raw, (raw.str.len_chars() > spec.max_length).fill_null(False)
    too_long = left_out
    if controls.any():
        cleaned = without_control_characters(raw)
        too_long = (cleaned.str.len_chars() > spec.max_length).fill_null(False)
        left_out = too_long | cleaned.str.contains(r"^\s*$").fill_null(False)
    typed = (
        pl.select(pl.when(left_out).then(None).otherwise(cleaned).alias(spec.name)).to_series()
        if left_out.any()
        else cleaned
    )
    return ColumnOutcome(
        spec.name,
        typed,
        too_long,
        "TEXT_TOO_LONG",
        f"{spec.name} '{{value}}' is longer than max_length {spec.max_length}; left out",
        also=[
            (
                "TEXT_CONTROL_CHARACTERS",
                controls,
                f"{spec.name} '{{value}}' held control characters; they were removed",
            )
        ],
    )


def check_chars(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    result = values.check_chars(raw, ctx.entity, quality_rules("characteristics.yaml"))
    problems = result["problems"]
    return ColumnOutcome(
        spec.name, result["chars"], problems.is_not_null(), "INVALID_CHARS", "", messages=problems
    )


def check_phone(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    result = values.check_phone(raw, ctx.country)
    return ColumnOutcome(
        spec.name,
        result["phone"],
        _bad(result["valid"]),
        "INVALID_PHONE",
        f"{spec.name} '{{value}}' is not a valid phone number; left out",
        extra={"phone_is_mobile": result["is_mobile"]},
    )


def check_national_id(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    result = values.check_birth_number(raw, ctx.country)
    return ColumnOutcome(
        spec.name,
        result["national_id"],
        _bad(result["valid"]),
        "INVALID_NATIONAL_ID",
        f"{spec.name} '{{value}}' is not a valid birth number; left out",
    )


CHECKS: dict[str, Callable[[ColumnSpec, pl.Series, RowContext], ColumnOutcome]] = {
    "string": check_string,
    "code": check_code,
    "code_list": check_code_list,
    "timestamp": check_timestamp,
    "timestamp_optional": _parsed(
        values.parse_timestamp,
        "UNPARSEABLE_VALUE",
        "{column} '{{value}}' is not a timestamp; left out",
    ),
    "date": check_date,
    "boolean": _parsed(
        values.parse_boolean, "UNPARSEABLE_VALUE", "{column} '{{value}}' is not a boolean; left out"
    ),
    "decimal": _parsed(
        values.parse_decimal, "UNPARSEABLE_VALUE", "{column} '{{value}}' is not a decimal; left out"
    ),
    "float": _parsed(
        values.parse_decimal, "UNPARSEABLE_VALUE", "{column} '{{value}}' is not a number; left out"
    ),
    "email": _plain(values.check_email, "email", "INVALID_EMAIL", "e-mail address"),
    "phone": check_phone,
    "country": _plain(
        values.check_country, "country", "INVALID_COUNTRY", "ISO 3166-1 country code"
    ),
    "currency": _plain(values.check_currency, "currency", "INVALID_CURRENCY", "ISO 4217 currency"),
    "registration_no": _with_country(
        values.check_registration_no, "registration_no", "INVALID_REGISTRATION_NO", "company id"
    ),
    "vat": _plain(values.check_vat, "vat_no", "INVALID_VAT", "VAT number"),
    "national_id": check_national_id,
    "iban": _plain(values.check_iban, "iban", "INVALID_IBAN", "IBAN"),
    "postcode": _with_country(
        values.check_postcode, "postcode", "INVALID_POSTCODE", "postcode for the country"
    ),
    "chars": check_chars,
}


def run_column_check(spec: ColumnSpec, raw: pl.Series, ctx: RowContext) -> ColumnOutcome:
    return CHECKS[spec.type](spec, clean_text(raw) if spec.type != "string" else raw, ctx)
