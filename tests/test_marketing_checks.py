"""Blocking checks on campaign targets: clean output passes, forged rows are caught."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import polars as pl
import pytest
from factories.golden_frames import GoldenBuilder, synthetic_master

from crm_pipelines.marketing import CampaignTargets, build_campaign_targets, target_violations
from crm_pipelines.marketing.suppression import STATEMENT_SCHEMA
from crm_pipelines.marketing.validity import is_e164_mobile, is_valid_email

AS_OF = date(2025, 6, 15)
NO_STATEMENTS = pl.DataFrame(schema=STATEMENT_SCHEMA)  # no contact point withdrawn anywhere


@pytest.fixture(scope="module")
def golden() -> dict[str, pl.DataFrame]:
    w = GoldenBuilder()
    w.campaign("EM", include_leads=True).campaign("TXT", "SMS").campaign("LETTER", "POST")
    w.campaign("OVER", end_date=date(2025, 6, 1))
    w.customer("c1").person(
        "p1",
        email="jana@example.cz",
        phone="+420601123456",
        phone_is_mobile=True,
        consent={"email": True, "sms": True, "post": True},
    )
    w.role("p1", "c1").address("a1", "CUSTOMER", "c1", "CORRESPONDENCE")
    w.customer("c2").person(
        "p2",
        email="no@example.cz",
        phone="+420212345678",
        phone_is_mobile=False,
        consent={"email": False, "sms": None},
    )
    w.role("p2", "c2").address(
        "a2", "CUSTOMER", "c2", "CORRESPONDENCE", quality_status="INCOMPLETE"
    )
    w.customer("c3", status="TERMINATED")
    w.lead("l1", email="lead@example.cz", consent={"email": True})
    return w.frames()


@pytest.fixture(scope="module")
def targets(golden) -> CampaignTargets:
    return build_campaign_targets(golden, AS_OF)


def forge(targets: CampaignTargets, **changes) -> CampaignTargets:
    """A copy of the first target row with some values replaced, appended to the targets."""
    base = targets.campaign_target.filter(pl.col("channel") == changes.get("channel", "EMAIL"))
    row = base.head(1).with_columns(
        [pl.lit(v, dtype=base.schema[k]).alias(k) for k, v in changes.items()]
    )
    return dataclasses.replace(targets, campaign_target=pl.concat([targets.campaign_target, row]))


def test_clean_targets_have_no_violations(targets, golden):
    assert targets.campaign_target.height == 4  # c1 on three channels, lead l1 by e-mail
    violations = target_violations(targets, golden, NO_STATEMENTS)
    assert set(violations) == {
        "withdrawn_contact",
        "no_consent",
        "invalid_contact",
        "duplicate",
        "ineligible_target",
    }
    assert all(frame.is_empty() for frame in violations.values()), violations


def test_forged_target_without_consent_is_caught(targets, golden):
    forged = forge(targets, target_id="c2", person_id="p2", contact="no@example.cz")
    found = target_violations(forged, golden, NO_STATEMENTS)["no_consent"]
    assert found.select("target_id", "problem").rows() == [
        ("c2", "consent withdrawn in the golden record")
    ]


def test_forged_sms_without_statement_is_caught(targets, golden):
    forged = forge(targets, channel="SMS", target_id="c2", person_id="p2", contact="+420212345678")
    violations = target_violations(forged, golden, NO_STATEMENTS)
    assert violations["no_consent"]["problem"].to_list() == [
        "no consent statement in the golden record"
    ]
    assert violations["invalid_contact"]["problem"].to_list() == [
        "not a valid mobile number in E.164"
    ]


def test_forged_consent_proof_is_caught(targets, golden):
    forged = forge(targets, consent_source_system="PARTNER_PORTAL", contact="x@example.cz")
    problems = target_violations(forged, golden, NO_STATEMENTS)["no_consent"]["problem"].to_list()
    assert problems == ["the stated consent source is not in the attribute lineage"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"contact": "not-an-email"}, "not a valid e-mail address"),
        ({"contact": "Jana@Example.cz"}, "not a valid e-mail address"),
        ({"contact": "other@example.cz"}, "not the e-mail address of the golden record"),
        ({"contact": None}, "no contact"),
        (
            {"channel": "POST", "address_id": "a2", "contact": "Vinohradská 2, 120 00 Praha, CZ"},
            "address did not pass address quality",
        ),
        (
            {"channel": "POST", "address_id": "nowhere", "contact": "?"},
            "address did not pass address quality",
        ),
    ],
)
def test_forged_invalid_contact_is_caught(targets, golden, changes, problem):
    forged = forge(targets, **changes)
    assert target_violations(forged, golden, NO_STATEMENTS)["invalid_contact"][
        "problem"
    ].to_list() == [problem]


def test_duplicate_contact_is_caught(targets, golden):
    forged = forge(targets, target_id="l1", target_kind="LEAD", person_id=None)
    duplicates = target_violations(forged, golden, NO_STATEMENTS)["duplicate"]
    assert duplicates.height == 2
    assert duplicates["contact"].unique().to_list() == ["jana@example.cz"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"campaign_key": "OVER"}, "campaign is not active on the as-of date"),
        ({"target_id": "c3"}, "target's status does not allow targeting"),
        ({"target_id": "ghost"}, "target is not in the golden data"),
        ({"person_id": "p2"}, "person holds no contactable role for the customer"),
    ],
)
def test_ineligible_target_is_caught(targets, golden, changes, problem):
    forged = forge(targets, **changes)
    assert target_violations(forged, golden, NO_STATEMENTS)["ineligible_target"][
        "problem"
    ].to_list() == [problem]


def test_validators():
    assert is_valid_email("jana@example.cz")
    assert not is_valid_email("jana@@example.cz")
    assert is_e164_mobile("+420601123456")
    assert not is_e164_mobile("+420212345678")  # fixed line
    assert not is_e164_mobile("601123456")  # not E.164


def test_checks_pass_on_a_synthetic_run():
    master = synthetic_master(3000, 600)
    result = build_campaign_targets(master, AS_OF)
    assert result.campaign_target.height > 1000
    violations = target_violations(result, master, NO_STATEMENTS)
    assert all(frame.is_empty() for frame in violations.values()), {
        k: v.height for k, v in violations.items()
    }
    assert result.summary["targets"].sum() == result.campaign_target.height
    assert result.summary["excluded"].sum() == result.campaign_exclusion.height
    assert datetime(2025, 3, 1, tzinfo=UTC) in result.campaign_target["consent_updated_at"]
