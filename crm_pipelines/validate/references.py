"""Referential integrity between feeds: a reference must name an accepted record of the
same source system (a record that was rejected cannot be referred to). Which column names
which feed, and what a dangling reference costs, is the feed specs' `references:` and
`on_unknown:`; only the steward decisions' pair references are code (feeds.md)."""

from __future__ import annotations

import polars as pl

from crm_pipelines.ingest.specs import ColumnSpec, Reference
from crm_pipelines.validate.feed import FeedValidation
from crm_pipelines.validate.issues import RuleIssues, rule_issues, short_value
from crm_pipelines.validate.rules import rule_catalogue


def accepted_keys(result: FeedValidation) -> pl.DataFrame:
    """(source_system, source_id) of the rows with no ERROR finding."""
    errors = result.error_rows()
    return result.winners.filter(~pl.col("__row").is_in(errors.implode())).select(
        pl.col("__ss").alias("source_system"), pl.col("__sid").alias("source_id")
    )


def _known(result: FeedValidation, column: str, targets: pl.DataFrame) -> pl.Series:
    refs = result.winners.select("__row", "__ss", pl.col(column).str.strip_chars().alias("__ref"))
    hits = refs.join(
        targets.with_columns(pl.lit(True).alias("__hit")),
        left_on=["__ss", "__ref"],
        right_on=["source_system", "source_id"],
        how="left",
        maintain_order="left",
    )
    return hits["__hit"].fill_null(False)


def _named_feed(result: FeedValidation, reference: Reference) -> pl.Series:
    """The feed each row's reference names (null when its `by` code is unknown)."""
    w = result.winners
    if reference.by is None:
        return pl.repeat(reference.feeds["*"], w.height, dtype=pl.String, eager=True)
    return w[f"t_{reference.by}"].replace_strict(
        reference.feeds, default=None, return_dtype=pl.String
    )


def check_column_reference(
    result: FeedValidation, column: ColumnSpec, accepted: dict[str, pl.DataFrame]
) -> tuple[pl.DataFrame, RuleIssues]:
    """A reference must name an accepted record of the same source system in the feed the
    spec's `references:` says; the spec's `on_unknown` rule is broken otherwise. An ERROR rule
    rejects the row; a WARNING rule leaves the value out (the typed column is emptied).

    Returns the winning rows (with that column emptied where a WARNING rule says so) and the
    findings; `result` is left as it was."""
    reference = column.reference
    assert reference is not None
    w = result.winners
    named = _named_feed(result, reference)
    known = pl.Series([False] * w.height, dtype=pl.Boolean)
    for feed in sorted(reference.targets()):
        known = known | (
            (named == feed).fill_null(False) & _known(result, column.name, accepted[feed])
        )
    given = w[column.name].is_not_null() & named.is_not_null()
    failed = given & ~known
    soft = rule_catalogue()[reference.rule_id].severity == "WARNING"
    issues = (
        w.select("__row", column.name, named.alias("__named"))
        .filter(failed)
        .select(
            "__row",
            pl.format(
                "{} '{}' names no accepted {} of the same source system{}",
                pl.lit(column.name),
                short_value(pl.col(column.name)),
                pl.col("__named"),
                pl.lit("; left empty" if soft else ""),
            ).alias("message"),
            pl.lit(reference.rule_id).alias("rule_id"),
            pl.lit(column.name).alias("column"),
        )
    )
    found = RuleIssues(reference.rule_id, issues, int(given.sum()))
    if not soft:
        return w, found
    typed = f"t_{column.name}"
    emptied = w.with_columns(
        pl.when(failed).then(None).otherwise(pl.col(typed).str.strip_chars()).alias(typed)
    )
    return emptied, found


def check_decision_references(
    result: FeedValidation, accepted: dict[str, pl.DataFrame]
) -> tuple[pl.DataFrame, list[RuleIssues]]:
    """WARNING: a steward decision naming an unknown record is reported and ignored (the
    returned winning rows say which are usable in t___decision_ok); ERROR: one pairing a
    record with itself. `result` is left as it was."""
    w = result.winners
    entity = w["t_entity"].str.to_lowercase()
    known = pl.Series([True] * w.height, dtype=pl.Boolean)
    for side in ("left", "right"):
        side_known = pl.Series([False] * w.height, dtype=pl.Boolean)
        for name, targets in accepted.items():
            hits = (
                w.select(
                    pl.col(f"t_{side}_source_system").alias("source_system"),
                    pl.col(f"t_{side}_source_id").str.strip_chars().alias("source_id"),
                )
                .join(
                    targets.with_columns(pl.lit(True).alias("__hit")),
                    on=["source_system", "source_id"],
                    how="left",
                    maintain_order="left",
                )["__hit"]
                .fill_null(False)
            )
            side_known = side_known | ((entity == name).fill_null(False) & hits)
        known = known & side_known
    given = w["t_entity"].is_not_null()
    failed = given & ~known
    message = pl.select(
        pl.format(
            "decision names a {} record that does not exist or was rejected: {}/{} or {}/{}; ignored",
            entity,
            w["left_source_system"],
            w["left_source_id"],
            w["right_source_system"],
            w["right_source_id"],
        )
    ).to_series()
    unknown = rule_issues(
        w, failed, "UNKNOWN_DECISION_RECORD", "left_source_id", message, int(given.sum())
    )
    return w.with_columns(known.alias("t___decision_ok")), [unknown, _self_pairs(w)]


def _self_pairs(w: pl.DataFrame) -> RuleIssues:
    """ERROR: a decision pairing a record with itself says nothing (a record is always
    itself) and a NO_MATCH of that kind cannot be kept by any clustering."""
    same = (
        (w["t_left_source_system"] == w["t_right_source_system"])
        & (w["t_left_source_id"].str.strip_chars() == w["t_right_source_id"].str.strip_chars())
    ).fill_null(False)
    message = pl.select(
        pl.format(
            "decision pairs {}/{} with itself; rejected",
            w["t_left_source_system"],
            w["t_left_source_id"].str.slice(0, 80),
        )
    ).to_series()
    return rule_issues(
        w,
        same,
        "SELF_PAIRED_DECISION",
        "right_source_id",
        message,
        int(w["t_entity"].is_not_null().sum()),
    )
