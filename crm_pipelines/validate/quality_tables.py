"""quality.rejected / quality.finding / quality.rule_result / quality.file_load frames."""

from __future__ import annotations

import polars as pl

from crm_pipelines.ingest.readers import FileRead
from crm_pipelines.validate.feed import FeedValidation
from crm_pipelines.validate.rules import rule_catalogue

QUALITY_ROW_SCHEMA = {
    "feed": pl.String,
    "source_system": pl.String,
    "source_id": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "rule_id": pl.String,
    "severity": pl.String,
    "message": pl.String,
    "column_name": pl.String,
}


def _severities() -> pl.DataFrame:
    return pl.DataFrame(
        [(r.id, r.severity) for r in rule_catalogue().values()],
        schema={"rule_id": pl.String, "severity": pl.String},
        orient="row",
    )


def quality_rows(results: dict[str, FeedValidation]) -> tuple[pl.DataFrame, pl.DataFrame]:
    frames = []
    for feed, result in results.items():
        frames.append(
            result.issues.join(
                result.winners.select("__row", "__ss", "__sid", "__file", "__line"),
                on="__row",
                how="left",
            ).select(
                pl.lit(feed).alias("feed"),
                pl.col("__ss").alias("source_system"),
                pl.col("__sid").alias("source_id"),
                pl.col("__file").cast(pl.String).alias("file"),
                pl.col("__line").alias("line"),
                "rule_id",
                pl.col("message"),
                pl.col("column").alias("column_name"),
            )
        )
    rows = (
        pl.concat(frames)
        .join(_severities(), on="rule_id", how="left")
        # a rule id missing from rules.yaml (the catalogue check forbids it) is kept as ERROR
        .with_columns(pl.col("severity").fill_null("ERROR"))
        .select(list(QUALITY_ROW_SCHEMA))
    )
    rows = rows.sort(["feed", "file", "line", "rule_id"])
    return rows.filter(pl.col("severity") == "ERROR"), rows.filter(pl.col("severity") == "WARNING")


def unreadable_file_rows(reads: list[FileRead]) -> pl.DataFrame:
    rows = [
        (
            r.feed,
            None,
            None,
            r.file,
            None,
            "FILE_UNREADABLE",
            "ERROR",
            f"file could not be read: {r.message}",
            None,
        )
        for r in reads
        if r.status == "UNREADABLE"
    ]
    return pl.DataFrame(rows, schema=QUALITY_ROW_SCHEMA, orient="row")


def file_load_table(reads: list[FileRead]) -> pl.DataFrame:
    return pl.DataFrame(
        [(r.feed, r.file, r.status, r.rows, r.message) for r in reads],
        schema={
            "feed": pl.String,
            "file": pl.String,
            "status": pl.String,
            "rows": pl.Int64,
            "message": pl.String,
        },
        orient="row",
    )


def rule_results(results: dict[str, FeedValidation], reads: list[FileRead]) -> pl.DataFrame:
    """checked/failed per (rule, entity) for every rule in the catalogue, zeros included."""
    rows = []
    for rule in rule_catalogue().values():
        for entity in rule.entities:
            if rule.id == "FILE_UNREADABLE":
                feed_reads = [r for r in reads if r.feed == entity]
                checked, failed = len(feed_reads), sum(r.status == "UNREADABLE" for r in feed_reads)
            else:
                result = results[entity]
                checked = result.checked.get(rule.id, 0)
                failed = int((result.issues["rule_id"] == rule.id).sum())
            rows.append((rule.id, entity, rule.severity, checked, failed, rule.description))
    return pl.DataFrame(
        rows,
        schema={
            "rule_id": pl.String,
            "entity": pl.String,
            "severity": pl.String,
            "checked": pl.Int64,
            "failed": pl.Int64,
            "description": pl.String,
        },
        orient="row",
    )
