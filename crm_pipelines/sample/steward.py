"""Steward decisions: a handful of MATCH / NO_MATCH rows picked from the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl


def _match_decisions(valid: pl.DataFrame) -> list[dict]:
    """Per entity, two real parties with records in two sources: confirmed as one."""
    rows: list[dict] = []
    for entity in ("person", "customer", "lead", "address"):
        multi = (
            valid.filter(pl.col("entity") == entity)
            .group_by("party_id", maintain_order=True)
            .agg("source_system", "source_id")
            .filter(pl.col("source_id").list.len() >= 2)
        )
        for r in multi.head(2).iter_rows(named=True):
            rows.append(
                {
                    "entity": entity,
                    "l": (r["source_system"][0], r["source_id"][0]),
                    "r": (r["source_system"][1], r["source_id"][1]),
                    "decision": "MATCH",
                    "note": "ověřeno telefonicky",
                }
            )
    return rows


def _no_match_decisions(valid: pl.DataFrame, hard_negatives: pl.DataFrame) -> list[dict]:
    """One look-alike pair per (entity, kind), four in all, confirmed as different parties.

    Both records must be accepted: a decision on a quarantined record is the unknown-record case.
    """
    keys = valid.select("entity", "source_system", "source_id")
    accepted = hard_negatives.join(
        keys.rename({"source_system": "left_source_system", "source_id": "left_source_id"}),
        on=["entity", "left_source_system", "left_source_id"],
        how="semi",
    ).join(
        keys.rename({"source_system": "right_source_system", "source_id": "right_source_id"}),
        on=["entity", "right_source_system", "right_source_id"],
        how="semi",
    )
    one_per_kind = accepted.unique(["entity", "kind"], keep="first", maintain_order=True)
    return [
        {
            "entity": r["entity"],
            "l": (r["left_source_system"], r["left_source_id"]),
            "r": (r["right_source_system"], r["right_source_id"]),
            "decision": "NO_MATCH",
            "note": f"různé osoby ({r['kind']})",
        }
        for r in one_per_kind.head(4).iter_rows(named=True)
    ]


# a decision on records that do not exist (any more): the pipeline must report, not fail
UNKNOWN_RECORD_DECISION = {
    "entity": "person",
    "l": ("BSS", "P000000000"),
    "r": ("ESHOP", "EU00000000"),
    "decision": "MATCH",
    "note": "záznam mezitím smazán",
}


def _decisions_frame(rows: list[dict], rng: np.random.Generator) -> pl.DataFrame:
    """The feed's rows: keys and times by position, the deciding steward drawn per row."""
    return pl.DataFrame(
        {
            "source_system": "BSS",
            "source_id": [f"SD-{i + 1:05d}" for i in range(len(rows))],
            "updated_at": [
                f"2026-11-{10 + i % 15:02d}T14:{i % 60:02d}:00+01:00" for i in range(len(rows))
            ],
            "entity": [r["entity"] for r in rows],
            "left_source_system": [r["l"][0] for r in rows],
            "left_source_id": [r["l"][1] for r in rows],
            "right_source_system": [r["r"][0] for r in rows],
            "right_source_id": [r["r"][1] for r in rows],
            "decision": [r["decision"] for r in rows],
            "decided_by": [
                ["jana.steward", "petr.dq", None][int(rng.integers(0, 3))] for _ in rows
            ],
            "decided_at": [
                f"2026-11-{10 + i % 15:02d}T13:{i % 60:02d}:00+01:00" for i in range(len(rows))
            ],
            "note": [r["note"] for r in rows],
        }
    )


def write_steward_decisions(
    out_dir: Path, records: pl.DataFrame, hard_negatives: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """MATCH pairs of one real party across sources, NO_MATCH look-alikes, one unknown record."""
    valid = records.filter(pl.col("expected_valid"))
    rows = _match_decisions(valid) + _no_match_decisions(valid, hard_negatives)
    rows.append(UNKNOWN_RECORD_DECISION)
    out = _decisions_frame(rows, rng)
    folder = out_dir / "steward_decision"
    folder.mkdir(parents=True, exist_ok=True)
    out.write_csv(folder / "steward_decisions.csv")
    unknown = len(rows) - 1
    return out.select(
        entity=pl.lit("steward_decision"),
        source_system="source_system",
        source_id="source_id",
        party_id=pl.lit(None, dtype=pl.String),
        expected_valid=pl.lit(True),
        defect=pl.when(pl.int_range(pl.len()) == unknown)
        .then(pl.lit("UNKNOWN_RECORD"))
        .otherwise(None),
    )
