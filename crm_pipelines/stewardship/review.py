"""The review queue a steward can decide on: both records' compared values side by side.

Built from what matching outputs (crm_pipelines.match is read, never changed): the review
pairs, the scored pairs' level_<field> codes and the comparisons' level names. Each pair
gets `fields` -- one entry per compared field with its level (same / similar / different /
missing, and the matcher's own level name as `detail`) and the left and right values as
the matcher saw them (an individual customer's birth date, e-mail and phone fall back to
its holder's person row, marked "(holder)") -- its probability as a rounded percentage and
a reason that names the third record of an ambiguous attachment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from crm_pipelines.match.comparisons import COMPARISONS
from crm_pipelines.match.holders import HOLDER_FIELDS, holder_details

PAIR = ["left_record_key", "right_record_key"]
# the matcher's level names -> the four a steward reads
COARSE_LEVEL = {
    "same": "same",
    "alike": "similar",
    "similar": "similar",
    "misspelt": "similar",
    "transposed": "similar",
    "one_off": "similar",
    "gender_mismatch": "different",
    "maiden_or_married": "different",
    "different": "different",
    "missing": "missing",
    "same_building": "same",  # home: the same building
    "same_area": "similar",  # home: another building in the same area
    "same_postcode": "same",  # place (leads): postcode and town
    "same_town": "similar",  # place: the town only
}
# comparison field -> the staged columns that show its value (joined with a space)
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "birth_date": ("birth_date",),
    "national_id": ("national_id",),
    "email": ("email",),
    "email_number": ("email",),
    "phone": ("phone",),
    "phone_kind": ("phone",),
    "party_type": ("party_type",),
    "registration_no": ("registration_no",),
    "vat_no": ("vat_no",),
    "org_name": ("organization_name",),
    "street": ("street",),
    "building": ("house_number",),
    "postcode": ("postcode",),
    "city": ("city",),
    "country": ("country",),
    "place": ("postcode", "city"),
}
FIELD_SCHEMA = pl.Struct(
    {
        "field": pl.String,
        "label": pl.String,
        "level": pl.String,
        "detail": pl.String,
        "left_value": pl.String,
        "right_value": pl.String,
    }
)


def with_levels(review: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """The review pairs with the level_<field> codes of their scored pair."""
    levels = [c for c in pairs.columns if c.startswith("level_")]
    if review.height == 0 or not levels:
        return review
    return review.join(pairs.select(*PAIR, *levels), on=PAIR, how="left")


def level_names(fields: list[str]) -> pl.DataFrame:
    """(field, code, detail, level, label) for every level of the compared fields."""
    rows = [
        {
            "field": f,
            "code": code,
            "detail": name,
            "level": COARSE_LEVEL.get(name, name),
            "label": COMPARISONS[f].label,
        }
        for f in fields
        if f in COMPARISONS
        for code, name in enumerate(COMPARISONS[f].levels)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "field": pl.String,
            "code": pl.Int64,
            "detail": pl.String,
            "level": pl.String,
            "label": pl.String,
        },
    )


def _scan(source: pl.DataFrame | Path) -> pl.LazyFrame:
    return pl.scan_parquet(source) if isinstance(source, Path) else source.lazy()


def _owned_addresses(
    addresses: pl.DataFrame | Path, owner_kind: str, keys: pl.Series
) -> pl.DataFrame:
    """(record_key of the owner, line): the address lines owned by the records `keys`."""
    return (
        _scan(addresses)
        .filter(pl.col("owner_kind") == owner_kind)
        .select(
            pl.concat_str("source_system", pl.lit("|"), "owner_source_id").alias("record_key"),
            pl.coalesce(
                pl.concat_str(
                    [pl.coalesce("street", "city"), "house_number", "city"],
                    separator=" ",
                    ignore_nulls=True,
                ),
                "address_line",
            ).alias("line"),
        )
        .filter(pl.col("record_key").is_in(keys.implode()))
        .collect()
    )


def _joined_lines(lines: pl.DataFrame, name: str) -> pl.DataFrame:
    return lines.group_by("record_key").agg(
        pl.col("line").drop_nulls().unique().sort().str.join(" | ").alias(name)
    )


def _person_extras(records: pl.DataFrame, addresses: pl.DataFrame | Path) -> pl.DataFrame:
    """A person's `home` (its own and its customer's addresses) and linked `customer`."""
    customer_key = pl.concat_str("source_system", pl.lit("|"), "customer_source_id")
    persons = records.select("record_key", customer_key.alias("customer_key"))
    own = _owned_addresses(addresses, "PERSON", persons["record_key"])
    of_customer = _owned_addresses(addresses, "CUSTOMER", persons["customer_key"].drop_nulls())
    via_customer = persons.join(
        of_customer.rename({"record_key": "customer_key"}), on="customer_key"
    ).select("record_key", "line")
    home = _joined_lines(pl.concat([own, via_customer]), "home")
    return persons.select(
        "record_key", pl.format("customer {}", "customer_key").alias("customer")
    ).join(home, on="record_key", how="left")


def record_values(
    entity: str,
    keys: pl.Series,
    staged: Mapping[str, pl.DataFrame | Path],
    lead_links: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """(record_key, field, value): the displayed value of every compared field."""
    frame = _scan(staged[entity])
    names = frame.collect_schema().names()
    records = frame.filter(pl.col("record_key").is_in(keys.implode())).collect()
    columns = {"record_key": records["record_key"]}
    for field, sources in FIELD_COLUMNS.items():
        present = [c for c in sources if c in names]
        if present:
            shown = pl.concat_str(
                [pl.col(c).cast(pl.String) for c in present], separator=" ", ignore_nulls=True
            )
            columns[field] = records.select(pl.when(shown != "").then(shown)).to_series()
    values = pl.DataFrame(columns)
    if entity == "customer":
        values = _with_holder_values(values, records, staged["person"])
        owned = _owned_addresses(staged["address"], "CUSTOMER", keys)
        values = values.join(_joined_lines(owned, "address"), on="record_key", how="left")
    if entity == "person":
        values = values.join(
            _person_extras(records, staged["address"]), on="record_key", how="left"
        )
    if entity == "lead" and lead_links is not None:
        values = values.join(
            lead_links.select(
                pl.col("lead_record_key").alias("record_key"),
                pl.format("linked to customer {}", "customer_record_key").alias("customer"),
            ),
            on="record_key",
            how="left",
        )
    fields = [c for c in values.columns if c != "record_key"]
    return values.unpivot(index="record_key", on=fields, variable_name="field", value_name="value")


def _with_holder_values(
    values: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame | Path
) -> pl.DataFrame:
    """An individual customer's missing birth date / e-mail / phone from its holder row,
    as matching compared them (match.holders), marked "(holder)"."""
    holders = holder_details(persons)
    aligned = records.select("source_system", "source_id", "party_type").join(
        holders, on=["source_system", "source_id"], how="left", maintain_order="left"
    )
    individual = aligned["party_type"] == "INDIVIDUAL"
    return values.with_columns(
        pl.when(pl.col(f).is_null() & pl.lit(individual))
        .then(pl.format("{} (holder)", pl.lit(aligned[f].cast(pl.String))))
        .otherwise(pl.col(f))
        .alias(f)
        for f in HOLDER_FIELDS
        if f in values.columns
    )


def compared_fields(
    entity: str,
    review: pl.DataFrame,
    staged: Mapping[str, pl.DataFrame | Path],
    lead_links: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """(left_record_key, right_record_key, fields): the list of compared fields per pair."""
    level_cols = [c for c in review.columns if c.startswith("level_")]
    if review.height == 0 or not level_cols:
        return review.select(PAIR).with_columns(pl.lit([], pl.List(FIELD_SCHEMA)).alias("fields"))
    order = {c.removeprefix("level_"): i for i, c in enumerate(level_cols)}
    long = (
        review.select(*PAIR, *level_cols)
        .unpivot(index=PAIR, on=level_cols, variable_name="field", value_name="code")
        .with_columns(pl.col("field").str.strip_prefix("level_"), pl.col("code").cast(pl.Int64))
        .join(level_names(list(order)), on=["field", "code"], how="left")
    )
    keys = pl.concat([review["left_record_key"], review["right_record_key"]]).unique()
    values = record_values(entity, keys, staged, lead_links)
    for side in ("left", "right"):
        long = long.join(
            values.rename({"record_key": f"{side}_record_key", "value": f"{side}_value"}),
            on=[f"{side}_record_key", "field"],
            how="left",
        )
    return (
        long.with_columns(pl.col("field").replace_strict(order).alias("__order"))
        .sort(*PAIR, "__order")
        .group_by(PAIR, maintain_order=True)
        .agg(
            pl.struct("field", "label", "level", "detail", "left_value", "right_value")
            .cast(FIELD_SCHEMA)
            .alias("fields")
        )
    )


def probability_pct(score: pl.Expr) -> pl.Expr:
    """The match probability in percent, one decimal; never 100 for an uncertain pair."""
    pct = (score * 100).round(1)
    return pl.when((score < 1) & (pct >= 100)).then(99.9).otherwise(pct)


def enrich_review(
    entity: str,
    review: pl.DataFrame,
    staged: Mapping[str, pl.DataFrame | Path],
    lead_links: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One entity's review pairs (with level_<field> columns) as quality.match_review rows."""
    fields = compared_fields(entity, review, staged, lead_links)
    enriched = review.with_columns(probability_pct(pl.col("score")).alias("probability_pct")).join(
        fields, on=PAIR, how="left", maintain_order="left"
    )
    return enriched.drop([c for c in enriched.columns if c.startswith("level_")])
