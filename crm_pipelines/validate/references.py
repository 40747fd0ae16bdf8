"""Referential integrity between feeds: a reference must name an accepted record of the
same source system (a record that was rejected cannot be referred to)."""

from __future__ import annotations

import polars as pl

from crm_pipelines.validate.engine import FeedValidation, issues_from


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


def check_reference(
    result: FeedValidation, column: str, targets: pl.DataFrame, target_name: str
) -> None:
    """ERROR: the referenced record does not exist or was rejected."""
    w = result.winners
    given = w[column].is_not_null()
    failed = given & ~_known(result, column, targets)
    result.add(
        issues_from(
            w,
            failed,
            "MISSING_REFERENCE",
            column,
            f"{column} '{{value}}' names no accepted {target_name} of the same source system",
        ),
        "MISSING_REFERENCE",
        int(given.sum()),
    )


def check_owner_reference(result: FeedValidation, owners: dict[str, pl.DataFrame]) -> None:
    """Addresses: owner_source_id must name an accepted record of the feed owner_kind names."""
    w = result.winners
    known = pl.Series([False] * w.height, dtype=pl.Boolean)
    for kind, targets in owners.items():
        known = known | (
            (w["t_owner_kind"] == kind).fill_null(False)
            & _known(result, "owner_source_id", targets)
        )
    given = w["owner_source_id"].is_not_null() & w["t_owner_kind"].is_not_null()
    failed = given & ~known
    message = pl.select(
        pl.format(
            "owner_source_id '{}' names no accepted {} of the same source system",
            w["owner_source_id"].str.slice(0, 80),
            w["t_owner_kind"].str.to_lowercase(),
        )
    ).to_series()
    result.add(
        issues_from(w, failed, "MISSING_REFERENCE", "owner_source_id", message),
        "MISSING_REFERENCE",
        int(given.sum()),
    )


def check_soft_reference(
    result: FeedValidation, column: str, targets: pl.DataFrame, rule_id: str, target_name: str
) -> None:
    """WARNING: an unknown optional reference is left empty."""
    w = result.winners
    given = w[column].is_not_null()
    failed = given & ~_known(result, column, targets)
    result.add(
        issues_from(
            w,
            failed,
            rule_id,
            column,
            f"{column} '{{value}}' names no accepted {target_name} of the same source system; left empty",
        ),
        rule_id,
        int(given.sum()),
    )
    result.winners = w.with_columns(
        pl.when(failed).then(None).otherwise(pl.col(column).str.strip_chars()).alias(f"t_{column}")
    )


def check_decision_references(result: FeedValidation, accepted: dict[str, pl.DataFrame]) -> None:
    """WARNING: a steward decision naming an unknown record is reported and ignored."""
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
    result.add(
        issues_from(w, failed, "UNKNOWN_DECISION_RECORD", "left_source_id", message),
        "UNKNOWN_DECISION_RECORD",
        int(given.sum()),
    )
    result.winners = w.with_columns(known.alias("t___decision_ok"))
