"""The thin Dagster layer on its own: the code location loads and documents itself, the frame
store carries frames between assets, and the landing sensor starts the job only for settled,
new files."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
from dagster import (
    AssetIn,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    asset,
    build_sensor_context,
    materialize,
)

from crm_pipelines.orchestration.definitions import NIGHTLY_JOB, defs
from crm_pipelines.orchestration.resources import FrameStore, PipelineSettings
from crm_pipelines.orchestration.sensors import SETTLE_SECONDS
from crm_pipelines.publish.run_files import acquire_run_lock

SENSOR = "new_landing_files"


def test_the_code_location_loads_with_the_nightly_job_its_schedule_and_sensor() -> None:
    Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(NIGHTLY_JOB)
    job_assets = {node.key for node in job.asset_layer.asset_graph.asset_nodes}
    assert job_assets == set(defs.resolve_all_asset_keys())
    schedule = defs.resolve_schedule_def("nightly_master_data_0200_prague")
    assert schedule.job_name == NIGHTLY_JOB
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    sensor = defs.resolve_sensor_def(SENSOR)
    assert sensor.job_name == NIGHTLY_JOB
    assert sensor.default_status == DefaultSensorStatus.STOPPED


def test_every_asset_has_a_description_and_a_group() -> None:
    specs = list(defs.resolve_all_asset_specs())
    assert specs
    undocumented = [s.key.to_user_string() for s in specs if not (s.description or "").strip()]
    ungrouped = [s.key.to_user_string() for s in specs if s.group_name in (None, "default")]
    assert undocumented == []
    assert ungrouped == []


def test_every_asset_check_has_a_description() -> None:
    graph = defs.resolve_asset_graph()
    keys = list(graph.asset_check_keys)
    assert any(key.name == "every_steward_decision_applied" for key in keys)
    undocumented = [
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in keys
        if not (graph.get_check_spec(key).description or "").strip()
    ]
    assert undocumented == []


# --- FrameStore ------------------------------------------------------------------------------

FRAME = pl.DataFrame(
    {"record_key": ["BSS|1", "BSS|2"], "name": ["Nováková", None], "birth_number": ["x", "y"]}
)


@asset(key_prefix="staging")
def customer() -> pl.DataFrame:
    return FRAME


@asset(key_prefix="check", ins={"customer": AssetIn(key=["staging", "customer"])})
def whole(customer: pl.DataFrame) -> pl.DataFrame:
    return customer


@asset(
    key_prefix="check",
    ins={
        "customer": AssetIn(
            key=["staging", "customer"], metadata={"drop_columns": ["birth_number"]}
        )
    },
)
def without_birth_number(customer: pl.DataFrame) -> pl.DataFrame:
    return customer


@asset(
    key_prefix="check",
    ins={"customer": AssetIn(key=["staging", "customer"], metadata={"as_path": True})},
)
def as_path(customer: Path) -> pl.DataFrame:
    assert isinstance(customer, Path)
    return pl.DataFrame({"path": [str(customer)]})


FRAME_ASSETS = [customer, whole, without_birth_number, as_path]


def _settings(tmp_path: Path) -> PipelineSettings:
    return PipelineSettings(
        landing_dir=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "warehouse.duckdb")
    )


def test_frame_store_hands_each_asset_its_upstream_frame_its_columns_or_its_file(
    tmp_path: Path,
) -> None:
    store = tmp_path / "frames"
    result = materialize(
        FRAME_ASSETS,
        resources={"io_manager": FrameStore(settings=_settings(tmp_path), base_dir=str(store))},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    written = store / "staging" / "customer.parquet"
    assert pl.read_parquet(written).equals(FRAME)
    assert result.output_for_node("check__whole").equals(FRAME)
    assert result.output_for_node("check__without_birth_number").equals(FRAME.drop("birth_number"))
    assert result.output_for_node("check__as_path")["path"].to_list() == [str(written)]
    assert sorted(p.name for p in store.rglob("*.tmp")) == []


def test_the_frame_store_gives_a_run_a_private_folder_and_leaves_neither_it_nor_the_lock(
    tmp_path: Path,
) -> None:
    result = materialize(
        FRAME_ASSETS,
        resources={"io_manager": FrameStore(settings=_settings(tmp_path), lock_wait_seconds=0)},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    private = Path(result.output_for_node("check__as_path")["path"][0]).parent.parent
    assert private.parent == tmp_path and private.name.startswith(".run-")
    assert not private.exists()
    acquire_run_lock(tmp_path / "warehouse.duckdb", 0, "test").release()


# --- the landing sensor ------------------------------------------------------------------------


def _evaluate(landing: Path, cursor: str | None = None):
    """One tick of the real sensor, with the settings resource pointing at `landing`."""
    context = build_sensor_context(
        cursor=cursor,
        resources={"settings": PipelineSettings(landing_dir=str(landing))},
        instance=DagsterInstance.ephemeral(),
    )
    return defs.resolve_sensor_def(SENSOR).evaluate_tick(context)


SETTLED_AT = 1_764_000_000.0  # November 2025: long before any settle time


def _settle(landing: Path) -> None:
    """Every file last changed at the same instant, long ago (only sizes and names differ)."""
    assert time.time() - SETTLED_AT > SETTLE_SECONDS
    for path in landing.rglob("*"):
        os.utime(path, (SETTLED_AT, SETTLED_AT))


@pytest.fixture
def landing(sample_landing: Path, tmp_path: Path) -> Path:
    """A fresh copy whose files were all written just now (copytree keeps the sample's
    times, which are old by the time a slow run gets here)."""
    copy = tmp_path / "landing"
    shutil.copytree(sample_landing, copy)
    for path in copy.rglob("*"):
        os.utime(path)
    return copy


def test_the_sensor_waits_for_files_still_arriving_then_starts_the_job_once(landing: Path) -> None:
    arriving = _evaluate(landing)
    assert arriving.run_requests == []
    assert "settle" in arriving.skip_message

    _settle(landing)
    settled = _evaluate(landing)
    assert len(settled.run_requests) == 1
    assert settled.run_requests[0].run_key == settled.cursor

    again = _evaluate(landing, cursor=settled.cursor)
    assert again.run_requests == []
    assert again.skip_message == "no new or changed landing files"


def test_a_changed_feed_file_starts_the_job_again_but_a_file_outside_the_feeds_does_not(
    landing: Path,
) -> None:
    _settle(landing)
    first = _evaluate(landing)
    (landing / "notes.txt").write_text("not a feed\n")
    (landing / "_truth" / "extra.csv").write_text("not a feed either\n")
    _settle(landing)
    assert _evaluate(landing, cursor=first.cursor).run_requests == []

    feed_file = sorted((landing / "customer").glob("*.csv*"))[0]
    feed_file.write_bytes(feed_file.read_bytes() + b"\n")
    _settle(landing)
    changed = _evaluate(landing, cursor=first.cursor)
    assert len(changed.run_requests) == 1
    assert changed.cursor != first.cursor


def test_the_sensor_skips_when_the_landing_folder_is_missing(tmp_path: Path) -> None:
    missing = _evaluate(tmp_path / "nowhere")
    assert missing.run_requests == []
    assert "does not exist" in missing.skip_message
