"""meta.run and meta.run_log: what a published run was, and every published run before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from crm_pipelines.publish.warehouse import read_previous


@dataclass(frozen=True)
class RunInfo:
    """What meta.run says about a run besides its row counts."""

    run_id: str
    as_of: date
    landing_dir: Path
    accept_shrink: tuple[str, ...] = ()


def row_count(table: pl.DataFrame | Path) -> int:
    return (
        table.height
        if isinstance(table, pl.DataFrame)
        else pl.scan_parquet(table).select(pl.len()).collect().item()
    )


def run_row(run: RunInfo, tables: dict[str, pl.DataFrame | Path]) -> pl.DataFrame:
    """meta.run: the run, its as-of date, landing folder, accepted shrinks and rows per table."""
    counts = {name.replace(".", "_"): row_count(table) for name, table in tables.items()}
    return pl.DataFrame(
        [
            {
                "run_id": run.run_id,
                "published_at": datetime.now(UTC),
                "as_of": run.as_of,
                "landing_dir": str(Path(run.landing_dir).resolve()),
                "accepted_shrink": ", ".join(run.accept_shrink) or None,
                **counts,
            }
        ]
    )


def run_log(run: pl.DataFrame, warehouse: Path) -> pl.DataFrame:
    """meta.run_log: the previous warehouse's log with this run appended."""
    history = read_previous(warehouse, "SELECT * FROM meta.run_log")
    if history is None:
        return run
    # DuckDB hands timestamps back as Etc/UTC
    history = history.with_columns(pl.col(pl.Datetime("us", "Etc/UTC")).dt.convert_time_zone("UTC"))
    return pl.concat([history, run], how="diagonal_relaxed")


def with_earlier_runs(current: pl.DataFrame | Path, warehouse: Path, table: str) -> pl.DataFrame:
    """This run's rows and the earlier runs' rows of the published table (for trends)."""
    frame = pl.read_parquet(current) if isinstance(current, Path) else current
    earlier = read_previous(warehouse, f"SELECT * FROM {table}")
    if earlier is None or earlier.height == 0:
        return frame
    earlier = earlier.filter(~pl.col("run_id").is_in(frame["run_id"].unique().implode()))
    return pl.concat([earlier.cast(frame.schema), frame])
