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

import polars as pl

from crm_pipelines.golden.identity_tables import (
    REGISTRY_SCHEMA,
    RETIRED_SCHEMA,
    SOURCE_KEY_SCHEMA,
    XREF_SCHEMA,
    PreviousIdentity,
    conform_frame,
    load_previous_identity,
)
from crm_pipelines.golden.minting import (
    KEY_PREFIX,
    business_key,
    business_key_expr,
    fresh_ids,
    mint_ids,
    uuid5_text,
)
from crm_pipelines.staged import UTC_TS

# the identity API in one place: the names minting.py and identity_tables.py define included
__all__ = [
    "KEY_PREFIX",
    "REGISTRY_SCHEMA",
    "RETIRED_SCHEMA",
    "SOURCE_KEY_SCHEMA",
    "XREF_SCHEMA",
    "IdentityAssignment",
    "PreviousIdentity",
    "assign_identity",
    "business_key",
    "conform_frame",
    "load_previous_identity",
    "mint_ids",
    "uuid5_text",
]

log = logging.getLogger(__name__)

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "cluster_id": pl.String(),
    "master_id": pl.String(),
    "master_key": pl.String(),
}


@dataclass(frozen=True)
class IdentityAssignment:
    assignment: pl.DataFrame  # ASSIGNMENT_SCHEMA, one row per staged record
    registry: pl.DataFrame  # this entity's full registry after the run
    retired: pl.DataFrame  # RETIRED_SCHEMA rows of this run
    metrics: dict[str, int]


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


def _dormant_and_revived(registry: pl.DataFrame, kept: _KeptIds) -> tuple[pl.Series, pl.Series]:
    """The active ids none of whose records is staged now (they go dormant: their party may
    be back tomorrow), and the dormant or retired ids a cluster holds again (revived)."""
    dormant_now = (
        registry.filter(pl.col("status") == "ACTIVE")
        .join(kept.survivors, on="master_id", how="anti")
        .join(kept.merged, left_on="master_id", right_on="retired_id", how="anti")
    )["master_id"]
    revived = registry.filter(pl.col("status").is_in(["DORMANT", "RETIRED"])).join(
        kept.survivors, on="master_id", how="semi"
    )["master_id"]
    return dormant_now, revived


def _assignment(
    members: pl.DataFrame, kept: _KeptIds, fresh: pl.DataFrame, new_registry: pl.DataFrame
) -> pl.DataFrame:
    """ASSIGNMENT_SCHEMA rows in the members' order: each record's cluster with the id it
    kept or was given, and that id's business key from the registry."""
    ids = pl.concat([kept.survivors, fresh.select("cluster_id", "master_id")]).join(
        new_registry.select("master_id", "master_key"), on="master_id", how="left"
    )
    return conform_frame(
        members.select("record_key", "cluster_id").join(
            ids, on="cluster_id", how="left", maintain_order="left"
        ),
        ASSIGNMENT_SCHEMA,
    )


def _identity_metrics(
    kept: _KeptIds,
    fresh: pl.DataFrame,
    retired: pl.DataFrame,
    dormant_now: pl.Series,
    revived: pl.Series,
) -> dict[str, int]:
    """The run's identity movements, counted for the log and the run's metadata."""
    return {
        "golden_records": kept.cluster_seed.height,
        "merges": kept.merged.height,
        "splits": kept.parts.group_by("prev_id").len().filter(pl.col("len") > 1).height,
        "new_ids": fresh.height,
        "retired_ids": retired.height,
        "dormant_ids": dormant_now.len(),
        "revived_ids": revived.len(),
        "kept_ids": kept.survivors.height,
    }


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
    dormant_now, revived = _dormant_and_revived(registry, kept)
    retired = _retired_rows(entity, kept.merged, run_id, run_at)
    new_registry = pl.concat(
        [
            _registry_after(registry, retired["retired_id"], dormant_now, revived, run_id, run_at),
            _registry_rows_of_new_ids(
                entity, fresh, kept.adopted, run_id, run_at, key_from_cluster_id
            ),
        ]
    ).sort("created_at", "master_id", nulls_last=True)
    metrics = _identity_metrics(kept, fresh, retired, dormant_now, revived)
    log.info("%s identity: %s", entity, metrics)
    return IdentityAssignment(
        _assignment(members, kept, fresh, new_registry), new_registry, retired, metrics
    )


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
