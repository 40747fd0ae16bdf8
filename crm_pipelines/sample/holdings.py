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
# the building columns an address record carries (descriptive and plain_city for the noise)
ADDRESS_COLUMNS = (
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


def _null_where(values: np.ndarray, mask: np.ndarray) -> pl.Series:
    return masked(values.astype(str), ~mask)


def _accounts_per_customer(rng: np.random.Generator, src: np.ndarray) -> np.ndarray:
    """Customer record of each account: 1-3 per BSS and legacy customer, 0-1 per e-shop one."""
    n_c = len(src)
    count = np.select(
        [np.isin(src, ["BSS", "LEGACY_CRM"]), src == "ESHOP"],
        [rng.choice([1, 2, 3], n_c, p=[0.65, 0.25, 0.10]), (rng.random(n_c) < 0.5).astype(int)],
        1,
    )
    return np.repeat(np.arange(n_c), count)


def _account_type_and_status(
    rng: np.random.Generator, source: np.ndarray, ctype: np.ndarray, cstatus: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The e-shop sells prepaid, partners settle; a closed customer's accounts are closed."""
    n = len(source)
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
    return acct_type, status


def _payment_method_and_iban(
    rng: np.random.Generator, country: np.ndarray
) -> tuple[np.ndarray, pl.Series]:
    """Most bank payers give an IBAN, a quarter of them written in groups of four."""
    n = len(country)
    method = choose(rng, ["BANK_TRANSFER", "DIRECT_DEBIT", "CARD", "CASH"], [40, 30, 20, 10], n)
    with_iban = np.isin(method, ["BANK_TRANSFER", "DIRECT_DEBIT"]) & (rng.random(n) < 0.8)
    iban = ids.iban(rng, country)
    spaced = pl.Series(rng.random(n) < 0.25)
    iban = pl.select(
        pl.when(spaced)
        .then(iban.str.replace_all(r"(.{4})", "$1 ").str.strip_chars())
        .otherwise(iban)
    ).to_series()
    return method, pl.select(pl.when(pl.Series(with_iban)).then(iban)).to_series()


def _billing_terms(
    rng: np.random.Generator, rec: np.ndarray, billing_sid: pl.Series
) -> tuple[np.ndarray, np.ndarray, pl.Series]:
    """Billing cycle, credit limit ("" = none) and, for most, the billing contact person."""
    n = len(rec)
    cycle = choose(rng, ["MONTHLY", "QUARTERLY", "YEARLY", ""], [80, 8, 4, 8], n)
    limit = choose(
        rng, ["0.00", "500.00", "1500.00", "3000.00", "10000", ""], [20, 20, 25, 15, 5, 15], n
    )
    bill = masked(billing_sid.gather(rec), rng.random(n) < 0.6)
    return cycle, limit, bill


def account_records(
    customers: pl.DataFrame, billing_sid: pl.Series, rng: np.random.Generator
) -> pl.DataFrame:
    """Accounts of the customer records; every account is a real-world party of its own."""
    src = customers["source_system"].to_numpy()
    rec = _accounts_per_customer(rng, src)
    n = len(rec)
    source = src[rec]
    country = customers["country"].to_numpy()[rec]
    acct_type, status = _account_type_and_status(
        rng, source, customers["customer_type"].to_numpy()[rec], customers["status"].to_numpy()[rec]
    )
    method, iban = _payment_method_and_iban(rng, country)
    cycle, limit, bill = _billing_terms(rng, rec, billing_sid)
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
            "iban": iban,
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


def _lead_parties(
    rng: np.random.Generator, world: World
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who each lead party is: an existing residential customer's human, a prospect (a human
    who is no customer) or an organisation customer. Returns the kind and the (human, org) indexes, -1 = none."""
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
    return kind, human, org


def _lead_sources(rng: np.random.Generator, n_parties: int) -> tuple[np.ndarray, np.ndarray]:
    """Party and source of each lead: some parties leave a second lead in another source."""
    dup = rng.random(n_parties) < 0.18
    party = np.repeat(np.arange(n_parties), 1 + dup)
    first = np.r_[True, party[1:] != party[:-1]]
    primary = choose(rng, ["MARKETING", "ESHOP", "PARTNER_PORTAL"], [60, 25, 15], n_parties)
    second = choose(rng, ["MARKETING", "ESHOP", "PARTNER_PORTAL"], [50, 30, 20], n_parties)
    return party, np.where(first, primary[party], second[party])


def _lead_status_and_channel(
    rng: np.random.Generator, existing: np.ndarray, source: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Leads of existing customers mostly convert; the channel follows the source."""
    n = len(source)
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
    return status, channel


def _lead_dates(rng: np.random.Generator, n: int) -> tuple[pl.Series, pl.Series]:
    """Last update within 400 days; created up to 200 days before it."""
    stamps = updated_at(rng, n, 400)
    created = stamps - pl.Series(rng.integers(0, 200 * 86400, n) * 1_000_000).cast(
        pl.Duration("us")
    )
    return stamps, created


def _noisy_leads(
    frame: pl.DataFrame, rng: np.random.Generator, country: np.ndarray
) -> pl.DataFrame:
    """Typos and formats in names and contacts, consent noise, postcodes without the space."""
    frame = noise.names(frame, rng)
    frame = noise.contacts(frame, rng, country, (930_000, 1_000_000))
    frame = noise.consents(frame, rng)
    return frame.with_columns(
        postcode=pl.when(pl.lit(pl.Series(rng.random(frame.height) < 0.3)))
        .then(pl.col("postcode").str.replace(" ", ""))
        .otherwise("postcode")
    ).drop("nickname", "alt_email", *noise.NAME_EXTRAS)


def lead_records(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """Prospects, existing customers asking again, and duplicate leads across sources."""
    kind, human, org = _lead_parties(rng, world)
    party, source = _lead_sources(rng, len(human))
    n = len(party)
    h = world.humans[np.clip(human[party], 0, None)]
    c = world.customers[np.clip(org[party], 0, None)]
    is_org = pl.Series(org[party] >= 0)
    building = np.where(org[party] >= 0, c["building"].to_numpy(), h["building"].to_numpy())
    b = world.buildings[building]
    status, channel = _lead_status_and_channel(rng, kind[party] != "prospect", source)
    stamps, created = _lead_dates(rng, n)
    located = pl.Series(rng.random(n) < 0.7)
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
            "organization_name": pl.select(
                pl.when(is_org).then(c["organization_name"])
            ).to_series(),
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
    return _noisy_leads(frame, rng, b["country"].to_numpy())


def _address_owners(
    rng: np.random.Generator, owners: dict[str, pl.DataFrame]
) -> list[dict[str, np.ndarray]]:
    """Which owner records get an address, in which role: most customers a main one, some a
    second; some accounts, persons and leads one of their own. Order: main, second, others."""
    parts: list[dict[str, np.ndarray]] = []
    n_c = owners["CUSTOMER"].height
    org = owners["CUSTOMER"]["party_type"].to_numpy() == "ORGANIZATION"
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
    for kind, share, role in (
        ("ACCOUNT", 0.35, "BILLING"),
        ("PERSON", 0.15, "CORRESPONDENCE"),
        ("LEAD", 0.2, "SERVICE"),
    ):
        rec = np.flatnonzero(rng.random(owners[kind].height) < share)
        parts.append({"kind": kind, "rec": rec, "role": np.full(len(rec), role)})
    return parts


def _address_rows(
    rng: np.random.Generator,
    parts: list[dict[str, np.ndarray]],
    owners: dict[str, pl.DataFrame],
    n_buildings: int,
) -> dict[str, np.ndarray]:
    """One row per address: owner kind, role, owner key and source, and the building."""
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("kind", "role", "sid", "source", "building")
    }
    for i, part in enumerate(parts):
        owner = owners[part["kind"]]
        building = owner["_building"].to_numpy()[part["rec"]]
        if i == 1:  # a second customer address is elsewhere now and then
            moved = rng.random(len(building)) < 0.3
            building = np.where(moved, rng.integers(0, n_buildings, len(building)), building)
        cols["kind"].append(np.full(len(part["rec"]), part["kind"]))
        cols["role"].append(part["role"])
        cols["sid"].append(owner["source_id"].to_numpy()[part["rec"]])
        cols["source"].append(owner["source_system"].to_numpy()[part["rec"]])
        cols["building"].append(building)
    return {k: np.concatenate(v) for k, v in cols.items()}


def address_records(
    world: World,
    customers: pl.DataFrame,
    accounts: pl.DataFrame,
    persons: pl.DataFrame,
    leads: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Addresses per owner; the building is the real-world party of an address."""
    owners = {"CUSTOMER": customers, "ACCOUNT": accounts, "PERSON": persons, "LEAD": leads}
    parts = _address_owners(rng, owners)
    flat = _address_rows(rng, parts, owners, world.buildings.height)
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
            **{c: b[c] for c in ADDRESS_COLUMNS},
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
