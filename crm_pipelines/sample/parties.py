"""Customer and person source records drawn from the real world with per-source noise.

Meta columns (prefixed ``_``) carry the truth and the links the later builders need;
the writer drops them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.sample import noise
from crm_pipelines.sample.keys import chars, masked, pick_sources, source_ids, updated_at
from crm_pipelines.sample.population import World

CUSTOMER_SOURCES = ("BSS", "ESHOP", "LEGACY_CRM", "PARTNER_PORTAL")
WEIGHTS_INDIVIDUAL = np.array([0.45, 0.30, 0.18, 0.07])
WEIGHTS_ORGANIZATION = np.array([0.40, 0.10, 0.25, 0.25])
HUMAN_COLUMNS = [
    "first_name",
    "nickname",
    "title_before",
    "title_after",
    "maiden_name",
    "last_name",
    "birth_date",
    "national_id",
    "email",
    "alt_email",
    "phone",
    "consent_email",
    "consent_sms",
    "consent_post",
]


def customer_records(world: World, rng: np.random.Generator) -> pl.DataFrame:
    cust = world.customers
    individual = (cust["party_type"] == "INDIVIDUAL").to_numpy()
    weights = np.where(individual[:, None], WEIGHTS_INDIVIDUAL, WEIGHTS_ORGANIZATION)
    rec_cust, source = pick_sources(rng, weights, [0.45, 0.40, 0.15], CUSTOMER_SOURCES)
    n = len(rec_cust)
    base = cust[rec_cust]
    holder = base["holder"].to_numpy()
    human = world.humans.select(HUMAN_COLUMNS)[np.clip(holder, 0, None)]
    is_ind = pl.Series(individual[rec_cust])
    osvc_named = pl.Series((holder >= 0) & ~individual[rec_cust] & (rng.random(n) < 0.3))
    named = is_ind | osvc_named
    frame = pl.DataFrame(
        {
            "source_system": source,
            "source_id": source_ids(rng, "customer", source),
            "updated_at": updated_at(rng, n),
            "party_type": base["party_type"],
            "customer_type": base["customer_type"],
            "status": base["status"],
            "segment": base["segment"],
            "first_name": pl.select(pl.when(named).then(human["first_name"])).to_series(),
            "nickname": human["nickname"],
            **{c: human[c] for c in noise.NAME_EXTRAS},
            "last_name": pl.select(pl.when(named).then(human["last_name"])).to_series(),
            "birth_date": pl.select(pl.when(is_ind).then(human["birth_date"])).to_series(),
            "organization_name": base["organization_name"],
            "legal_form": base["legal_form"],
            "registration_no": base["registration_no"],
            "vat_no": base["vat_no"],
            "email": base["email"],
            "alt_email": pl.select(
                pl.when(is_ind).then(human["alt_email"]).otherwise(base["email"])
            ).to_series(),
            "phone": base["phone"],
            "country": base["country"],
            "consent_email": human["consent_email"],
            "consent_sms": human["consent_sms"],
            "consent_post": human["consent_post"],
            "chars": chars(rng, n),
            "_party": base["customer_id"],
            "_cust": rec_cust,
            "_human": holder,
            "_building": base["building"],
        }
    )
    frame = noise.names(frame, rng)
    frame = noise.birth_dates(frame, rng)
    frame = noise.contacts(frame, rng, base["country"].to_numpy(), (800_000, 860_000))
    frame = noise.consents(frame, rng)
    frame = noise.org_names(frame, rng)
    frame = noise.company_ids(frame, rng)
    # some sources leave the segment empty; organisations' consents are often unknown
    return frame.with_columns(
        segment=pl.when(pl.lit(pl.Series(rng.random(n) < 0.15))).then(None).otherwise("segment")
    ).drop("nickname", "alt_email", *noise.NAME_EXTRAS)


def _contact_rows(world: World, customers: pl.DataFrame, rng: np.random.Generator) -> dict:
    """(customer record, contact) pairs: each company contact appears in most of its sources."""
    contacts = world.contacts
    cust_idx = contacts["customer_idx"].to_numpy()
    n_cust = world.customers.height
    counts = np.bincount(cust_idx, minlength=n_cust)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rec_cust = customers["_cust"].to_numpy()
    org_recs = np.flatnonzero(counts[rec_cust] > 0)
    per_rec = counts[rec_cust[org_recs]]
    rec = np.repeat(org_recs, per_rec)
    within = np.arange(len(rec)) - np.repeat(np.cumsum(per_rec) - per_rec, per_rec)
    contact = starts[rec_cust[rec]] + within
    keep = rng.random(len(rec)) < 0.9
    rec, contact = rec[keep], contact[keep]
    return {
        "rec": rec,
        "human": contacts["human_idx"].to_numpy()[contact],
        "role": contacts["role_type"].to_numpy()[contact],
    }


def person_records(world: World, customers: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """OWNER rows of individual customers, company contacts, and persons without a customer."""
    party = world.customers["party_type"].to_numpy()[customers["_cust"].to_numpy()]
    owners = np.flatnonzero((party == "INDIVIDUAL") & (rng.random(len(party)) < 0.95))
    cont = _contact_rows(world, customers, rng)
    n_free = round(world.customers.height * 0.28)
    free_human = rng.integers(0, world.n_population, n_free)
    rec = np.r_[owners, cont["rec"], np.full(n_free, -1)]
    human_idx = np.r_[customers["_human"].to_numpy()[owners], cont["human"], free_human]
    role = np.r_[np.full(len(owners), "OWNER"), cont["role"], np.full(n_free, "OWNER")]
    free_source = np.where(rng.random(n_free) < 0.6, "ESHOP", "MARKETING")
    source = np.r_[customers["source_system"].to_numpy()[np.r_[owners, cont["rec"]]], free_source]
    n = len(rec)
    has_customer = rec >= 0
    cust_sid = masked(customers["source_id"].gather(np.clip(rec, 0, None)), has_customer)
    human = world.humans[human_idx]
    frame = pl.DataFrame(
        {
            "source_system": source,
            "source_id": source_ids(rng, "person", source),
            "updated_at": updated_at(rng, n),
            "customer_source_id": cust_sid,
            "role_type": role,
            **{c: human[c] for c in HUMAN_COLUMNS},
            "chars": chars(rng, n, 0.04),
            "_party": human["human_id"],
            "_rec": rec,
            "_human": human_idx,
            "_building": human["building"],
            "_country": human["country"],
        }
    )
    frame = noise.names(frame, rng)
    frame = noise.birth_dates(frame, rng)
    # a person's phone is read in its customer's country (CZ without one)
    context = np.full(n, "CZ")
    context[has_customer] = customers["country"].to_numpy()[rec[has_customer]]
    national_ok = human["country"].to_numpy() == context
    frame = noise.contacts(frame, rng, human["country"].to_numpy(), (860_000, 930_000), national_ok)
    frame = noise.consents(frame, rng)
    u, fmt = pl.lit(pl.Series(rng.random(n))), pl.lit(pl.Series(rng.random(n)))
    keep_nid = u < noise.rate({"BSS": 0.6, "LEGACY_CRM": 0.5, "PARTNER_PORTAL": 0.2}, 0.04)
    nid = pl.col("national_id")
    return frame.with_columns(
        national_id=pl.when(~keep_nid)
        .then(None)
        .when(fmt < 0.3)
        .then(nid.str.replace("/", ""))
        .otherwise(nid)
    ).drop("nickname", "alt_email", *noise.NAME_EXTRAS)


def billing_contacts(customers: pl.DataFrame, persons: pl.DataFrame) -> pl.Series:
    """Per customer record: source_id of its billing contact or owner person (None if none)."""
    firsts = (
        persons.filter(
            (pl.col("_rec") >= 0) & pl.col("role_type").is_in(["BILLING_CONTACT", "OWNER"])
        )
        .group_by("_rec")
        .agg(pl.col("source_id").min())
    )
    out = pl.Series([None] * customers.height, dtype=pl.String)
    return out.scatter(firsts["_rec"].to_numpy(), firsts["source_id"])
