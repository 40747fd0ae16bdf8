"""Orchestrates the sample landing folder: world -> records -> defects -> files + truth."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.sample import defects
from crm_pipelines.sample.campaigns import write_campaigns
from crm_pipelines.sample.holdings import account_records, address_records, lead_records
from crm_pipelines.sample.parties import billing_contacts, customer_records, person_records
from crm_pipelines.sample.population import World, build_world
from crm_pipelines.sample.steward import write_steward_decisions
from crm_pipelines.sample.writer import apply_aliases, write_feed

log = logging.getLogger(__name__)

FEEDS = ("customer", "person", "account", "address", "lead", "campaign", "steward_decision")
TRUTH_DIR = "_truth"


# _truth/hard_negatives.parquet: pairs of records that must never share a golden record
HARD_NEGATIVE_COLUMNS = (
    "entity",
    "left_source_system",
    "left_source_id",
    "right_source_system",
    "right_source_id",
    "kind",
)


def _truth(frame: pl.DataFrame, feed: str) -> pl.DataFrame:
    """Per source record its party; a customer record also names the human holding it
    (holder_party_id, the person party), which lead -> customer links are scored by."""
    holder = pl.lit(None, dtype=pl.String)
    if feed == "customer":
        human = pl.col("_human")
        holder = pl.when(human >= 0).then("H" + human.cast(pl.String).str.zfill(8))
    return frame.select(
        entity=pl.lit(feed),
        source_system="source_system",
        source_id="source_id",
        party_id="_party",
        holder_party_id=holder,
        expected_valid="_valid",
        defect="_defect",
    )


def _links(frame: pl.DataFrame, keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """What later builders need from an already written feed (original source, clean keys)."""
    return frame.select(pl.col("_src").alias("source_system"), "source_id", "_building", *keep)


def _emit(
    frame: pl.DataFrame, feed: str, out: Path, rng: np.random.Generator, counts: dict
) -> None:
    """Write the feed and park its truth on disk (keeps the peak memory down)."""
    counts[feed] = write_feed(apply_aliases(frame, feed), feed, out, rng)
    _truth(frame, feed).write_parquet(out / TRUTH_DIR / f"part-{feed}.parquet", statistics=False)


def _hard_negative_parties(world: World) -> pl.DataFrame:
    hn = world.hard_negatives
    ids = {"person": world.humans["human_id"], "customer": world.customers["customer_id"]}
    return pl.concat(
        [
            hn.filter(pl.col("entity") == e).with_columns(
                left_party=ids[e].gather(hn.filter(pl.col("entity") == e)["left"]),
                right_party=ids[e].gather(hn.filter(pl.col("entity") == e)["right"]),
            )
            for e in ("person", "customer")
        ]
    )


def _hard_negative_pairs(parties: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Every record pair of two look-alike parties, per entity."""
    side = records.select("entity", "party_id", "source_system", "source_id")
    joined = parties.join(
        side.rename(
            {
                "party_id": "left_party",
                "source_system": "left_source_system",
                "source_id": "left_source_id",
            }
        ),
        on=["entity", "left_party"],
    ).join(
        side.rename(
            {
                "party_id": "right_party",
                "source_system": "right_source_system",
                "source_id": "right_source_id",
            }
        ),
        on=["entity", "right_party"],
    )
    return joined.select(HARD_NEGATIVE_COLUMNS).sort(pl.all())


def _fresh_landing(out_dir: Path) -> Path:
    """The landing folder with our feed folders and _truth/ emptied; other content stays."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for feed in (*FEEDS, TRUTH_DIR):
        if (out / feed).exists():
            shutil.rmtree(out / feed)
    (out / TRUTH_DIR).mkdir()
    return out


def _customer_feed(
    world: World, out: Path, rng: np.random.Generator, counts: dict
) -> tuple[pl.DataFrame, pl.Series]:
    """Write the customers; returns their links (with the world's classification, which
    persons and accounts are drawn from) and the keys of the rejected ones."""
    wc = world.customers
    cust = defects.inject(customer_records(world, rng), "customer", rng)
    rejected = defects.rejected_keys(cust, "CUSTOMER")
    _emit(cust, "customer", out, rng, counts)
    rec_cust = cust["_cust"].to_numpy()
    cust_links = _links(cust, ("_cust", "_human")).with_columns(
        party_type=wc["party_type"].gather(rec_cust),
        customer_type=wc["customer_type"].gather(rec_cust),
        status=wc["status"].gather(rec_cust),
        country=wc["country"].gather(rec_cust),
    )
    return cust_links, rejected


def _person_feed(
    world: World,
    cust_links: pl.DataFrame,
    rejected: pl.Series,
    out: Path,
    rng: np.random.Generator,
    counts: dict,
) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
    """Write the contact persons (rejected with their customer); returns their links, each
    customer record's billing contact (taken before the defects) and the rejected keys."""
    persons = person_records(world, cust_links, rng)
    billing = billing_contacts(cust_links, persons)
    persons = defects.inject(persons, "person", rng)
    persons = defects.cascade(persons, pl.lit("CUSTOMER"), "customer_source_id", rejected)
    rejected = pl.concat([rejected, defects.rejected_keys(persons, "PERSON")])
    _emit(persons, "person", out, rng, counts)
    return _links(persons), billing, rejected


def _account_feed(
    cust_links: pl.DataFrame,
    billing: pl.Series,
    rejected: pl.Series,
    out: Path,
    rng: np.random.Generator,
    counts: dict,
) -> tuple[pl.DataFrame, pl.Series]:
    """Write the accounts (rejected with their customer); returns links and rejected keys."""
    accounts = account_records(cust_links, billing, rng)
    accounts = defects.inject(accounts, "account", rng)
    accounts = defects.cascade(accounts, pl.lit("CUSTOMER"), "customer_source_id", rejected)
    rejected = pl.concat([rejected, defects.rejected_keys(accounts, "ACCOUNT")])
    _emit(accounts, "account", out, rng, counts)
    return _links(accounts), rejected


def _lead_feed(
    world: World, rejected: pl.Series, out: Path, rng: np.random.Generator, counts: dict
) -> tuple[pl.DataFrame, pl.Series]:
    """Write the leads; returns their links and the rejected keys so far."""
    leads = defects.inject(lead_records(world, rng), "lead", rng)
    rejected = pl.concat([rejected, defects.rejected_keys(leads, "LEAD")])
    _emit(leads, "lead", out, rng, counts)
    return _links(leads), rejected


def _write_truth(
    out: Path, hn_parties: pl.DataFrame, rng: np.random.Generator, counts: dict
) -> None:
    """Campaigns and steward decisions (picked from the truth so far), then _truth/: every
    record's party in records.parquet and the look-alike record pairs."""
    campaigns = write_campaigns(out)
    counts["campaign"] = campaigns.height
    parts = sorted((out / TRUTH_DIR).glob("part-*.parquet"))
    records = pl.concat([pl.read_parquet(p) for p in parts] + [campaigns], how="diagonal")
    for p in parts:
        p.unlink()
    hard_negatives = _hard_negative_pairs(hn_parties, records)
    steward = write_steward_decisions(out, records, hard_negatives, rng)
    counts["steward_decision"] = steward.height
    records = pl.concat([records, steward], how="diagonal")
    records.write_parquet(out / TRUTH_DIR / "records.parquet", statistics=False)
    hard_negatives.write_parquet(out / TRUTH_DIR / "hard_negatives.parquet", statistics=False)
    counts["truth_records"] = records.height
    counts["hard_negatives"] = hard_negatives.height


def generate_landing(out_dir: Path, customers: int = 2000, seed: int = 42) -> dict:
    """Write a landing folder per feeds.md plus ground truth under _truth/.

    Returns the number of rows written per feed (snapshot and delta rows both count),
    plus ``truth_records`` and ``hard_negatives``. Feeds are written one after another in a
    fixed order (one seed, one landing), each dropped once written to keep the memory down.
    """
    out = _fresh_landing(out_dir)
    rng = np.random.default_rng(seed)
    world = build_world(rng, customers)
    hn_parties = _hard_negative_parties(world)
    counts: dict[str, int] = {}
    cust_links, rejected = _customer_feed(world, out, rng, counts)
    person_links, billing, rejected = _person_feed(world, cust_links, rejected, out, rng, counts)
    account_links, rejected = _account_feed(cust_links, billing, rejected, out, rng, counts)
    lead_links, rejected = _lead_feed(world, rejected, out, rng, counts)

    addresses = address_records(world, cust_links, account_links, person_links, lead_links, rng)
    del world, cust_links, account_links, person_links, lead_links
    addresses = defects.inject(addresses, "address", rng)
    addresses = defects.cascade(addresses, pl.col("owner_kind"), "owner_source_id", rejected)
    _emit(addresses, "address", out, rng, counts)
    del addresses

    _write_truth(out, hn_parties, rng, counts)
    log.info("sample landing written to %s: %s", out, counts)
    return counts
