"""The assembled master tables: relations, xref completeness, campaigns, metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from crm_pipelines.golden.assemble import MasterData, build_master
from crm_pipelines.staged import conform

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def frame(entity: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    for row in rows:
        row.setdefault("record_key", f"{row['source_system']}|{row['source_id']}")
        row.setdefault("updated_at", at(1))
    return conform(entity, pl.DataFrame(rows, infer_schema_length=None))


def staged_world() -> dict[str, pl.DataFrame]:
    customer = frame(
        "customer",
        [
            # Jana: a residential customer in BSS and ESHOP (one golden customer)
            dict(source_system="BSS", source_id="C1", party_type="INDIVIDUAL",
                 customer_type="RESIDENTIAL", status="ACTIVE", first_name="Jana",
                 last_name="Nováková", country="CZ", email="jana@example.cz"),
            dict(source_system="ESHOP", source_id="E7", party_type="INDIVIDUAL",
                 customer_type="RESIDENTIAL", status="ACTIVE", first_name="Jana",
                 last_name="Novakova", country="CZ"),
            dict(source_system="BSS", source_id="C2", party_type="ORGANIZATION",
                 customer_type="BUSINESS", status="ACTIVE", organization_name="Acme s.r.o.",
                 registration_no="27074358", country="CZ"),
        ],
    )  # fmt: skip
    person = frame(
        "person",
        [
            dict(source_system="BSS", source_id="C1", record_key="BSS|customer:C1",
                 origin="customer_holder", customer_source_id="C1", role_type="OWNER",
                 first_name="Jana", last_name="Nováková", country="CZ"),
            dict(source_system="ESHOP", source_id="E7", record_key="ESHOP|customer:E7",
                 origin="customer_holder", first_name="Jana", last_name="Novakova",
                 country="CZ"),
            # Jana is also Acme's billing contact: the same human, a second role
            dict(source_system="BSS", source_id="P9", origin="person_feed",
                 customer_source_id="C2", role_type="BILLING_CONTACT", first_name="Jana",
                 last_name="Nováková", email="jana@acme.cz", country="CZ"),
            dict(source_system="BSS", source_id="P10", origin="person_feed",
                 customer_source_id=None, role_type="TECHNICAL_CONTACT", first_name="Petr",
                 last_name="Svoboda", country="CZ"),
        ],
    )  # fmt: skip
    account = frame(
        "account",
        [
            dict(source_system="BSS", source_id="A1", customer_source_id="C2",
                 account_type="BILLING", status="ACTIVE", currency="CZK",
                 billing_contact_source_id="P9", credit_limit=1500.0),
            dict(source_system="BSS", source_id="A2", customer_source_id="C1",
                 account_type="PREPAID", status="ACTIVE", currency="CZK"),
        ],
    )  # fmt: skip
    address = frame(
        "address",
        [
            dict(source_system="BSS", source_id="AD1", owner_kind="CUSTOMER",
                 owner_source_id="C2", role_type="REGISTERED", street="Dlouhá",
                 house_number="12", city="Praha", postcode="110 00", country="CZ",
                 quality_status="VALID"),
            dict(source_system="BSS", source_id="AD2", owner_kind="ACCOUNT",
                 owner_source_id="A1", role_type="BILLING", street="Dlouhá",
                 house_number="12", city="Praha", postcode="110 00", country="CZ",
                 quality_status="VALID"),
            dict(source_system="BSS", source_id="AD3", owner_kind="PERSON",
                 owner_source_id="P9", role_type="CORRESPONDENCE", street=None,
                 house_number="7", city="Lhota", postcode="250 01", country="CZ",
                 quality_status="VALID"),
            dict(source_system="ESHOP", source_id="AD4", owner_kind="LEAD",
                 owner_source_id="L1", role_type="SHIPPING", street="Krátká",
                 house_number="3", city="Brno", postcode="602 00", country="CZ",
                 quality_status="VALID"),
        ],
    )  # fmt: skip
    lead = frame(
        "lead",
        [
            dict(source_system="ESHOP", source_id="L1", first_name="Jana",
                 last_name="Nováková", status="NEW", consent_email=True,
                 created_at=at(-5)),
            dict(source_system="MARKETING", source_id="L5", first_name="Jana",
                 last_name="Novakova", status="QUALIFIED", created_at=at(-9),
                 updated_at=at(2)),
            dict(source_system="MARKETING", source_id="L6", organization_name="Beta a.s.",
                 status="NEW"),
        ],
    )  # fmt: skip
    campaign = frame(
        "campaign",
        [
            dict(source_system="MARKETING", source_id="K1", campaign_code="SPRING26",
                 name="Spring", status="DRAFT", channel="EMAIL", start_date=date(2026, 3, 1),
                 end_date=date(2026, 3, 31), target_segments=[], updated_at=at(1)),
            dict(source_system="BSS", source_id="77", campaign_code="SPRING26",
                 name="Spring 2026", status="ACTIVE", channel="EMAIL",
                 start_date=date(2026, 3, 1), end_date=date(2026, 4, 30),
                 target_segments=["MASS"], updated_at=at(3)),
        ],
    )  # fmt: skip
    return {
        "customer": customer,
        "person": person,
        "account": account,
        "address": address,
        "lead": lead,
        "campaign": campaign,
    }


def clusters_of(groups: list[list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_key": [key for group in groups for key in group],
            "cluster_id": [str(n) for n, group in enumerate(groups) for _ in group],
        }
    )


CLUSTERS = {
    "customer": clusters_of([["BSS|C1", "ESHOP|E7"], ["BSS|C2"]]),
    "person": clusters_of([["BSS|customer:C1", "ESHOP|customer:E7", "BSS|P9"], ["BSS|P10"]]),
    "address": clusters_of([["BSS|AD1", "BSS|AD2"], ["BSS|AD3"], ["ESHOP|AD4"]]),
    "lead": clusters_of([["ESHOP|L1", "MARKETING|L5"], ["MARKETING|L6"]]),
}
LINKS = pl.DataFrame(
    {
        "lead_record_key": ["ESHOP|L1", "MARKETING|L5"],
        "customer_record_key": ["ESHOP|E7", "BSS|C2"],
        "score": [0.97, 0.6],
    }
)


@pytest.fixture(scope="module")
def master() -> MasterData:
    return build_master(staged_world(), CLUSTERS, LINKS, None, "run-1", at(10))


def master_id(master: MasterData, entity: str, record_key: str) -> str:
    row = master.xref.filter((pl.col("entity") == entity) & (pl.col("record_key") == record_key))
    assert row.height == 1
    return row["master_id"][0]


def test_golden_counts_and_metrics(master: MasterData) -> None:
    heights = {name: getattr(master, name).height for name in ("customer", "person", "account")}
    assert heights == {"customer": 2, "person": 2, "account": 2}
    assert (master.crm_address.height, master.lead.height, master.campaign.height) == (3, 2, 1)
    assert master.metrics["person"]["golden_records"] == 2
    assert master.metrics["customer"]["new_ids"] == 2


def test_person_roles_come_from_person_records_and_holders(master: MasterData) -> None:
    jana = master_id(master, "person_holder", "BSS|customer:C1")
    residential = master_id(master, "customer", "BSS|C1")
    acme = master_id(master, "customer", "BSS|C2")
    roles = set(master.person_role.iter_rows())
    # the ESHOP holder has no customer_source_id: it is read from its record key
    assert roles == {(jana, residential, "OWNER"), (jana, acme, "BILLING_CONTACT")}


def test_xref_holds_every_accepted_record_once(master: MasterData) -> None:
    world = staged_world()
    expected = {
        (entity, key)
        for entity, staged in world.items()
        for key in staged["record_key"]
        if entity != "person"
    } | {
        ("person_holder" if origin == "customer_holder" else "person", key)
        for key, origin in world["person"].select("record_key", "origin").iter_rows()
    }
    got = list(master.xref.select("entity", "record_key").iter_rows())
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    assert master.xref["master_id"].null_count() == 0
    assert master.xref.filter(pl.col("entity") == "person_holder")["source_id"].to_list() == [
        "C1",
        "E7",
    ]


def test_account_references_resolve_to_golden_ids(master: MasterData) -> None:
    account = master.account.filter(pl.col("account_id") == master_id(master, "account", "BSS|A1"))
    row = account.row(0, named=True)
    assert row["customer_id"] == master_id(master, "customer", "BSS|C2")
    assert row["billing_contact_person_id"] == master_id(master, "person", "BSS|P9")
    assert row["credit_limit"] == 1500.0
    assert row["account_key"].startswith("ACC-")


def test_address_roles_name_the_owners_golden_ids(master: MasterData) -> None:
    roles = set(master.crm_address_role.iter_rows())
    building = master_id(master, "address", "BSS|AD1")
    assert roles == {
        (building, "CUSTOMER", master_id(master, "customer", "BSS|C2"), "REGISTERED"),
        (building, "ACCOUNT", master_id(master, "account", "BSS|A1"), "BILLING"),
        (
            master_id(master, "address", "BSS|AD3"),
            "PERSON",
            master_id(master, "person", "BSS|P9"),
            "CORRESPONDENCE",
        ),
        (
            master_id(master, "address", "ESHOP|AD4"),
            "LEAD",
            master_id(master, "lead", "ESHOP|L1"),
            "SHIPPING",
        ),
    }
    lines = set(master.crm_address["address_line"])
    assert lines == {"Dlouhá 12, 110 00 Praha", "Lhota 7, 250 01 Lhota", "Krátká 3, 602 00 Brno"}


def test_lead_takes_its_best_customer_match_and_first_creation(master: MasterData) -> None:
    lead = master.lead.filter(pl.col("lead_id") == master_id(master, "lead", "ESHOP|L1"))
    row = lead.row(0, named=True)
    assert row["matched_customer_id"] == master_id(master, "customer", "BSS|C1")
    assert row["status"] == "QUALIFIED"  # most recent
    assert row["consent_email"] is True
    assert row["created_at"] == at(-9)
    other = master.lead.filter(pl.col("lead_id") == master_id(master, "lead", "MARKETING|L6"))
    assert other["matched_customer_id"].to_list() == [None]


def test_campaign_is_its_latest_record_keyed_by_code(master: MasterData) -> None:
    row = master.campaign.row(0, named=True)
    assert (row["campaign_key"], row["name"], row["status"]) == (
        "SPRING26",
        "Spring 2026",
        "ACTIVE",
    )
    assert row["end_date"] == date(2026, 4, 30)
    assert row["target_segments"] == ["MASS"]
    assert row["source_count"] == 2
    lineage = master.attribute_lineage.filter(
        (pl.col("entity") == "campaign") & (pl.col("attribute") == "status")
    )
    assert lineage["record_key"].to_list() == ["BSS|77"]
    null_chars = master.attribute_lineage.filter(
        (pl.col("entity") == "campaign") & (pl.col("attribute") == "chars")
    )
    assert null_chars.is_empty()  # no value, no lineage
    assert set(master.xref.filter(pl.col("entity") == "campaign")["master_id"]) == {
        row["campaign_id"]
    }


def test_customer_columns_follow_the_warehouse_contract(master: MasterData) -> None:
    required = (
        "customer_id customer_key party_type customer_type status segment name first_name "
        "last_name birth_date organization_name legal_form registration_no vat_no email phone "
        "country consent_email consent_sms consent_post chars"
    ).split()
    assert set(required) <= set(master.customer.columns)
    names = set(master.customer["name"])
    assert names == {"Acme s.r.o.", "Jana Nováková"}
    assert set(master.tables()) >= {"customer", "xref", "attribute_lineage", "identity_registry"}
    registry = master.identity_registry
    assert registry.height == sum(m["golden_records"] for m in master.metrics.values())
    assert set(registry["status"]) == {"ACTIVE"}
