"""The master tables: staged records + clusters -> golden records with stable ids and lineage."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

import polars as pl

from crm_pipelines.golden.attributes import ATTRIBUTES, address_line, customer_name
from crm_pipelines.golden.identity import (
    REGISTRY_SCHEMA,
    XREF_SCHEMA,
    IdentityAssignment,
    PreviousIdentity,
    assign_identity,
    conform_frame,
)
from crm_pipelines.golden.memory import (
    accumulate_retired,
    accumulate_source_keys,
    remembered_xref,
)
from crm_pipelines.golden.minting import uuid5_series
from crm_pipelines.golden.relations import (
    address_roles,
    lead_matches,
    person_roles,
    resolve,
)
from crm_pipelines.golden.survivorship import (
    LINEAGE_SCHEMA,
    SurvivorshipRules,
    load_rules,
    survive,
    survive_latest_record,
)
from crm_pipelines.staged import MATCHED_ENTITIES, STAGED_SCHEMAS, empty_staged

log = logging.getLogger(__name__)

GOLDEN_ENTITIES = ("customer", "person", "account", "address", "lead", "campaign")
XREF_ENTITY_OF_HOLDER = "person_holder"
SOURCE_COLUMNS = ("source_system", "source_id", "record_key", "updated_at")


@dataclass
class MasterData:
    """The golden stage's output; frame names are the warehouse's master table names."""

    customer: pl.DataFrame
    person: pl.DataFrame
    person_role: pl.DataFrame
    account: pl.DataFrame
    crm_address: pl.DataFrame
    crm_address_role: pl.DataFrame
    lead: pl.DataFrame
    campaign: pl.DataFrame
    xref: pl.DataFrame
    attribute_lineage: pl.DataFrame
    identity_registry: pl.DataFrame
    identity_retired: pl.DataFrame
    identity_source_key: pl.DataFrame
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Table name -> frame, for publishing into schema master."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "metrics"}


def _cluster_frame(
    records: pl.DataFrame, clusters: pl.DataFrame | None, entity: str
) -> pl.DataFrame:
    """Every staged record exactly once; records matching left out become their own cluster."""
    keys = records.select("record_key")
    if clusters is None:
        if records.height:
            log.warning("no clusters for %s: every record is its own golden record", entity)
        clusters = pl.DataFrame(schema={"record_key": pl.String(), "cluster_id": pl.String()})
    labelled = keys.join(
        clusters.select(
            pl.col("record_key").cast(pl.String), pl.col("cluster_id").cast(pl.String)
        ).unique("record_key", keep="first"),
        on="record_key",
        how="left",
        maintain_order="left",
    )
    missing = labelled.filter(pl.col("cluster_id").is_null()).height
    if missing:
        log.warning("%d %s records have no cluster: kept as singletons", missing, entity)
    return labelled.with_columns(
        pl.coalesce("cluster_id", pl.concat_str(pl.lit("single|"), pl.col("record_key")))
    )


def _previous_by_entity(previous: PreviousIdentity | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    xref = remembered_xref(previous).with_columns(
        pl.col("entity").replace(XREF_ENTITY_OF_HOLDER, "person")
    )
    registry = conform_frame(previous.identity_registry if previous else None, REGISTRY_SCHEMA)
    return xref, registry


def _identities(
    staged: dict[str, pl.DataFrame],
    clusters: dict[str, pl.DataFrame],
    previous: PreviousIdentity | None,
    run_id: str,
    run_at: datetime,
) -> dict[str, IdentityAssignment]:
    """Each entity's identities; its assignment narrowed to record_key, master_id."""
    xref, registry = _previous_by_entity(previous)
    result = {}
    for entity in GOLDEN_ENTITIES:
        records = staged[entity]
        if entity in MATCHED_ENTITIES:
            labels = _cluster_frame(records, clusters.get(entity), entity)
        elif entity == "campaign":
            labels = records.select("record_key", pl.col("campaign_code").alias("cluster_id"))
        else:
            labels = records.select("record_key", pl.col("record_key").alias("cluster_id"))
        identity = assign_identity(
            entity,
            labels,
            xref.filter(pl.col("entity") == entity),
            registry.filter(pl.col("entity") == entity),
            run_id,
            run_at,
            key_from_cluster_id=entity == "campaign",
        )
        # Kept until xref is built: only the ids (keys are in the registry), not the labels.
        result[entity] = replace(
            identity, assignment=identity.assignment.select("record_key", "master_id")
        )
    return result


def _with_ids(
    records: pl.DataFrame, identity: IdentityAssignment, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """`columns` of the records (all if None) with their golden master_id.

    The assignment is in staged row order (built from the records' keys), so the ids are
    attached by position; a join on the text record_key is only the fallback."""
    assignment = identity.assignment
    narrow = records if columns is None else records.select(columns)
    if assignment.height == records.height and assignment["record_key"].equals(
        records["record_key"]
    ):
        return narrow.with_columns(assignment["master_id"])
    keyed = narrow if "record_key" in narrow.columns else narrow.with_columns(records["record_key"])
    joined = keyed.join(
        assignment.select("record_key", "master_id"),
        on="record_key",
        how="left",
        maintain_order="left",
    )
    return joined if "record_key" in narrow.columns else joined.drop("record_key")


def _survivorship_columns(
    entity: str, records: pl.DataFrame, rules: SurvivorshipRules
) -> list[str]:
    """The staged columns survivorship reads: attributes, validity columns, provenance."""
    wanted = [*SOURCE_COLUMNS, *ATTRIBUTES[entity]]
    wanted += [
        rule.validity_column
        for rule in rules.entities.get(entity, {}).values()
        if rule.validity_column
    ]
    return [name for name in dict.fromkeys(wanted) if name in records.columns]


def _golden(
    entity: str,
    records: pl.DataFrame,
    identity: IdentityAssignment,
    rules: SurvivorshipRules,
    id_column: str,
    key_column: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Survived attributes, keyed by the entity's id and business key columns."""
    with_ids = _with_ids(records, identity, _survivorship_columns(entity, records, rules))
    if entity in ("account", "campaign"):
        golden, lineage = survive_latest_record(
            with_ids, entity, ATTRIBUTES[entity], with_lineage=entity != "account"
        )
    else:
        golden, lineage = survive(with_ids, entity, ATTRIBUTES[entity], rules)
    keys = identity.registry.select("master_id", "master_key").unique("master_id")
    golden = (
        golden.join(keys, on="master_id", how="left")
        .rename({"master_id": id_column, "master_key": key_column})
        .sort(key_column)
    )
    golden = golden.select(id_column, key_column, pl.exclude(id_column, key_column))
    return golden, lineage


def _xref(staged: dict[str, pl.DataFrame], ids: dict[str, IdentityAssignment]) -> pl.DataFrame:
    frames = []
    for entity in GOLDEN_ENTITIES:
        columns = ["source_system", "source_id", "record_key"]
        if entity == "person":
            columns.append("origin")
        records = _with_ids(staged[entity], ids[entity], columns)
        entity_name = pl.lit(entity)
        if entity == "person":
            entity_name = (
                pl.when(pl.col("origin") == "customer_holder")
                .then(pl.lit(XREF_ENTITY_OF_HOLDER))
                .otherwise(entity_name)
            )
        frames.append(
            records.select(
                entity_name.alias("entity"), "source_system", "source_id", "master_id", "record_key"
            )
        )
    # Steward decisions are source records too (nothing dropped silently); each is its own
    # master record, with a deterministic id.
    decisions = staged["steward_decision"]
    frames.append(
        decisions.select(
            pl.lit("steward_decision").alias("entity"),
            "source_system",
            "source_id",
            uuid5_series(
                decisions.select(
                    pl.concat_str(pl.lit("steward_decision|"), "record_key")
                ).to_series()
            ).alias("master_id"),
            "record_key",
        )
    )
    # Sorted part by part (a person part also holds person_holder, adjacent in entity order),
    # so the whole table is never sorted as one more copy.
    parts = [conform_frame(frame, XREF_SCHEMA).sort("entity", "record_key") for frame in frames]
    del frames
    parts.sort(key=lambda part: part["entity"].min() or "")
    return pl.concat(parts, rechunk=False)


def _person_feed_ids(staged_person: pl.DataFrame, person_ids: pl.DataFrame) -> pl.DataFrame:
    """The person assignment without holder records: what a reference to a person names."""
    return person_ids.join(
        staged_person.select("record_key", "origin").filter(
            (pl.col("origin") != "customer_holder").fill_null(True)
        ),
        on="record_key",
        how="semi",
    )


def _accounts(
    staged_account: pl.DataFrame,
    ids: IdentityAssignment,
    rules: SurvivorshipRules,
    customer_ids: pl.DataFrame,
    person_feed_ids: pl.DataFrame,
) -> pl.DataFrame:
    """Golden accounts with the golden ids of their customer and billing contact.

    An account is never merged: its one source record (master.xref) is its whole lineage,
    and a row per attribute would be a quarter of all lineage rows at scale."""
    account, _ = _golden("account", staged_account, ids, rules, "account_id", "account_key")
    refs = _with_ids(
        staged_account, ids, ["source_system", "customer_source_id", "billing_contact_source_id"]
    ).select(
        pl.col("master_id").alias("account_id"),
        "source_system",
        "customer_source_id",
        "billing_contact_source_id",
    )
    refs = resolve(refs, "customer_source_id", customer_ids, "customer_id")
    refs = resolve(refs, "billing_contact_source_id", person_feed_ids, "billing_contact_person_id")
    return account.join(
        refs.select("account_id", "customer_id", "billing_contact_person_id"),
        on="account_id",
        how="left",
    )


def _leads(
    staged_lead: pl.DataFrame,
    ids: IdentityAssignment,
    rules: SurvivorshipRules,
    lead_customer_links: pl.DataFrame | None,
    assignment: dict[str, pl.DataFrame],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Golden leads with when each was first created and the customer it matches; lineage."""
    lead, lineage = _golden("lead", staged_lead, ids, rules, "lead_id", "lead_key")
    first_seen = (
        _with_ids(staged_lead, ids, ["created_at"])
        .group_by("master_id")
        .agg(pl.col("created_at").min())
        .rename({"master_id": "lead_id"})
    )
    lead = lead.join(first_seen, on="lead_id", how="left").join(
        lead_matches(lead_customer_links, assignment["lead"], assignment["customer"]),
        on="lead_id",
        how="left",
    )
    return lead, lineage


def _identity_tables(
    previous: PreviousIdentity | None,
    ids: dict[str, IdentityAssignment],
    xref: pl.DataFrame,
    run_id: str,
    run_at: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """identity_registry (with earlier entities' rows kept), identity_retired and
    identity_source_key after this run."""
    registry = conform_frame(
        pl.concat([ids[entity].registry for entity in GOLDEN_ENTITIES]), REGISTRY_SCHEMA
    )
    previous_registry = _previous_by_entity(previous)[1]
    other_registry = previous_registry.filter(~pl.col("entity").is_in(list(GOLDEN_ENTITIES)))
    retired = accumulate_retired(
        previous, pl.concat([ids[entity].retired for entity in GOLDEN_ENTITIES]), registry
    )
    source_keys = accumulate_source_keys(previous, xref, registry, run_id, run_at)
    return pl.concat([registry, other_registry]), retired, source_keys


def build_master(
    staged: dict[str, pl.DataFrame],
    clusters: dict[str, pl.DataFrame],
    lead_customer_links: pl.DataFrame | None,
    previous: PreviousIdentity | None,
    run_id: str,
    run_at: datetime,
    rules: SurvivorshipRules | None = None,
) -> MasterData:
    """Golden records of every entity, their relations, xref, lineage and identity registry."""
    rules = load_rules() if rules is None else rules
    staged = {entity: staged.get(entity, empty_staged(entity)) for entity in STAGED_SCHEMAS}
    ids = _identities(staged, clusters, previous, run_id, run_at)
    assignment = {entity: ids[entity].assignment for entity in GOLDEN_ENTITIES}
    person_feed_ids = _person_feed_ids(staged["person"], assignment["person"])

    customer, customer_lineage = _golden(
        "customer", staged["customer"], ids["customer"], rules, "customer_id", "customer_key"
    )
    person, person_lineage = _golden(
        "person", staged["person"], ids["person"], rules, "person_id", "person_key"
    )
    address, address_lineage = _golden(
        "address", staged["address"], ids["address"], rules, "address_id", "address_key"
    )
    lead, lead_lineage = _leads(staged["lead"], ids["lead"], rules, lead_customer_links, assignment)
    campaign, campaign_lineage = _golden(
        "campaign", staged["campaign"], ids["campaign"], rules, "campaign_id", "campaign_key"
    )
    lineages = [customer_lineage, person_lineage, address_lineage, lead_lineage, campaign_lineage]
    xref = _xref(staged, ids)
    registry, retired, source_keys = _identity_tables(previous, ids, xref, run_id, run_at)
    metrics = {entity: ids[entity].metrics for entity in GOLDEN_ENTITIES}
    master = MasterData(
        customer=customer.with_columns(customer_name()),
        person=person,
        person_role=person_roles(staged["person"], assignment["person"], assignment["customer"]),
        account=_accounts(
            staged["account"], ids["account"], rules, assignment["customer"], person_feed_ids
        ),
        crm_address=address.with_columns(address_line()),
        crm_address_role=address_roles(
            staged["address"], assignment["address"], {**assignment, "person": person_feed_ids}
        ),
        lead=lead,
        campaign=campaign,
        xref=xref,
        attribute_lineage=conform_frame(pl.concat(lineages), LINEAGE_SCHEMA),
        identity_registry=registry,
        identity_retired=retired,
        identity_source_key=source_keys,
        metrics=metrics,
    )
    log.info("golden records: %s", {e: m["golden_records"] for e, m in metrics.items()})
    return master


def as_previous(master: MasterData) -> PreviousIdentity:
    """What the next run would read back from the warehouse this master data is published to."""
    return PreviousIdentity(
        xref=master.xref,
        identity_registry=master.identity_registry,
        identity_retired=master.identity_retired,
        source_keys=master.identity_source_key,
    )
