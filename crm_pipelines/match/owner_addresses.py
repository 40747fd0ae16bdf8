"""The buildings and areas a record lives at: its own addresses and its customer's, as keys."""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.standardize import address_features

OWNER_KIND = {"customer": "CUSTOMER", "lead": "LEAD", "person": "PERSON"}
NO_KEYS = pl.lit(None, dtype=pl.List(pl.UInt64))


def _owners(entity: str, addresses: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """(`_address`, `rid`): which address row (index into `addresses`) each record lives at.

    feeds.md: addresses join their owner by (source_system, owner_source_id). A person also
    lives where the individual customer it holds lives: the customer's holder record and a
    person-feed OWNER row of an individual customer take the customer's addresses.
    """
    rows = addresses.select("owner_kind", "source_system", "owner_source_id").with_row_index(
        "_address"
    )
    own = rows.filter(pl.col("owner_kind") == OWNER_KIND[entity]).join(
        records.select("source_system", pl.col("source_id").alias("owner_source_id"), "rid"),
        on=["source_system", "owner_source_id"],
    )
    if entity != "person":
        return own.select("_address", "rid")
    holders = records.filter(pl.col("source_id").str.starts_with("customer:"))
    # the holder rows themselves are OWNER rows of their customer: one frame holds both
    lives_with = records.filter(
        (pl.col("role_type") == "OWNER") & pl.col("customer_source_id").is_not_null()
    ).join(
        holders.select("source_system", pl.col("customer_source_id")),
        on=["source_system", "customer_source_id"],
        how="semi",
    )
    inherited = rows.filter(pl.col("owner_kind") == "CUSTOMER").join(
        lives_with.select(
            "source_system", pl.col("customer_source_id").alias("owner_source_id"), "rid"
        ),
        on=["source_system", "owner_source_id"],
    )
    return pl.concat([own.select("_address", "rid"), inherited.select("_address", "rid")])


def _golden(addresses: pl.DataFrame, address_clusters: pl.DataFrame) -> pl.Series:
    """`golden`: the cluster_id of each address row (null when unmatched). The clusters come
    in the staged frame's row order (match_entity keeps it): then no join is needed."""
    if address_clusters["record_key"].equals(addresses["record_key"]):
        return address_clusters["cluster_id"].alias("golden")
    golden = address_clusters.select("record_key", pl.col("cluster_id").alias("golden"))
    return addresses.select("record_key").join(
        golden, on="record_key", how="left", maintain_order="left"
    )["golden"]


def _address_keys(addresses: pl.DataFrame) -> pl.DataFrame:
    """`address_key` (the building) and `area_key` (postcode or town) per address row, hashed.

    A building is its golden address where the rows carry one (`golden`), else its
    spelt-out building key."""
    owned = address_features(addresses)
    if "golden" in owned.columns:
        # an address without a building (no house number) names no building, golden or not
        owned = owned.with_columns(
            pl.when(pl.col("building_key").is_not_null())
            .then(pl.coalesce(pl.col("golden"), pl.col("building_key")))
            .alias("building_key")
        )
    return owned.select(
        pl.concat_list(_building_keys()).alias("address_key"),
        pl.concat_list(_area_keys()).alias("area_key"),
    )


def _hashed(parts: list[pl.Expr], seed: int) -> pl.Expr:
    """One hashed key of the parts, null when any part is (a null hashes to a constant)."""
    text = pl.concat_str(parts, separator="|")
    return pl.when(text.is_not_null()).then(text.hash(seed=seed))


def _building_keys() -> list[pl.Expr]:
    """The keys that name one building of an owned address.

    Its golden address (or spelt-out building key), and the house number on a street
    whose first four letters agree, in the same town or at the same postcode: a mistyped
    postcode (3109 for 3199) or a street misspelt past its start (Kollárova / Kolárova,
    Jinka Stireet) still names the building, as it does to the postman.
    """
    street = pl.col("street_norm").str.replace_all(" ", "").str.slice(0, 4)
    return [
        _hashed([pl.col("building_key")], 13),
        _hashed([pl.col("country"), street, pl.col("building"), pl.col("city_norm")], 19),
        _hashed([pl.col("country"), street, pl.col("building"), pl.col("postcode_norm")], 23),
    ]


def _area_keys() -> list[pl.Expr]:
    """The key of an owned address's area: its postcode or, without one, its town. (Its
    town as a second key lifted FEBRL by 0.003 but cost Czech feeds 0.008 person F1: a
    town such as Praha is no evidence that two people live near each other.)"""
    area = pl.coalesce(pl.col("postcode_norm"), pl.col("city_norm"))
    return [_hashed([pl.col("country"), area], 17)]


def with_owner_addresses(
    features: pl.DataFrame,
    entity: str,
    addresses: pl.DataFrame | None,
    address_clusters: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`address_keys` (the buildings a record owns) and `area_keys` (their postcodes or,
    without one, towns): hashed keys, null when the record owns no address.

    Two records at one building are strong evidence when their names agree; an area is
    weaker evidence that survives a misspelt street or house number.
    A building is its golden address when address_clusters (record_key, cluster_id) are
    given -- "Jeseskeho 3127" is then Jesenského 3127 -- else its spelt-out building key.
    Each address is standardised once, however many records live there, and its keys reach
    the records by row index (`rid`): at 1M customers the string joins cost seconds.
    """
    empty = [NO_KEYS.alias("address_keys"), NO_KEYS.alias("area_keys")]
    if entity not in OWNER_KIND or addresses is None or addresses.height == 0:
        return features.with_columns(empty)
    kinds = [OWNER_KIND[entity], *(["CUSTOMER"] if entity == "person" else [])]
    if address_clusters is not None:
        addresses = addresses.with_columns(_golden(addresses, address_clusters))
    addresses = addresses.filter(pl.col("owner_kind").is_in(kinds))
    owners = _owners(entity, addresses, features)
    if owners.height == 0:
        return features.with_columns(empty)
    keys = _address_keys(addresses)
    owned = owners.with_columns(
        keys["address_key"].gather(owners["_address"]),
        keys["area_key"].gather(owners["_address"]),
    )
    per_record = (
        owned.group_by("rid")
        .agg(
            pl.col("address_key")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .drop_nulls()
            .unique()
            .sort()
            .alias("address_keys"),
            pl.col("area_key")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .drop_nulls()
            .unique()
            .sort()
            .alias("area_keys"),
        )
        .with_columns(
            pl.when(pl.col(c).list.len() > 0).then(pl.col(c)).alias(c)
            for c in ("address_keys", "area_keys")
        )
    )
    # joined on the key alone and stacked: a join of the whole frame copies every column
    found = features.select("rid").join(per_record, on="rid", how="left", maintain_order="left")
    return features.hstack(found.drop("rid"))
