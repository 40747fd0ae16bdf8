"""Campaign targeting rules of the warehouse contract, case by hand-built case."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from factories.golden_frames import GoldenBuilder

from crm_pipelines.marketing import build_campaign_targets

AS_OF = date(2025, 6, 15)
MOBILE = "+420601123456"
FIXED_LINE = "+420212345678"


def run(world: GoldenBuilder, as_of: date = AS_OF):
    return build_campaign_targets(world.frames(), as_of)


def targets_of(result, campaign_key: str = "EM") -> pl.DataFrame:
    return result.campaign_target.filter(pl.col("campaign_key") == campaign_key)


def exclusion(result, target_id: str, campaign_key: str = "EM") -> dict:
    rows = result.campaign_exclusion.filter(
        (pl.col("campaign_key") == campaign_key) & (pl.col("target_id") == target_id)
    )
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def customer_with_owner(world: GoldenBuilder, n: str, **person) -> GoldenBuilder:
    world.customer(f"c{n}").person(f"p{n}", **person).role(f"p{n}", f"c{n}", "OWNER")
    return world


def test_consent_withdrawn_later_on_another_source_is_not_targeted():
    world = GoldenBuilder().campaign("EM")
    # BSS gave e-mail consent in March, the e-shop withdrew it in May: golden holds False,
    # and its lineage names the e-shop statement.
    customer_with_owner(
        world,
        "1",
        email="jana@example.cz",
        consent={"email": False},
        source="ESHOP",
        at=datetime(2025, 5, 2, tzinfo=UTC),
    )
    world.statement("person", "p1", "consent_email", "BSS", datetime(2025, 3, 1, tzinfo=UTC))
    result = run(world)
    assert targets_of(result).is_empty()
    row = exclusion(result, "c1")
    assert row["reason"] == "CONSENT_WITHDRAWN"
    assert "withdrawn in ESHOP 2025-05-02" in row["reason_text"]


def test_consent_withdrawn_then_given_again_is_targeted_with_latest_statement():
    world = GoldenBuilder().campaign("EM")
    customer_with_owner(
        world,
        "1",
        email="Jana@Example.cz",
        consent={"email": True},
        source="BSS",
        at=datetime(2025, 5, 20, tzinfo=UTC),
    )
    world.statement("person", "p1", "consent_email", "ESHOP", datetime(2025, 4, 1, tzinfo=UTC))
    target = targets_of(run(world)).row(0, named=True)
    assert target["contact"] == "jana@example.cz"
    assert target["consent_source_system"] == "BSS"
    assert target["consent_updated_at"] == datetime(2025, 5, 20, tzinfo=UTC)
    assert target["qualification"] == (
        "ACTIVE RESIDENTIAL customer, contact OWNER, e-mail consent given in BSS 2025-05-20"
    )


def test_no_statement_and_unproven_consent_are_no_consent():
    world = GoldenBuilder().campaign("EM")
    customer_with_owner(world, "1", email="a@example.cz", consent={"email": None})
    customer_with_owner(world, "2", email="b@example.cz")
    # golden says True but no lineage statement backs it: not usable
    world.customer("c3").person("p3", email="c@example.cz", consent_email=True).role("p3", "c3")
    result = run(world)
    assert targets_of(result).is_empty()
    assert exclusion(result, "c1")["reason"] == "NO_CONSENT"
    assert exclusion(result, "c2")["reason"] == "NO_CONSENT"
    assert exclusion(result, "c3")["reason"] == "NO_CONSENT_PROOF"


def test_highest_role_with_consent_and_valid_contact_is_the_contact():
    world = GoldenBuilder().campaign("EM").customer("c1", party_type="ORGANIZATION")
    world.person("owner", email="owner@example.cz", consent={"email": False})
    world.person("tech", email="tech@example.cz", consent={"email": True})
    world.person("sales", email=None, consent={"email": True})
    world.person("billing", email="billing@example.cz", consent={"email": True})
    world.role("owner", "c1", "OWNER").role("tech", "c1", "TECHNICAL_CONTACT")
    world.role("sales", "c1", "SALES_CONTACT").role("billing", "c1", "BILLING_CONTACT")
    target = targets_of(run(world)).row(0, named=True)
    assert (target["person_id"], target["contact"]) == ("billing", "billing@example.cz")
    assert "contact BILLING_CONTACT" in target["qualification"]


def test_customer_without_contactable_person_is_listed():
    world = GoldenBuilder().campaign("EM").customer("c1")
    result = run(world)
    assert exclusion(result, "c1")["reason"] == "NO_CONTACT_PERSON"


def test_contact_person_of_two_customers_gets_one_row():
    world = GoldenBuilder().campaign("EM")
    world.customer("c1").customer("c2", customer_type="BUSINESS", party_type="ORGANIZATION")
    world.person("p1", email="jana@example.cz", consent={"email": True})
    world.role("p1", "c1", "OWNER").role("p1", "c2", "SALES_CONTACT")
    result = run(world)
    targets = targets_of(result)
    assert targets.select("target_id", "person_id").rows() == [("c1", "p1")]
    dup = exclusion(result, "c2")
    assert dup["reason"] == "DUPLICATE_CONTACT"
    assert "customer C-c1 (contact OWNER)" in dup["reason_text"]


def test_lead_who_is_a_customer_is_targeted_once_as_the_customer():
    world = GoldenBuilder().campaign("EM", include_leads=True)
    customer_with_owner(world, "1", email="jana@example.cz", consent={"email": True})
    world.lead("l1", email="jana@example.cz", consent={"email": True}, matched_customer_id="c1")
    # not matched by the match stage, but the same e-mail: still one row, the customer's
    world.lead("l2", email="JANA@example.cz", consent={"email": True})
    world.lead("l3", email="new@example.cz", consent={"email": True})
    result = run(world)
    targets = targets_of(result)
    assert sorted(targets.select("target_kind", "target_id").rows()) == [
        ("CUSTOMER", "c1"),
        ("LEAD", "l3"),
    ]
    assert exclusion(result, "l1")["reason"] == "MATCHED_EXISTING_CUSTOMER"
    assert exclusion(result, "l2")["reason"] == "DUPLICATE_CONTACT"
    lead = targets.filter(pl.col("target_id") == "l3").row(0, named=True)
    assert lead["person_id"] is None
    assert lead["qualification"] == "NEW lead, e-mail consent given in MARKETING 2025-04-01"


def test_lead_is_targeted_when_the_customer_has_no_consent():
    world = GoldenBuilder().campaign("EM", include_leads=True)
    customer_with_owner(world, "1", email="jana@example.cz", consent={"email": False})
    world.lead("l2", email="jana@example.cz", consent={"email": True})
    result = run(world)
    assert targets_of(result).select("target_id").to_series().to_list() == ["l2"]


def test_converted_and_disqualified_leads_are_never_targeted_nor_listed():
    world = GoldenBuilder().campaign("EM", include_leads=True)
    for status in ("NEW", "QUALIFIED", "CONVERTED", "DISQUALIFIED"):
        world.lead(
            status, email=f"{status.lower()}@example.cz", consent={"email": True}, status=status
        )
    result = run(world)
    assert sorted(targets_of(result)["target_id"]) == ["NEW", "QUALIFIED"]
    assert result.campaign_exclusion.is_empty()


def test_leads_only_when_the_campaign_includes_them():
    world = GoldenBuilder()
    world.campaign("DEFAULT").campaign("NO_CUSTOMERS", include_customers=False, include_leads=True)
    customer_with_owner(world, "1", email="jana@example.cz", consent={"email": True})
    world.lead("l1", email="petr@example.cz", consent={"email": True})
    result = run(world)
    assert targets_of(result, "DEFAULT")["target_id"].to_list() == ["c1"]
    assert targets_of(result, "NO_CUSTOMERS")["target_id"].to_list() == ["l1"]


@pytest.mark.parametrize(
    ("start", "end", "active"),
    [
        (date(2025, 6, 16), date(2025, 6, 30), False),  # starts tomorrow
        (date(2025, 6, 15), date(2025, 6, 30), True),  # starts today
        (date(2025, 6, 1), date(2025, 6, 15), True),  # ends today
        (date(2025, 6, 1), date(2025, 6, 14), False),  # ended yesterday
    ],
)
def test_campaign_dates_are_inclusive(start: date, end: date, active: bool):
    world = GoldenBuilder().campaign("EM", start_date=start, end_date=end)
    customer_with_owner(world, "1", email="jana@example.cz", consent={"email": True})
    result = run(world)
    assert targets_of(result).height == (1 if active else 0)
    assert result.summary["campaign_key"].to_list() == (["EM"] if active else [])


@pytest.mark.parametrize("status", ["DRAFT", "FINISHED", "CANCELLED"])
def test_only_active_campaigns_run(status: str):
    world = GoldenBuilder().campaign("EM", status=status)
    customer_with_owner(world, "1", email="jana@example.cz", consent={"email": True})
    assert run(world).campaign_target.is_empty()


def test_email_must_be_valid():
    world = GoldenBuilder().campaign("EM")
    # golden keeps only valid e-mails: an invalid one arrives as null
    customer_with_owner(world, "1", email=None, consent={"email": True})
    row = exclusion(run(world), "c1")
    assert row["reason"] == "INVALID_CONTACT"
    assert "no valid e-mail address" in row["reason_text"]


def test_sms_needs_a_mobile_number():
    world = GoldenBuilder().campaign("TXT", "SMS")
    customer_with_owner(world, "1", phone=MOBILE, phone_is_mobile=True, consent={"sms": True})
    customer_with_owner(world, "2", phone=FIXED_LINE, phone_is_mobile=False, consent={"sms": True})
    result = run(world)
    assert targets_of(result, "TXT").select("target_id", "contact").rows() == [("c1", MOBILE)]
    assert exclusion(result, "c2", "TXT")["reason"] == "INVALID_CONTACT"


def test_post_uses_a_valid_address_correspondence_first():
    world = GoldenBuilder().campaign("LETTER", "POST")
    customer_with_owner(world, "1", consent={"post": True})
    world.address("a-service", "CUSTOMER", "c1", "SERVICE", street="Služební", house_number="1")
    world.address("a-corr", "CUSTOMER", "c1", "CORRESPONDENCE", street="Psací", house_number="2")
    customer_with_owner(world, "2", consent={"post": True})
    world.address("a-bad", "CUSTOMER", "c2", "CORRESPONDENCE", quality_status="INCOMPLETE")
    # a person's own correspondence address beats the customer's service address
    customer_with_owner(world, "3", consent={"post": True})
    world.address("a-c3", "CUSTOMER", "c3", "SERVICE", street="Dílenská", house_number="3")
    world.address("a-p3", "PERSON", "p3", "CORRESPONDENCE", street="Domácí", house_number="4")
    result = run(world)
    letters = {r["target_id"]: r for r in targets_of(result, "LETTER").iter_rows(named=True)}
    assert letters["c1"]["address_id"] == "a-corr"
    assert letters["c1"]["contact"] == "Psací 2, 120 00 Praha, CZ"
    assert letters["c1"]["address_line_1"] == "Psací 2"
    assert (
        "letter to the CORRESPONDENCE address of the customer" in (letters["c1"]["qualification"])
    )
    assert letters["c3"]["address_id"] == "a-p3"
    assert "c2" not in letters
    row = exclusion(result, "c2", "LETTER")
    assert row["reason"] == "INVALID_CONTACT"
    assert "no address that passed address quality" in row["reason_text"]


def test_one_letter_per_address():
    world = GoldenBuilder().campaign("LETTER", "POST")
    for n in ("1", "2"):
        customer_with_owner(world, n, consent={"post": True})
        world.address("same-building", "CUSTOMER", f"c{n}", "CORRESPONDENCE")
    result = run(world)
    assert targets_of(result, "LETTER")["target_id"].to_list() == ["c1"]
    assert exclusion(result, "c2", "LETTER")["reason"] == "DUPLICATE_CONTACT"


def test_lead_letters_go_to_the_leads_valid_address():
    world = GoldenBuilder().campaign("LETTER", "POST", include_leads=True)
    world.lead("l1", consent={"post": True}).address("a1", "LEAD", "l1", "CORRESPONDENCE")
    world.lead("l2", consent={"post": True})
    result = run(world)
    assert targets_of(result, "LETTER")["address_id"].to_list() == ["a1"]
    assert exclusion(result, "l2", "LETTER")["reason"] == "INVALID_CONTACT"


def test_customer_filters_type_segment_country_and_status():
    world = GoldenBuilder().campaign(
        "EM",
        include_leads=True,
        target_customer_types=["BUSINESS"],
        target_segments=["SME", "SOHO"],
        target_countries=["SK"],
    )
    cases = {
        "ok": {"customer_type": "BUSINESS", "segment": "SME", "country": "SK"},
        "type": {"customer_type": "RESIDENTIAL", "segment": "SME", "country": "SK"},
        "segment": {"customer_type": "BUSINESS", "segment": "MASS", "country": "SK"},
        "no_segment": {"customer_type": "BUSINESS", "segment": None, "country": "SK"},
        "country": {"customer_type": "BUSINESS", "segment": "SOHO", "country": "CZ"},
        "terminated": {"customer_type": "BUSINESS", "segment": "SME", "status": "TERMINATED"},
    }
    for n, values in cases.items():
        world.customer(f"c{n}", **({"country": "SK"} | values))
        world.person(f"p{n}", email=f"{n}@example.cz", consent={"email": True})
        world.role(f"p{n}", f"c{n}")
    # type and segment filters do not apply to leads; the country filter does
    world.lead("l-sk", email="sk@example.sk", country="SK", consent={"email": True})
    world.lead("l-cz", email="cz@example.cz", country="CZ", consent={"email": True})
    result = run(world)
    assert sorted(targets_of(result)["target_id"]) == ["cok", "l-sk"]
    assert result.campaign_exclusion.is_empty()  # filtered ones are no candidates


def test_summary_counts_targets_and_reasons_per_active_campaign():
    world = GoldenBuilder().campaign("EM", include_leads=True).campaign("EMPTY", "SMS")
    customer_with_owner(world, "1", email="a@example.cz", consent={"email": True})
    customer_with_owner(world, "2", email="b@example.cz", consent={"email": False})
    world.lead("l1", email="a@example.cz", consent={"email": True})
    summary = {r["campaign_key"]: r for r in run(world).summary.iter_rows(named=True)}
    assert summary["EM"]["targets"] == 1
    assert summary["EM"]["excluded"] == 2
    assert summary["EM"]["consent_withdrawn"] == 1
    assert summary["EM"]["duplicate_contact"] == 1
    assert summary["EMPTY"]["channel"] == "SMS"
    assert summary["EMPTY"]["targets"] == 0


def test_same_input_in_another_order_gives_the_same_targets():
    world = GoldenBuilder().campaign("EM", include_leads=True)
    for n in range(6):
        world.customer(f"c{n}")
        world.person(f"p{n}", email=f"shared{n % 2}@example.cz", consent={"email": True})
        world.role(f"p{n}", f"c{n}", "OWNER" if n % 3 else "SALES_CONTACT")
        world.lead(f"l{n}", email=f"shared{n % 3}@example.cz", consent={"email": True})
    frames = world.frames()
    shuffled = {
        name: frame.sample(fraction=1.0, shuffle=True, seed=3) for name, frame in frames.items()
    }
    first = build_campaign_targets(frames, AS_OF)
    second = build_campaign_targets(shuffled, AS_OF)
    assert first.campaign_target.equals(second.campaign_target)
    assert first.campaign_exclusion.equals(second.campaign_exclusion)
    assert first.campaign_target.select("campaign_key", "contact").is_duplicated().sum() == 0


def test_phone_type_is_derived_when_the_golden_frame_lacks_the_flag():
    world = GoldenBuilder().campaign("TXT", "SMS")
    customer_with_owner(world, "1", phone=MOBILE, consent={"sms": True})
    customer_with_owner(world, "2", phone=FIXED_LINE, consent={"sms": True})
    frames = world.frames()
    frames["person"] = frames["person"].drop("phone_is_mobile")
    result = build_campaign_targets(frames, AS_OF)
    assert targets_of(result, "TXT")["target_id"].to_list() == ["c1"]
    assert exclusion(result, "c2", "TXT")["reason"] == "INVALID_CONTACT"


def test_a_campaign_key_twice_in_golden_data_fails_the_run():
    world = GoldenBuilder().campaign("EM").campaign("EM", channel="SMS")
    with pytest.raises(ValueError, match="campaign keys must be unique"):
        run(world)


def test_at_equal_address_role_the_customers_address_is_used():
    world = GoldenBuilder().campaign("LETTER", "POST")
    customer_with_owner(world, "1", consent={"post": True})
    world.address("a-customer", "CUSTOMER", "c1", "REGISTERED")
    world.address("a-person", "PERSON", "p1", "REGISTERED")
    target = targets_of(run(world), "LETTER").row(0, named=True)
    assert target["address_id"] == "a-customer"


def test_a_company_contacts_private_address_is_not_used():
    world = GoldenBuilder().campaign("LETTER", "POST")
    world.customer("c1", party_type="ORGANIZATION", customer_type="BUSINESS")
    world.person("sales", consent={"post": True}).role("sales", "c1", "SALES_CONTACT")
    world.address("home", "PERSON", "sales", "CORRESPONDENCE")
    world.address("office", "CUSTOMER", "c1", "SERVICE")
    target = targets_of(run(world), "LETTER").row(0, named=True)
    assert (target["person_id"], target["address_id"]) == ("sales", "office")


def test_a_village_address_without_street_uses_the_village_name():
    world = GoldenBuilder().campaign("LETTER", "POST")
    customer_with_owner(world, "1", consent={"post": True})
    world.address(
        "a1", "CUSTOMER", "c1", street=None, house_number="12", city="Lhota", postcode="257 01"
    )
    target = targets_of(run(world), "LETTER").row(0, named=True)
    assert target["contact"] == "Lhota 12, 257 01 Lhota, CZ"
