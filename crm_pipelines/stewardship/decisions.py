"""Steward decisions as the console writes them: rows of the landing's steward_decision feed.

The form is feeds.md's (a decision is written by a person, not extracted from a system, so
it carries no source_system / source_id / updated_at); the next run applies it. Rows are
appended under an exclusive lock, so two stewards deciding at once never interleave.
"""

from __future__ import annotations

import csv
import fcntl
import io
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

FEED_FOLDER = "steward_decision"
CONSOLE_FILE = "steward_console_decisions.csv"
DECISION_COLUMNS = (
    "entity",
    "left_source_system",
    "left_source_id",
    "right_source_system",
    "right_source_id",
    "decision",
    "decided_by",
    "decided_at",
    "note",
)
ENTITIES = ("customer", "person", "address", "lead")
DECISIONS = ("MATCH", "NO_MATCH")


@dataclass(frozen=True)
class StewardDecision:
    entity: str
    left_source_system: str
    left_source_id: str
    right_source_system: str
    right_source_id: str
    decision: str
    decided_by: str
    decided_at: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.entity not in ENTITIES:
            raise ValueError(f"entity must be one of {ENTITIES}, not {self.entity!r}")
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be MATCH or NO_MATCH, not {self.decision!r}")
        if not self.decided_by.strip():
            raise ValueError("a decision needs the steward's name")
        sides = (self.left_source_system, self.left_source_id)
        if not all(sides) or not all((self.right_source_system, self.right_source_id)):
            raise ValueError("a decision names both records")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def append_decision(landing: Path, decision: StewardDecision) -> Path:
    """Append one row (and the header, for a new file) to the console's decision file."""
    folder = Path(landing) / FEED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONSOLE_FILE
    with open(path, "a+", encoding="utf-8", newline="") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0, io.SEEK_END)
            writer = csv.DictWriter(handle, fieldnames=DECISION_COLUMNS)
            if handle.tell() == 0:
                writer.writeheader()
            writer.writerow(asdict(decision))
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return path


def landing_decisions(landing: Path) -> pl.DataFrame:
    """Every decision row of the landing's CSV decision files, as text, with the pair's
    order-free key (entity|smaller record|larger record) -- what the next run will apply."""
    columns = [
        "entity",
        "left_record_key",
        "right_record_key",
        "decision",
        "decided_by",
        "decided_at",
        "note",
    ]
    frames = []
    for path in sorted((Path(landing) / FEED_FOLDER).glob("*.csv")):
        try:
            frame = pl.read_csv(path, infer_schema=False)
        except (pl.exceptions.PolarsError, OSError):
            continue  # the run reports an unreadable file; the console only shows decisions
        if not set(DECISION_COLUMNS[:6]) <= set(frame.columns):
            continue
        frames.append(
            frame.select(
                "entity",
                pl.concat_str("left_source_system", pl.lit("|"), "left_source_id").alias(
                    "left_record_key"
                ),
                pl.concat_str("right_source_system", pl.lit("|"), "right_source_id").alias(
                    "right_record_key"
                ),
                "decision",
                *[
                    (pl.col(c) if c in frame.columns else pl.lit(None, pl.String)).alias(c)
                    for c in ("decided_by", "decided_at", "note")
                ],
            )
        )
    if not frames:
        return pl.DataFrame(schema={c: pl.String for c in [*columns, "pair"]})
    return pl.concat(frames).with_columns(pair_key("entity", "left_record_key", "right_record_key"))


def pair_key(entity: str, left: str, right: str) -> pl.Expr:
    """entity|a|b with a <= b: a pair's identity in either order."""
    return pl.concat_str(
        pl.col(entity),
        pl.lit("#"),
        pl.min_horizontal(left, right),
        pl.lit("#"),
        pl.max_horizontal(left, right),
    ).alias("pair")
