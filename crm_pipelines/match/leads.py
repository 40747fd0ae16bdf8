"""Lead -> customer linking: the best existing customer for each lead, if clear enough.

A customer is reachable through its own contacts and, when persons are given, through the
contacts of its holder (the OWNER person row); a business lead also through those of the
customer's other persons (its billing or technical contact is the company's contact). A
private prospect who is some company's contact person is no lead of that company. Weights
are fixed log2 Bayes factors from match_settings.yaml (lead_to_customer), since leads and
customers are different populations with no per-run training signal.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crm_pipelines.match.config import similarity_cutoff
from crm_pipelines.match.name_compare import names_swapped
from crm_pipelines.match.settings import LeadToCustomerSettings, lead_to_customer_settings
from crm_pipelines.match.similarity import JW, similarity
from crm_pipelines.match.standard_forms import organization_name
from crm_pipelines.match.standardize import lead_features, read_columns, with_name_features

OUTPUT_SCHEMA = {
    "lead_record_key": pl.String,
    "customer_record_key": pl.String,
    "score": pl.Float64,
    "reason": pl.String,
}
NAME_COLUMNS = ["first_name", "last_name", "organization_name"]
CONTACT_COLUMNS = ["customer_record_key", "holder", "email", "phone", "fn_canon", "ln_stem"]
CONTACT_COLUMNS += ["org_norm", "ln_as_fn_canon", "fn_as_ln_stem"]
MAX_FANOUT = 50  # a contact value shared by more customers than this is not evidence
Source = pl.DataFrame | Path  # a staged frame, or its Parquet file (read column by column)


def _raw_contacts(customers: Source, persons: Source | None) -> pl.DataFrame:
    """customer_record_key, names and contacts of each customer and of its persons (holder,
    billing contact, ...), as staged: only the columns linking needs are read."""
    own = read_columns(customers, ["record_key", *NAME_COLUMNS, "email", "phone"])
    own = own.select(
        pl.col("record_key").alias("customer_record_key"),
        pl.lit(True).alias("holder"),
        *NAME_COLUMNS,
        "email",
        "phone",
    )
    if persons is None:
        return own
    people = read_columns(
        persons,
        ["source_system", "customer_source_id", "role_type", "first_name", "last_name"]
        + ["email", "phone"],
    )
    people = people.filter(pl.col("customer_source_id").is_not_null()).select(
        (pl.col("source_system") + "|" + pl.col("customer_source_id")).alias("customer_record_key"),
        (pl.col("role_type") == "OWNER").fill_null(False).alias("holder"),
        "first_name",
        "last_name",
        pl.lit(None, dtype=pl.String).alias("organization_name"),
        "email",
        "phone",
    )
    people = people.join(own.select("customer_record_key"), on="customer_record_key", how="semi")
    return pl.concat([own, people])


def _contacts_meeting(lead: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """Contact rows sharing an e-mail, phone or organisation name with some lead, with their
    comparison features: standardising all 5M customer and person rows for the few
    hundred thousand that can meet a lead would cost gigabytes."""
    raw = raw.with_columns(organization_name(pl.col("organization_name")).alias("org_norm"))
    meets = pl.any_horizontal(
        pl.col(key).is_in(lead[key].drop_nulls().unique().implode())
        for key in ("email", "phone", "org_norm")
    )
    return with_name_features(raw.filter(meets)).select(CONTACT_COLUMNS)


def _lead_side(leads: pl.DataFrame) -> pl.DataFrame:
    """Each lead's contacts and name features under the names the pair frame joins on."""
    return lead_features(leads).select(
        pl.col("record_key").alias("lead_record_key"),
        "email",
        "phone",
        "fn_canon",
        "ln_stem",
        "ln_as_fn_canon",
        "fn_as_ln_stem",
        "org_norm",
    )


def _candidate_pairs(lead: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """lead_record_key, customer_record_key of every lead and customer sharing an e-mail,
    phone or organisation name that few enough customers share to be evidence."""
    # fan-out is counted over the contacts that meet a lead: a value shared by many customers
    # is shared by them all there too
    candidates = []
    for key in ("email", "phone", "org_norm"):
        side = contacts.drop_nulls(key)
        fanout = side.group_by(key).agg(pl.col("customer_record_key").n_unique().alias("n"))
        side = side.join(fanout.filter(pl.col("n") <= MAX_FANOUT), on=key, how="semi")
        candidates.append(
            lead.drop_nulls(key)
            .join(side.select(key, "customer_record_key"), on=key)
            .select("lead_record_key", "customer_record_key")
        )
    return pl.concat(candidates).unique()


def _with_similarities(p: pl.DataFrame) -> pl.DataFrame:
    """The pairs with the organisation and surname similarities their levels read."""
    org_sim = similarity(p["org_norm"], p["org_norm_c"], JW)
    surname_sim = similarity(p["ln_stem"], p["ln_stem_c"], JW)
    return p.with_columns(org_sim.alias("org_sim"), surname_sim.alias("surname_sim"))


def _agreement_levels() -> dict[str, pl.Expr]:
    """How a lead and a contact agree, field by field, as the expressions that both the
    weights and the reason read: one definition, so the score and its reason cannot drift."""
    name_present = pl.col("ln_stem").is_not_null() & pl.col("ln_stem_c").is_not_null()
    same_initial = (
        pl.col("fn_canon").str.slice(0, 1) == pl.col("fn_canon_c").str.slice(0, 1)
    ).fill_null(False)
    # ... or the names in the other order: a source that sends "surname first" (the
    # person feeds carry such swaps too), read both ways
    swapped = names_swapped(pl.col, lambda name: pl.col(f"{name}_c"))
    return {
        "email": (pl.col("email") == pl.col("email_c")).fill_null(False),
        "phone": (pl.col("phone") == pl.col("phone_c")).fill_null(False),
        "name_present": name_present,
        "name_same": (
            name_present
            & (pl.col("ln_stem") == pl.col("ln_stem_c"))
            & (pl.col("fn_canon") == pl.col("fn_canon_c")).fill_null(False)
        ),
        "name_alike": name_present
        & (((pl.col("ln_stem") == pl.col("ln_stem_c")) & same_initial) | swapped.fill_null(False)),
        # a typo in the surname (Zeman / eZman, Kořínková / Křínková), the first name the same
        # or a form of it (its initial): one person as a clerk keyed him twice
        "name_similar": (
            name_present
            & (pl.col("surname_sim") >= similarity_cutoff("last_name_similar_jw")).fill_null(False)
            & same_initial
        ),
        "org_same": (pl.col("org_sim") >= similarity_cutoff("lead_org_same")).fill_null(False),
        "org_similar": (pl.col("org_sim") >= similarity_cutoff("lead_org_similar")).fill_null(
            False
        ),
    }


def _log2_odds(level: dict[str, pl.Expr], cfg: LeadToCustomerSettings) -> pl.Expr:
    """The prior plus each field's fixed Bayes factor (log2) at the level it reached."""
    w = cfg.weights
    return (
        pl.lit(cfg.prior_log2_odds)
        + pl.when(level["email"]).then(w["email_same"]).otherwise(0)
        + pl.when(level["phone"]).then(w["phone_same"]).otherwise(0)
        + pl.when(level["name_same"])
        .then(w["name_same"])
        .when(level["name_alike"])
        .then(w["name_alike"])
        .when(level["name_similar"])
        .then(w["name_similar"])
        .when(level["name_present"])
        .then(w["name_different"])
        .otherwise(0)
        + pl.when(level["org_same"])
        .then(w["org_name_same"])
        .when(level["org_similar"])
        .then(w["org_name_similar"])
        .otherwise(0)
    )


def _reason(level: dict[str, pl.Expr]) -> pl.Expr:
    """The same levels in words, for the steward reading why a lead was linked."""
    return pl.concat_str(
        [
            pl.when(level["email"]).then(pl.lit("same e-mail")),
            pl.when(level["phone"]).then(pl.lit("same phone")),
            pl.when(level["name_same"])
            .then(pl.lit("same name"))
            .when(level["name_alike"])
            .then(pl.lit("similar name"))
            .when(level["name_similar"])
            .then(pl.lit("surname misspelt"))
            .when(level["name_present"])
            .then(pl.lit("name differs")),
            pl.when(level["org_same"])
            .then(pl.lit("same organisation name"))
            .when(level["org_similar"])
            .then(pl.lit("similar organisation name")),
        ],
        separator="; ",
        ignore_nulls=True,
    )


def _best_per_lead(scored: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Each lead's highest-scoring customer (ties to the lowest key), if above the threshold."""
    best = (
        scored.sort(
            ["lead_record_key", "score", "customer_record_key"], descending=[False, True, False]
        )
        .unique("lead_record_key", keep="first", maintain_order=True)
        .filter(pl.col("score") >= threshold)
    )
    return best.select(list(OUTPUT_SCHEMA)).cast(OUTPUT_SCHEMA)


def match_leads_to_customers(
    leads: pl.DataFrame, customers: Source, persons: Source | None = None
) -> pl.DataFrame:
    """lead_record_key, customer_record_key, score (probability), reason -- best per lead."""
    if leads.height == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    cfg = lead_to_customer_settings()
    lead = _lead_side(leads)
    contacts = _contacts_meeting(lead, _raw_contacts(customers, persons))
    pairs = _candidate_pairs(lead, contacts)
    if pairs.height == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    p = pairs.join(lead, on="lead_record_key").join(contacts, on="customer_record_key", suffix="_c")
    # a private prospect meets a customer through the customer itself or its holder only
    p = p.filter(pl.col("holder") | pl.col("org_norm").is_not_null())
    if p.height == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    level = _agreement_levels()
    scored = (
        _with_similarities(p)
        .with_columns(
            _log2_odds(level, cfg).alias("log2_odds"),
            _reason(level).alias("reason"),
        )
        .with_columns((1.0 / (1.0 + 2.0 ** (-pl.col("log2_odds")))).alias("score"))
    )
    return _best_per_lead(scored, cfg.threshold)


def customer_of_leads(links: pl.DataFrame, customer_clusters: pl.DataFrame) -> pl.DataFrame:
    """record_key -> customer_cluster: the golden customer each linked lead belongs to.

    Two leads of one customer are one prospect even when they share no mailbox or number:
    the customer's master record knows them all (lead matching compares it).
    """
    return (
        links.sort(["score", "customer_record_key"], descending=[True, False])
        .unique("lead_record_key", keep="first", maintain_order=True)
        .join(
            customer_clusters.rename({"record_key": "customer_record_key"}),
            on="customer_record_key",
        )
        .select(
            pl.col("lead_record_key").alias("record_key"),
            pl.col("cluster_id").alias("customer_cluster"),
        )
    )
