"""Synthetic staged input at scale for build_master: every entity, clusters of two, lead links.

(Timing build_master is `crm-mdm bench`'s job: its "golden (survivorship+ids)" stage.)
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from crm_pipelines.staged import conform

SYSTEMS = ["BSS", "ESHOP", "LEGACY_CRM", "PARTNER_PORTAL", "MARKETING"]
SHARE = {"customer": 0.25, "person": 0.30, "account": 0.20, "address": 0.20, "lead": 0.05}


def _base(n: int, rng: np.random.Generator, prefix: str) -> dict[str, object]:
    systems = np.array(SYSTEMS)[rng.integers(0, len(SYSTEMS), n)]
    source_ids = np.char.add(prefix, np.arange(n).astype(str))
    seconds = rng.integers(0, 86_400 * 365, n)
    return {
        "source_system": systems,
        "source_id": source_ids,
        "record_key": np.char.add(np.char.add(systems, "|"), source_ids),
        "updated_at": pl.Series(seconds * 1_000_000).cast(pl.Datetime("us", "UTC")),
    }


def _owned_by_customers(
    n: int, rng: np.random.Generator, prefix: str, customer: dict
) -> tuple[dict[str, object], np.ndarray]:
    """Records of the same source system as the customer they name (with its source_id)."""
    base = _base(n, rng, prefix)
    pick = rng.integers(0, len(customer["source_id"]), n)
    base["source_system"] = customer["source_system"][pick]
    base["record_key"] = np.char.add(np.char.add(base["source_system"], "|"), base["source_id"])
    return base, customer["source_id"][pick]


def _maybe(rng: np.random.Generator, n: int, values: np.ndarray, null_share: float) -> list:
    keep = rng.random(n) >= null_share
    return pl.Series(values).zip_with(pl.Series(keep), pl.Series([None] * n, dtype=pl.String))


def _consent(rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(rng.integers(0, 3, n)).replace_strict(
        {0: None, 1: True, 2: False}, return_dtype=pl.Boolean
    )


def synthetic_inputs(total_rows: int, seed: int = 7) -> tuple[dict, dict, pl.DataFrame]:
    """Staged frames (about total_rows records), clusters of ~2 records, lead links."""
    rng = np.random.default_rng(seed)
    n = {entity: int(total_rows * share) for entity, share in SHARE.items()}
    staged: dict[str, pl.DataFrame] = {}

    customer = _base(n["customer"], rng, "C")
    names = np.char.add("Name", (np.arange(n["customer"]) // 2).astype(str))
    staged["customer"] = conform(
        "customer",
        pl.DataFrame(customer).with_columns(
            party_type=pl.lit("INDIVIDUAL"),
            customer_type=pl.lit("RESIDENTIAL"),
            status=pl.Series(np.array(["ACTIVE", "SUSPENDED"])[rng.integers(0, 2, n["customer"])]),
            first_name=pl.Series(names),
            last_name=pl.lit("Novák"),
            email=_maybe(rng, n["customer"], np.char.add(names, "@example.cz"), 0.3),
            country=pl.lit("CZ"),
            consent_email=_consent(rng, n["customer"]),
            consent_sms=_consent(rng, n["customer"]),
        ),
    )
    holders = staged["customer"].select(
        "source_system",
        "source_id",
        "updated_at",
        "first_name",
        "last_name",
        "email",
        "consent_email",
        "consent_sms",
        record_key=pl.concat_str("source_system", pl.lit("|customer:"), "source_id"),
        origin=pl.lit("customer_holder"),
        customer_source_id=pl.col("source_id"),
        role_type=pl.lit("OWNER"),
    )
    person_feed = _base(n["person"] - n["customer"], rng, "P")
    persons = pl.DataFrame(person_feed).with_columns(
        origin=pl.lit("person_feed"),
        role_type=pl.lit("BILLING_CONTACT"),
        first_name=pl.lit("Petr"),
        last_name=pl.lit("Svoboda"),
        consent_email=_consent(rng, len(person_feed["source_id"])),
    )
    staged["person"] = conform(
        "person", pl.concat([conform("person", holders), conform("person", persons)])
    )

    account, account_owner = _owned_by_customers(n["account"], rng, "A", customer)
    staged["account"] = conform(
        "account",
        pl.DataFrame(account).with_columns(
            customer_source_id=pl.Series(account_owner),
            account_type=pl.lit("BILLING"),
            status=pl.lit("ACTIVE"),
            currency=pl.lit("CZK"),
        ),
    )
    address, address_owner = _owned_by_customers(n["address"], rng, "AD", customer)
    staged["address"] = conform(
        "address",
        pl.DataFrame(address).with_columns(
            owner_kind=pl.lit("CUSTOMER"),
            owner_source_id=pl.Series(address_owner),
            role_type=pl.lit("SERVICE"),
            street=pl.lit("Dlouhá"),
            house_number=pl.Series((np.arange(n["address"]) // 2).astype(str)),
            city=pl.lit("Praha"),
            postcode=pl.lit("110 00"),
            country=pl.lit("CZ"),
            quality_status=pl.lit("VALID"),
        ),
    )
    lead = _base(n["lead"], rng, "L")
    staged["lead"] = conform(
        "lead",
        pl.DataFrame(lead).with_columns(
            first_name=pl.lit("Eva"), status=pl.lit("NEW"), consent_email=_consent(rng, n["lead"])
        ),
    )
    campaigns = _base(40, rng, "K")
    staged["campaign"] = conform(
        "campaign",
        pl.DataFrame(campaigns).with_columns(
            campaign_code=pl.Series([f"CMP{i % 20}" for i in range(40)]),
            name=pl.lit("Campaign"),
            status=pl.lit("ACTIVE"),
            channel=pl.lit("EMAIL"),
            start_date=pl.lit(date(2026, 1, 1)),
            end_date=pl.lit(date(2026, 12, 31)),
        ),
    )
    clusters = {
        entity: staged[entity].select(
            "record_key", cluster_id=(pl.int_range(pl.len()) // 2).cast(pl.String)
        )
        for entity in ("customer", "person", "address", "lead")
    }
    links = (
        staged["lead"]
        .head(n["lead"] // 4)
        .select(
            lead_record_key="record_key",
            customer_record_key=pl.Series(staged["customer"]["record_key"][: n["lead"] // 4]),
            score=pl.lit(0.95),
        )
    )
    return staged, clusters, links
