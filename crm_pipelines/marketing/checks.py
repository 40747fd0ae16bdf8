"""Independent re-checks of the campaign targets, for blocking asset checks before publish.

They re-derive from the golden data instead of trusting the targeting code: a forged or
buggy row (no consent, a bad contact, a second letter to the same contact) must fail the
run. Each check returns the offending target rows with a `problem` column; empty = fine.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crm_pipelines.marketing.frames import golden
from crm_pipelines.marketing.rules import load_campaign_rules
from crm_pipelines.marketing.targeting import CampaignTargets, active_campaigns
from crm_pipelines.marketing.validity import validate_distinct


def _validate_distinct(values: pl.Series, kind: str) -> pl.DataFrame:
    return validate_distinct(values, kind).rename({"value": "contact"})


def _with_problem(frame: pl.DataFrame, problem: pl.Expr) -> pl.DataFrame:
    return frame.with_columns(problem.alias("problem")).filter(pl.col("problem").is_not_null())


def _golden_consent(master: Mapping[str, pl.DataFrame], attributes: list[str]) -> pl.LazyFrame:
    """entity, master_id, attribute, golden_consent: what each golden person and lead says
    about every consent attribute, one row per statement, as the targets are keyed."""
    consent_of = {
        "person": golden(master, "person").rename({"person_id": "master_id"}),
        "lead": golden(master, "lead").rename({"lead_id": "master_id"}),
    }
    return pl.concat(
        [
            frame.select("master_id", *attributes)
            .unpivot(index="master_id", on=attributes, variable_name="attribute")
            .with_columns(pl.lit(entity).alias("entity"))
            for entity, frame in consent_of.items()
        ]
    ).rename({"value": "golden_consent"})


def _consent_proofs(master: Mapping[str, pl.DataFrame]) -> pl.LazyFrame:
    """The source statements in the attribute lineage, as a target would name its proof."""
    return (
        golden(master, "attribute_lineage")
        .select(
            "entity",
            "master_id",
            "attribute",
            pl.col("source_system").alias("consent_source_system"),
            pl.col("source_id").alias("consent_source_id"),
            pl.lit(True).alias("proof_exists"),
        )
        .unique()
    )


def _consent_subject(targets: pl.LazyFrame, consent_attribute: Mapping[str, str]) -> pl.LazyFrame:
    """The targets with the golden record and consent attribute their channel needs: the
    lead itself, or the customer's contact person."""
    is_lead = pl.col("target_kind") == "LEAD"
    return targets.with_columns(
        pl.when(is_lead).then(pl.lit("lead")).otherwise(pl.lit("person")).alias("entity"),
        pl.when(is_lead)
        .then(pl.col("target_id"))
        .otherwise(pl.col("person_id"))
        .alias("master_id"),
        pl.col("channel").replace_strict(consent_attribute, default=None).alias("attribute"),
    )


def _consent_problem() -> pl.Expr:
    """Why a target's consent does not hold, or null when it does."""
    return (
        pl.when(pl.col("attribute").is_null())
        .then(pl.lit("unknown channel"))
        .when(pl.col("golden_consent").is_null())
        .then(pl.lit("no consent statement in the golden record"))
        .when(pl.col("golden_consent").not_())
        .then(pl.lit("consent withdrawn in the golden record"))
        .when(pl.col("proof_exists").is_null())
        .then(pl.lit("the stated consent source is not in the attribute lineage"))
    )


def missing_consent(targets: pl.DataFrame, master: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Targets whose golden record does not hold consent for the channel, or whose stated
    proof is not the lineage statement behind that consent."""
    rules = load_campaign_rules()
    attributes = list(rules.consent_attribute.values())
    checked = (
        _consent_subject(targets.lazy(), rules.consent_attribute)
        .join(
            _golden_consent(master, attributes),
            on=["entity", "master_id", "attribute"],
            how="left",
        )
        .join(
            _consent_proofs(master),
            on=[
                "entity",
                "master_id",
                "attribute",
                "consent_source_system",
                "consent_source_id",
            ],
            how="left",
            nulls_equal=False,
        )
        .collect()
    )
    return _with_problem(checked, _consent_problem()).select(*targets.columns, "problem")


def _valid_addresses(master: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """address_id, address_ok: whether each golden address passed address quality."""
    valid_status = load_campaign_rules().address_valid_status
    return (
        golden(master, "crm_address")
        .select("address_id", (pl.col("quality_status") == valid_status).alias("address_ok"))
        .collect()
    )


def _contacts_on_record(master: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """record_id, record_email, record_phone, record_kind: the contacts each golden person
    (a customer's target) and lead holds, which a target's contact must be."""
    return pl.concat(
        [
            golden(master, kind)
            .select(
                pl.col(id_col).alias("record_id"),
                pl.col("email").str.to_lowercase().alias("record_email"),
                pl.col("phone").alias("record_phone"),
            )
            .with_columns(pl.lit(target_kind).alias("record_kind"))
            for kind, id_col, target_kind in (
                ("person", "person_id", "CUSTOMER"),
                ("lead", "lead_id", "LEAD"),
            )
        ]
    ).collect()


def _contact_problem() -> pl.Expr:
    """Why a target's contact is not usable on its channel, or null when it is."""
    channel = pl.col("channel")
    return (
        pl.when(pl.col("contact").is_null())
        .then(pl.lit("no contact"))
        .when((channel == "EMAIL") & pl.col("email_ok").not_())
        .then(pl.lit("not a valid e-mail address"))
        .when((channel == "EMAIL") & (pl.col("contact") != pl.col("record_email")).fill_null(True))
        .then(pl.lit("not the e-mail address of the golden record"))
        .when((channel == "SMS") & pl.col("phone_ok").not_())
        .then(pl.lit("not a valid mobile number in E.164"))
        .when((channel == "SMS") & (pl.col("contact") != pl.col("record_phone")).fill_null(True))
        .then(pl.lit("not the phone number of the golden record"))
        .when((channel == "POST") & pl.col("address_id").is_null())
        .then(pl.lit("no address"))
        .when((channel == "POST") & pl.col("address_ok").fill_null(False).not_())
        .then(pl.lit("address did not pass address quality"))
        .when(~channel.is_in(["EMAIL", "SMS", "POST"]))
        .then(pl.lit("unknown channel"))
    )


def invalid_contact(targets: pl.DataFrame, master: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Targets whose contact is not valid for the channel (re-validated from scratch) or is
    not the contact the golden record holds for the person or lead."""
    emails = _validate_distinct(
        targets.filter(pl.col("channel") == "EMAIL")["contact"], "email"
    ).rename({"valid": "email_ok"})
    phones = _validate_distinct(
        targets.filter(pl.col("channel") == "SMS")["contact"], "mobile"
    ).rename({"valid": "phone_ok"})
    checked = (
        targets.with_columns(
            pl.when(pl.col("target_kind") == "LEAD")
            .then(pl.col("target_id"))
            .otherwise(pl.col("person_id"))
            .alias("record_id")
        )
        .join(emails, on="contact", how="left")
        .join(phones, on="contact", how="left")
        .join(_valid_addresses(master), on="address_id", how="left")
        .join(
            _contacts_on_record(master),
            left_on=["target_kind", "record_id"],
            right_on=["record_kind", "record_id"],
            how="left",
        )
    )
    return _with_problem(checked, _contact_problem()).select(*targets.columns, "problem")


def duplicate_contacts(targets: pl.DataFrame) -> pl.DataFrame:
    """Rows that share a campaign and contact: someone would get the campaign twice."""
    group = ["campaign_key", "contact"]
    return targets.filter(pl.len().over(group) > 1).with_columns(
        pl.lit("the same contact is targeted more than once in the campaign").alias("problem")
    )


def ineligible_targets(
    targets: CampaignTargets, master: Mapping[str, pl.DataFrame]
) -> pl.DataFrame:
    """Targets of campaigns not active on the as-of date, customers not in a targetable
    status, leads not NEW/QUALIFIED or already matched to a customer, customer targets
    whose person holds no contactable role for that customer."""
    rules = load_campaign_rules()
    frame = targets.campaign_target
    active = active_campaigns(golden(master, "campaign"), targets.as_of, rules).select(
        "campaign_key", pl.lit(True).alias("campaign_active")
    )
    customers = golden(master, "customer").select(
        pl.lit("CUSTOMER").alias("target_kind"),
        pl.col("customer_id").alias("target_id"),
        pl.col("status").is_in(list(rules.customer_statuses)).alias("eligible"),
    )
    leads = golden(master, "lead").select(
        pl.lit("LEAD").alias("target_kind"),
        pl.col("lead_id").alias("target_id"),
        (
            pl.col("status").is_in(list(rules.lead_statuses))
            & pl.col("matched_customer_id").is_null()
        ).alias("eligible"),
    )
    contact_roles = (
        golden(master, "person_role")
        .filter(pl.col("role_type").is_in(list(rules.role_priority)))
        .select(
            pl.lit("CUSTOMER").alias("target_kind"),
            pl.col("customer_id").alias("target_id"),
            "person_id",
            pl.lit(True).alias("has_role"),
        )
        .unique()
    )
    checked = (
        frame.lazy()
        .join(active, on="campaign_key", how="left")
        .join(pl.concat([customers, leads]), on=["target_kind", "target_id"], how="left")
        .join(contact_roles, on=["target_kind", "target_id", "person_id"], how="left")
        .collect()
    )
    problem = (
        pl.when(pl.col("campaign_active").is_null())
        .then(pl.lit("campaign is not active on the as-of date"))
        .when(pl.col("eligible").is_null())
        .then(pl.lit("target is not in the golden data"))
        .when(pl.col("eligible").not_())
        .then(pl.lit("target's status does not allow targeting"))
        .when((pl.col("target_kind") == "CUSTOMER") & pl.col("has_role").is_null())
        .then(pl.lit("person holds no contactable role for the customer"))
        .when((pl.col("target_kind") == "LEAD") & pl.col("person_id").is_not_null())
        .then(pl.lit("a lead target names a person"))
    )
    return _with_problem(checked, problem).select(*frame.columns, "problem")


def withdrawn_contacts(targets: pl.DataFrame, statements: pl.DataFrame) -> pl.DataFrame:
    """Targets whose contact point's latest statement for the channel, on any source record
    carrying it (contact_statements), is a withdrawal -- re-derived here from the statements,
    not read from the suppression list the targeting used. At an equal instant a withdrawal
    counts as the latest."""
    about_targets = statements.lazy().join(
        targets.lazy().select("channel", "contact").unique(),
        on=["channel", "contact"],
        how="semi",
    )
    latest = (
        about_targets.with_columns(
            pl.col("stated_at").max().over("channel", "contact").alias("latest_at")
        )
        .filter((pl.col("stated_at") == pl.col("latest_at")) & pl.col("consent").not_())
        .group_by("channel", "contact")
        .agg(
            pl.col("feed", "source_system", "source_id", "stated_at", "consent")
            .sort_by("source_id")
            .first()
        )
    )
    checked = targets.lazy().join(latest, on=["channel", "contact"], how="left").collect()
    problem = pl.when(pl.col("consent").is_not_null()).then(
        pl.format(
            "contact point withdrawn for the channel in {} record {} {} at {}",
            "feed",
            "source_system",
            "source_id",
            pl.col("stated_at").dt.to_string("%Y-%m-%d %H:%M:%S UTC"),
        )
    )
    return _with_problem(checked, problem).select(*targets.columns, "problem")


def target_violations(
    targets: CampaignTargets, master: Mapping[str, pl.DataFrame], statements: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Everything that must stop the run before publishing; each frame empty when fine.

    statements: every consent statement about a contact point (suppression.contact_statements
    of the staged records)."""
    frame = targets.campaign_target
    return {
        "withdrawn_contact": withdrawn_contacts(frame, statements),
        "no_consent": missing_consent(frame, master),
        "invalid_contact": invalid_contact(frame, master),
        "duplicate": duplicate_contacts(frame),
        "ineligible_target": ineligible_targets(targets, master),
    }
