"""The golden columns marketing reads, and the shapes of the frames it produces."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crm_pipelines.marketing.validity import validate_distinct

UTC_TS = pl.Datetime("us", "UTC")
_CONSENTS = {"consent_email": pl.Boolean, "consent_sms": pl.Boolean, "consent_post": pl.Boolean}
_CONTACTS = {"email": pl.String, "phone": pl.String, "phone_is_mobile": pl.Boolean}

INPUT_COLUMNS: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
    "customer": {
        "customer_id": pl.String,
        "customer_key": pl.String,
        "party_type": pl.String,
        "customer_type": pl.String,
        "status": pl.String,
        "segment": pl.String,
        "country": pl.String,
    },
    "person": {
        "person_id": pl.String,
        "person_key": pl.String,
        "first_name": pl.String,
        "last_name": pl.String,
        **_CONTACTS,
        **_CONSENTS,
    },
    "person_role": {"person_id": pl.String, "customer_id": pl.String, "role_type": pl.String},
    "crm_address": {
        "address_id": pl.String,
        "street": pl.String,
        "house_number": pl.String,
        "city": pl.String,
        "postcode": pl.String,
        "country": pl.String,
        "quality_status": pl.String,
        "address_line": pl.String,
    },
    "crm_address_role": {
        "address_id": pl.String,
        "owner_kind": pl.String,
        "owner_id": pl.String,
        "role_type": pl.String,
    },
    "lead": {
        "lead_id": pl.String,
        "lead_key": pl.String,
        "first_name": pl.String,
        "last_name": pl.String,
        "organization_name": pl.String,
        **_CONTACTS,
        "status": pl.String,
        "matched_customer_id": pl.String,
        "country": pl.String,
        **_CONSENTS,
    },
    "campaign": {
        "campaign_id": pl.String,
        "campaign_key": pl.String,
        "name": pl.String,
        "status": pl.String,
        "channel": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "target_customer_types": pl.List(pl.String),
        "target_segments": pl.List(pl.String),
        "target_countries": pl.List(pl.String),
        "include_customers": pl.Boolean,
        "include_leads": pl.Boolean,
    },
    "attribute_lineage": {
        "entity": pl.String,
        "master_id": pl.String,
        "attribute": pl.String,
        "source_system": pl.String,
        "source_id": pl.String,
        "record_key": pl.String,
        "updated_at": UTC_TS,
    },
}

TARGET_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "campaign_key": pl.String,
    "target_kind": pl.String,
    "target_id": pl.String,
    "person_id": pl.String,
    "channel": pl.String,
    "contact": pl.String,
    "salutation_name": pl.String,
    "consent_source_system": pl.String,
    "consent_source_id": pl.String,
    # the proof as the feed, source system and source id of the stating record (joins
    # master.xref and source.<feed> one to one; consent_source_id keeps the lineage form)
    "consent_feed": pl.String,
    "consent_feed_source_id": pl.String,
    "consent_updated_at": UTC_TS,
    "qualification": pl.String,
    "as_of": pl.Date,
    # POST only: the address the letter goes to, split for the envelope.
    "address_id": pl.String,
    "address_line_1": pl.String,
    "address_line_2": pl.String,
    "address_country": pl.String,
}

# marketing.suppression: contact points whose latest statement is a withdrawal (suppression.py)
SUPPRESSION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "channel": pl.String,
    "contact": pl.String,
    "feed": pl.String,
    "source_system": pl.String,
    "source_id": pl.String,
    "stated_at": UTC_TS,
}
# the withdrawing record of a suppressed contact point, as campaign frames carry it
WITHDRAWN_COLUMNS = {
    "feed": "withdrawn_feed",
    "source_system": "withdrawn_source_system",
    "source_id": "withdrawn_source_id",
    "stated_at": "withdrawn_at",
}
# who is reached and on what consent: a contact row's columns (contacts.py), carried into
# every campaign candidate (targeting.py)
CONTACT_ROW_COLUMNS = (
    "person_id",
    "role_type",
    "role_rank",
    "contact",
    "salutation_name",
    "consent_source_system",
    "consent_source_id",
    "consent_updated_at",
    *WITHDRAWN_COLUMNS.values(),
    "reason",
)

EXCLUSION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "campaign_key": pl.String,
    "target_kind": pl.String,
    "target_id": pl.String,
    "person_id": pl.String,
    "channel": pl.String,
    "contact": pl.String,
    "reason": pl.String,
    "reason_text": pl.String,
    "as_of": pl.Date,
    # CONTACT_WITHDRAWN: the source record whose withdrawal suppresses the contact point
    **{column: SUPPRESSION_SCHEMA[source] for source, column in WITHDRAWN_COLUMNS.items()},
}


HOLDER_PREFIX = "customer:"  # a holder record's source id (staged.py): "customer:<id>"


def proof_columns() -> list[pl.Expr]:
    """consent_feed and consent_feed_source_id from the lineage's consent_source_id.

    A customer's contact person states consent in the person feed or, as the holder of an
    individual customer, in that customer's row ("customer:<id>"); a lead in the lead feed."""
    proof = pl.col("consent_source_id")
    is_holder = proof.str.starts_with(HOLDER_PREFIX)
    feed = (
        pl.when(proof.is_null())
        .then(None)
        .when(is_holder)
        .then(pl.lit("customer"))
        .when(pl.col("target_kind") == "LEAD")
        .then(pl.lit("lead"))
        .otherwise(pl.lit("person"))
    )
    return [
        feed.alias("consent_feed"),
        proof.str.strip_prefix(HOLDER_PREFIX).alias("consent_feed_source_id"),
    ]


def golden(master: Mapping[str, pl.DataFrame], name: str) -> pl.LazyFrame:
    """The golden frame with the columns marketing reads, typed; absent ones are null."""
    columns = INPUT_COLUMNS[name]
    frame = master.get(name)
    if frame is None:
        return pl.LazyFrame(schema=columns)
    present = set(frame.columns)
    if "phone_is_mobile" in columns and "phone_is_mobile" not in present and "phone" in present:
        frame = _with_mobile_flag(frame)
        present.add("phone_is_mobile")
    return frame.lazy().select(
        [
            (pl.col(col) if col in present else pl.lit(None)).cast(dtype).alias(col)
            for col, dtype in columns.items()
        ]
    )


def _with_mobile_flag(frame: pl.DataFrame) -> pl.DataFrame:
    """For a golden frame without phone_is_mobile: phonenumbers' verdict per distinct number."""
    verdicts = validate_distinct(frame["phone"].cast(pl.String), "mobile")
    return frame.join(
        verdicts.rename({"value": "phone", "valid": "phone_is_mobile"}), on="phone", how="left"
    )


def conform(
    frame: pl.LazyFrame, schema: Mapping[str, pl.DataType | type[pl.DataType]]
) -> pl.LazyFrame:
    """Exactly the columns of an output schema, in order (missing ones null)."""
    present = set(frame.collect_schema().names())
    return frame.select(
        [
            (pl.col(col) if col in present else pl.lit(None)).cast(dtype).alias(col)
            for col, dtype in schema.items()
        ]
    )
