"""Rules that look at a whole row rather than one column: required fields (also conditional
ones), address form and quality, plausible dates, defaults.

Each rule takes the winning rows and returns its findings (and, where it completes or clears
typed values, the new rows); none changes a frame or result it was given."""

from __future__ import annotations

import datetime as dt

import polars as pl

from crm_pipelines.ingest.specs import FeedSpec
from crm_pipelines.validate import values
from crm_pipelines.validate.issues import RuleIssues, rule_issues

STRUCTURED_PARTS = ("street", "house_number", "city")


def _required(w: pl.DataFrame, spec: FeedSpec) -> list[RuleIssues]:
    found = []
    for column in spec.columns.values():
        if column.required:
            applies, why, checked = None, "", w.height
        elif column.required_when:
            ((other, value),) = column.required_when.items()
            applies = (w[f"t_{other}"] == value).fill_null(False)
            why, checked = f" for {other} {value}", int(applies.sum())
        else:
            continue
        raw_empty = w[column.name].is_null()
        failed = raw_empty
        # free text can be left out (too long, control characters only): then it is missing too
        if column.type == "string":
            failed = raw_empty | w[f"t_{column.name}"].is_null()
        if applies is not None:
            failed = applies & failed
        found.append(
            rule_issues(
                w,
                failed,
                "REQUIRED_FIELD",
                column.name,
                _required_message(column.name, why),
                checked,
            )
        )
    for group in spec.required_any:
        failed = pl.select(pl.all_horizontal([w[c].is_null() for c in group])).to_series()
        found.append(
            rule_issues(
                w,
                failed,
                "REQUIRED_FIELD",
                group[0],
                f"a name is required: one of {', '.join(group)}",
                w.height,
            )
        )
    return found


def _required_message(column: str, why: str) -> pl.Expr:
    """Why a required value is missing: the file lacks the column, the value was left out
    while cleaning, or it is empty."""
    missing_from_file = pl.col("__missing").cast(pl.String).str.contains(rf"(^|,){column}(,|$)")
    return (
        pl.when(missing_from_file)
        .then(
            pl.format(
                "required column {} is missing from file {}",
                pl.lit(column),
                pl.col("__file").cast(pl.String),
            )
        )
        .when(pl.col(column).is_not_null())
        .then(
            pl.lit(
                f"{column} is required{why} but its value was left out (too long, or nothing but control characters)"
            )
        )
        .otherwise(pl.lit(f"{column} is required{why} but empty"))
    )


def _address(w: pl.DataFrame) -> tuple[pl.DataFrame, list[RuleIssues]]:
    """Fill structured parts from address_line and grade the address for postal use."""
    has_structured = pl.select(
        pl.any_horizontal([w[c].is_not_null() for c in STRUCTURED_PARTS])
    ).to_series()
    has_line = w["address_line"].is_not_null()
    failed = ~has_structured & ~has_line
    form_missing = rule_issues(
        w,
        failed,
        "ADDRESS_FORM_MISSING",
        "address_line",
        "address has neither street/house number/city nor address_line",
        w.height,
    )
    parsed = values.parse_address_line(w["address_line"])
    parsed_postcode = values.check_postcode(parsed["postcode"], w["t_country"])["postcode"]
    raw_postcode_given = w["postcode"].is_not_null()
    w = w.with_columns(
        pl.coalesce(w["t_street"], parsed["street"]).alias("t_street"),
        pl.coalesce(w["t_house_number"], parsed["house_number"]).alias("t_house_number"),
        pl.coalesce(w["t_city"], parsed["city"]).alias("t_city"),
        pl.when(raw_postcode_given)
        .then(w["t_postcode"])
        .otherwise(parsed_postcode)
        .alias("t_postcode"),
    )
    complete = (
        w["t_house_number"].is_not_null()
        & w["t_city"].is_not_null()
        & w["t_postcode"].is_not_null()
    )
    w = w.with_columns(
        pl.when(complete)
        .then(pl.lit("VALID"))
        .otherwise(pl.lit("INCOMPLETE"))
        .alias("t_quality_status")
    )
    missing = pl.concat_str(
        [
            pl.when(pl.col("t_house_number").is_null()).then(pl.lit("house number")),
            pl.when(pl.col("t_city").is_null()).then(pl.lit("city")),
            pl.when(pl.col("t_postcode").is_null()).then(pl.lit("valid postcode")),
        ],
        separator=", ",
        ignore_nulls=True,
    )
    message = pl.format("address lacks {}; kept as INCOMPLETE, not used for post", missing)
    incomplete = rule_issues(
        w, ~complete & ~failed, "ADDRESS_INCOMPLETE", "address_line", message, w.height
    )
    return w, [form_missing, incomplete]


def _plausible_dates(
    w: pl.DataFrame, spec: FeedSpec, as_of: dt.date
) -> tuple[pl.DataFrame, list[RuleIssues]]:
    """Implausible dates are findings and left out; then the spec's defaults fill the gaps."""
    found = []
    for column in spec.columns.values():
        if column.plausible == "birth":
            dates = w[f"t_{column.name}"]
            bad = ~values.plausible_birth_date(dates, as_of).fill_null(True) & dates.is_not_null()
            found.append(
                rule_issues(
                    w,
                    bad,
                    "IMPLAUSIBLE_DATE",
                    column.name,
                    f"{column.name} '{{value}}' is before 1900 or in the future; left out",
                    int(dates.is_not_null().sum()),
                )
            )
            w = w.with_columns(pl.when(bad).then(None).otherwise(dates).alias(f"t_{column.name}"))
        if column.not_before:
            end, start = w[f"t_{column.name}"], w[f"t_{column.not_before}"]
            bad = (end < start).fill_null(False)
            found.append(
                rule_issues(
                    w,
                    bad,
                    "IMPLAUSIBLE_DATE",
                    column.name,
                    f"{column.name} '{{value}}' is before {column.not_before}; the campaign never runs",
                    int((end.is_not_null() & start.is_not_null()).sum()),
                )
            )
            w = w.with_columns(pl.when(bad).then(None).otherwise(end).alias(f"t_{column.name}"))
        if column.default is not None:
            w = w.with_columns(pl.col(f"t_{column.name}").fill_null(column.default))
    return w, found


def apply_row_rules(
    winners: pl.DataFrame, spec: FeedSpec, as_of: dt.date
) -> tuple[pl.DataFrame, list[RuleIssues]]:
    """The winning rows with their typed values completed by the row rules, and what each
    rule found (in the order the rules ran)."""
    found = _required(winners, spec)
    if spec.feed == "address":
        winners, address_issues = _address(winners)
        found += address_issues
    winners, date_issues = _plausible_dates(winners, spec, as_of)
    return winners, found + date_issues
