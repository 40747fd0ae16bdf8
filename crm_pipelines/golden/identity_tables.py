"""The warehouse's identity tables: their schemas, and what the last published run said.

master.xref, identity_registry, identity_retired and identity_source_key carry a golden
record's id from run to run (identity.py decides the ids; memory.py what is remembered
across runs); an older warehouse lacking a table or column still loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from crm_pipelines.staged import UTC_TS

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
