"""Run settings and the frame store that carries polars frames between assets."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from dagster import (
    AssetIn,
    AssetKey,
    ConfigurableIOManager,
    ConfigurableResource,
    InputContext,
    OutputContext,
)

from crm_pipelines.publish.run_log import RunInfo
from crm_pipelines.stages.frames import Key, StageInput, read_input, write_frame

PRAGUE = ZoneInfo("Europe/Prague")


def default_data_dir() -> Path:
    return Path(os.environ.get("CRM_MDM_DATA", "data")).resolve()


def today_in_prague() -> dt.date:
    return dt.datetime.now(PRAGUE).date()


class PipelineSettings(ConfigurableResource):
    """Where the run reads and writes; the as-of date of campaign targeting."""

    landing_dir: str = str(default_data_dir() / "landing")
    warehouse_path: str = str(default_data_dir() / "warehouse.duckdb")
    as_of: str = ""  # YYYY-MM-DD; empty = today in Europe/Prague
    # FEED:SOURCE shrinks the operator accepted for this run (crm-mdm run --accept-shrink)
    accept_shrink: list[str] = []

    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else today_in_prague()

    def model_dir(self) -> Path:
        """Trained matching models (match/model_store.py), kept beside the warehouse."""
        return Path(self.warehouse_path).resolve().parent / "models"

    def run_info(self, run_id: str) -> RunInfo:
        """What meta.run records about this run."""
        return RunInfo(run_id, self.as_of_date(), Path(self.landing_dir), tuple(self.accept_shrink))


class FrameStore(ConfigurableIOManager):
    """Parquet file per asset key, so any asset can be re-materialised alone from the UI.
    The layout and the reading are the stages' own (stages/frames.py), which the benchmark
    uses too."""

    base_dir: str = str(default_data_dir() / "frames")

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        write_frame(Path(self.base_dir), stage_key(context.asset_key), obj)

    def load_input(self, context: InputContext) -> pl.DataFrame | Path:
        """A frame; or, for inputs with metadata {"as_path": True}, the Parquet file itself,
        so a consumer can stream or filter it instead of holding it all in memory. Input
        metadata {"drop_columns": [...]} leaves those columns unread (stage_ins writes both)."""
        metadata = context.definition_metadata or {}
        spec = StageInput(
            stage_key(context.asset_key),
            bool(metadata.get("as_path")),
            tuple(metadata.get("drop_columns") or ()),
        )
        return read_input(Path(self.base_dir), spec)


def stage_key(key: AssetKey) -> Key:
    group, table = key.path
    return group, table


def stage_ins(specs: Mapping[str, StageInput]) -> dict[str, AssetIn]:
    """A stage's inputs (stages/*.py) as asset ins the FrameStore loads the way they say."""
    return {
        name: AssetIn(
            key=AssetKey(list(spec.key)),
            metadata={"as_path": spec.as_path, "drop_columns": list(spec.drop_columns)},
        )
        for name, spec in specs.items()
    }
