"""The suppression list: contact points whose latest consent statement is a withdrawal.

warehouse.md: "a withdrawal is also a statement about the contact point". An e-mail address
or mobile number whose most recent statement for a channel -- on any accepted source record
carrying it, person, customer or lead, whatever golden record matching put it in -- is a
withdrawal is never targeted on that channel. It is built from the staged source records
(each record's winning version only), not from golden records, so it holds when matching
errs: a person split into two golden records still cannot be written to at the address one
of them withdrew. Not for POST: a postal address is a building many households share.

At an equal statement time a withdrawal outranks a consent: when the order of two statements
cannot be told, the objection (GDPR Art. 21) is the one that must not be ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from crm_pipelines.marketing.contacts import direct_contact
from crm_pipelines.marketing.frames import SUPPRESSION_SCHEMA, UTC_TS
from crm_pipelines.marketing.rules import CampaignRules, load_campaign_rules

# the staged feeds whose records carry contacts and consent statements (feeds.md)
STATEMENT_FEEDS = ("customer", "person", "lead")
STATEMENT_COLUMNS = (
    "source_system",
    "source_id",
    "updated_at",
    "email",
    "phone",
    "phone_is_mobile",
    "consent_email",
    "consent_sms",
    "consent_post",
)
STATEMENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "channel": pl.String,
    "contact": pl.String,
    "consent": pl.Boolean,
    "feed": pl.String,
    "source_system": pl.String,
    "source_id": pl.String,
    "stated_at": UTC_TS,
}


def _scan(frame: pl.DataFrame | pl.LazyFrame | Path, feed: str) -> pl.LazyFrame:
    """The statement columns of one staged feed; a person holder record is left out, as its
    customer's row (the same statement) is read itself."""
    lazy = pl.scan_parquet(frame) if isinstance(frame, Path) else frame.lazy()
    present = set(lazy.collect_schema().names())
    if feed == "person" and "origin" in present:
        lazy = lazy.filter((pl.col("origin") != "customer_holder").fill_null(True))
    return lazy.select(
        [(pl.col(c) if c in present else pl.lit(None)).alias(c) for c in STATEMENT_COLUMNS]
    )


def contact_statements(
    staged: Mapping[str, pl.DataFrame | pl.LazyFrame | Path], rules: CampaignRules | None = None
) -> pl.DataFrame:
    """Every consent statement (true or false) made about an e-mail address or mobile number:
    channel, contact, consent, feed, source_system, source_id, stated_at."""
    rules = rules or load_campaign_rules()
    parts = []
    for feed in STATEMENT_FEEDS:
        if feed not in staged:
            raise ValueError(f"consent statements need the staged {feed} records")
        records = _scan(staged[feed], feed)
        for channel, attribute in rules.consent_attribute.items():
            parts.append(
                records.select(
                    pl.lit(channel).alias("channel"),
                    direct_contact(channel).alias("contact"),
                    pl.col(attribute).cast(pl.Boolean).alias("consent"),
                    pl.lit(feed).alias("feed"),
                    "source_system",
                    "source_id",
                    pl.col("updated_at").cast(UTC_TS).alias("stated_at"),
                ).filter(pl.col("contact").is_not_null() & pl.col("consent").is_not_null())
            )
    return pl.concat(parts).cast(STATEMENT_SCHEMA).collect()


def suppression_list(statements: pl.DataFrame) -> pl.DataFrame:
    """Per channel and contact point: its latest statement when that is a withdrawal, naming
    the withdrawing record. Contacts with one statement (almost all) are not sorted."""
    group = ["channel", "contact"]
    several = pl.len().over(group) > 1
    latest = pl.concat(
        [
            statements.filter(~several),
            statements.filter(several)
            .sort(
                "channel",
                "contact",
                "stated_at",
                pl.col("consent").not_(),  # at the same instant the withdrawal comes last
                "feed",
                "source_system",
                "source_id",
                nulls_last=False,
            )
            .unique(subset=group, keep="last", maintain_order=True),
        ]
    )
    return (
        latest.filter(pl.col("consent").not_())
        .select(list(SUPPRESSION_SCHEMA))
        .cast(SUPPRESSION_SCHEMA)
        .sort("channel", "contact")
    )
