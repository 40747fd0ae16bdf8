"""The staged record shapes: what validate hands to match, golden and marketing.

One frame per entity, one row per accepted source record (its winning version only).
Every value here is already clean: codes canonical, identifiers compacted, e-mail
lower-cased, phone E.164 -- and an *invalid* optional value is null (its finding is in
quality.finding), so downstream stages never re-validate.

`record_key` is unique within an entity frame: "<source_system>|<source_id>" for feed
records. The person frame also carries one *holder* record per accepted INDIVIDUAL
customer (record_key "<source_system>|customer:<source_id>", origin "customer_holder"),
because feeds.md says an individual customer's row speaks for its holder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")

COMMON: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "source_system": pl.String(),
    "source_id": pl.String(),
    "updated_at": UTC_TS,
    "chars": pl.String(),  # JSON object text with only registered, well-typed chars; or null
    "feed": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
}

# Where in the landing folder a record came from: findings and quarantine point at it;
# golden records do not need it (at 1M customers `file` alone is 0.4 GB of staged frames).
PROVENANCE_COLUMNS = ("feed", "file", "line")

CONSENTS: dict[str, pl.DataType] = {
    "consent_email": pl.Boolean(),
    "consent_sms": pl.Boolean(),
    "consent_post": pl.Boolean(),
}

# parsed out of the name fields (validate/names.py): "Ing. Jana" -> Jana, title_before Ing.
NAME_PARTS: dict[str, pl.DataType] = {
    "title_before": pl.String(),  # "Ing. arch.", "MUDr." (in the order written)
    "title_after": pl.String(),  # "Ph.D., MBA"
    "generation": pl.String(),  # SENIOR (st.) | JUNIOR (ml.): father and son of one name
}

CONTACTS: dict[str, pl.DataType] = {
    "email": pl.String(),  # lower-cased, accepted by email-validator (no DNS)
    "phone": pl.String(),  # E.164
    "phone_is_mobile": pl.Boolean(),  # phonenumbers: MOBILE or FIXED_LINE_OR_MOBILE
}

STAGED_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "customer": {
        **COMMON,
        "party_type": pl.String(),  # INDIVIDUAL | ORGANIZATION
        "customer_type": pl.String(),
        "status": pl.String(),
        "segment": pl.String(),
        "first_name": pl.String(),
        "last_name": pl.String(),
        **NAME_PARTS,
        "birth_date": pl.Date(),
        "organization_name": pl.String(),
        "legal_form": pl.String(),
        "registration_no": pl.String(),  # compacted; IČO 8 digits
        "vat_no": pl.String(),  # compacted, upper-case, with country prefix
        **CONTACTS,
        "country": pl.String(),  # ISO 3166-1 alpha-2
        **CONSENTS,
    },
    "person": {
        **COMMON,
        "origin": pl.String(),  # "person_feed" | "customer_holder"
        "customer_source_id": pl.String(),  # null when not given
        "role_type": pl.String(),
        "first_name": pl.String(),
        "last_name": pl.String(),
        **NAME_PARTS,
        "birth_date": pl.Date(),
        "national_id": pl.String(),  # compacted birth number / national id
        **CONTACTS,
        "country": pl.String(),  # country of its customer, CZ when unknown
        **CONSENTS,
    },
    "account": {
        **COMMON,
        "customer_source_id": pl.String(),
        "account_type": pl.String(),
        "status": pl.String(),
        "name": pl.String(),
        "currency": pl.String(),
        "billing_cycle": pl.String(),
        "payment_method": pl.String(),
        "iban": pl.String(),  # compacted, upper-case
        "credit_limit": pl.Float64(),
        "billing_contact_source_id": pl.String(),  # null when unknown
    },
    "address": {
        **COMMON,
        "owner_kind": pl.String(),  # CUSTOMER | ACCOUNT | PERSON | LEAD
        "owner_source_id": pl.String(),
        "role_type": pl.String(),
        "street": pl.String(),  # parsed from address_line when only that was sent
        "house_number": pl.String(),
        "city": pl.String(),
        "postcode": pl.String(),  # normalised per country ("110 00" for CZ/SK); null if invalid
        "address_line": pl.String(),
        "country": pl.String(),
        "latitude": pl.Float64(),
        "longitude": pl.Float64(),
        "quality_status": pl.String(),  # VALID | INCOMPLETE (see quality_rules/rules.yaml)
    },
    "lead": {
        **COMMON,
        "first_name": pl.String(),
        "last_name": pl.String(),
        **NAME_PARTS,
        "organization_name": pl.String(),
        **CONTACTS,
        "postcode": pl.String(),
        "city": pl.String(),
        "country": pl.String(),
        "channel": pl.String(),
        "product_interest": pl.String(),
        "status": pl.String(),
        **CONSENTS,
        "created_at": UTC_TS,
    },
    "campaign": {
        **COMMON,
        "campaign_code": pl.String(),
        "name": pl.String(),
        "status": pl.String(),
        "channel": pl.String(),  # EMAIL | SMS | POST
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "target_customer_types": pl.List(pl.String()),  # empty list = all
        "target_segments": pl.List(pl.String()),
        "target_countries": pl.List(pl.String()),
        "include_customers": pl.Boolean(),
        "include_leads": pl.Boolean(),
    },
    "steward_decision": {
        **COMMON,
        "entity": pl.String(),  # customer | person | lead | address
        "left_record_key": pl.String(),
        "right_record_key": pl.String(),
        "decision": pl.String(),  # MATCH | NO_MATCH
        "decided_by": pl.String(),
        "decided_at": UTC_TS,
        "note": pl.String(),
    },
}

# in matching order: customers compare golden addresses, leads the customers they link to
MATCHED_ENTITIES = ("address", "customer", "person", "lead")


def empty_staged(entity: str) -> pl.DataFrame:
    return pl.DataFrame(schema=STAGED_SCHEMAS[entity])


def conform(entity: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast the staged columns in contract order (missing ones become null)."""
    schema = STAGED_SCHEMAS[entity]
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


def read_without(path: Path, drop: Sequence[str]) -> pl.DataFrame:
    """A Parquet file without the `drop` columns, which are never read."""
    skipped = set(drop)
    return pl.read_parquet(
        path, columns=[c for c in pl.read_parquet_schema(path) if c not in skipped]
    )
