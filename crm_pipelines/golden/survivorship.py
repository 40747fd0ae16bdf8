"""Survivorship: which source record gives each golden attribute (quality_rules/survivorship.yaml).

Every strategy becomes an integer score per (record, attribute); the frame is ordered by
recency inside each golden record, so "lowest score, then first row" is the rule's winner,
found for all attributes in one group_by (min of score << 32 | row). Null values never win.
Consent is not configurable: the most recent non-null statement wins, a withdrawal beating
a grant made at the same instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crm_pipelines.golden.identity import conform_frame
from crm_pipelines.paths import quality_rules
from crm_pipelines.staged import UTC_TS

STRATEGIES = ("most_recent", "source_priority", "most_complete", "valid_before_invalid")
CONSENT_ATTRIBUTES = ("consent_email", "consent_sms", "consent_post")
RULES_FILE = "survivorship.yaml"

# Tens of millions of rows at scale: the few distinct entity, attribute and source system
# names are categorical (published as text); the id and key columns share the staged buffers.
LINEAGE_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.Categorical(),
    "master_id": pl.String(),
    "attribute": pl.Categorical(),
    "source_system": pl.Categorical(),
    "source_id": pl.String(),
    "record_key": pl.String(),
    "updated_at": UTC_TS,
}

_ROW_BITS = 32
_NULL_SCORE = (1 << 31) - 1
_MAX_SCORE_SPAN = 1 << 30
_LENGTH_CAP = 1 << 16
ORDER_COLUMNS = ("updated_at", "record_key")


@dataclass(frozen=True)
class AttributeRule:
    attribute: str
    strategies: tuple[str, ...] = ("most_recent",)
    sources: tuple[str, ...] = ()
    validity_column: str | None = None
    valid_values: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()  # columns taken from the same winning record

    def __post_init__(self) -> None:
        unknown = [name for name in self.strategies if name not in STRATEGIES]
        if unknown:
            raise ValueError(f"{self.attribute}: unknown survivorship strategy {unknown}")
        if "source_priority" in self.strategies and not self.sources:
            raise ValueError(f"{self.attribute}: source_priority needs a 'sources' list")


@dataclass(frozen=True)
class SurvivorshipRules:
    entities: dict[str, dict[str, AttributeRule]] = field(default_factory=dict)

    def for_attributes(self, entity: str, attributes: Sequence[str]) -> list[AttributeRule]:
        """Rules for the attributes, the default (most recent non-null) where none is declared."""
        declared = self.entities.get(entity, {})
        companions = {name for rule in declared.values() for name in rule.companions}
        return [
            declared.get(name, AttributeRule(name)) for name in attributes if name not in companions
        ]


def _rule_from_yaml(attribute: str, spec: Any) -> AttributeRule:
    if isinstance(spec, str):
        spec = {"strategy": spec}
    strategy = spec.get("strategy", "most_recent")
    strategies = (strategy,) if isinstance(strategy, str) else tuple(strategy)
    return AttributeRule(
        attribute=attribute,
        strategies=strategies,
        sources=tuple(spec.get("sources", ())),
        validity_column=spec.get("validity_column"),
        valid_values=tuple(spec.get("valid_values", ())),
        companions=tuple(spec.get("with", ())),
    )


def load_rules(document: dict[str, Any] | None = None) -> SurvivorshipRules:
    """Parse the steward file (or an equivalent dict); consent attributes may not be declared."""
    document = quality_rules(RULES_FILE) if document is None else document
    entities: dict[str, dict[str, AttributeRule]] = {}
    for entity, attributes in (document.get("entities") or {}).items():
        for attribute, spec in (attributes or {}).items():
            if attribute in CONSENT_ATTRIBUTES:
                raise ValueError(f"{entity}.{attribute}: consent survivorship is fixed")
            entities.setdefault(entity, {})[attribute] = _rule_from_yaml(attribute, spec)
    return SurvivorshipRules(entities)


def _score(rule: AttributeRule) -> pl.Expr:
    """Lower is better; recency (the row order) breaks the remaining ties."""
    value = pl.col(rule.attribute)
    if rule.attribute in CONSENT_ATTRIBUTES:
        score = pl.col("__recency_block") * 2 + value.cast(pl.Int64)
        return pl.when(value.is_null()).then(_NULL_SCORE).otherwise(score).cast(pl.Int64)
    score: pl.Expr = pl.lit(0, pl.Int64)
    span = 1
    for strategy in rule.strategies:
        if strategy == "most_recent":
            break
        if strategy == "source_priority":
            base = len(rule.sources) + 1
            part = pl.col("source_system").replace_strict(
                {name: rank for rank, name in enumerate(rule.sources)},
                default=len(rule.sources),
                return_dtype=pl.Int64,
            )
        elif strategy == "most_complete":
            base = _LENGTH_CAP
            length = value.cast(pl.String).str.len_chars().cast(pl.Int64)
            part = _LENGTH_CAP - 1 - length.clip(0, _LENGTH_CAP - 1)
        else:  # valid_before_invalid
            base = 2
            part = (
                pl.lit(0, pl.Int64)
                if rule.validity_column is None
                else pl.col(rule.validity_column)
                .is_in(list(rule.valid_values))
                .not_()
                .fill_null(True)
                .cast(pl.Int64)
            )
        span *= base
        score = score * base + part
    if span >= _MAX_SCORE_SPAN:
        raise ValueError(f"{rule.attribute}: too many survivorship strategies combined")
    return pl.when(value.is_null()).then(_NULL_SCORE).otherwise(score).cast(pl.Int64)


def order_by_recency(records: pl.DataFrame, group: str) -> pl.DataFrame:
    """Most recent first inside each group (ties: smaller record_key), with a row number.

    Groups are sorted by an integer code (first appearance), not by their text."""
    first_row = pl.int_range(pl.len(), dtype=pl.UInt32).min().over(group).alias("__group")
    return (
        records.with_columns(first_row)
        .sort(
            ["__group", *ORDER_COLUMNS],
            descending=[False, True, False],
            nulls_last=True,
            maintain_order=False,
        )
        .drop("__group")
        .with_row_index("__row")
    )


def _lineage(
    ordered: pl.DataFrame,
    entity: str,
    masters: pl.Series,
    winners: dict[str, pl.Series],
) -> pl.DataFrame:
    """One row per (golden record, attribute with a value): gathered once from `ordered`."""
    if not winners:
        return pl.DataFrame(schema=LINEAGE_SCHEMA)
    picks = pl.concat(
        [
            pl.DataFrame(
                {"__master": pl.int_range(len(rows), dtype=pl.UInt32, eager=True), "__row": rows}
            )
            .with_columns(pl.lit(attribute).alias("attribute"))
            .filter(ordered[attribute].gather(rows).is_not_null())
            for attribute, rows in winners.items()
        ]
    )
    source = ordered.select("source_system", "source_id", "record_key", "updated_at")
    return conform_frame(
        pl.concat(
            [
                picks.select(
                    pl.lit(entity).alias("entity"),
                    masters.gather(picks["__master"]).alias("master_id"),
                    "attribute",
                ),
                source.gather(picks["__row"]),
            ],
            how="horizontal",
        ),
        LINEAGE_SCHEMA,
    )


def survive(
    records: pl.DataFrame,
    entity: str,
    attributes: Sequence[str],
    rules: SurvivorshipRules,
    group: str = "master_id",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One golden row per group with the surviving attributes, and their lineage.

    The golden frame also has source_count (records in the group) and updated_at (latest).
    """
    attribute_rules = rules.for_attributes(entity, attributes)
    ordered = order_by_recency(records, group)
    block_start = (pl.col(group) != pl.col(group).shift()) | (
        pl.col("updated_at") != pl.col("updated_at").shift()
    )
    ordered = ordered.with_columns(
        block_start.fill_null(True).cast(pl.Int64).cum_sum().alias("__recency_block")
    )
    row = pl.col("__row").cast(pl.Int64)
    # Scores are computed batch by batch (streaming), never as whole columns.
    best = (
        ordered.lazy()
        .select(
            group,
            "updated_at",
            row.alias("__first"),
            *[
                (_score(rule) * (1 << _ROW_BITS) + row).alias(f"__best_{rule.attribute}")
                for rule in attribute_rules
            ],
        )
        .group_by(group)
        .agg(
            pl.len().alias("source_count"),
            pl.col("updated_at").max(),
            pl.col("__first").min(),
            *[pl.col(f"__best_{rule.attribute}").min() for rule in attribute_rules],
        )
        .collect(engine="streaming")
    )
    # Golden rows in the order of the groups' first rows (as a maintain_order group_by).
    best = best.sort("__first").drop("__first")
    winners = {
        rule.attribute: (best[f"__best_{rule.attribute}"] % (1 << _ROW_BITS)).cast(pl.UInt32)
        for rule in attribute_rules
    }
    columns = [best[group], best["source_count"], best["updated_at"]]
    lineage_rows: dict[str, pl.Series] = {}
    for rule in attribute_rules:
        rows = winners[rule.attribute]
        for name in (rule.attribute, *rule.companions):
            columns.append(ordered[name][rows])
            lineage_rows[name] = rows
    golden = pl.DataFrame(columns)
    lineage = _lineage(ordered, entity, best[group], lineage_rows)
    return golden, lineage


def survive_latest_record(
    records: pl.DataFrame,
    entity: str,
    attributes: Sequence[str],
    group: str = "master_id",
    with_lineage: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The whole latest record wins (campaigns, accounts): no mixing of versions.

    Without lineage (accounts, whose xref row is their lineage) the lineage frame is empty."""
    ordered = order_by_recency(records, group)
    counts = ordered.group_by(group, maintain_order=True).agg(pl.len().alias("source_count"))
    latest = ordered.unique(group, keep="first", maintain_order=True)
    del ordered
    golden = latest.select(group, *attributes, "updated_at").join(counts, on=group, how="left")
    if not with_lineage:
        return golden, pl.DataFrame(schema=LINEAGE_SCHEMA)
    sources = ["source_system", "source_id", "record_key", "updated_at"]
    lineage = conform_frame(
        latest.select(
            pl.col(group).alias("master_id"),
            *sources,
            *[pl.col(name).is_not_null().alias(f"__has_{name}") for name in attributes],
        )
        .unpivot(index=["master_id", *sources], variable_name="attribute", value_name="__has")
        .filter(pl.col("__has"))
        .with_columns(
            pl.col("attribute").str.strip_prefix("__has_"), pl.lit(entity).alias("entity")
        )
        .select(list(LINEAGE_SCHEMA)),
        LINEAGE_SCHEMA,
    )
    return golden, lineage
