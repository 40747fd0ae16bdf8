"""What a run owns beside the warehouse, on small generated feeds.

One run at a time however it is launched: `crm-mdm run` and a run Dagster launches itself
(here `dagster job execute`, the Dagster CLI -- like the UI, a schedule or the sensor, it runs
the job with the code location's resources, without crm-mdm run around it). The trained
matching models are part of the atomic publish: a refused run leaves none behind, a run
killed after its warehouse swap has them rolled forward."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_safety_helpers import (
    AS_OF,
    Site,
    fingerprint,
    ids,
    kill_when_exists,
    kill_when_paused,
    leftovers,
    make_site,
    query,
    small_landing_in,
)

from crm_pipelines.publish.run_files import FAULT_PAUSE_ENV


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Site:
    landing = small_landing_in(tmp_path_factory.mktemp("exclusive_landing"))
    site = make_site(tmp_path_factory.mktemp("exclusive_published"), landing)
    first = site.run()
    assert first.returncode == 0, first.stdout + first.stderr
    return site


def copy_site(site: Site, root: Path) -> Site:
    copy = make_site(root, site.landing)
    shutil.copy2(site.warehouse, copy.warehouse)
    for folder in ("exports", "models"):
        if (site.folder / folder).is_dir():
            shutil.copytree(site.folder / folder, copy.folder / folder)
    return copy


def launch_in_dagster(site: Site, lock_wait: float, env: dict[str, str] | None = None):
    """`dagster job execute` of the nightly job on the site, as a process of its own group."""
    config = site.folder.parent / "launch.yaml"  # JSON is YAML
    settings = {
        "landing_dir": str(site.landing),
        "warehouse_path": str(site.warehouse),
        "as_of": AS_OF,
    }
    config.write_text(
        json.dumps(
            {
                "resources": {
                    "settings": {"config": settings},
                    "io_manager": {"config": {"lock_wait_seconds": lock_wait}},
                }
            }
        )
    )
    dagster = Path(sys.executable).with_name("dagster")
    return subprocess.Popen(
        [str(dagster), "job", "execute", "-m", "crm_pipelines.orchestration.definitions"]
        + ["-j", "nightly_master_data", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or site.env,
        start_new_session=True,
    )


def wait_for_pause(stream, point: str) -> list[str]:
    """Read the run's output until its FAULT_PAUSE line; the lines read so far."""
    lines = []
    deadline = time.monotonic() + 300
    for line in stream:
        lines.append(line)
        if line.strip().endswith(f"FAULT_PAUSE {point}"):
            return lines
        assert time.monotonic() < deadline, f"run never reached {point}"
    raise AssertionError(f"run ended before {point}:\n{''.join(lines[-30:])}")


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_a_new_dagster_home_runs_one_dagster_run_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance

    from crm_pipelines.cli import ensure_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(tmp_path)
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    # a dagster.yaml written before this setting gets it added, and only once
    older = tmp_path / "older"
    older.mkdir()
    (older / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(older))
    ensure_dagster_home(tmp_path)
    ensure_dagster_home(tmp_path)
    assert (older / "dagster.yaml").read_text().count("max_concurrent_runs: 1") == 1
    with DagsterInstance.from_config(str(older)) as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1


def test_a_run_launched_by_dagster_fails_naming_the_crm_mdm_run_that_holds_the_warehouse(
    published: Site, tmp_path: Path
) -> None:
    site = copy_site(published, tmp_path)
    before = fingerprint(site)
    holder = site.start(env={**site.env, FAULT_PAUSE_ENV: "exports_staged"})
    assert holder.stderr is not None
    wait_for_pause(holder.stderr, "exports_staged")  # holds the lock, about to publish
    try:
        launched = launch_in_dagster(site, lock_wait=1)
        output, _ = launched.communicate(timeout=300)
        assert launched.returncode != 0, output
        assert (
            f"another run is publishing {site.warehouse}: crm-mdm run (pid {holder.pid}" in output
        )
        assert "waited 1 s" in output
        # it never started a stage, nor made a frames folder of its own
        assert "STEP_START" not in output
        assert len(list(site.folder.glob(".run-*"))) == 1
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert fingerprint(site) == before


def test_crm_mdm_run_refuses_while_a_run_launched_by_dagster_publishes_in_its_own_folder(
    published: Site, tmp_path: Path
) -> None:
    site = copy_site(published, tmp_path)
    before = fingerprint(site)
    launched = launch_in_dagster(site, 1, env={**site.env, FAULT_PAUSE_ENV: "exports_staged"})
    assert launched.stdout is not None
    try:
        lines = wait_for_pause(launched.stdout, "exports_staged")
        run_id = next(line for line in lines if "RUN_START" in line).split(" - ")[4]
        (private,) = site.folder.glob(".run-*")
        assert private.name == f".run-{run_id}"
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        assert (private / "staging" / "customer.parquet").is_file()
        assert not (site.folder / "frames").exists()
        refused = site.run("--lock-wait", "0.5")
        assert refused.returncode == 3, refused.stdout + refused.stderr
        assert f"another run is publishing {site.warehouse}: Dagster run {run_id}" in refused.stderr
        assert "stage " not in refused.stdout
    finally:
        kill_group(launched)
    assert fingerprint(site) == before

    # launched again, it cleans what the killed one left, publishes alone, and removes its
    # own folder; the result equals the sequential crm-mdm run's
    again = launch_in_dagster(site, 1)
    output, _ = again.communicate(timeout=600)
    assert again.returncode == 0, output[-3000:]
    assert leftovers(site) == []
    assert ids(site.warehouse).equals(ids(published.warehouse))


def models(site: Site) -> dict[str, str]:
    folder = site.folder / "models"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*"))}


def make_stale(site: Site, entity: str) -> None:
    """A stored model trained for other comparisons: the next run must train a new one."""
    path = site.folder / "models" / f"{entity}.json"
    path.write_text(path.read_text().replace('"signature": "', '"signature": "stale'))


def test_a_run_refused_by_the_run_guard_leaves_no_new_model_and_the_next_run_publishes_it(
    published: Site, tmp_path: Path
) -> None:
    landing, moved = tmp_path / "landing", tmp_path / "moved"
    shutil.copytree(published.landing, landing)
    moved.mkdir()
    for path in (landing / "customer").glob("bss_*"):
        path.rename(moved / path.name)
    site = copy_site(published, tmp_path / "site")
    site = Site(landing, site.warehouse, site.env)
    make_stale(site, "customer")
    before, models_before = fingerprint(site), models(site)
    assert len(models_before) == 4

    refused = site.run()  # the BSS customers vanished: the run guard stops it
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "no accepted customer record from BSS any more" in refused.stderr
    assert fingerprint(site) == before
    assert models(site) == models_before  # the customer model it trained is not published

    for path in moved.iterdir():
        path.rename(landing / "customer" / path.name)
    green = site.run()
    assert green.returncode == 0, green.stdout + green.stderr
    after = models(site)
    assert after["customer.json"] != models_before["customer.json"]
    assert '"signature": "stale' not in (site.folder / "models" / "customer.json").read_text()
    assert {k: v for k, v in after.items() if k != "customer.json"} == {
        k: v for k, v in models_before.items() if k != "customer.json"
    }  # the other models fit and were reused, byte for byte
    assert leftovers(site) == []


def test_a_run_killed_after_publishing_has_its_models_rolled_forward_at_the_next_start(
    published: Site, tmp_path: Path
) -> None:
    site = copy_site(published, tmp_path)
    make_stale(site, "customer")
    models_before = models(site)
    env = {**site.env, FAULT_PAUSE_ENV: "exports_swapped"}
    kill_when_paused(site.start(env=env), "exports_swapped")
    committed = query(site.warehouse, "SELECT run_id FROM meta.run")["run_id"].item()
    assert models(site) == models_before  # killed between the exports and the models swap
    assert f".models.new-{committed}" in leftovers(site)

    green = site.run()
    assert green.returncode == 0, green.stdout + green.stderr
    assert f"models of published run {committed} swapped in" in green.stdout
    assert '"signature": "stale' not in (site.folder / "models" / "customer.json").read_text()
    assert leftovers(site) == []


def test_a_killed_runs_dagster_record_is_marked_failed_by_the_next_run_so_the_queue_moves_on(
    published: Site, tmp_path: Path
) -> None:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    site = copy_site(published, tmp_path)
    kill_when_exists(site.start(), site.folder, ".run-*/staging/customer.parquet")
    home = site.env["DAGSTER_HOME"]
    with DagsterInstance.from_config(home) as instance:
        stuck = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED]))
    assert len(stuck) == 1  # SIGKILL: the run never reported its end

    green = site.run()
    assert green.returncode == 0, green.stdout + green.stderr
    killed = stuck[0].dagster_run.run_id
    assert f"Dagster run {killed} marked failed: its process was gone" in green.stdout
    with DagsterInstance.from_config(home) as instance:
        assert instance.get_run_by_id(killed).status == DagsterRunStatus.FAILURE
        in_progress = RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])
        assert instance.get_run_records(in_progress) == []
