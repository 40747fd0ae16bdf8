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


def _company_names(
    rng: np.random.Generator, legal_form: np.ndarray, city: pl.Series, n: int
) -> pl.Series:
    """Made-up company names in the shapes Czech firms use, with their legal-form suffix."""
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


@dataclass
class _OrgPlan:
    """How many organisations there are and how many contact people each has; drawn before
    the humans so the contacts that are new people can be added to the population."""

    n_res: int
    legal_form: np.ndarray
    osvc: np.ndarray
    n_contacts: np.ndarray
    reuse: np.ndarray  # per contact: also a residential customer (else a new human)

    @property
    def n_org(self) -> int:
        return len(self.legal_form)


def _plan_organisations(rng: np.random.Generator, n_customers: int) -> _OrgPlan:
    """80 % residential customers; organisations get a legal form and 1-4 contact people."""
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
    reuse = rng.random(int(n_contacts.sum())) < 0.2  # the contact is also a residential customer
    return _OrgPlan(n_res, legal_form, osvc, n_contacts, reuse)


def _contacts(
    rng: np.random.Generator, plan: _OrgPlan
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """One row per (organisation, contact human); the first contact is the billing contact
    (the legal representative of a sole trader). Also returns each contact's human and the
    position of each organisation's first contact."""
    n_res, reuse = plan.n_res, plan.reuse
    total_contacts = len(reuse)
    n_new = int((~reuse).sum())
    org_of_contact = np.repeat(np.arange(plan.n_org), plan.n_contacts)
    first_of_org = np.r_[0, np.cumsum(plan.n_contacts)[:-1]]
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
    first_role = np.where(plan.osvc[org_of_contact], "LEGAL_REPRESENTATIVE", "BILLING_CONTACT")
    role = np.where(is_first, first_role, role)
    contacts = pl.DataFrame(
        {"customer_idx": org_of_contact + n_res, "human_idx": contact_human, "role_type": role}
    )
    return contacts, contact_human, first_of_org


def _org_locations(
    rng: np.random.Generator,
    plan: _OrgPlan,
    owner: np.ndarray,
    humans: pl.DataFrame,
    buildings: pl.DataFrame,
) -> tuple[np.ndarray, np.ndarray]:
    """Country and seat of each organisation; a sole trader mostly works from home."""
    n_org, osvc = plan.n_org, plan.osvc
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
    return org_country, org_building


def _organisation_names(
    rng: np.random.Generator,
    plan: _OrgPlan,
    owner: np.ndarray,
    humans: pl.DataFrame,
    city: pl.Series,
) -> pl.Series:
    """Company names; a sole trader trades under the owner's name, now and then with a trade."""
    n_org = plan.n_org
    org_name = _company_names(rng, plan.legal_form, city, n_org)
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
    return pl.select(pl.when(pl.Series(plan.osvc)).then(osvc_name).otherwise(org_name)).to_series()


def _similar_company_names(
    rng: np.random.Generator,
    plan: _OrgPlan,
    org_name: pl.Series,
    org_country: np.ndarray,
) -> tuple[pl.Series, pl.DataFrame]:
    """Hard negatives: rename some companies after another one (+ " CZ", " Group", ...), with
    its legal form and country but a different IČO. Updates legal_form and org_country in
    place; returns the new names and the (kind, left, right) pairs as customer indexes."""
    n_res, legal_form = plan.n_res, plan.legal_form
    plain = np.flatnonzero(~plan.osvc)
    k = min(len(plain) // 2, max(2, round(0.003 * plan.n_org)))
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
    return org_name, hn_orgs


def _org_identifiers_and_contacts(
    rng: np.random.Generator,
    plan: _OrgPlan,
    org_name: pl.Series,
    org_country: np.ndarray,
    owner: np.ndarray,
    humans: pl.DataFrame,
) -> dict[str, pl.Series]:
    """IČO, VAT number, e-mail (info@company) and phone; half the sole traders give their own."""
    n_org = plan.n_org
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
    owner_contact = pl.Series(plan.osvc & (rng.random(n_org) < 0.5))
    org_email = pl.select(
        pl.when(owner_contact).then(humans["email"].gather(owner.clip(min=0))).otherwise(org_email)
    ).to_series()
    org_phone = pl.select(
        pl.when(owner_contact)
        .then(humans["phone"].gather(owner.clip(min=0)))
        .otherwise(ids.mobile_e164(rng, org_country, (600_000, 800_000)))
    ).to_series()
    return {"registration_no": registration, "vat_no": vat, "email": org_email, "phone": org_phone}


def _org_type_and_segment(
    rng: np.random.Generator, plan: _OrgPlan
) -> tuple[np.ndarray, np.ndarray]:
    """Customer type (state enterprises are GOVERNMENT, a few WHOLESALE) and segment."""
    n_org, osvc = plan.n_org, plan.osvc
    org_type = np.where(
        plan.legal_form == "STATNI",
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
    return org_type, org_segment


def _customers(
    rng: np.random.Generator, n_customers: int, humans: pl.DataFrame, orgs: dict
) -> pl.DataFrame:
    """The customer table: residential customers are the first humans, organisations follow."""
    n_res = n_customers - len(orgs["legal_form"])
    no_text = pl.Series([None] * n_res, dtype=pl.String)
    status = choose(
        rng, ["ACTIVE", "SUSPENDED", "TERMINATED", "PROSPECT"], [80, 5, 10, 5], n_customers
    )
    return pl.DataFrame(
        {
            "customer_id": pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(8),
            "party_type": np.r_[
                np.full(n_res, "INDIVIDUAL"), np.full(n_customers - n_res, "ORGANIZATION")
            ],
            "customer_type": np.r_[np.full(n_res, "RESIDENTIAL"), orgs["customer_type"]],
            "segment": np.r_[np.where(rng.random(n_res) < 0.9, "MASS", "SOHO"), orgs["segment"]],
            "status": status,
            "legal_form": pl.concat([no_text, pl.Series(orgs["legal_form"].astype(str))]),
            "organization_name": pl.concat([no_text, orgs["organization_name"]]),
            "registration_no": pl.concat([no_text, orgs["registration_no"]]),
            "vat_no": pl.concat([no_text, orgs["vat_no"]]),
            "email": pl.concat([humans["email"].head(n_res), orgs["email"]]),
            "phone": pl.concat([humans["phone"].head(n_res), orgs["phone"]]),
            "holder": np.r_[np.arange(n_res), orgs["holder"]],
            "building": np.r_[humans["building"].to_numpy()[:n_res], orgs["building"]],
            "country": np.r_[humans["country"].to_numpy()[:n_res], orgs["country"]],
        }
    ).with_columns(customer_id="K" + pl.col("customer_id"))


def _hard_negatives(hn_humans: pl.DataFrame, hn_orgs: pl.DataFrame) -> pl.DataFrame:
    """Look-alike pairs per entity; a residential holder's customer index is its human index."""
    return pl.concat(
        [
            hn_humans.with_columns(entity=pl.lit("person")),
            hn_humans.with_columns(entity=pl.lit("customer")),
            hn_orgs.with_columns(entity=pl.lit("customer")),
        ],
        how="diagonal",
    ).select("entity", "kind", "left", "right")


def build_world(rng: np.random.Generator, n_customers: int) -> World:
    """Draw the real world; the steps run in a fixed order, so one seed gives one world."""
    plan = _plan_organisations(rng, n_customers)
    n_pop = plan.n_res + int((~plan.reuse).sum())
    n_prospects = round(n_customers * 0.2)
    humans, buildings, hn_humans = humans_and_buildings(rng, n_pop + n_prospects, plan.n_res)
    contacts, contact_human, first_of_org = _contacts(rng, plan)
    owner = np.where(plan.osvc, contact_human[first_of_org], -1)
    org_country, org_building = _org_locations(rng, plan, owner, humans, buildings)
    city = buildings["plain_city"].gather(org_building)
    org_name = _organisation_names(rng, plan, owner, humans, city)
    org_name, hn_orgs = _similar_company_names(rng, plan, org_name, org_country)
    reachable = _org_identifiers_and_contacts(rng, plan, org_name, org_country, owner, humans)
    org_type, org_segment = _org_type_and_segment(rng, plan)
    orgs = {
        "legal_form": plan.legal_form,
        "organization_name": org_name,
        **reachable,
        "customer_type": org_type,
        "segment": org_segment,
        "holder": owner,
        "building": org_building,
        "country": org_country,
    }
    customers = _customers(rng, n_customers, humans, orgs)
    hn = _hard_negatives(hn_humans, hn_orgs)
    return World(humans, buildings, customers, contacts, hn, n_pop)
