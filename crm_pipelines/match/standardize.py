"""Comparison features per entity, derived by vectorised polars expressions.

Folding (lower case, no diacritics, punctuation as spaces) is for comparison only: the
features live in a separate frame keyed by the row index `rid`, never in the records.
The standard forms are in standard_forms.py, the owned addresses in owner_addresses.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from crm_pipelines.match.address_compare import district_number, entrance_number
from crm_pipelines.match.standard_forms import (
    building_number,
    canonical_first_name,
    city_name,
    consonant_skeleton,
    first_name_gender_is_known,
    first_name_is_female,
    fold,
    organization_name,
    organization_token,
    street_name,
    surname_gender,
    with_surname_stem,
)


def with_name_features(frame: pl.DataFrame) -> pl.DataFrame:
    """Name features computed once per distinct first / last name, then joined back."""
    first = frame.select("first_name").unique().drop_nulls()
    first = first.with_columns(fold(pl.col("first_name")).alias("fn_fold"))
    first = with_surname_stem(first, "fn_fold", "fn_as_ln_stem").with_columns(
        canonical_first_name(pl.col("fn_fold"), pl.col("first_name")).alias("fn_canon")
    )
    # Jan / Jana, Pavel / Pavla, Michal / Michaela share a stem: one name, two genders
    first = with_surname_stem(first, "fn_canon", "fn_canon_stem")
    first = first.with_columns(
        consonant_skeleton(pl.col("fn_fold")).alias("fn_skeleton"),
        first_name_is_female(pl.col("fn_canon")).alias("fn_female"),
        first_name_gender_is_known(pl.col("fn_canon")).alias("fn_gender_known"),
    )
    last = frame.select("last_name").unique().drop_nulls()
    last = last.with_columns(fold(pl.col("last_name")).alias("ln_fold"))
    last = with_surname_stem(last, "ln_fold", "ln_stem").with_columns(
        canonical_first_name(pl.col("ln_fold"), pl.col("last_name")).alias("ln_as_fn_canon"),
        surname_gender(pl.col("last_name"), pl.col("ln_fold")).alias("ln_gender"),
        consonant_skeleton(pl.col("ln_fold")).alias("ln_skeleton"),
    )
    # join on the key column alone: a join of the whole frame would copy every column
    for key, table in (("first_name", first), ("last_name", last)):
        found = frame.select(key).join(table, on=key, how="left", maintain_order="left")
        frame = frame.hstack(found.drop(key))
    return frame.with_columns(*_derived_name_features())


def _derived_name_features() -> list[pl.Expr]:
    fn_i = pl.col("fn_canon").str.slice(0, 1)
    ln_i = pl.col("ln_stem").str.slice(0, 1)
    return [
        pl.col("ln_stem").str.slice(0, 3).alias("ln_stem3"),
        pl.col("fn_fold").str.slice(0, 3).alias("fn_fold3"),
        pl.when(fn_i < ln_i).then(fn_i + ln_i).otherwise(ln_i + fn_i).alias("name_initials"),
        # both names as surname stems, sorted: the same key when first and last are swapped
        pl.when(pl.col("fn_as_ln_stem") < pl.col("ln_stem"))
        .then(pl.col("fn_as_ln_stem") + "|" + pl.col("ln_stem"))
        .otherwise(pl.col("ln_stem") + "|" + pl.col("fn_as_ln_stem"))
        .alias("name_pair"),
        # both names' consonant skeletons, sorted: survives a typo in each and a swap
        pl.when(pl.col("fn_skeleton") < pl.col("ln_skeleton"))
        .then(pl.col("fn_skeleton") + "|" + pl.col("ln_skeleton"))
        .otherwise(pl.col("ln_skeleton") + "|" + pl.col("fn_skeleton"))
        .alias("name_skeletons"),
    ]


def _birth_features() -> list[pl.Expr]:
    """The date as YYYYMMDD (its digits compared) and as days (its distance)."""
    return [
        (
            pl.col("birth_date").dt.year() * 10000
            + pl.col("birth_date").dt.month().cast(pl.Int32) * 100
            + pl.col("birth_date").dt.day().cast(pl.Int32)
        ).alias("bd_int"),
        pl.col("birth_date").cast(pl.Int32).alias("bd_days"),
    ]


def with_birth_features(frame: pl.DataFrame) -> pl.DataFrame:
    """The birth-date features, computed once per distinct date (some 25k of 3.4M persons
    at 1M customers: formatting them per row cost seconds) and joined back."""
    dates = frame.select(pl.col("birth_date").unique().drop_nulls())
    table = dates.with_columns(*_birth_features())
    found = frame.select("birth_date").join(
        table, on="birth_date", how="left", maintain_order="left"
    )
    return frame.hstack(found.drop("birth_date"))


def _base(frame: pl.DataFrame) -> pl.DataFrame:
    """Row index `rid` (the pair key) and e-mail parts (local part, digits)."""
    frame = frame.with_row_index("rid")
    if "email" in frame.columns:
        local = pl.col("email").str.split("@").list.first()
        # (lazy: the repeated local part is computed once; runs of characters are removed
        # per match, not each character: at 1M customers 11 s -> 3 s, same values)
        frame = (
            frame.lazy()
            .with_columns(
                # a short local part (info@, jan@) says little about who the owner is
                pl.when(local.str.len_chars() >= 6).then(local).alias("email_local"),
                # jan.novak.3@ and jan.novak.4@ are two people, not a typo
                pl.col("email").str.replace_all(r"[^0-9]+", "").alias("email_digits"),
                # jan.novak.3@ and jan.novak@: a mailbox numbered because the name was taken
                pl.when(local.str.replace_all(r"[^a-z]+", "").str.len_chars() >= 4)
                .then(local.str.replace_all(r"[^a-z]+", ""))
                .alias("email_letters"),
            )
            .collect()
        )
    return frame


def person_features(records: pl.DataFrame) -> pl.DataFrame:
    holder_key = (
        pl.when(pl.col("origin") == "customer_holder")
        .then(pl.col("record_key"))
        .when((pl.col("role_type") == "OWNER") & pl.col("customer_source_id").is_not_null())
        .then(pl.col("source_system") + "|customer:" + pl.col("customer_source_id"))
    )
    frame = with_birth_features(_base(records)).with_columns(holder_key.alias("holder_link_key"))
    return with_name_features(frame)


def customer_features(records: pl.DataFrame) -> pl.DataFrame:
    frame = with_birth_features(_base(records))
    # once per distinct name: most customers are individuals, many companies share one
    frame = per_distinct(frame, "organization_name", organization_name, "org_norm")
    frame = frame.with_columns(organization_token(pl.col("org_norm")).alias("org_token"))
    return with_name_features(frame)


def lead_features(records: pl.DataFrame) -> pl.DataFrame:
    org = organization_name(pl.col("organization_name"))
    frame = _base(records).with_columns(
        org.alias("org_norm"),
        pl.col("postcode").str.replace_all(r"\s", "").alias("postcode_norm"),
        city_name(pl.col("city")).alias("city_norm"),
    )
    return with_name_features(frame)


def per_distinct(
    frame: pl.DataFrame, column: str, derive: Callable[[pl.Expr], pl.Expr], out: str
) -> pl.DataFrame:
    """`out` = derive(column), computed once per distinct value and joined back."""
    values = frame.select(pl.col(column).unique().drop_nulls())
    # (lazy: a value the derivation reads twice, such as its folded form, is computed once)
    table = values.lazy().with_columns(derive(pl.col(column)).alias(out)).collect()
    found = frame.select(column).join(table, on=column, how="left", maintain_order="left")
    return frame.with_columns(found[out])


def address_features(records: pl.DataFrame) -> pl.DataFrame:
    trailing = r"\s+(\d+[a-zA-Z]?(?:\s*/\s*\d+[a-zA-Z]?)?)$"
    street_raw = pl.col("street").fill_null(pl.col("address_line").str.split(",").list.first())
    house = pl.col("house_number").fill_null(street_raw.str.extract(trailing, 1))
    street_only = street_raw.str.replace(trailing, "")
    frame = _base(records).with_columns(
        street_only.alias("_street"),
        house.alias("building"),  # the house number: building and entrance numbers below
        house.alias("entrance"),
        pl.col("postcode").str.replace_all(r"\s", "").alias("postcode_norm"),
    )
    # once per distinct house number (their regexes per row cost 2.7 s at 1M)
    houses = frame.select(pl.col("building").unique().drop_nulls())
    houses = houses.with_columns(
        building_number(pl.col("building")).alias("_building"),
        entrance_number(pl.col("building")).alias("_entrance"),
    )
    found = frame.select("building").join(houses, on="building", how="left", maintain_order="left")
    frame = frame.with_columns(
        found["_building"].alias("building"), found["_entrance"].alias("entrance")
    )
    frame = per_distinct(frame, "city", district_number, "district_no")
    # the regex-heavy names run once per distinct street and city, not once per row
    frame = per_distinct(frame, "_street", street_name, "street_norm")
    frame = per_distinct(frame, "city", city_name, "city_norm").drop("_street")
    # A village without streets: the village name stands in for the street (Lhota 12).
    frame = frame.with_columns(pl.col("street_norm").fill_null(pl.col("city_norm")))
    place = pl.coalesce(pl.col("postcode_norm"), pl.col("city_norm"))
    return frame.with_columns(
        pl.concat_str(
            [pl.col("country"), place, pl.col("street_norm"), pl.col("building")], separator="|"
        ).alias("building_key"),
        pl.col("street_norm").str.slice(0, 4).alias("street_prefix"),
    )


# the staged columns each entity's matching reads; the rest (chars, lineage, consents) is not
# evidence, and at 1M customers reading it cost seconds and gigabytes per entity
KEYS = ("record_key", "source_system", "source_id")
MATCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": (*KEYS, "origin", "customer_source_id", "role_type", "first_name", "last_name")
    + ("generation", "birth_date", "national_id", "email", "phone", "phone_is_mobile"),
    "customer": (*KEYS, "party_type", "first_name", "last_name", "generation", "birth_date")
    + ("organization_name",)
    + ("registration_no", "vat_no", "email", "phone", "phone_is_mobile", "country"),
    "lead": (*KEYS, "first_name", "last_name", "organization_name", "email", "phone", "postcode")
    + ("city", "country"),
    "address": (*KEYS, "owner_kind", "owner_source_id", "street", "house_number", "city")
    + ("postcode", "address_line", "country"),
}


def read_columns(source: pl.DataFrame | Path, columns: Sequence[str]) -> pl.DataFrame:
    """Those of `columns` the staged frame (or its Parquet file, read column by column) has."""
    if isinstance(source, pl.DataFrame):
        return source.select([c for c in columns if c in source.columns])
    present = pl.read_parquet_schema(source)
    return pl.read_parquet(source, columns=[c for c in columns if c in present])


def read_for_matching(path: Path, entity: str) -> pl.DataFrame:
    """The staged Parquet file of an entity, only the columns its matching reads."""
    return read_columns(path, MATCH_COLUMNS[entity])


FEATURES = {
    "person": person_features,
    "customer": customer_features,
    "lead": lead_features,
    "address": address_features,
}


def customer_of_persons(records: pl.DataFrame, customer_clusters: pl.DataFrame) -> pl.DataFrame:
    """record_key -> customer_cluster: the golden customer each person record holds a role on.

    Two records of one human under one golden customer (its holder row and a contact row
    with the maiden name) are the master's own knowledge, not a guess.
    """
    customer_key = pl.concat_str(
        [pl.col("source_system"), pl.col("customer_source_id")], separator="|"
    )
    return (
        records.filter(pl.col("customer_source_id").is_not_null())
        .select("record_key", customer_key.alias("customer_record_key"))
        .join(
            customer_clusters.select(
                pl.col("record_key").alias("customer_record_key"),
                pl.col("cluster_id").alias("customer_cluster"),
            ),
            on="customer_record_key",
        )
        .select("record_key", "customer_cluster")
    )


def with_customer_of(features: pl.DataFrame, customer_of: pl.DataFrame | None) -> pl.DataFrame:
    """`customer_cluster`: the golden customer a record was linked to, null when none.

    customer_of holds record_key and customer_cluster, one row per linked record.
    """
    if customer_of is None or customer_of.height == 0:
        return features.with_columns(pl.lit(None, dtype=pl.String).alias("customer_cluster"))
    linked = customer_of.select("record_key", pl.col("customer_cluster").cast(pl.String))
    found = features.select("record_key").join(
        linked, on="record_key", how="left", maintain_order="left"
    )
    return features.hstack(found.drop("record_key"))
