"""Accounts, leads and addresses (of customers, accounts, persons and leads)."""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.sample import identifiers as ids
from crm_pipelines.sample import noise
from crm_pipelines.sample.keys import chars, masked, source_ids, updated_at
from crm_pipelines.sample.population import World
from crm_pipelines.sample.text import choose

PRODUCTS = [
    "Internet 1 Gbit/s",
    "Mobilní tarif Neomezeně",
    "TV Plus",
    "Pevná linka",
    "Firemní tarif 50 SIM",
    "Optika domů",
    "",
]


def _null_where(values: np.ndarray, mask: np.ndarray) -> pl.Series:
    return masked(values.astype(str), ~mask)


def account_records(
    customers: pl.DataFrame, billing_sid: pl.Series, rng: np.random.Generator
) -> pl.DataFrame:
    src = customers["source_system"].to_numpy()
    n_c = len(src)
    count = np.select(
        [np.isin(src, ["BSS", "LEGACY_CRM"]), src == "ESHOP"],
        [rng.choice([1, 2, 3], n_c, p=[0.65, 0.25, 0.10]), (rng.random(n_c) < 0.5).astype(int)],
        1,
    )
    rec = np.repeat(np.arange(n_c), count)
    n = len(rec)
    source = src[rec]
    ctype = customers["customer_type"].to_numpy()[rec]
    cstatus = customers["status"].to_numpy()[rec]
    country = customers["country"].to_numpy()[rec]
    acct_type = np.select(
        [
            source == "ESHOP",
            (source == "PARTNER_PORTAL") & (ctype == "WHOLESALE"),
            source == "PARTNER_PORTAL",
        ],
        ["PREPAID", "WHOLESALE_SETTLEMENT", choose(rng, ["SETTLEMENT", "BILLING"], [3, 7], n)],
        choose(rng, ["BILLING", "PREPAID"], [85, 15], n),
    )
    status = np.select(
        [cstatus == "TERMINATED", cstatus == "SUSPENDED"],
        ["CLOSED", "SUSPENDED"],
        choose(rng, ["ACTIVE", "SUSPENDED", "CLOSED"], [92, 3, 5], n),
    )
    method = choose(rng, ["BANK_TRANSFER", "DIRECT_DEBIT", "CARD", "CASH"], [40, 30, 20, 10], n)
    with_iban = np.isin(method, ["BANK_TRANSFER", "DIRECT_DEBIT"]) & (rng.random(n) < 0.8)
    iban = ids.iban(rng, country)
    spaced = pl.Series(rng.random(n) < 0.25)
    iban = pl.select(
        pl.when(spaced)
        .then(iban.str.replace_all(r"(.{4})", "$1 ").str.strip_chars())
        .otherwise(iban)
    ).to_series()
    cycle = choose(rng, ["MONTHLY", "QUARTERLY", "YEARLY", ""], [80, 8, 4, 8], n)
    limit = choose(
        rng, ["0.00", "500.00", "1500.00", "3000.00", "10000", ""], [20, 20, 25, 15, 5, 15], n
    )
    bill = masked(billing_sid.gather(rec), rng.random(n) < 0.6)
    frame = pl.DataFrame(
        {
            "source_system": source,
            "source_id": source_ids(rng, "account", source),
            "updated_at": updated_at(rng, n),
            "customer_source_id": customers["source_id"].to_numpy()[rec],
            "account_type": acct_type,
            "status": status,
            "name": choose(
                rng,
                ["Hlavní účet", "Fakturační účet", "Mobilní služby", "Internet a TV", ""],
                [3, 3, 2, 2, 3],
                n,
            ),
            "currency": np.where(
                country == "SK", "EUR", np.where(rng.random(n) < 0.03, "EUR", "CZK")
            ),
            "billing_cycle": np.where(acct_type == "PREPAID", "", cycle),
            "payment_method": method,
            "iban": pl.select(pl.when(pl.Series(with_iban)).then(iban)).to_series(),
            "credit_limit": limit,
            "billing_contact_source_id": bill,
            "chars": chars(rng, n, 0.03),
            "_party": pl.Series(np.arange(n)).cast(pl.String).str.zfill(9),
            "_crec": rec,
            "_building": customers["_building"].to_numpy()[rec],
        }
    )
    empty_to_null = [
        pl.when(pl.col(c) != "").then(pl.col(c)).alias(c)
        for c in ("name", "billing_cycle", "credit_limit")
    ]
    return frame.with_columns(*empty_to_null, _party="ACC" + pl.col("_party"))


def lead_records(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """Prospects, existing customers asking again, and duplicate leads across sources."""
    cust = world.customers
    n_cust = cust.height
    n_res = int((cust["party_type"] == "INDIVIDUAL").sum())
    n_parties = max(10, round(0.2 * n_cust))
    kind = choose(rng, ["existing", "org", "prospect"], [35, 10, 55], n_parties)
    n_prospect = int((kind == "prospect").sum())
    human = np.where(kind == "existing", rng.integers(0, max(n_res, 1), n_parties), -1)
    human[kind == "prospect"] = world.n_population + np.arange(n_prospect) % (
        world.humans.height - world.n_population
    )
    org = np.where(kind == "org", rng.integers(n_res, n_cust, n_parties), -1)
    dup = rng.random(n_parties) < 0.18
    party = np.repeat(np.arange(n_parties), 1 + dup)
    first = np.r_[True, party[1:] != party[:-1]]
    primary = choose(rng, ["MARKETING", "ESHOP", "PARTNER_PORTAL"], [60, 25, 15], n_parties)
    second = choose(rng, ["MARKETING", "ESHOP", "PARTNER_PORTAL"], [50, 30, 20], n_parties)
    source = np.where(first, primary[party], second[party])
    n = len(party)
    h = world.humans[np.clip(human[party], 0, None)]
    c = cust[np.clip(org[party], 0, None)]
    is_org = pl.Series(org[party] >= 0)
    building = np.where(org[party] >= 0, c["building"].to_numpy(), h["building"].to_numpy())
    b = world.buildings[building]
    existing = kind[party] != "prospect"
    status = np.where(
        existing,
        choose(rng, ["CONVERTED", "QUALIFIED", "NEW"], [45, 30, 25], n),
        choose(rng, ["NEW", "QUALIFIED", "DISQUALIFIED", "CONVERTED"], [50, 25, 20, 5], n),
    )
    channel = np.select(
        [source == "MARKETING", source == "ESHOP"],
        [choose(rng, ["WEB", "CALL_CENTER"], [1, 1], n), choose(rng, ["WEB", "SHOP"], [7, 3], n)],
        "PARTNER",
    )
    stamps = updated_at(rng, n, 400)
    created = stamps - pl.Series(rng.integers(0, 200 * 86400, n) * 1_000_000).cast(
        pl.Duration("us")
    )
    located = pl.Series(rng.random(n) < 0.7)
    org_name = c["organization_name"]
    party_id = np.where(org[party] >= 0, c["customer_id"].to_numpy(), h["human_id"].to_numpy())
    products = choose(rng, PRODUCTS, [3, 3, 2, 1, 1, 2, 3], n)
    frame = pl.DataFrame(
        {
            "source_system": source,
            "source_id": source_ids(rng, "lead", source),
            "updated_at": stamps,
            "first_name": pl.select(pl.when(~is_org).then(h["first_name"])).to_series(),
            "nickname": h["nickname"],
            **{c: h[c] for c in noise.NAME_EXTRAS},
            "last_name": pl.select(pl.when(~is_org).then(h["last_name"])).to_series(),
            "organization_name": pl.select(pl.when(is_org).then(org_name)).to_series(),
            "email": pl.select(pl.when(is_org).then(c["email"]).otherwise(h["email"])).to_series(),
            "alt_email": pl.select(
                pl.when(is_org).then(c["email"]).otherwise(h["alt_email"])
            ).to_series(),
            "phone": pl.select(pl.when(is_org).then(c["phone"]).otherwise(h["phone"])).to_series(),
            "postcode": pl.select(pl.when(located).then(b["postcode"])).to_series(),
            "city": pl.select(pl.when(located).then(b["city"])).to_series(),
            "country": b["country"],
            "channel": _null_where(channel, rng.random(n) < 0.05),
            "product_interest": masked(products, products != ""),
            "status": status,
            "consent_email": h["consent_email"],
            "consent_sms": h["consent_sms"],
            "consent_post": h["consent_post"],
            "created_at": created,
            "chars": chars(rng, n, 0.03),
            "_party": party_id,
            "_building": building,
        }
    )
    frame = noise.names(frame, rng)
    frame = noise.contacts(frame, rng, b["country"].to_numpy(), (930_000, 1_000_000))
    frame = noise.consents(frame, rng)
    return frame.with_columns(
        postcode=pl.when(pl.lit(pl.Series(rng.random(n) < 0.3)))
        .then(pl.col("postcode").str.replace(" ", ""))
        .otherwise("postcode")
    ).drop("nickname", "alt_email", *noise.NAME_EXTRAS)


def address_records(
    world: World,
    customers: pl.DataFrame,
    accounts: pl.DataFrame,
    persons: pl.DataFrame,
    leads: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Addresses per owner; the building is the real-world party of an address."""
    n_b = world.buildings.height
    parts: list[dict[str, np.ndarray]] = []
    n_c = customers.height
    org = customers["party_type"].to_numpy() == "ORGANIZATION"
    main = np.flatnonzero(rng.random(n_c) < 0.92)
    parts.append(
        {"kind": "CUSTOMER", "rec": main, "role": np.where(org[main], "REGISTERED", "SERVICE")}
    )
    extra = np.flatnonzero(rng.random(n_c) < 0.2)
    parts.append(
        {
            "kind": "CUSTOMER",
            "rec": extra,
            "role": choose(rng, ["BILLING", "CORRESPONDENCE", "SHIPPING"], [4, 3, 3], len(extra)),
        }
    )
    for kind, frame, share, role in (
        ("ACCOUNT", accounts, 0.35, "BILLING"),
        ("PERSON", persons, 0.15, "CORRESPONDENCE"),
        ("LEAD", leads, 0.2, "SERVICE"),
    ):
        rec = np.flatnonzero(rng.random(frame.height) < share)
        parts.append({"kind": kind, "rec": rec, "role": np.full(len(rec), role)})
    owners = {"CUSTOMER": customers, "ACCOUNT": accounts, "PERSON": persons, "LEAD": leads}
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("kind", "role", "sid", "source", "building")
    }
    for i, part in enumerate(parts):
        owner = owners[part["kind"]]
        building = owner["_building"].to_numpy()[part["rec"]]
        if i == 1:  # a second customer address is elsewhere now and then
            moved = rng.random(len(building)) < 0.3
            building = np.where(moved, rng.integers(0, n_b, len(building)), building)
        cols["kind"].append(np.full(len(part["rec"]), part["kind"]))
        cols["role"].append(part["role"])
        cols["sid"].append(owner["source_id"].to_numpy()[part["rec"]])
        cols["source"].append(owner["source_system"].to_numpy()[part["rec"]])
        cols["building"].append(building)
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    n = len(flat["kind"])
    b = world.buildings[flat["building"]]
    frame = pl.DataFrame(
        {
            "source_system": flat["source"],
            "source_id": source_ids(rng, "address", flat["source"]),
            "updated_at": updated_at(rng, n),
            "owner_kind": flat["kind"],
            "owner_source_id": pl.Series(flat["sid"], dtype=pl.String),
            "role_type": flat["role"],
            **{
                c: b[c]
                for c in (
                    "street",
                    "descriptive",
                    "house_number",
                    "city",
                    "plain_city",
                    "postcode",
                    "country",
                    "latitude",
                    "longitude",
                )
            },
            "chars": chars(rng, n, 0.01),
            "_party": b["building_id"],
        }
    )
    # in slices: the string rewrites of a few million rows at once would double the peak memory
    step = 500_000
    frame = pl.concat(
        [noise.addresses(frame.slice(o, step), rng) for o in range(0, max(n, 1), step)]
    )
    return frame.drop("descriptive", "plain_city")
