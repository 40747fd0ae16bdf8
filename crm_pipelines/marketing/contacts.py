"""Per channel, who may be contacted where: consent with its proof, and a valid contact.

Everything here is campaign-independent and computed once per run for all customers and
leads; campaigns only join to it. Where a letter goes: postal.py.
"""

from __future__ import annotations

import polars as pl

from crm_pipelines.marketing.frames import CONTACT_ROW_COLUMNS, WITHDRAWN_COLUMNS
from crm_pipelines.marketing.postal import (
    ADDRESS_COLUMNS,
    best_postal_address,
    owner_best_address,
    person_address_first,
    with_post_address,
)
from crm_pipelines.marketing.rules import CampaignRules

GIVEN = "GIVEN"
POST = "POST"


def latest_statements(
    lineage: pl.LazyFrame,
    entity: str,
    keys: pl.LazyFrame,
    id_col: str,
    key: str,
    attributes: list[str],
) -> pl.DataFrame:
    """Per record (integer `key`) and consent attribute: the source statement behind the
    golden value -- the most recent one, which is the proof GDPR Art. 7(1) asks for.

    Almost every attribute has one statement; only the few with several are sorted."""
    attribute_no = {attribute: i for i, attribute in enumerate(attributes)}
    statements = (
        lineage.filter((pl.col("entity") == entity) & pl.col("attribute").is_in(attributes))
        .join(keys.select(id_col, key), left_on="master_id", right_on=id_col)
        .with_columns(
            (
                pl.col(key).cast(pl.UInt64) * len(attributes)
                + pl.col("attribute").replace_strict(attribute_no, return_dtype=pl.UInt64)
            ).alias("statement_of")
        )
        .with_columns(pl.len().over("statement_of").alias("statements"))
    )
    latest = pl.concat(
        [
            statements.filter(pl.col("statements") == 1),
            statements.filter(pl.col("statements") > 1)
            .sort("statement_of", "updated_at", "record_key", nulls_last=False)
            .unique(subset=["statement_of"], keep="last", maintain_order=True),
        ]
    )
    return latest.select(
        key,
        "attribute",
        pl.col("source_system").alias("consent_source_system"),
        pl.col("source_id").alias("consent_source_id"),
        pl.col("updated_at").alias("consent_updated_at"),
    ).collect()


def consent_state(attribute: str) -> pl.Expr:
    """True with a proving statement = given; true without one is not used; false =
    withdrawn (an explicit no); null = no statement = no consent."""
    consent = pl.col(attribute)
    return (
        pl.when(consent & pl.col("consent_source_system").is_not_null())
        .then(pl.lit(GIVEN))
        .when(consent)
        .then(pl.lit("NO_CONSENT_PROOF"))
        .when(consent.not_())
        .then(pl.lit("CONSENT_WITHDRAWN"))
        .otherwise(pl.lit("NO_CONSENT"))
    )


def channel_options(
    records: pl.LazyFrame,
    key: str,
    statements: pl.DataFrame,
    channel: str,
    attribute: str,
    suppression: pl.DataFrame,
) -> pl.LazyFrame:
    """Per record (integer `key`): consent state, its proof, the direct contact and, when
    the contact point is on the suppression list, the record that withdrew it."""
    proof = statements.lazy().filter(pl.col("attribute") == attribute).drop("attribute")
    withdrawn = (
        suppression.lazy()
        .filter(pl.col("channel") == channel)
        .select("contact", *[pl.col(c).alias(a) for c, a in WITHDRAWN_COLUMNS.items()])
    )
    return (
        records.select(key, attribute, direct_contact(channel).alias("contact"))
        .join(proof, on=key, how="left")
        .join(withdrawn, on="contact", how="left")
        .with_columns(consent_state(attribute).alias("consent_state"))
        .drop(attribute)
    )


def direct_contact(channel: str) -> pl.Expr:
    """E-mail or SMS contact of a person or lead: lower-cased e-mail, E.164 mobile number.
    Null for POST (letters go to addresses) or when there is no valid one."""
    if channel == "EMAIL":
        email = pl.col("email").str.strip_chars().str.to_lowercase()
        return pl.when(email != "").then(email)
    if channel == "SMS":
        phone = pl.col("phone").str.strip_chars()
        mobile = pl.col("phone_is_mobile").fill_null(False) & phone.str.starts_with("+")
        return pl.when(mobile).then(phone)
    return pl.lit(None, dtype=pl.String)


def _decide(contact_col: str) -> pl.Expr:
    """The reason a candidate is not contactable on the channel, or null when it is. A
    contact point withdrawn on any record (suppression list) is not used, whatever the
    candidate's own golden consent says."""
    state = pl.col("consent_state").fill_null("NO_CONSENT")
    return (
        pl.when(state != GIVEN)
        .then(state)
        .when(pl.col(contact_col).is_null())
        .then(pl.lit("INVALID_CONTACT"))
        .when(pl.col("withdrawn_source_id").is_not_null())
        .then(pl.lit("CONTACT_WITHDRAWN"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _ranked_roles(
    customer_no: pl.LazyFrame, people: pl.LazyFrame, person_role: pl.LazyFrame, rules: CampaignRules
) -> pl.LazyFrame:
    """c, p, role_rank, role_type: each customer's contact persons at their best role, and
    whether the customer has several (only those need ranking). Collected once: every
    channel joins it."""
    return (
        person_role.with_columns(rules.rank("role_type", rules.role_priority).alias("role_rank"))
        .filter(pl.col("role_rank").is_not_null())
        .join(customer_no, on="customer_id")
        .join(people.select("person_id", "p"), on="person_id")
        .select("c", "p", "role_rank", "role_type")
        .sort("c", "p", "role_rank")
        .unique(subset=["c", "p"], keep="first", maintain_order=True)
        .with_columns((pl.len().over("c") > 1).alias("several"))
        .collect()
        .lazy()
    )


def _best_person_per_customer(options: pl.LazyFrame) -> list[pl.LazyFrame]:
    """On one channel, per customer: the highest-role person who qualifies, else the top
    person with the reason. Most customers have one contact person: only the others need
    ranking."""
    return [
        options.filter(~pl.col("several")),
        options.filter(pl.col("several"))
        .sort("c", pl.col("reason").is_not_null(), "role_rank", "p")
        .unique(subset=["c"], keep="first", maintain_order=True),
    ]


def _contact_rows(chosen: pl.LazyFrame, people: pl.LazyFrame, rules: CampaignRules) -> pl.LazyFrame:
    """The chosen persons as contact rows: keyed by contact_key, with the name a letter or
    message greets them by."""
    names = people.select(
        "p",
        "person_id",
        pl.concat_str(
            [pl.col("first_name"), pl.col("last_name")], separator=" ", ignore_nulls=True
        ).alias("salutation_name"),
    )
    return chosen.join(names, on="p").select(
        channel_key("c", pl.col("channel"), rules),
        *CONTACT_ROW_COLUMNS,
        *ADDRESS_COLUMNS,
        "address_owner",
    )


def customer_contacts(
    customer_no: pl.LazyFrame,
    person: pl.LazyFrame,
    person_role: pl.LazyFrame,
    address_role: pl.LazyFrame,
    postal: pl.LazyFrame,
    lineage: pl.LazyFrame,
    rules: CampaignRules,
    suppression: pl.DataFrame,
) -> pl.LazyFrame:
    """Per customer (`c`, its row number in customer_no) and channel: the highest-role
    person who qualifies, else the top person's reason for not qualifying (no row when the
    customer has no contactable role). Keyed by `contact_key` (see channel_key).

    Ids become integer row numbers for the heavy joins and the ranking: with string keys
    this step took most of the run at a million customers.
    """
    people = person.with_row_index("p").collect().lazy()
    roles = _ranked_roles(customer_no, people, person_role, rules)
    statements = latest_statements(
        lineage, "person", people, "person_id", "p", list(rules.consent_attribute.values())
    )
    person_first = person_address_first(rules)
    per_channel = []
    for channel, attribute in rules.consent_attribute.items():
        options = roles.join(
            channel_options(people, "p", statements, channel, attribute, suppression),
            on="p",
            how="left",
        )
        if channel == POST:
            options = with_post_address(
                options,
                owner_best_address(
                    address_role, postal, rules, "CUSTOMER", customer_no, "customer_id", "c"
                ),
                owner_best_address(address_role, postal, rules, "PERSON", people, "person_id", "p"),
                person_first,
                rules.own_address_roles,
            )
        options = options.with_columns(
            _decide("contact").alias("reason"), pl.lit(channel).alias("channel")
        )
        per_channel.extend(_best_person_per_customer(options))
    return _contact_rows(pl.concat(per_channel, how="diagonal"), people, rules)


def channel_key(key: str, channel: pl.Expr, rules: CampaignRules) -> pl.Expr:
    """One integer join key for (record number, channel)."""
    channel_no = channel.replace_strict(
        {ch: i for i, ch in enumerate(rules.channels)}, default=None, return_dtype=pl.UInt64
    )
    return (pl.col(key).cast(pl.UInt64) * len(rules.channels) + channel_no).alias("contact_key")


def lead_contacts(
    leads: pl.LazyFrame,
    address_role: pl.LazyFrame,
    postal: pl.LazyFrame,
    lineage: pl.LazyFrame,
    rules: CampaignRules,
    suppression: pl.DataFrame,
) -> pl.LazyFrame:
    """Per lead and channel: its contact, consent proof and the reason it cannot be used."""
    numbered = leads.with_row_index("n").collect().lazy()
    statements = latest_statements(
        lineage, "lead", numbered, "lead_id", "n", list(rules.consent_attribute.values())
    )
    lead_addr = (
        best_postal_address(address_role, postal, "LEAD", rules)
        .join(numbered.select("lead_id", "n"), left_on="owner_id", right_on="lead_id")
        .select("n", "address_id", "address_role", "postal_contact")
    )
    per_channel = []
    for channel, attribute in rules.consent_attribute.items():
        options = channel_options(numbered, "n", statements, channel, attribute, suppression)
        if channel == POST:
            options = (
                options.drop("contact")
                .join(lead_addr, on="n", how="left")
                .rename({"postal_contact": "contact"})
            )
        per_channel.append(
            options.with_columns(
                pl.lit(channel).alias("channel"), _decide("contact").alias("reason")
            )
        )
    return (
        pl.concat(per_channel, how="diagonal")
        .join(numbered.select("n", "lead_id"), on="n")
        .drop("n")
    )
