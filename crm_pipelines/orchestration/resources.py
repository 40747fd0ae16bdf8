"""Run settings and the frame store that carries polars frames between assets."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from dagster import ConfigurableIOManager, ConfigurableResource, InputContext, OutputContext

from crm_pipelines.staged import read_without

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

    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else today_in_prague()

    def export_dir(self) -> Path:
        return Path(self.warehouse_path).resolve().parent / "exports"

    def model_dir(self) -> Path:
        """Trained matching models (match/model_store.py), kept beside the warehouse."""
        return Path(self.warehouse_path).resolve().parent / "models"


class FrameStore(ConfigurableIOManager):
    """Parquet file per asset key, so any asset can be re-materialised alone from the UI."""

    base_dir: str = str(default_data_dir() / "frames")

    def _path(self, key_path: list[str]) -> Path:
        return Path(self.base_dir, *key_path).with_suffix(".parquet")

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        path = self._path(list(context.asset_key.path))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        obj.write_parquet(tmp, compression="lz4")
        os.replace(tmp, path)

    def load_input(self, context: InputContext) -> pl.DataFrame | Path:
        """A frame; or, for inputs with metadata {"as_path": True}, the Parquet file itself,
        so a consumer can stream or filter it instead of holding it all in memory. Input
        metadata {"drop_columns": [...]} leaves those columns unread."""
        metadata = context.definition_metadata or {}
        path = self._path(list(context.asset_key.path))
        if metadata.get("as_path"):
            return path
        return read_without(path, metadata.get("drop_columns") or ())

    def read(self, key_path: list[str]) -> pl.DataFrame:
        return pl.read_parquet(self._path(key_path))
