"""Where a campaign letter goes: addresses that passed address quality, as envelope lines.

POST decision: a customer's letter goes to an address that passed address quality, taken
from the customer's own addresses and -- when the contact is the customer's OWNER (for an
individual customer: its holder) -- that person's own addresses too, the best address role
first (CORRESPONDENCE, REGISTERED, ...); at equal role address_owner_priority decides
(customer first). A company's sales or billing contact is written to at the company's
address, never at their private one; an individual whose holder record carries a
CORRESPONDENCE address gets the letter there.
"""

from __future__ import annotations

import polars as pl

from crm_pipelines.marketing.rules import CampaignRules

ADDRESS_COLUMNS = ["address_id", "address_role"]


def postal_addresses(address: pl.LazyFrame, rules: CampaignRules) -> pl.LazyFrame:
    """Addresses that passed address quality, with envelope lines and the one-line contact
    ("Street 12, 110 00 Praha, CZ"; the unparsed address_line when nothing is structured)."""

    def joined(parts: list[pl.Expr], separator: str) -> pl.Expr:
        text = pl.concat_str(parts, separator=separator, ignore_nulls=True)
        return pl.when(text != "").then(text)

    # a village without streets is addressed by its name and house number (as in golden)
    line_1 = pl.when(pl.col("street").is_not_null() | pl.col("house_number").is_not_null()).then(
        joined([pl.coalesce("street", "city"), pl.col("house_number")], " ")
    )
    line_2 = joined([pl.col("postcode"), pl.col("city")], " ")
    return (
        address.filter(pl.col("quality_status") == rules.address_valid_status)
        .with_columns(line_1.alias("line_1"), line_2.alias("line_2"))
        .select(
            "address_id",
            pl.coalesce("line_1", "address_line").alias("address_line_1"),
            pl.col("line_2").alias("address_line_2"),
            pl.col("country").alias("address_country"),
            pl.when(pl.col("line_1").is_not_null() | pl.col("line_2").is_not_null())
            .then(joined([pl.col("line_1"), pl.col("line_2"), pl.col("country")], ", "))
            .otherwise(joined([pl.col("address_line"), pl.col("country")], ", "))
            .alias("postal_contact"),
        )
    )


def best_postal_address(
    address_role: pl.LazyFrame, postal: pl.LazyFrame, owner_kind: str, rules: CampaignRules
) -> pl.LazyFrame:
    """Per owner of one kind: its best valid address (address role priority, then id)."""
    usable = (
        address_role.filter(pl.col("owner_kind") == owner_kind)
        .with_columns(rules.rank("role_type", rules.address_role_priority).alias("address_rank"))
        .filter(pl.col("address_rank").is_not_null())
        .join(postal.select("address_id", "postal_contact"), on="address_id")
        .with_columns((pl.len().over("owner_id") > 1).alias("several"))
    )
    return pl.concat(
        [
            usable.filter(~pl.col("several")),
            usable.filter(pl.col("several"))
            .sort("owner_id", "address_rank", "address_id")
            .unique(subset=["owner_id"], keep="first", maintain_order=True),
        ]
    ).select(
        "owner_id",
        "address_id",
        "address_rank",
        pl.col("role_type").alias("address_role"),
        "postal_contact",
    )


def owner_best_address(
    address_role: pl.LazyFrame,
    postal: pl.LazyFrame,
    rules: CampaignRules,
    kind: str,
    keys: pl.LazyFrame,
    id_col: str,
    key: str,
) -> pl.LazyFrame:
    """Per owner of one kind, keyed by its row number `key`: its best valid address under
    columns prefixed with the kind, so a customer's and a person's can sit side by side."""
    prefix = kind.lower()
    return (
        best_postal_address(address_role, postal, kind, rules)
        .join(keys.select(id_col, key), left_on="owner_id", right_on=id_col)
        .select(
            key,
            pl.col("address_id").alias(f"{prefix}_address_id"),
            pl.col("address_rank").alias(f"{prefix}_address_rank"),
            pl.col("address_role").alias(f"{prefix}_address_role"),
            pl.col("postal_contact").alias(f"{prefix}_postal_contact"),
        )
    )


def person_address_first(rules: CampaignRules) -> bool:
    """Whether, at equal address role, the contact person's own address beats the customer's."""
    return rules.address_owner_priority.index("PERSON") < (
        rules.address_owner_priority.index("CUSTOMER")
    )


def with_post_address(
    options: pl.LazyFrame,
    customer_addr: pl.LazyFrame,
    person_addr: pl.LazyFrame,
    person_first: bool,
    own_address_roles: tuple[str, ...],
) -> pl.LazyFrame:
    """The letter's address: the better address role of the customer's and the person's own
    best valid address; at equal role address_owner_priority decides."""
    person_rank, customer_rank = pl.col("person_address_rank"), pl.col("customer_address_rank")
    take_person = (
        pl.col("person_address_id").is_not_null()
        & pl.col("role_type").is_in(list(own_address_roles))
    ) & (
        pl.col("customer_address_id").is_null()
        | (person_rank < customer_rank)
        | ((person_rank == customer_rank) & pl.lit(person_first))
    )
    return (
        options.join(customer_addr, on="c", how="left")
        .join(person_addr, on="p", how="left")
        .with_columns(
            pl.when(take_person)
            .then(pl.col("person_address_id"))
            .otherwise(pl.col("customer_address_id"))
            .alias("address_id"),
            pl.when(take_person)
            .then(pl.col("person_address_role"))
            .otherwise(pl.col("customer_address_role"))
            .alias("address_role"),
            pl.when(take_person)
            .then(pl.lit("contact person"))
            .when(pl.col("customer_address_id").is_not_null())
            .then(pl.lit("customer"))
            .alias("address_owner"),
            pl.when(take_person)
            .then(pl.col("person_postal_contact"))
            .otherwise(pl.col("customer_postal_contact"))
            .alias("contact"),
        )
    )
