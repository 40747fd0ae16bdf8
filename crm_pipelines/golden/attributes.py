"""The golden attributes of each entity: the staged columns that survivorship decides, and
the display columns built from them (a customer's name, an address's one-line form)."""

from __future__ import annotations

import polars as pl

from crm_pipelines.golden.survivorship import CONSENT_ATTRIBUTES

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "customer": (
        "party_type",
        "customer_type",
        "status",
        "segment",
        "first_name",
        "last_name",
        "title_before",
        "title_after",
        "generation",
        "birth_date",
        "organization_name",
        "legal_form",
        "registration_no",
        "vat_no",
        "email",
        "phone",
        "phone_is_mobile",
        "country",
        *CONSENT_ATTRIBUTES,
        "chars",
    ),
    "person": (
        "first_name",
        "last_name",
        "title_before",
        "title_after",
        "generation",
        "birth_date",
        "national_id",
        "email",
        "phone",
        "phone_is_mobile",
        "country",
        *CONSENT_ATTRIBUTES,
        "chars",
    ),
    "address": (
        "street",
        "house_number",
        "city",
        "postcode",
        "country",
        "quality_status",
        "address_line",
        "latitude",
        "longitude",
        "chars",
    ),
    "lead": (
        "first_name",
        "last_name",
        "title_before",
        "title_after",
        "generation",
        "organization_name",
        "email",
        "phone",
        "phone_is_mobile",
        "postcode",
        "city",
        "country",
        "channel",
        "product_interest",
        "status",
        *CONSENT_ATTRIBUTES,
        "chars",
    ),
    "account": (
        "account_type",
        "status",
        "name",
        "currency",
        "billing_cycle",
        "payment_method",
        "iban",
        "credit_limit",
        "chars",
    ),
    "campaign": (
        "campaign_code",
        "name",
        "status",
        "channel",
        "start_date",
        "end_date",
        "target_customer_types",
        "target_segments",
        "target_countries",
        "include_customers",
        "include_leads",
        "chars",
    ),
}


def customer_name() -> pl.Expr:
    """The golden customer's display name: the organisation's, or the person's first and last
    name (an individual without them falls back to what was sent as its organisation name)."""
    person_name = pl.concat_str(["first_name", "last_name"], separator=" ", ignore_nulls=True)
    return (
        pl.when(pl.col("party_type") == "ORGANIZATION")
        .then(pl.coalesce("organization_name", person_name))
        .otherwise(pl.coalesce(pl.when(person_name != "").then(person_name), "organization_name"))
        .alias("name")
    )


def address_line() -> pl.Expr:
    """One-line postal form "Street 12, 110 00 Praha"; a village without streets uses its name."""
    place = pl.concat_str(
        [pl.coalesce("street", "city"), "house_number"], separator=" ", ignore_nulls=True
    )
    town = pl.concat_str(["postcode", "city"], separator=" ", ignore_nulls=True)
    built = pl.concat_str([place, town], separator=", ", ignore_nulls=True)
    return (
        pl.when(pl.col("street").is_not_null() | pl.col("house_number").is_not_null())
        .then(built)
        .otherwise(pl.col("address_line"))
        .alias("address_line")
    )
