"""Golden-shaped frames for the marketing tests, built by hand (GoldenBuilder) or at scale."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl

from crm_pipelines.marketing.frames import INPUT_COLUMNS

_CHANNEL_ATTR = {"email": "consent_email", "sms": "consent_sms", "post": "consent_post"}


class GoldenBuilder:
    """Golden rows one call at a time; consent statements get their lineage row too."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.extra: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def customer(self, customer_id: str, **values: Any) -> GoldenBuilder:
        row = {
            "customer_id": customer_id,
            "customer_key": f"C-{customer_id}",
            "party_type": "INDIVIDUAL",
            "customer_type": "RESIDENTIAL",
            "status": "ACTIVE",
            "segment": "MASS",
            "country": "CZ",
        }
        self.rows["customer"].append(row | values)
        return self

    def person(
        self,
        person_id: str,
        *,
        consent: dict[str, bool | None] | None = None,
        source: str = "BSS",
        at: datetime = datetime(2025, 3, 1, 10, tzinfo=UTC),
        **values: Any,
    ) -> GoldenBuilder:
        """consent: {"email": True, "sms": False, ...}; each non-null one is a statement
        of `source` at `at` in the lineage."""
        row = {
            "person_id": person_id,
            "person_key": f"P-{person_id}",
            "first_name": "Jana",
            "last_name": f"Nová {person_id}",
            "birth_date": date(1980, 1, 1),
            "national_id": "8001010008",
        }
        for channel, value in (consent or {}).items():
            row[_CHANNEL_ATTR[channel]] = value
            if value is not None:
                self.statement("person", person_id, _CHANNEL_ATTR[channel], source, at)
        self.rows["person"].append(row | values)
        return self

    def role(self, person_id: str, customer_id: str, role_type: str = "OWNER") -> GoldenBuilder:
        self.rows["person_role"].append(
            {"person_id": person_id, "customer_id": customer_id, "role_type": role_type}
        )
        return self

    def address(
        self,
        address_id: str,
        owner_kind: str,
        owner_id: str,
        role_type: str = "CORRESPONDENCE",
        **values: Any,
    ) -> GoldenBuilder:
        if not any(r["address_id"] == address_id for r in self.rows["crm_address"]):
            row = {
                "address_id": address_id,
                "street": "Vinohradská",
                "house_number": f"{len(self.rows['crm_address']) + 1}",
                "city": "Praha",
                "postcode": "120 00",
                "country": "CZ",
                "quality_status": "VALID",
            }
            self.rows["crm_address"].append(row | values)
        self.rows["crm_address_role"].append(
            {
                "address_id": address_id,
                "owner_kind": owner_kind,
                "owner_id": owner_id,
                "role_type": role_type,
            }
        )
        return self

    def lead(
        self,
        lead_id: str,
        *,
        consent: dict[str, bool | None] | None = None,
        source: str = "MARKETING",
        at: datetime = datetime(2025, 4, 1, 8, tzinfo=UTC),
        **values: Any,
    ) -> GoldenBuilder:
        row = {
            "lead_id": lead_id,
            "lead_key": f"L-{lead_id}",
            "first_name": "Petr",
            "last_name": f"Lead {lead_id}",
            "status": "NEW",
            "country": "CZ",
        }
        for channel, value in (consent or {}).items():
            row[_CHANNEL_ATTR[channel]] = value
            if value is not None:
                self.statement("lead", lead_id, _CHANNEL_ATTR[channel], source, at)
        self.rows["lead"].append(row | values)
        return self

    def campaign(self, campaign_key: str, channel: str = "EMAIL", **values: Any) -> GoldenBuilder:
        row = {
            "campaign_id": f"id-{campaign_key}",
            "campaign_key": campaign_key,
            "name": f"Campaign {campaign_key}",
            "status": "ACTIVE",
            "channel": channel,
            "start_date": date(2025, 6, 1),
            "end_date": date(2025, 6, 30),
            "target_customer_types": [],
            "target_segments": [],
            "target_countries": [],
        }
        self.rows["campaign"].append(row | values)
        return self

    def statement(
        self, entity: str, master_id: str, attribute: str, source: str, at: datetime
    ) -> GoldenBuilder:
        self.rows["attribute_lineage"].append(
            {
                "entity": entity,
                "master_id": master_id,
                "attribute": attribute,
                "source_system": source,
                "source_id": f"{source.lower()}-{master_id}",
                "record_key": f"{source}|{source.lower()}-{master_id}",
                "updated_at": at,
            }
        )
        return self

    def frames(self) -> dict[str, pl.DataFrame]:
        extras = {"person": {"birth_date": pl.Date, "national_id": pl.String}}
        out = {}
        for name, columns in INPUT_COLUMNS.items():
            schema = dict(columns) | extras.get(name, {})
            rows = [{col: row.get(col) for col in schema} for row in self.rows[name]]
            out[name] = (
                pl.DataFrame(rows, schema=schema, orient="row")
                if rows
                else pl.DataFrame(schema=schema)
            )
        return out


def synthetic_master(n_customers: int, n_leads: int = 0, seed: int = 7) -> dict[str, pl.DataFrame]:
    """Golden-shaped frames at scale: ~1.3 persons per customer, one address per customer."""
    rng = np.random.default_rng(seed)
    at = datetime(2025, 3, 1, tzinfo=UTC)
    cust_ids = np.char.add("c", np.arange(n_customers).astype(str))
    customer = pl.DataFrame(
        {
            "customer_id": cust_ids,
            "customer_key": np.char.add("C-", cust_ids),
            "party_type": "INDIVIDUAL",
            "customer_type": rng.choice(["RESIDENTIAL", "BUSINESS"], n_customers, p=[0.8, 0.2]),
            "status": rng.choice(["ACTIVE", "TERMINATED"], n_customers, p=[0.9, 0.1]),
            "segment": rng.choice(["MASS", "SOHO", "SME"], n_customers),
            "country": rng.choice(["CZ", "SK"], n_customers, p=[0.85, 0.15]),
        }
    )
    n_persons = int(n_customers * 1.3)
    person_ids = np.char.add("p", np.arange(n_persons).astype(str))

    def consent() -> pl.Series:
        given, withdrawn = 1, 0  # -1: no statement
        codes = rng.choice([given, withdrawn, -1], n_persons, p=[0.5, 0.2, 0.3])
        return pl.Series(codes).replace(-1, None).cast(pl.Boolean)

    person = pl.DataFrame(
        {
            "person_id": person_ids,
            "person_key": np.char.add("P-", person_ids),
            "first_name": "Jan",
            "last_name": person_ids,
            "email": np.char.add(person_ids, "@example.cz"),
            # Czech mobile ranges 601, 602, ...: six digits after the prefix
            "phone": np.char.add(
                np.char.add("+420", (601 + np.arange(n_persons) // 1_000_000).astype(str)),
                np.char.zfill((np.arange(n_persons) % 1_000_000).astype(str), 6),
            ),
            "phone_is_mobile": rng.random(n_persons) < 0.8,
            "consent_email": consent(),
            "consent_sms": consent(),
            "consent_post": consent(),
        }
    )
    owner = np.arange(n_customers)
    extra = rng.integers(0, n_customers, n_persons - n_customers)
    person_role = pl.DataFrame(
        {
            "person_id": person_ids,
            "customer_id": cust_ids[np.concatenate([owner, extra])],
            "role_type": np.concatenate(
                [
                    np.full(n_customers, "OWNER"),
                    rng.choice(["BILLING_CONTACT", "TECHNICAL_CONTACT"], n_persons - n_customers),
                ]
            ),
        }
    )
    lineage = (
        person.unpivot(index="person_id", on=["consent_email", "consent_sms", "consent_post"])
        .filter(pl.col("value").is_not_null())
        .select(
            pl.lit("person").alias("entity"),
            pl.col("person_id").alias("master_id"),
            pl.col("variable").alias("attribute"),
            pl.lit("BSS").alias("source_system"),
            pl.col("person_id").alias("source_id"),
            pl.concat_str([pl.lit("BSS|"), pl.col("person_id")]).alias("record_key"),
            pl.lit(at).alias("updated_at"),
        )
    )
    address_ids = np.char.add("a", np.arange(n_customers).astype(str))
    crm_address = pl.DataFrame(
        {
            "address_id": address_ids,
            "street": "Hlavní",
            "house_number": np.arange(n_customers).astype(str),
            "city": "Brno",
            "postcode": "602 00",
            "country": "CZ",
            "quality_status": rng.choice(["VALID", "INCOMPLETE"], n_customers, p=[0.9, 0.1]),
        }
    )
    crm_address_role = pl.DataFrame(
        {
            "address_id": address_ids,
            "owner_kind": "CUSTOMER",
            "owner_id": cust_ids,
            "role_type": rng.choice(["CORRESPONDENCE", "SERVICE"], n_customers),
        }
    )
    lead_ids = np.char.add("l", np.arange(n_leads).astype(str))
    lead = pl.DataFrame(
        {
            "lead_id": lead_ids,
            "lead_key": np.char.add("L-", lead_ids),
            "first_name": "Eva",
            "last_name": lead_ids,
            # every tenth lead shares an e-mail with a person: duplicates to resolve
            "email": np.where(
                np.arange(n_leads) % 10 == 0,
                np.char.add(np.char.add("p", np.arange(n_leads).astype(str)), "@example.cz"),
                np.char.add(lead_ids, "@lead.example.cz"),
            ),
            "status": rng.choice(["NEW", "QUALIFIED", "CONVERTED"], n_leads),
            "country": "CZ",
            "consent_email": pl.Series(rng.random(n_leads) < 0.7, dtype=pl.Boolean),
        },
        schema_overrides={
            col: pl.String for col in ("lead_id", "lead_key", "first_name", "last_name", "email")
        }
        | {"consent_email": pl.Boolean},
    )
    lead_lineage = lead.filter(pl.col("consent_email")).select(
        pl.lit("lead").alias("entity"),
        pl.col("lead_id").alias("master_id"),
        pl.lit("consent_email").alias("attribute"),
        pl.lit("MARKETING").alias("source_system"),
        pl.col("lead_id").alias("source_id"),
        pl.concat_str([pl.lit("MARKETING|"), pl.col("lead_id")]).alias("record_key"),
        pl.lit(at).alias("updated_at"),
    )
    builder = GoldenBuilder()
    for key, channel in (("EM-ALL", "EMAIL"), ("SMS-RES", "SMS"), ("POST-CZ", "POST")):
        builder.campaign(
            key,
            channel,
            include_leads=channel == "EMAIL",
            target_customer_types=["RESIDENTIAL"] if channel == "SMS" else [],
            target_countries=["CZ"] if channel == "POST" else [],
        )
    campaign = builder.frames()["campaign"]
    return {
        "customer": customer,
        "person": person,
        "person_role": person_role,
        "crm_address": crm_address,
        "crm_address_role": crm_address_role,
        "lead": lead,
        "campaign": campaign,
        "attribute_lineage": pl.concat([lineage, lead_lineage], how="vertical_relaxed"),
    }
