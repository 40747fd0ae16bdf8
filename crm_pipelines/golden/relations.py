"""Relations between golden records, resolved through each source record's golden id.

Feeds reference other records by source_id within the same source system, so a reference
becomes the record key "<source_system>|<source_id>" and then the referenced golden id.
"""

from __future__ import annotations

import logging

import polars as pl

log = logging.getLogger(__name__)

ROLE_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "customer_id": pl.String(),
    "role_type": pl.String(),
}
ADDRESS_ROLE_SCHEMA: dict[str, pl.DataType] = {
    "address_id": pl.String(),
    "owner_kind": pl.String(),
    "owner_id": pl.String(),
    "role_type": pl.String(),
}
OWNER_KINDS = {"CUSTOMER": "customer", "ACCOUNT": "account", "PERSON": "person", "LEAD": "lead"}


def reference_key(source_id_column: str) -> pl.Expr:
    return pl.concat_str(pl.col("source_system"), pl.lit("|"), pl.col(source_id_column))


def resolve(
    frame: pl.DataFrame, source_id_column: str, assignment: pl.DataFrame, alias: str
) -> pl.DataFrame:
    """Add `alias`: the golden id of the record `source_id_column` names (null if none)."""
    lookup = assignment.select(
        pl.col("record_key").alias("__ref_key"), pl.col("master_id").alias(alias)
    )
    return (
        frame.with_columns(reference_key(source_id_column).alias("__ref_key"))
        .join(lookup, on="__ref_key", how="left")
        .drop("__ref_key")
    )


def holder_customer_source_id() -> pl.Expr:
    """A holder record names its customer in its record key ("<system>|customer:<id>")."""
    return pl.col("record_key").str.replace(r"^[^|]*\|customer:", "")


def person_roles(
    persons: pl.DataFrame, person_ids: pl.DataFrame, customer_ids: pl.DataFrame
) -> pl.DataFrame:
    """Distinct (person, customer, role) from every person record naming an accepted customer."""
    is_holder = pl.col("origin") == "customer_holder"
    records = persons.select(
        "record_key",
        "source_system",
        pl.when(is_holder)
        .then(pl.coalesce("customer_source_id", holder_customer_source_id()))
        .otherwise(pl.col("customer_source_id"))
        .alias("customer_source_id"),
        pl.when(is_holder).then(pl.lit("OWNER")).otherwise(pl.col("role_type")).alias("role_type"),
    ).filter(pl.col("customer_source_id").is_not_null())
    records = resolve(records, "customer_source_id", customer_ids, "customer_id").join(
        person_ids.select("record_key", pl.col("master_id").alias("person_id")),
        on="record_key",
        how="left",
    )
    unresolved = records.filter(pl.col("customer_id").is_null()).height
    if unresolved:
        log.warning("%d person records name a customer that was not accepted", unresolved)
    return (
        records.drop_nulls(["customer_id", "person_id", "role_type"])
        .select(list(ROLE_SCHEMA))
        .unique()
        .sort(list(ROLE_SCHEMA))
    )


def address_roles(
    addresses: pl.DataFrame, address_ids: pl.DataFrame, owner_ids: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """Distinct (address, owner kind, owner golden id, role) over all address records.

    Resolved one owner kind at a time, so no lookup of every owner record is built."""
    records = addresses.select(
        "record_key",
        "owner_kind",
        "role_type",
        reference_key("owner_source_id").alias("__ref_key"),
    )
    if address_ids.height == records.height and address_ids["record_key"].equals(
        records["record_key"]
    ):
        records = records.with_columns(address_ids["master_id"].alias("address_id"))
    else:
        records = records.join(
            address_ids.select("record_key", pl.col("master_id").alias("address_id")),
            on="record_key",
            how="left",
        )
    records = records.drop("record_key")
    parts = [
        records.filter(pl.col("owner_kind") == kind).join(
            owner_ids[entity].select(
                pl.col("record_key").alias("__ref_key"), pl.col("master_id").alias("owner_id")
            ),
            on="__ref_key",
            how="left",
        )
        for kind, entity in OWNER_KINDS.items()
    ]
    other = records.filter(~pl.col("owner_kind").is_in(list(OWNER_KINDS)).fill_null(True))
    records = pl.concat(
        [*parts, other.with_columns(pl.lit(None, pl.String()).alias("owner_id"))],
        how="diagonal_relaxed",
    )
    unresolved = records.filter(pl.col("owner_id").is_null()).height
    if unresolved:
        log.warning("%d address records name an owner without a golden record", unresolved)
    return (
        records.drop_nulls(["address_id", "owner_id", "role_type"])
        .select(list(ADDRESS_ROLE_SCHEMA))
        .unique()
        .sort(list(ADDRESS_ROLE_SCHEMA))
    )


def lead_matches(
    links: pl.DataFrame | None, lead_ids: pl.DataFrame, customer_ids: pl.DataFrame
) -> pl.DataFrame:
    """lead_id -> matched_customer_id: the best-scored link of any of the lead's records."""
    if links is None or links.is_empty():
        return pl.DataFrame(schema={"lead_id": pl.String(), "matched_customer_id": pl.String()})
    return (
        links.select("lead_record_key", "customer_record_key", pl.col("score").cast(pl.Float64))
        .join(
            lead_ids.select(
                pl.col("record_key").alias("lead_record_key"), pl.col("master_id").alias("lead_id")
            ),
            on="lead_record_key",
        )
        .join(
            customer_ids.select(
                pl.col("record_key").alias("customer_record_key"),
                pl.col("master_id").alias("matched_customer_id"),
            ),
            on="customer_record_key",
        )
        .sort(["lead_id", "score", "matched_customer_id"], descending=[False, True, False])
        .unique("lead_id", keep="first", maintain_order=True)
        .select("lead_id", "matched_customer_id")
    )
