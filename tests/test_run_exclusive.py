"""One run at a time however it is launched: `crm-mdm run` and a run Dagster launches itself
(here `dagster job execute`, the Dagster CLI -- like the UI, a schedule or the sensor, it runs
the job with the code location's resources, without crm-mdm run around it)."""

from __future__ import annotations

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
from run_safety_helpers import AS_OF, Site, fingerprint, ids, leftovers, make_site

from crm_pipelines.publish.run_files import FAULT_PAUSE_ENV

CUSTOMERS = 200


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Site:
    from crm_pipelines.sample import generate_landing

    landing = tmp_path_factory.mktemp("exclusive_landing")
    generate_landing(landing, customers=CUSTOMERS, seed=5)
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
