"""A fixed line against a mobile is no contact conflict: the line is a place's, the mobile a
person's. Billing holds the household's line, the e-shop the customer's own mobile; two
different mobiles under one name at one address are still two people (father and son)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import AS_OF

from crm_pipelines.match.evidence import match_in_order
from crm_pipelines.match.settings import entity_settings
from crm_pipelines.validate.landing import stage_landing

SAMPLED = 5


@pytest.fixture(scope="module")
def staged(sample_landing: Path) -> dict[str, pl.DataFrame]:
    return dict(stage_landing(sample_landing, AS_OF).staged)


def _customer_clusters(feeds: dict[str, pl.DataFrame]) -> dict[str, str]:
    result = next(r for r in match_in_order(feeds) if r.entity == "customer")
    return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))


def _holders_with_an_address(staged: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """BSS holders with a birth date, a mobile and an address, each the only record of its
    customer (no other source's row to agree or disagree with the copy)."""
    owners = staged["address"].filter(pl.col("owner_kind") == "CUSTOMER")["owner_source_id"]
    sizes = pl.DataFrame(
        list(_customer_clusters(staged).items()), schema=["record_key", "cluster"], orient="row"
    ).with_columns(pl.len().over("cluster").alias("records"))
    alone = sizes.filter(pl.col("records") == 1)["record_key"]
    return (
        staged["customer"]
        .filter(
            (pl.col("party_type") == "INDIVIDUAL")
            & (pl.col("source_system") == "BSS")
            & pl.col("birth_date").is_not_null()
            & pl.col("phone_is_mobile")
            & pl.col("source_id").is_in(owners.implode())
            & pl.col("record_key").is_in(alone.implode())
        )
        .sort("record_key")
        .head(SAMPLED)
    )


def _eshop_copies(
    staged: dict[str, pl.DataFrame], numbers: str, mobile: bool
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Each sampled BSS holder again from the e-shop at the same address: no birth date, no
    e-mail, a phone of its own (`numbers` + its sample index). Returns the feeds and
    BSS record -> e-shop record."""
    customers, addresses = staged["customer"], staged["address"]
    holders = _holders_with_an_address(staged)
    copies = holders.with_columns(
        pl.lit("ESHOP").alias("source_system"),
        ("X-" + pl.col("source_id")).alias("source_id"),
        ("ESHOP|X-" + pl.col("source_id")).alias("record_key"),
        pl.lit(None, pl.Date).alias("birth_date"),
        pl.lit(None, pl.String).alias("email"),
        (numbers + pl.int_range(pl.len()).cast(pl.String)).alias("phone"),
        pl.lit(mobile).alias("phone_is_mobile"),
    )
    homes = addresses.filter(
        (pl.col("owner_kind") == "CUSTOMER")
        & pl.col("owner_source_id").is_in(holders["source_id"].implode())
    ).with_columns(
        pl.lit("ESHOP").alias("source_system"),
        ("X-" + pl.col("owner_source_id")).alias("owner_source_id"),
        ("X-" + pl.col("source_id")).alias("source_id"),
        ("ESHOP|X-" + pl.col("source_id")).alias("record_key"),
    )
    feeds = staged | {
        "customer": pl.concat([customers, copies]),
        "address": pl.concat([addresses, homes]),
    }
    return feeds, dict(zip(holders["record_key"], copies["record_key"], strict=True))


def _joined(feeds: dict[str, pl.DataFrame], copies: dict[str, str]) -> list[bool]:
    cluster = _customer_clusters(feeds)
    return [cluster[bss] == cluster[eshop] for bss, eshop in copies.items()]


def test_a_customer_with_the_household_line_in_one_system_and_a_mobile_in_another_is_one(
    staged,
) -> None:
    feeds, copies = _eshop_copies(staged, "+42022411122", mobile=False)
    assert len(copies) == SAMPLED
    assert _joined(feeds, copies) == [True] * SAMPLED


def test_the_same_customer_rows_with_two_different_mobiles_stay_apart(staged) -> None:
    feeds, copies = _eshop_copies(staged, "+42077712345", mobile=True)
    assert _joined(feeds, copies) == [False] * SAMPLED


@pytest.mark.parametrize("entity", ["person", "customer"])
def test_every_phone_veto_compares_phones_of_one_kind_only(entity: str) -> None:
    """Another phone means another phone of the same kind (or of a kind not recorded) in
    every veto that reads it, never a fixed line against a mobile."""
    phone_vetoes = [v for v in entity_settings(entity).vetoes if "phone" in v.when]
    assert phone_vetoes
    for veto in phone_vetoes:
        assert set(veto.when.get("phone_kind", ())) == {"same", "missing"}, veto
