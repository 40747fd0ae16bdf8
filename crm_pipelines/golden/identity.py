"""Stable identity: a golden record keeps its UUID and business key while its party persists.

Clusters from matching are labels, not identities. Each run maps them onto the ids the last
published warehouse used (its xref), so analysts' ids survive re-matching:

- a previous id stays with the cluster that holds most of its members (SPLIT: the other
  parts get new ids, recorded in the registry as origin SPLIT, derived_from the old id);
- a cluster holding several previous ids (MERGE) keeps the oldest one (registry created_at,
  then id); the others are retired with surviving_id pointing at it;
- a previous id none of whose records is staged any more goes DORMANT, not retired: a
  late or missing extract must not re-key the master, so when one of its source keys is
  back (the warehouse remembers every source key's last id in master.identity_source_key)
  the id is revived;
- every retired id keeps its survivor for ever: master.identity_retired accumulates over
  runs and its current_id follows a chain of merges to today's id;
- a merge is undone by a split: a record remembers the id it held before it was merged away
  (identity_source_key.merged_from) and votes for it, so when its part splits off again (a
  source that kept two parties apart is back) the part gets its retired id back (revived);
- a new id is uuid5(namespace, entity | min record_key of the cluster), re-derived with a
  counter on the rare collision with an id or business key already taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from crm_pipelines.golden.minting import (
    KEY_PREFIX,
    business_key,
    business_key_expr,
    fresh_ids,
    mint_ids,
    uuid5_text,
)
from crm_pipelines.staged import UTC_TS

__all__ = ["KEY_PREFIX", "business_key", "mint_ids", "uuid5_text"]

log = logging.getLogger(__name__)

XREF_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String(),
    "source_system": pl.String(),
    "source_id": pl.String(),
    "master_id": pl.String(),
    "record_key": pl.String(),
}

REGISTRY_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String(),
    "master_id": pl.String(),
    "master_key": pl.String(),
    "created_run": pl.String(),
    "created_at": UTC_TS,
    "status": pl.String(),  # ACTIVE | DORMANT (no source record at the moment) | RETIRED
    "origin": pl.String(),  # NEW | SPLIT | ADOPTED (id found in an xref without registry row)
    "derived_from": pl.String(),  # for SPLIT: the previous id the members came from
    "retired_run": pl.String(),
    "retired_at": UTC_TS,
    "dormant_run": pl.String(),  # the run in which a DORMANT id lost its last source record
    "dormant_at": UTC_TS,
}

RETIRED_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String(),
    "retired_id": pl.String(),
    "surviving_id": pl.String(),  # null for NO_SOURCE
    "run_id": pl.String(),
    "reason": pl.String(),  # MERGE (NO_SOURCE in warehouses before dormant ids)
    "retired_at": UTC_TS,
    "current_id": pl.String(),  # where the chain of merges from retired_id ends today
}

SOURCE_KEY_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String(),
    "source_system": pl.String(),
    "source_id": pl.String(),
    "record_key": pl.String(),
    "master_id": pl.String(),  # the golden id the source key had when last seen
    "merged_from": pl.String(),  # the retired id it held before a merge moved it to master_id
    "last_seen_run": pl.String(),
    "last_seen_at": UTC_TS,
}

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "cluster_id": pl.String(),
    "master_id": pl.String(),
    "master_key": pl.String(),
}


def conform_frame(frame: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Cast to `schema` (missing columns null, extras dropped) so old warehouses still load."""
    if frame is None:
        return pl.DataFrame(schema=schema)
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


@dataclass(frozen=True)
class PreviousIdentity:
    """What the last published warehouse said about identities."""

    xref: pl.DataFrame  # XREF_SCHEMA; holder records under entity 'person_holder'
    identity_registry: pl.DataFrame  # REGISTRY_SCHEMA
    identity_retired: pl.DataFrame | None = None  # RETIRED_SCHEMA, every run's
    source_keys: pl.DataFrame | None = None  # SOURCE_KEY_SCHEMA, every key ever seen


@dataclass(frozen=True)
class IdentityAssignment:
    assignment: pl.DataFrame  # ASSIGNMENT_SCHEMA, one row per staged record
    registry: pl.DataFrame  # this entity's full registry after the run
    retired: pl.DataFrame  # RETIRED_SCHEMA rows of this run
    metrics: dict[str, int]


def load_previous_identity(duckdb_path: str | Path) -> PreviousIdentity | None:
    """Read master.xref, identity_registry, identity_retired and identity_source_key from a
    published warehouse, read-only.

    None when the file or master.xref is missing; a missing registry reads as empty (ids of an
    old warehouse are then adopted), a missing xref.record_key is derived from the source ids,
    missing retired / source-key tables (older warehouses) read as None.
    """
    path = Path(duckdb_path)
    if not path.is_file():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns: dict[str, set[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'master' AND table_name IN "
            "('xref', 'identity_registry', 'identity_retired', 'identity_source_key')"
        ).fetchall():
            columns.setdefault(table, set()).add(column)
        if "xref" not in columns:
            return None
        derived_key = (
            "CASE WHEN entity = 'person_holder' AND NOT starts_with(source_id, 'customer:') "
            "THEN source_system || '|customer:' || source_id "
            "ELSE source_system || '|' || source_id END"
        )
        record_key = (
            f"coalesce(record_key, {derived_key})"
            if "record_key" in columns["xref"]
            else derived_key
        )
        xref = con.sql(
            "SELECT entity, source_system, source_id, CAST(master_id AS VARCHAR) AS master_id, "
            f"{record_key} AS record_key FROM master.xref"
        ).pl()
        tables = {
            name: con.sql(f"SELECT * FROM master.{name}").pl() if name in columns else None
            for name in ("identity_registry", "identity_retired", "identity_source_key")
        }
    finally:
        con.close()
    return PreviousIdentity(
        xref=conform_frame(xref, XREF_SCHEMA),
        identity_registry=conform_frame(tables["identity_registry"], REGISTRY_SCHEMA),
        identity_retired=None
        if tables["identity_retired"] is None
        else conform_frame(tables["identity_retired"], RETIRED_SCHEMA),
        source_keys=None
        if tables["identity_source_key"] is None
        else conform_frame(tables["identity_source_key"], SOURCE_KEY_SCHEMA),
    )


@dataclass(frozen=True)
class _KeptIds:
    """Which previous ids this run's clusters keep, and which of them merge away."""

    cluster_seed: pl.DataFrame  # cluster_id, seed (the cluster's smallest record key)
    parts: pl.DataFrame  # prev_id, cluster_id, n (records), seed: where previous ids went
    survivors: pl.DataFrame  # cluster_id, master_id: the previous id each cluster keeps
    adopted: pl.DataFrame  # cluster_id, master_id of survivors the registry never held
    merged: pl.DataFrame  # retired_id, surviving_id, reason MERGE


def _members(clusters: pl.DataFrame, previous_xref: pl.DataFrame) -> pl.DataFrame:
    """record_key, cluster_id and prev_id (the id the record had), in the clusters' order."""
    return clusters.select(
        pl.col("record_key").cast(pl.String), pl.col("cluster_id").cast(pl.String)
    ).join(
        previous_xref.select("record_key", pl.col("master_id").alias("prev_id")).unique(
            "record_key", keep="first"
        ),
        on="record_key",
        how="left",
        maintain_order="left",
    )


def _kept_ids(members: pl.DataFrame, registry: pl.DataFrame) -> _KeptIds:
    """Each previous id stays with its largest part; a cluster holding several keeps the
    oldest, and the others merge into it."""
    # prev_id is each record's own id: for a record merged away, the retired id it held
    # before (remembered_xref), so a cluster that splits off again gets that id back.
    retired_before = registry.filter(pl.col("status") == "RETIRED")["master_id"].implode()
    cluster_seed = members.group_by("cluster_id").agg(pl.col("record_key").min().alias("seed"))
    parts = (
        members.drop_nulls("prev_id")
        .group_by("prev_id", "cluster_id")
        .agg(pl.len().alias("n"))
        .join(cluster_seed, on="cluster_id")
    )
    # Each previous id stays with its largest part (ties: the part with the smallest record key).
    main_parts = parts.sort(["prev_id", "n", "seed"], descending=[False, True, False]).unique(
        "prev_id", keep="first", maintain_order=True
    )
    # Among the previous ids a cluster holds as main part, the oldest survives.
    ranked = main_parts.join(
        registry.select(pl.col("master_id").alias("prev_id"), "created_at", "master_key"),
        on="prev_id",
        how="left",
    ).sort(["cluster_id", "created_at", "prev_id"], nulls_last=True)
    survivors = ranked.unique("cluster_id", keep="first", maintain_order=True).select(
        "cluster_id", pl.col("prev_id").alias("master_id"), "master_key"
    )
    merged = (
        ranked.join(survivors.select("cluster_id", "master_id"), on="cluster_id")
        .filter(pl.col("prev_id") != pl.col("master_id"))
        .filter(~pl.col("prev_id").is_in(retired_before))  # retired before: no new row
        .select(
            pl.col("prev_id").alias("retired_id"),
            pl.col("master_id").alias("surviving_id"),
            pl.lit("MERGE").alias("reason"),
        )
    )
    return _KeptIds(
        cluster_seed,
        parts,
        survivors.drop("master_key"),
        # Survivors an old warehouse had in its xref only: adopt them into the registry.
        survivors.filter(pl.col("master_key").is_null()),
        merged,
    )


def _retired_rows(entity: str, merged: pl.DataFrame, run_id: str, run_at: datetime) -> pl.DataFrame:
    """RETIRED_SCHEMA rows of the ids this run merges away."""
    return conform_frame(
        merged.with_columns(
            pl.lit(entity).alias("entity"),
            pl.lit(run_id).alias("run_id"),
            pl.lit(run_at).cast(UTC_TS).alias("retired_at"),
            pl.col("surviving_id").alias("current_id"),
        ),
        RETIRED_SCHEMA,
    ).sort("reason", "retired_id")


def _registry_rows_of_new_ids(
    entity: str,
    fresh: pl.DataFrame,
    adopted: pl.DataFrame,
    run_id: str,
    run_at: datetime,
    key_from_cluster_id: bool,
) -> pl.DataFrame:
    """REGISTRY_SCHEMA rows for the ids this run issues (NEW, SPLIT) or adopts."""
    rows = pl.concat(
        [
            fresh.select(
                "master_id",
                "master_key",
                pl.when(pl.col("derived_from").is_null())
                .then(pl.lit("NEW"))
                .otherwise(pl.lit("SPLIT"))
                .alias("origin"),
                "derived_from",
            ),
            adopted.select(
                "master_id",
                (
                    pl.col("cluster_id")
                    if key_from_cluster_id
                    else business_key_expr(entity, pl.col("master_id"))
                ).alias("master_key"),
                pl.lit("ADOPTED").alias("origin"),
                pl.lit(None, pl.String()).alias("derived_from"),
            ),
        ]
    ).with_columns(
        pl.lit(entity).alias("entity"),
        pl.lit(run_id).alias("created_run"),
        pl.lit(run_at).cast(UTC_TS).alias("created_at"),
        pl.lit("ACTIVE").alias("status"),
    )
    return conform_frame(rows, REGISTRY_SCHEMA)


def assign_identity(
    entity: str,
    clusters: pl.DataFrame,
    previous_xref: pl.DataFrame,
    previous_registry: pl.DataFrame,
    run_id: str,
    run_at: datetime,
    key_from_cluster_id: bool = False,
) -> IdentityAssignment:
    """Map this run's clusters (record_key, cluster_id) of one entity onto stable ids.

    The assignment keeps the row order of `clusters`, so callers can attach ids by position.

    previous_xref: record_key, master_id of the entity's last published records;
    previous_registry: the entity's registry rows. With key_from_cluster_id the business key
    is the cluster label itself (campaign_code).
    """
    members = _members(clusters, previous_xref)
    registry = conform_frame(previous_registry, REGISTRY_SCHEMA)
    kept = _kept_ids(members, registry)
    fresh = fresh_ids(
        entity, kept.cluster_seed, kept.survivors, kept.parts, registry, key_from_cluster_id
    )

    # Ids none of whose records is staged now go dormant: their party may be back tomorrow.
    dormant_now = (
        registry.filter(pl.col("status") == "ACTIVE")
        .join(kept.survivors, on="master_id", how="anti")
        .join(kept.merged, left_on="master_id", right_on="retired_id", how="anti")
    )["master_id"]
    revived = registry.filter(pl.col("status").is_in(["DORMANT", "RETIRED"])).join(
        kept.survivors, on="master_id", how="semi"
    )["master_id"]
    retired = _retired_rows(entity, kept.merged, run_id, run_at)
    new_registry = pl.concat(
        [
            _registry_after(registry, retired["retired_id"], dormant_now, revived, run_id, run_at),
            _registry_rows_of_new_ids(
                entity, fresh, kept.adopted, run_id, run_at, key_from_cluster_id
            ),
        ]
    ).sort("created_at", "master_id", nulls_last=True)

    ids = pl.concat([kept.survivors, fresh.select("cluster_id", "master_id")]).join(
        new_registry.select("master_id", "master_key"), on="master_id", how="left"
    )
    assignment = conform_frame(
        members.select("record_key", "cluster_id").join(
            ids, on="cluster_id", how="left", maintain_order="left"
        ),
        ASSIGNMENT_SCHEMA,
    )
    metrics = {
        "golden_records": kept.cluster_seed.height,
        "merges": kept.merged.height,
        "splits": kept.parts.group_by("prev_id").len().filter(pl.col("len") > 1).height,
        "new_ids": fresh.height,
        "retired_ids": retired.height,
        "dormant_ids": dormant_now.len(),
        "revived_ids": revived.len(),
        "kept_ids": kept.survivors.height,
    }
    log.info("%s identity: %s", entity, metrics)
    return IdentityAssignment(assignment, new_registry, retired, metrics)


def _registry_after(
    registry: pl.DataFrame,
    retired: pl.Series,
    dormant: pl.Series,
    revived: pl.Series,
    run_id: str,
    run_at: datetime,
) -> pl.DataFrame:
    """The registry rows of earlier ids with this run's status changes."""
    is_retired = pl.col("master_id").is_in(retired.implode())
    is_dormant = pl.col("master_id").is_in(dormant.implode())
    is_revived = pl.col("master_id").is_in(revived.implode())
    now = pl.lit(run_at).cast(UTC_TS)
    return registry.with_columns(
        pl.when(is_retired)
        .then(pl.lit("RETIRED"))
        .when(is_dormant)
        .then(pl.lit("DORMANT"))
        .when(is_revived)
        .then(pl.lit("ACTIVE"))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.when(is_retired)
        .then(pl.lit(run_id))
        .otherwise(pl.col("retired_run"))
        .alias("retired_run"),
        pl.when(is_retired).then(now).otherwise(pl.col("retired_at")).alias("retired_at"),
        pl.when(is_dormant)
        .then(pl.lit(run_id))
        .when(is_revived)
        .then(pl.lit(None, pl.String()))
        .otherwise(pl.col("dormant_run"))
        .alias("dormant_run"),
        pl.when(is_dormant)
        .then(now)
        .when(is_revived)
        .then(pl.lit(None).cast(UTC_TS))
        .otherwise(pl.col("dormant_at"))
        .alias("dormant_at"),
    )
