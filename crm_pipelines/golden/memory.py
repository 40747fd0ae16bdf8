"""What identity remembers across runs: every source key ever seen and every id ever retired.

A source key absent from the last warehouse still votes for the id it had when last seen
(master.identity_source_key), and a retired id's current_id follows its chain of merges to
today's id (master.identity_retired), so a late or missing extract never re-keys the master.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from crm_pipelines.golden.identity import (
    RETIRED_SCHEMA,
    SOURCE_KEY_SCHEMA,
    XREF_SCHEMA,
    PreviousIdentity,
    conform_frame,
)
from crm_pipelines.staged import UTC_TS


def resolve_current_ids(
    retired: pl.DataFrame, registry: pl.DataFrame | None = None, max_hops: int = 64
) -> pl.DataFrame:
    """current_id of every retired id: its survivor, that survivor's survivor, ... today's id.

    An id revived since (registry status not RETIRED) is its own current id. Merges retire an
    id into an older one, so chains are short; the hop limit guards against a hand-edited table."""
    retired = conform_frame(retired, RETIRED_SCHEMA)
    if retired.height == 0:  # a first run: nothing to resolve (the registry holds millions)
        return retired
    # only the retired ids are ever looked up: the live set is kept to those
    live = (
        registry.filter(
            (pl.col("status") != "RETIRED")
            & pl.col("master_id").is_in(retired["retired_id"].implode())
        )["master_id"].implode()
        if registry is not None
        else pl.Series([], dtype=pl.String).implode()
    )
    step = (
        retired.drop_nulls("surviving_id")
        .unique("retired_id", keep="last", maintain_order=True)
        .filter(~pl.col("retired_id").is_in(live))
        .select(pl.col("retired_id").alias("current_id"), pl.col("surviving_id").alias("next_id"))
    )
    current = retired.with_columns(
        pl.when(pl.col("retired_id").is_in(live))
        .then(pl.col("retired_id"))
        .otherwise(pl.coalesce("surviving_id", "retired_id"))
        .alias("current_id")
    )
    for _ in range(max_hops):
        moved = current.join(step, on="current_id", how="left", maintain_order="left")
        if moved["next_id"].is_null().all():
            break
        current = moved.with_columns(pl.coalesce("next_id", "current_id").alias("current_id")).drop(
            "next_id"
        )
    return current.select(list(RETIRED_SCHEMA))


def remembered_xref(previous: PreviousIdentity | None) -> pl.DataFrame:
    """Each source key ever seen with its own id (XREF_SCHEMA): the previous xref plus the keys
    absent from it (with the id they had when last seen); a key merged away votes for the id
    it held before the merge."""
    if previous is None:
        return pl.DataFrame(schema=XREF_SCHEMA)
    xref = conform_frame(previous.xref, XREF_SCHEMA)
    if previous.source_keys is None or previous.source_keys.is_empty():
        return xref
    keys = conform_frame(previous.source_keys, SOURCE_KEY_SCHEMA)
    remembered = keys.join(xref, on=["entity", "record_key"], how="anti")
    own = keys.select("entity", "record_key", "merged_from").drop_nulls("merged_from")
    return (
        pl.concat([xref, conform_frame(remembered, XREF_SCHEMA)])
        .join(own, on=["entity", "record_key"], how="left")
        .with_columns(pl.coalesce("merged_from", "master_id").alias("master_id"))
        .select(list(XREF_SCHEMA))
    )


def accumulate_source_keys(
    previous: PreviousIdentity | None,
    xref: pl.DataFrame,
    registry: pl.DataFrame,
    run_id: str,
    run_at: datetime,
) -> pl.DataFrame:
    """This run's xref stamped as seen now, plus every earlier key not seen this run.

    merged_from: the key's own id when that id is retired and the key now has another."""
    retired = registry.filter(pl.col("status") == "RETIRED")["master_id"].implode()
    votes = remembered_xref(previous).select(
        "entity", "record_key", pl.col("master_id").alias("own_id")
    )
    seen = conform_frame(
        xref.join(votes, on=["entity", "record_key"], how="left").with_columns(
            pl.when(pl.col("own_id").is_in(retired) & (pl.col("own_id") != pl.col("master_id")))
            .then(pl.col("own_id"))
            .alias("merged_from"),
            pl.lit(run_id).alias("last_seen_run"),
            pl.lit(run_at).cast(UTC_TS).alias("last_seen_at"),
        ),
        SOURCE_KEY_SCHEMA,
    )
    if previous is None:
        return seen
    earlier = (
        conform_frame(previous.source_keys, SOURCE_KEY_SCHEMA)
        if previous.source_keys is not None
        else conform_frame(previous.xref, SOURCE_KEY_SCHEMA)
    )
    return pl.concat(
        [
            seen,
            earlier.join(
                seen.select("entity", "record_key"), on=["entity", "record_key"], how="anti"
            ),
        ]
    )


def accumulate_retired(
    previous: PreviousIdentity | None, retired_now: pl.DataFrame, registry: pl.DataFrame
) -> pl.DataFrame:
    """Every id ever retired, with today's current_id (registry: after this run)."""
    earlier = (
        previous.identity_retired
        if previous is not None and previous.identity_retired is not None
        else None
    )
    frames = [conform_frame(earlier, RETIRED_SCHEMA), conform_frame(retired_now, RETIRED_SCHEMA)]
    return resolve_current_ids(pl.concat(frames), registry).sort(
        "retired_at", "entity", "retired_id", maintain_order=True
    )
