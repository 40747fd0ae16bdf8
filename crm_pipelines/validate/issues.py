"""What a validation rule finds: issue rows (row, rule id, column, message) and how many rows
the rule looked at. Every rule module builds its findings with these; none needs the feed
driver (validate/feed.py) to do so."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crm_pipelines.validate.parsing import CONTROL_CHARACTERS

ISSUE_SCHEMA = {
    "__row": pl.UInt32,
    "rule_id": pl.String,
    "column": pl.String,
    "message": pl.String,
}
MAX_VALUE_IN_MESSAGE = 80


@dataclass(frozen=True)
class RuleIssues:
    """One rule's findings on one feed: issue rows (ISSUE_SCHEMA columns) and the number of
    rows the rule checked (quality.rule_result's denominator)."""

    rule_id: str
    issues: pl.DataFrame
    checked: int


def short_value(value: pl.Expr) -> pl.Expr:
    """A raw value as quoted in a message: at most 80 characters, control characters as ?."""
    return (
        pl.when(value.str.len_chars() > MAX_VALUE_IN_MESSAGE)
        .then(value.str.slice(0, MAX_VALUE_IN_MESSAGE) + pl.lit("…"))
        .otherwise(value)
        .str.replace_all(CONTROL_CHARACTERS, "?")
    )


def issues_from(
    frame: pl.DataFrame,
    failed: pl.Series,
    rule_id: str,
    column: str,
    message: str | pl.Series | pl.Expr,
) -> pl.DataFrame:
    """Issue rows for the failed rows; `{value}` in the message is the row's raw value.

    A message expression is evaluated on the failed rows alone (a rule over millions of rows
    mostly fails none)."""
    mask = failed.fill_null(False)
    if isinstance(message, pl.Expr):
        rows = frame.filter(mask).select(pl.col("__row"), message.alias("message"))
    elif isinstance(message, pl.Series):
        text = pl.lit(message.filter(mask)) if mask.any() else pl.lit(None, dtype=pl.String)
        rows = frame.filter(mask).select(pl.col("__row"), text.alias("message"))
    elif "{value}" in message:
        head, tail = message.split("{value}", 1)
        value = short_value(pl.col(column).fill_null("")) if column in frame.columns else pl.lit("")
        rows = frame.filter(mask).select(
            pl.col("__row"), pl.concat_str([pl.lit(head), value, pl.lit(tail)]).alias("message")
        )
    else:
        rows = frame.filter(mask).select(pl.col("__row"), pl.lit(message).alias("message"))
    return rows.with_columns(pl.lit(rule_id).alias("rule_id"), pl.lit(column).alias("column"))


def rule_issues(
    frame: pl.DataFrame,
    failed: pl.Series,
    rule_id: str,
    column: str,
    message: str | pl.Series | pl.Expr,
    checked: int,
) -> RuleIssues:
    """issues_from, with the number of rows the rule checked."""
    return RuleIssues(rule_id, issues_from(frame, failed, rule_id, column, message), checked)
