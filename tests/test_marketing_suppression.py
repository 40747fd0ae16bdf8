"""A withdrawal is a statement about the contact point (warehouse.md, schema marketing):
the suppression list, hand-built cases. A real run over a split person is in
test_marketing_suppression_run.py."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import polars as pl
from factories.golden_frames import GoldenBuilder

from crm_pipelines.marketing import (
    build_campaign_targets,
    contact_statements,
    suppression_list,
    target_violations,
)

AS_OF = date(2025, 6, 15)
MAILBOX = "jana@example.cz"
MOBILE = "+420601123456"
MARCH = datetime(2025, 3, 1, 10, tzinfo=UTC)
MAY = datetime(2025, 5, 2, 9, tzinfo=UTC)
JUNE = datetime(2025, 6, 1, 9, tzinfo=UTC)


def record(source_id: str, at: datetime, source: str = "BSS", **values) -> dict:
    """One staged source record (winning version) with the columns statements read."""
    return {"source_system": source, "source_id": source_id, "updated_at": at} | values


def staged(person=(), customer=(), lead=()) -> dict[str, pl.DataFrame]:
    schema = {
        "source_system": pl.String,
        "source_id": pl.String,
        "updated_at": pl.Datetime("us", "UTC"),
        "origin": pl.String,
        "email": pl.String,
        "phone": pl.String,
        "phone_is_mobile": pl.Boolean,
        "consent_email": pl.Boolean,
        "consent_sms": pl.Boolean,
        "consent_post": pl.Boolean,
    }
    return {
        feed: pl.DataFrame(list(rows), schema=schema)
        for feed, rows in (("person", person), ("customer", customer), ("lead", lead))
    }


def split_person_world() -> GoldenBuilder:
    """One human, two golden persons: matching kept the e-shop record apart. The BSS record
    (owner of customer c1) consented in March; the e-shop record withdrew in May."""
    world = GoldenBuilder().campaign("EM").campaign("TXT", "SMS").campaign("LETTER", "POST")
    world.customer("c1").person(
        "p1",
        email=MAILBOX,
        phone=MOBILE,
        phone_is_mobile=True,
        consent={"email": True, "sms": True, "post": True},
        at=MARCH,
    )
    world.role("p1", "c1").address("a1", "CUSTOMER", "c1", "CORRESPONDENCE")
    world.person("p2", email=MAILBOX, consent={"email": False}, source="ESHOP", at=MAY)
    return world


def bss_consent(at: datetime = MARCH, **consents: bool) -> dict:
    return record(
        "P-1",
        at,
        email=MAILBOX,
        phone=MOBILE,
        phone_is_mobile=True,
        origin="person_feed",
        **consents,
    )


def eshop_withdrawal(at: datetime = MAY, **consents: bool) -> dict:
    return record("E-9", at, source="ESHOP", email=MAILBOX, origin="person_feed", **consents)


def targets_with(world: GoldenBuilder, records: dict[str, pl.DataFrame]):
    master = world.frames()
    statements = contact_statements(records)
    suppression = suppression_list(statements)
    return build_campaign_targets(master, AS_OF, suppression), suppression, statements, master


def test_a_withdrawal_on_a_record_matching_kept_apart_suppresses_the_mailbox():
    world = split_person_world()
    records = staged(
        person=[
            bss_consent(consent_email=True, consent_sms=True, consent_post=True),
            eshop_withdrawal(consent_email=False),
        ]
    )
    result, suppression, _, _ = targets_with(world, records)
    assert suppression.rows() == [("EMAIL", MAILBOX, "person", "ESHOP", "E-9", MAY)]
    campaigns = set(result.campaign_target["campaign_key"])
    assert campaigns == {"TXT", "LETTER"}  # the number and the building were not withdrawn
    excluded = result.campaign_exclusion.filter(pl.col("campaign_key") == "EM").row(0, named=True)
    assert excluded["target_id"] == "c1" and excluded["reason"] == "CONTACT_WITHDRAWN"
    assert (
        excluded["withdrawn_feed"],
        excluded["withdrawn_source_system"],
        excluded["withdrawn_source_id"],
        excluded["withdrawn_at"],
    ) == ("person", "ESHOP", "E-9", MAY)
    assert "withdrawn in person record ESHOP E-9 2025-05-02" in excluded["reason_text"]
    summary = result.summary.filter(pl.col("campaign_key") == "EM").row(0, named=True)
    assert summary["contact_withdrawn"] == 1 and summary["targets"] == 0


def test_without_the_suppression_list_the_split_person_would_be_targeted():
    """The case above is a real risk: the golden record alone still holds consent."""
    result = build_campaign_targets(split_person_world().frames(), AS_OF)
    assert "EM" in set(result.campaign_target["campaign_key"])


def test_a_later_consent_on_the_contact_point_lifts_the_suppression():
    world = split_person_world()
    records = staged(
        person=[
            bss_consent(at=JUNE, consent_email=True),  # re-consent after the May withdrawal
            eshop_withdrawal(consent_email=False),
        ]
    )
    result, suppression, _, _ = targets_with(world, records)
    assert suppression.is_empty()
    assert "EM" in set(result.campaign_target["campaign_key"])


def test_an_sms_withdrawal_on_a_lead_suppresses_the_number_only():
    world = split_person_world()
    records = staged(
        person=[bss_consent(consent_email=True, consent_sms=True)],
        lead=[
            record(
                "L-4",
                MAY,
                source="MARKETING",
                phone=MOBILE,
                phone_is_mobile=True,
                email=MAILBOX,
                consent_sms=False,
            )
        ],
    )
    result, suppression, _, _ = targets_with(world, records)
    assert suppression.select("channel", "contact", "feed", "source_id").rows() == [
        ("SMS", MOBILE, "lead", "L-4")
    ]
    assert set(result.campaign_target["campaign_key"]) == {"EM", "LETTER"}


def test_a_postal_withdrawal_suppresses_no_building():
    records = staged(
        customer=[record("C-7", MAY, email="other@example.cz", consent_post=False)],
        person=[bss_consent(consent_post=True)],
    )
    statements = contact_statements(records)
    assert statements.filter(pl.col("channel") == "POST").is_empty()
    assert suppression_list(statements).is_empty()


def test_at_the_same_instant_a_withdrawal_outranks_a_consent():
    records = staged(
        customer=[record("C-1", MAY, email=MAILBOX, consent_email=True)],
        person=[eshop_withdrawal(at=MAY, consent_email=False)],
    )
    suppression = suppression_list(contact_statements(records))
    assert suppression.select("feed", "source_id").rows() == [("person", "E-9")]


def test_a_holder_record_is_not_read_twice_and_a_customer_row_counts():
    records = staged(
        customer=[record("C-1", MAY, email=MAILBOX, consent_email=False)],
        person=[
            record(
                "customer:C-1", MAY, email=MAILBOX, consent_email=False, origin="customer_holder"
            )
        ],
    )
    suppression = suppression_list(contact_statements(records))
    assert suppression.select("feed", "source_id").rows() == [("customer", "C-1")]


def test_a_withdrawn_owner_mailbox_passes_the_campaign_to_the_next_contact_role():
    world = split_person_world()
    world.person("p3", email="billing@example.cz", consent={"email": True}, at=MARCH)
    world.role("p3", "c1", "BILLING_CONTACT")
    records = staged(
        person=[bss_consent(consent_email=True), eshop_withdrawal(consent_email=False)]
    )
    result, _, _, _ = targets_with(world, records)
    email = result.campaign_target.filter(pl.col("campaign_key") == "EM").row(0, named=True)
    assert (email["person_id"], email["contact"]) == ("p3", "billing@example.cz")


def test_the_check_fails_on_a_target_list_that_contradicts_the_suppression():
    world = split_person_world()
    records = staged(
        person=[bss_consent(consent_email=True), eshop_withdrawal(consent_email=False)]
    )
    result, _, statements, master = targets_with(world, records)
    clean = target_violations(result, master, statements)
    assert all(frame.is_empty() for frame in clean.values()), clean
    # a hand-made list: the golden record's own consent is fine, the contact point is not
    unsuppressed = build_campaign_targets(master, AS_OF)
    forged = dataclasses.replace(result, campaign_target=unsuppressed.campaign_target)
    found = target_violations(forged, master, statements)["withdrawn_contact"]
    assert found.select("campaign_key", "contact").rows() == [("EM", MAILBOX)]
    assert found["problem"].to_list() == [
        "contact point withdrawn for the channel in person record ESHOP E-9 at "
        "2025-05-02 09:00:00 UTC"
    ]
    assert target_violations(forged, master, statements)["no_consent"].is_empty()
