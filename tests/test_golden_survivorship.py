"""Survivorship behaviour: consent, source priority, completeness, validity, lineage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from crm_pipelines.golden.assemble import build_master
from crm_pipelines.golden.survivorship import load_rules, survive
from crm_pipelines.staged import conform

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUN_AT = datetime(2026, 3, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def staged(entity: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    completed = []
    for row in rows:
        row = dict(row)
        row.setdefault("record_key", f"{row['source_system']}|{row['source_id']}")
        completed.append(row)
    return conform(entity, pl.DataFrame(completed, infer_schema_length=None))


def one_cluster(frame: pl.DataFrame, label: str = "c1") -> pl.DataFrame:
    return frame.select("record_key", pl.lit(label).alias("cluster_id"))


def customer_row(system: str, source_id: str, days: float, **values: Any) -> dict[str, Any]:
    return {
        "source_system": system,
        "source_id": source_id,
        "updated_at": at(days),
        "party_type": "INDIVIDUAL",
        "customer_type": "RESIDENTIAL",
        "status": "ACTIVE",
        "first_name": "Jana",
        "last_name": "Nováková",
        "country": "CZ",
        **values,
    }


def golden_customer(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], pl.DataFrame]:
    customers = staged("customer", rows)
    master = build_master(
        {"customer": customers}, {"customer": one_cluster(customers)}, None, None, "r1", RUN_AT
    )
    assert master.customer.height == 1
    return master.customer.row(0, named=True), master.attribute_lineage


def lineage_of(lineage: pl.DataFrame, attribute: str) -> dict[str, Any]:
    rows = lineage.filter(pl.col("attribute") == attribute)
    assert rows.height == 1
    return rows.row(0, named=True)


def test_consent_given_then_withdrawn_on_another_source_is_withdrawn() -> None:
    golden, lineage = golden_customer(
        [
            customer_row("BSS", "1", 1, consent_email=True),
            customer_row("ESHOP", "9", 5, consent_email=False),
        ]
    )
    assert golden["consent_email"] is False
    proof = lineage_of(lineage, "consent_email")
    assert (proof["source_system"], proof["source_id"]) == ("ESHOP", "9")
    assert proof["updated_at"] == at(5)


def test_consent_withdrawn_then_given_again_is_given() -> None:
    golden, _ = golden_customer(
        [
            customer_row("BSS", "1", 1, consent_sms=False),
            customer_row("ESHOP", "9", 5, consent_sms=True),
        ]
    )
    assert golden["consent_sms"] is True


def test_null_consent_is_no_statement() -> None:
    golden, lineage = golden_customer(
        [
            customer_row("BSS", "1", 1, consent_post=True),
            customer_row("ESHOP", "9", 5, consent_post=None),
        ]
    )
    assert golden["consent_post"] is True
    assert lineage_of(lineage, "consent_post")["source_system"] == "BSS"
    # no statement anywhere: no consent value and no lineage row
    assert golden["consent_email"] is None
    assert lineage.filter(pl.col("attribute") == "consent_email").is_empty()


def test_consent_withdrawal_beats_grant_at_the_same_instant() -> None:
    golden, _ = golden_customer(
        [
            customer_row("BSS", "1", 3, consent_email=True),
            customer_row("ESHOP", "9", 3, consent_email=False),
        ]
    )
    assert golden["consent_email"] is False


def test_holder_record_counts_as_a_statement_about_the_person() -> None:
    persons = staged(
        "person",
        [
            {
                "source_system": "BSS",
                "source_id": "P1",
                "updated_at": at(1),
                "origin": "person_feed",
                "customer_source_id": "1",
                "role_type": "OWNER",
                "first_name": "Jana",
                "last_name": "Nováková",
                "consent_email": True,
            },
            {
                "source_system": "ESHOP",
                "source_id": "9",
                "record_key": "ESHOP|customer:9",
                "updated_at": at(4),
                "origin": "customer_holder",
                "customer_source_id": "9",
                "role_type": "OWNER",
                "first_name": "Jana",
                "last_name": "Nováková",
                "consent_email": False,
            },
        ],
    )
    master = build_master(
        {"person": persons}, {"person": one_cluster(persons)}, None, None, "r1", RUN_AT
    )
    person = master.person.row(0, named=True)
    assert person["consent_email"] is False
    assert lineage_of(master.attribute_lineage, "consent_email")["record_key"] == (
        "ESHOP|customer:9"
    )


def test_source_priority_beats_recency() -> None:
    golden, lineage = golden_customer(
        [
            customer_row("BSS", "1", 1, status="SUSPENDED", email="old@example.cz"),
            customer_row("ESHOP", "9", 5, status="ACTIVE", email="new@example.cz"),
        ]
    )
    assert golden["status"] == "SUSPENDED"  # BSS is first in survivorship.yaml
    assert lineage_of(lineage, "status")["record_key"] == "BSS|1"
    assert golden["email"] == "new@example.cz"  # default: most recent non-null
    assert lineage_of(lineage, "email")["record_key"] == "ESHOP|9"


def test_unlisted_source_falls_back_to_most_recent_and_phone_keeps_its_mobile_flag() -> None:
    golden, lineage = golden_customer(
        [
            customer_row("MARKETING", "1", 1, phone="+420601123456", phone_is_mobile=True),
            customer_row("PARTNER_PORTAL", "2", 2, phone="+420222333444", phone_is_mobile=False),
            customer_row("ESHOP", "3", 3, phone=None, phone_is_mobile=None),
        ]
    )
    assert (golden["phone"], golden["phone_is_mobile"]) == ("+420222333444", False)
    assert lineage_of(lineage, "phone_is_mobile")["record_key"] == "PARTNER_PORTAL|2"
    assert golden["name"] == "Jana Nováková"
    assert golden["source_count"] == 3
    assert golden["updated_at"] == at(3)


def test_address_prefers_valid_records_then_the_most_complete_house_number() -> None:
    rows = [
        {
            "source_system": "BSS",
            "source_id": "A1",
            "updated_at": at(1),
            "owner_kind": "CUSTOMER",
            "owner_source_id": "1",
            "role_type": "SERVICE",
            "street": "Dlouhá",
            "house_number": "1234/5",
            "city": "Praha",
            "postcode": "110 00",
            "country": "CZ",
            "quality_status": "VALID",
        },
        {
            "source_system": "ESHOP",
            "source_id": "A2",
            "updated_at": at(2),
            "owner_kind": "CUSTOMER",
            "owner_source_id": "9",
            "role_type": "SHIPPING",
            "street": None,
            "house_number": "1234",
            "city": "Praha",
            "postcode": "110 00",
            "country": "CZ",
            "quality_status": "VALID",
        },
        {
            "source_system": "ESHOP",
            "source_id": "A3",
            "updated_at": at(3),
            "owner_kind": "CUSTOMER",
            "owner_source_id": "9",
            "role_type": "BILLING",
            "street": "Dlouhá ulice",
            "house_number": "1234",
            "city": "Prague",
            "postcode": None,
            "country": "CZ",
            "quality_status": "INCOMPLETE",
        },
    ]
    addresses = staged("address", rows)
    master = build_master(
        {"address": addresses}, {"address": one_cluster(addresses)}, None, None, "r1", RUN_AT
    )
    address = master.crm_address.row(0, named=True)
    assert address["street"] == "Dlouhá"  # valid records first, then the longest
    assert address["house_number"] == "1234/5"
    assert address["city"] == "Praha"
    assert address["quality_status"] == "VALID"
    assert address["address_line"] == "Dlouhá 1234/5, 110 00 Praha"


def test_every_surviving_value_has_exactly_one_lineage_row() -> None:
    customers = staged(
        "customer",
        [
            customer_row("BSS", "1", 1, email="a@example.cz", consent_email=True),
            customer_row("ESHOP", "9", 5, segment="MASS"),
            customer_row("LEGACY_CRM", "7", 2),
        ],
    )
    with_ids = customers.join(one_cluster(customers, "m1"), on="record_key").rename(
        {"cluster_id": "master_id"}
    )
    attributes = ["status", "segment", "email", "consent_email", "birth_date"]
    golden, lineage = survive(with_ids, "customer", attributes, load_rules())
    assert golden.columns[:3] == ["master_id", "source_count", "updated_at"]
    non_null = [name for name in attributes if golden[name][0] is not None]
    assert sorted(lineage["attribute"].to_list()) == sorted(non_null)
    assert lineage.filter(pl.col("attribute") == "segment")["record_key"].to_list() == ["ESHOP|9"]
    assert lineage["entity"].unique().to_list() == ["customer"]


def test_rules_reject_unknown_strategies_and_configured_consent() -> None:
    with pytest.raises(ValueError, match="unknown survivorship strategy"):
        load_rules({"entities": {"customer": {"email": {"strategy": "loudest"}}}})
    with pytest.raises(ValueError, match="consent"):
        load_rules({"entities": {"customer": {"consent_sms": "most_complete"}}})
    with pytest.raises(ValueError, match="sources"):
        load_rules({"entities": {"customer": {"email": "source_priority"}}})
