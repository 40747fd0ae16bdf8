"""The real world behind the feeds: humans, buildings, customers, contacts, hard negatives.

Source records are later drawn from these tables with per-source noise, so every record
knows which real party it describes (the ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_pipelines.sample import identifiers as ids
from crm_pipelines.sample.humans import distinct_emails, humans_and_buildings
from crm_pipelines.sample.text import ascii_lower, choose, reference

LEGAL_FORM_SUFFIX = {
    "S_R_O": "s.r.o.",
    "A_S": "a.s.",
    "V_O_S": "v.o.s.",
    "K_S": "k.s.",
    "DRUZSTVO": "družstvo",
    "SPOLEK": "z.s.",
    "STATNI": "s.p.",
}


@dataclass
class World:
    humans: pl.DataFrame
    buildings: pl.DataFrame
    customers: pl.DataFrame
    contacts: pl.DataFrame  # customer_idx, human_idx, role_type
    hard_negatives: pl.DataFrame  # entity, kind, left_party, right_party (party ids)
    n_population: int  # humans before the lead-only prospects


def _org_names(
    rng: np.random.Generator, legal_form: np.ndarray, city: pl.Series, n: int
) -> pl.Series:
    words = reference("company_words")["word"]
    surnames = reference("surnames")["male"]
    i1 = rng.integers(0, len(words), n)
    w1 = words.gather(i1)
    w2 = words.gather((i1 + rng.integers(1, len(words), n)) % len(words))
    sur = surnames.gather(rng.integers(0, len(surnames), n))
    pattern = pl.Series(rng.integers(0, 3, n))
    shout = pl.Series(rng.random(n) < 0.25)
    suffix = pl.Series([LEGAL_FORM_SUFFIX.get(f, "") for f in legal_form])
    spol = pl.Series(rng.random(n) < 0.3) & (suffix == "s.r.o.")
    base = pl.select(
        pl.when(pattern == 0)
        .then(sur + " " + w1)
        .when(pattern == 1)
        .then(w1 + w2.str.to_lowercase())
        .otherwise(w1 + " " + city)
    ).to_series()
    base = pl.select(pl.when(shout).then(base.str.to_uppercase()).otherwise(base)).to_series()
    sep = pl.Series(np.where(rng.random(n) < 0.3, ", ", " "))
    return pl.select(
        pl.when(spol).then(base + sep + "spol. s r.o.").otherwise(base + sep + suffix)
    ).to_series()


def build_world(rng: np.random.Generator, n_customers: int) -> World:
    n_res = round(n_customers * 0.8)
    n_org = n_customers - n_res
    legal_form = choose(
        rng,
        ["S_R_O", "A_S", "V_O_S", "K_S", "DRUZSTVO", "SPOLEK", "STATNI", "OSVC"],
        [55, 9, 3, 2, 2, 2, 2, 25],
        n_org,
    )
    osvc = legal_form == "OSVC"
    n_contacts = np.where(
        osvc,
        1 + (rng.random(n_org) < 0.2),
        rng.choice([1, 2, 3, 4], n_org, p=[0.3, 0.35, 0.2, 0.15]),
    )
    total_contacts = int(n_contacts.sum())
    reuse = rng.random(total_contacts) < 0.2  # the contact is also a residential customer
    n_new = int((~reuse).sum())
    n_pop = n_res + n_new
    n_prospects = round(n_customers * 0.2)
    humans, buildings, hn_humans = humans_and_buildings(rng, n_pop + n_prospects, n_res)

    # contacts: one row per (organisation, contact human)
    org_of_contact = np.repeat(np.arange(n_org), n_contacts)
    first_of_org = np.r_[0, np.cumsum(n_contacts)[:-1]]
    is_first = np.zeros(total_contacts, dtype=bool)
    is_first[first_of_org] = True
    contact_human = np.empty(total_contacts, dtype=np.int64)
    contact_human[~reuse] = n_res + np.arange(n_new)
    contact_human[reuse] = rng.integers(0, n_res, int(reuse.sum()))
    role = choose(
        rng,
        ["BILLING_CONTACT", "TECHNICAL_CONTACT", "LEGAL_REPRESENTATIVE", "SALES_CONTACT"],
        [35, 30, 15, 20],
        total_contacts,
    )
    role = np.where(
        is_first, np.where(osvc[org_of_contact], "LEGAL_REPRESENTATIVE", "BILLING_CONTACT"), role
    )
    contacts = pl.DataFrame(
        {"customer_idx": org_of_contact + n_res, "human_idx": contact_human, "role_type": role}
    )

    owner = np.where(osvc, contact_human[first_of_org], -1)
    b_country = buildings["country"].to_numpy()
    h_building = humans["building"].to_numpy()
    org_country = np.where(
        osvc,
        humans["country"].to_numpy()[owner.clip(min=0)],
        choose(rng, ["CZ", "SK"], [0.88, 0.12], n_org),
    ).astype("<U2")
    org_building = np.empty(n_org, dtype=np.int64)
    for cc in ("CZ", "SK"):
        mask = org_country == cc
        org_building[mask] = rng.choice(np.flatnonzero(b_country == cc), int(mask.sum()))
    org_building = np.where(
        osvc & (rng.random(n_org) < 0.7), h_building[owner.clip(min=0)], org_building
    )
    city = buildings["plain_city"].gather(org_building)
    org_name = _org_names(rng, legal_form, city, n_org)
    owner_name = (
        humans["first_name"].gather(owner.clip(min=0))
        + " "
        + humans["last_name"].gather(owner.clip(min=0))
    )
    trade = reference("company_words")["word"].gather(rng.integers(0, 40, n_org))
    osvc_name = pl.select(
        pl.when(pl.Series(rng.random(n_org) < 0.5))
        .then(owner_name + " - " + trade)
        .otherwise(owner_name)
    ).to_series()
    org_name = pl.select(pl.when(pl.Series(osvc)).then(osvc_name).otherwise(org_name)).to_series()

    # similar company names with a different IČO
    plain = np.flatnonzero(~osvc)
    k = min(len(plain) // 2, max(2, round(0.003 * n_org)))
    picks = rng.permutation(plain)[: 2 * k].reshape(2, k)
    variant = pl.Series(np.array([" CZ", " Group", " Morava", " Plus"])[rng.integers(0, 4, k)])
    left_names = org_name.gather(picks[0])
    similar = left_names.str.replace(
        r"(,? (spol\. s r\.o\.|s\.r\.o\.|a\.s\.|v\.o\.s\.|k\.s\.|družstvo|z\.s\.|s\.p\.))$",
        variant + "$1",
    )
    org_name = org_name.scatter(picks[1], similar)
    legal_form[picks[1]] = legal_form[picks[0]]
    org_country[picks[1]] = org_country[picks[0]]
    hn_orgs = pl.DataFrame(
        {"kind": "SIMILAR_COMPANY_NAME", "left": picks[0] + n_res, "right": picks[1] + n_res}
    )

    registration = ids.ico(rng, n_org)
    vat = pl.select(
        pl.when(pl.Series(org_country == "SK"))
        .then(ids.sk_vat(rng, n_org))
        .otherwise("CZ" + registration)
    ).to_series()
    org_email = pl.select(
        pl.concat_str(
            pl.lit("info@"),
            ascii_lower(org_name.str.replace(r",? [a-zž][a-z .ž]*$", "").str.head(18)),
            pl.lit("."),
            pl.Series(org_country).str.to_lowercase(),
        )
    ).to_series()
    org_email = distinct_emails(org_email)
    owner_contact = pl.Series(osvc & (rng.random(n_org) < 0.5))
    org_email = pl.select(
        pl.when(owner_contact).then(humans["email"].gather(owner.clip(min=0))).otherwise(org_email)
    ).to_series()
    org_phone = pl.select(
        pl.when(owner_contact)
        .then(humans["phone"].gather(owner.clip(min=0)))
        .otherwise(ids.mobile_e164(rng, org_country, (600_000, 800_000)))
    ).to_series()
    org_type = np.where(
        legal_form == "STATNI",
        "GOVERNMENT",
        np.where(rng.random(n_org) < 0.02, "WHOLESALE", "BUSINESS"),
    )
    org_segment = np.where(
        osvc,
        "SOHO",
        np.where(
            org_type == "WHOLESALE",
            "WHOLESALE",
            choose(rng, ["SOHO", "SME", "CORPORATE", "KEY_ACCOUNT"], [30, 45, 18, 7], n_org),
        ),
    )
    status = choose(
        rng, ["ACTIVE", "SUSPENDED", "TERMINATED", "PROSPECT"], [80, 5, 10, 5], n_customers
    )
    customers = pl.DataFrame(
        {
            "customer_id": pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(8),
            "party_type": np.r_[np.full(n_res, "INDIVIDUAL"), np.full(n_org, "ORGANIZATION")],
            "customer_type": np.r_[np.full(n_res, "RESIDENTIAL"), org_type],
            "segment": np.r_[np.where(rng.random(n_res) < 0.9, "MASS", "SOHO"), org_segment],
            "status": status,
            "legal_form": pl.concat(
                [pl.Series([None] * n_res, dtype=pl.String), pl.Series(legal_form.astype(str))]
            ),
            "organization_name": pl.concat([pl.Series([None] * n_res, dtype=pl.String), org_name]),
            "registration_no": pl.concat(
                [pl.Series([None] * n_res, dtype=pl.String), registration]
            ),
            "vat_no": pl.concat([pl.Series([None] * n_res, dtype=pl.String), vat]),
            "email": pl.concat([humans["email"].head(n_res), org_email]),
            "phone": pl.concat([humans["phone"].head(n_res), org_phone]),
            "holder": np.r_[np.arange(n_res), owner],
            "building": np.r_[h_building[:n_res], org_building],
            "country": np.r_[humans["country"].to_numpy()[:n_res], org_country],
        }
    ).with_columns(customer_id="K" + pl.col("customer_id"))

    hn = pl.concat(
        [
            hn_humans.with_columns(entity=pl.lit("person")),
            hn_humans.with_columns(entity=pl.lit("customer")),  # holders: customer idx == human idx
            hn_orgs.with_columns(entity=pl.lit("customer")),
        ],
        how="diagonal",
    ).select("entity", "kind", "left", "right")
    return World(humans, buildings, customers, contacts, hn, n_pop)
