"""Campaign targets and exclusions for the campaigns active on the run's as-of date.

Law here is the `marketing` section of the warehouse contract: only consent the golden
record holds as true (GDPR Art. 7 / 21, Czech Act 480/2004 Sb. § 7), only valid contacts,
and nobody gets the same campaign twice. Every real candidate that is not targeted is
listed with its reason, so marketing and legal can see why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from crm_pipelines.marketing.contacts import channel_key, customer_contacts, lead_contacts
from crm_pipelines.marketing.frames import (
    CONTACT_ROW_COLUMNS,
    EXCLUSION_SCHEMA,
    SUPPRESSION_SCHEMA,
    TARGET_SCHEMA,
    conform,
    golden,
    proof_columns,
)
from crm_pipelines.marketing.postal import postal_addresses
from crm_pipelines.marketing.rules import CampaignRules, load_campaign_rules, render

log = logging.getLogger(__name__)

PRAGUE = ZoneInfo("Europe/Prague")
CANDIDATE_COLUMNS = [
    "campaign_key",
    "channel",
    "target_kind",
    "kind_rank",
    "target_id",
    "target_key",
    *CONTACT_ROW_COLUMNS,
    "subject_status",
    "customer_type",
    "address_id",
    "address_role",
    "address_owner",
]


@dataclass(frozen=True)
class CampaignTargets:
    """One run's marketing tables: who gets which campaign, who does not and why, counts."""

    campaign_target: pl.DataFrame
    campaign_exclusion: pl.DataFrame
    summary: pl.DataFrame
    as_of: date


def default_as_of() -> date:
    """The contract's default as-of date: today in Europe/Prague."""
    return datetime.now(PRAGUE).date()


def active_campaigns(
    campaign: pl.LazyFrame, as_of: date, rules: CampaignRules | None = None
) -> pl.LazyFrame:
    """Campaigns running on as_of (start and end inclusive), include flags defaulted."""
    rules = rules or load_campaign_rules()
    return campaign.filter(
        (pl.col("status") == rules.campaign_active_status)
        & (pl.col("start_date") <= as_of)
        & (pl.col("end_date") >= as_of)
        & pl.col("channel").is_in(list(rules.channels))
    ).with_columns(
        pl.col("include_customers").fill_null(rules.include_customers_default),
        pl.col("include_leads").fill_null(rules.include_leads_default),
    )


def _matches(filter_list: str, value: str) -> pl.Expr:
    """An empty (or missing) filter list means all; otherwise the value must be listed."""
    return (pl.col(filter_list).list.len().fill_null(0) == 0) | pl.col(filter_list).list.contains(
        pl.col(value)
    ).fill_null(False)


def _customer_candidates(
    master: Mapping[str, pl.DataFrame],
    campaigns: pl.LazyFrame,
    postal: pl.LazyFrame,
    rules: CampaignRules,
    suppression: pl.DataFrame,
) -> pl.LazyFrame:
    customers = golden(master, "customer").filter(
        pl.col("status").is_in(list(rules.customer_statuses))
    )
    numbered = customers.with_row_index("c").collect().lazy()
    contacts = customer_contacts(
        numbered.select("c", "customer_id"),
        golden(master, "person"),
        golden(master, "person_role"),
        golden(master, "crm_address_role"),
        postal,
        golden(master, "attribute_lineage"),
        rules,
        suppression,
    )
    return (
        campaigns.filter(pl.col("include_customers"))
        .select(
            "campaign_key",
            "channel",
            "target_customer_types",
            "target_segments",
            "target_countries",
        )
        .join(numbered, how="cross")
        .filter(
            _matches("target_customer_types", "customer_type")
            & _matches("target_segments", "segment")
            & _matches("target_countries", "country")
        )
        .with_columns(channel_key("c", pl.col("channel"), rules))
        .join(contacts, on="contact_key", how="left")
        .with_columns(
            pl.lit("CUSTOMER").alias("target_kind"),
            pl.lit(0).alias("kind_rank"),
            pl.col("customer_id").alias("target_id"),
            pl.col("customer_key").alias("target_key"),
            pl.when(pl.col("person_id").is_null())
            .then(pl.lit("NO_CONTACT_PERSON"))
            .otherwise(pl.col("reason"))
            .alias("reason"),
            pl.col("status").alias("subject_status"),
        )
        .select(CANDIDATE_COLUMNS)
    )


def _lead_candidates(
    master: Mapping[str, pl.DataFrame],
    campaigns: pl.LazyFrame,
    postal: pl.LazyFrame,
    rules: CampaignRules,
    suppression: pl.DataFrame,
) -> pl.LazyFrame:
    leads = golden(master, "lead").filter(pl.col("status").is_in(list(rules.lead_statuses)))
    contacts = lead_contacts(
        leads,
        golden(master, "crm_address_role"),
        postal,
        golden(master, "attribute_lineage"),
        rules,
        suppression,
    )
    person_name = pl.concat_str(["first_name", "last_name"], separator=" ", ignore_nulls=True)
    return (
        campaigns.filter(pl.col("include_leads"))
        .select("campaign_key", "channel", "target_countries")
        .join(leads, how="cross")
        .filter(_matches("target_countries", "country"))
        .join(contacts, on=["lead_id", "channel"], how="left")
        .with_columns(
            pl.lit("LEAD").alias("target_kind"),
            pl.lit(1).alias("kind_rank"),
            pl.col("lead_id").alias("target_id"),
            pl.col("lead_key").alias("target_key"),
            pl.lit(None, dtype=pl.String).alias("person_id"),
            pl.lit(None, dtype=pl.String).alias("role_type"),
            pl.lit(None, dtype=pl.Int32).alias("role_rank"),
            pl.when(person_name != "")
            .then(person_name)
            .otherwise(pl.col("organization_name"))
            .alias("salutation_name"),
            pl.when(pl.col("matched_customer_id").is_not_null())
            .then(pl.lit("MATCHED_EXISTING_CUSTOMER"))
            .otherwise(pl.col("reason"))
            .alias("reason"),
            pl.col("status").alias("subject_status"),
            pl.lit(None, dtype=pl.String).alias("customer_type"),
            pl.when(pl.col("address_id").is_not_null()).then(pl.lit("lead")).alias("address_owner"),
        )
        .select(CANDIDATE_COLUMNS)
    )


def _one_per_contact(qualified: pl.DataFrame) -> pl.DataFrame:
    """Per campaign and contact the first candidate keeps the row (customer before lead,
    higher role, then business key); the rest become DUPLICATE_CONTACT.

    Only contacts that occur more than once are sorted; at scale they are few."""
    group = ["campaign_key", "contact"]
    shared = pl.len().over(group) > 1
    contested = qualified.filter(shared).sort(
        "campaign_key",
        "contact",
        "kind_rank",
        "role_rank",
        "target_key",
        "target_id",
        nulls_last=True,
    )
    return pl.concat(
        [
            qualified.filter(~shared).with_columns(
                pl.lit(None, dtype=pl.String).alias("duplicate_of")
            ),
            contested.with_columns(
                pl.when(pl.int_range(pl.len()).over(group) > 0)
                .then(pl.lit("DUPLICATE_CONTACT"))
                .alias("reason"),
                _who().first().over(group).alias("duplicate_of"),
            ),
        ]
    )


def _who() -> pl.Expr:
    """The candidate in words: "customer C-1 (contact OWNER)" or "lead L-7"."""
    subject = pl.concat_str([pl.col("target_kind").str.to_lowercase(), pl.lit(" "), "target_key"])
    return (
        pl.when(pl.col("role_type").is_not_null())
        .then(pl.concat_str([subject, pl.lit(" (contact "), "role_type", pl.lit(")")]))
        .otherwise(subject)
    )


def _text_columns(rules: CampaignRules) -> list[pl.Expr]:
    def day(column: str) -> pl.Expr:
        return pl.col(column).dt.convert_time_zone(str(PRAGUE)).dt.date().cast(pl.String)

    return [
        _who().alias("who"),
        pl.col("channel").replace_strict(rules.channel_label, default="?").alias("channel_label"),
        pl.col("channel")
        .replace_strict(rules.contact_problems, default="no valid contact")
        .alias("contact_problem"),
        day("consent_updated_at").alias("consent_date"),
        day("withdrawn_at").alias("withdrawn_date"),
    ]


def _qualification(rules: CampaignRules) -> pl.Expr:
    texts = rules.qualification
    is_post = pl.col("channel") == "POST"
    is_customer = pl.col("target_kind") == "CUSTOMER"
    return (
        pl.when(is_customer & is_post)
        .then(render(texts["CUSTOMER_POST"]))
        .when(is_customer)
        .then(render(texts["CUSTOMER"]))
        .when(is_post)
        .then(render(texts["LEAD_POST"]))
        .otherwise(render(texts["LEAD"]))
    )


def _reason_text(rules: CampaignRules) -> pl.Expr:
    expr: pl.Expr | pl.Then | pl.ChainedThen | None = None
    for code, template in rules.reasons.items():
        condition = pl.col("reason") == code
        expr = (pl.when(condition) if expr is None else expr.when(condition)).then(render(template))
    if expr is None:
        return pl.col("reason")
    return expr.otherwise(pl.col("reason"))


def summarise(
    campaigns: pl.DataFrame, targets: pl.DataFrame, exclusions: pl.DataFrame, rules: CampaignRules
) -> pl.DataFrame:
    """One row per active campaign: targets, excluded, and one count column per reason."""
    reason_counts = [
        (pl.col("reason") == code).sum().cast(pl.UInt32).alias(code.lower())
        for code in rules.reasons
    ]
    counted = exclusions.group_by("campaign_key").agg(pl.len().alias("excluded"), *reason_counts)
    target_counts = targets.group_by("campaign_key").agg(pl.len().alias("targets"))
    count_columns = ["targets", "excluded", *(code.lower() for code in rules.reasons)]
    return (
        campaigns.select("campaign_key", "channel")
        .join(target_counts, on="campaign_key", how="left")
        .join(counted, on="campaign_key", how="left")
        .with_columns(pl.col(count_columns).fill_null(0).cast(pl.UInt32))
        .select("campaign_key", "channel", *count_columns)
        .sort("campaign_key")
    )


def _runnable_campaigns(
    master: Mapping[str, pl.DataFrame], as_of: date, rules: CampaignRules
) -> pl.DataFrame:
    """The active campaigns; a campaign key twice fails the run, an unknown channel is logged."""
    campaigns = active_campaigns(golden(master, "campaign"), as_of, rules).collect()
    repeated = campaigns.filter(pl.col("campaign_key").is_duplicated())["campaign_key"]
    if not repeated.is_empty():
        raise ValueError(f"golden campaign keys must be unique: {sorted(set(repeated))}")
    unknown_channel = (
        golden(master, "campaign")
        .filter(
            (pl.col("status") == rules.campaign_active_status)
            & ~pl.col("channel").is_in(list(rules.channels))
        )
        .select("campaign_key")
        .collect()
    )
    if unknown_channel.height:
        log.warning("campaigns with an unknown channel are not run: %s", unknown_channel)
    return campaigns


def build_campaign_targets(
    master: Mapping[str, pl.DataFrame], as_of: date, suppression: pl.DataFrame | None = None
) -> CampaignTargets:
    """Targets, exclusions and a summary for every campaign active on as_of.

    suppression: the contact points withdrawn on any source record (suppression.py); the
    nightly job always passes it (and a blocking check re-derives it), hand-built golden
    data in tests may leave it out."""
    rules = load_campaign_rules()
    if suppression is None:
        suppression = pl.DataFrame(schema=SUPPRESSION_SCHEMA)
    campaigns = _runnable_campaigns(master, as_of, rules)
    postal = postal_addresses(golden(master, "crm_address"), rules).collect().lazy()
    candidates = pl.concat(
        [
            _customer_candidates(master, campaigns.lazy(), postal, rules, suppression),
            _lead_candidates(master, campaigns.lazy(), postal, rules, suppression),
        ]
    ).collect()

    qualified = _one_per_contact(candidates.filter(pl.col("reason").is_null()))
    rejected = candidates.filter(pl.col("reason").is_not_null()).with_columns(
        pl.lit(None, dtype=pl.String).alias("duplicate_of")
    )
    targets = (
        qualified.filter(pl.col("reason").is_null())
        .with_columns(*_text_columns(rules))
        .with_columns(_qualification(rules).alias("qualification"), pl.lit(as_of).alias("as_of"))
        .join(postal.drop("postal_contact").collect(), on="address_id", how="left")
        .sort("campaign_key", "target_kind", "target_key")
    )
    exclusions = (
        pl.concat([rejected, qualified.filter(pl.col("reason").is_not_null())])
        .with_columns(*_text_columns(rules))
        .with_columns(_reason_text(rules).alias("reason_text"), pl.lit(as_of).alias("as_of"))
        .sort("campaign_key", "target_kind", "target_key")
    )
    result = CampaignTargets(
        campaign_target=conform(
            targets.lazy().with_columns(proof_columns()), TARGET_SCHEMA
        ).collect(),
        campaign_exclusion=conform(exclusions.lazy(), EXCLUSION_SCHEMA).collect(),
        summary=summarise(campaigns, targets, exclusions, rules),
        as_of=as_of,
    )
    log.info(
        "as of %s: %d active campaigns, %d targets, %d exclusions",
        as_of,
        campaigns.height,
        result.campaign_target.height,
        result.campaign_exclusion.height,
    )
    return result
