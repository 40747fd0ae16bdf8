"""Run settings and the frame store that carries polars frames between assets.

(No `from __future__ import annotations`: Dagster must see ResourceDependency as a type.)"""

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from dagster import (
    AssetIn,
    AssetKey,
    ConfigurableIOManager,
    ConfigurableResource,
    DagsterEventType,
    InitResourceContext,
    InputContext,
    OutputContext,
    ResourceDependency,
)
from filelock import FileLock
from pydantic import PrivateAttr

from crm_pipelines.publish.guards import load_run_guards
from crm_pipelines.publish.run_files import (
    acquire_run_lock,
    clean_leftovers,
    dagster_run_dir,
    make_run_dir,
    staged_models,
)
from crm_pipelines.publish.run_files import model_dir as published_model_dir
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
    _run_id: str | None = PrivateAttr(default=None)

    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else today_in_prague()

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._run_id = context.run.run_id if context.run else None

    def model_dir(self) -> Path:
        """The trained matching models (match/model_store.py) this run reads and writes: in
        a run its own copy, swapped in over the published `models/` beside the warehouse only
        after the warehouse (publish/run_files.py); outside a run the published folder."""
        warehouse = Path(self.warehouse_path)
        if self._run_id is None:
            return published_model_dir(warehouse)
        return staged_models(warehouse, self._run_id)

    def run_info(self, run_id: str) -> RunInfo:
        """What meta.run records about this run."""
        return RunInfo(run_id, self.as_of_date(), Path(self.landing_dir), tuple(self.accept_shrink))


class FrameStore(ConfigurableIOManager):
    """Parquet file per asset key in the run's private folder, under the warehouse's run lock.

    Every step hands its frames over through here, so this is where any run -- `crm-mdm run`,
    or one launched from the Dagster UI, a schedule or the sensor -- takes the warehouse's run
    lock for its whole length (resources live as long as the run: in-process executor) and
    gets a private frames folder (publish/run_files.py). `crm-mdm run` already holds the lock
    (re-entered here) and passes its own folder; a run launched by Dagster waits for the lock
    up to lock_wait_seconds, then fails naming the holder, and removes its folder once it
    succeeded (a failed run's folder stays for a re-execution until the next run starts)."""

    settings: ResourceDependency[PipelineSettings]
    # the run's private folder; empty: .run-<root run id> beside the warehouse
    base_dir: str = ""
    # how long a run launched by Dagster waits for the lock; unset: run_guards.yaml's
    lock_wait_seconds: float | None = None
    _lock: FileLock | None = PrivateAttr(default=None)
    _frames: Path | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        warehouse = Path(self.settings.warehouse_path).resolve()
        wait = self.lock_wait_seconds
        if wait is None:
            wait = load_run_guards().lock_wait_seconds
        run = context.run  # None only outside a run (build_resources): no run id to name
        if run is not None and run.is_finished:
            return  # rebuilt after the run for its result (execute_job): nothing to hold
        self._lock = acquire_run_lock(
            warehouse, wait, f"Dagster run {run.run_id}" if run else "Dagster resources"
        )
        if self.base_dir:
            return
        self._frames = (
            dagster_run_dir(warehouse, run.root_run_id or run.run_id)
            if run
            else make_run_dir(warehouse)
        )
        for line in clean_leftovers(warehouse, keep=self._frames):
            context.log.info(line)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        try:
            failed = (
                context.run is None
                or context.instance.get_records_for_run(
                    context.run.run_id, of_type=DagsterEventType.STEP_FAILURE, limit=1
                ).records
            )
            if self._frames is not None and not failed:
                shutil.rmtree(self._frames, ignore_errors=True)
        finally:
            if self._lock is not None:
                self._lock.release()

    @property
    def frames_dir(self) -> Path:
        if self.base_dir:
            return Path(self.base_dir)
        if self._frames is None:
            raise RuntimeError("FrameStore has no frames folder outside a running run")
        return self._frames

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        write_frame(self.frames_dir, stage_key(context.asset_key), obj)

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
        return read_input(self.frames_dir, spec)


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
