"""Nightly runs that cannot hurt the master (issue 10): killed runs, concurrent runs, an empty
landing -- the crm-mdm CLI as a subprocess on a small generated landing folder."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import polars as pl
import pytest
from run_safety_helpers import (
    Site,
    fingerprint,
    ids,
    kill_when_exists,
    kill_when_paused,
    leftovers,
    make_site,
    query,
    small_landing_in,
    wait_until_exists,
)

from crm_pipelines.publish.run_files import FAULT_PAUSE_ENV


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = small_landing_in(tmp_path_factory.mktemp("small_landing"))
    return landing


@pytest.fixture(scope="module")
def first_run(small_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    """A site after one green run: its warehouse and exports are the 'previous' state."""
    site = make_site(tmp_path_factory.mktemp("published"), small_landing)
    first = site.run()
    assert first.returncode == 0, first.stdout + first.stderr
    return site, first.stdout


@pytest.fixture(scope="module")
def published(first_run) -> Site:
    return first_run[0]


def copy_site(site: Site, root: Path) -> Site:
    copy = make_site(root, site.landing)
    shutil.copy2(site.warehouse, copy.warehouse)
    shutil.copytree(site.folder / "exports", copy.folder / "exports")
    if (site.folder / "models").is_dir():
        shutil.copytree(site.folder / "models", copy.folder / "models")
    return copy


def test_a_run_prints_a_line_per_stage_and_leaves_only_warehouse_exports_and_lock(
    first_run,
) -> None:
    published, stdout = first_run
    stages = [line for line in stdout.splitlines() if line.startswith("stage ")]
    total = len(stages)
    assert total > 8 and stages[-1].startswith(f"stage {total} of {total}  publish__warehouse")
    assert all(line.rstrip().endswith(" s") and " rows " in line for line in stages)
    for words in (
        "ids: new ",
        "merges",
        "dormant",
        "revived",
        "steward decisions applied",
        "export files",
        "failed checks: ",
    ):
        assert words in stdout, words
    assert leftovers(published) == []
    assert list((published.folder / "exports").glob("*.csv"))
    run_row = query(published.warehouse, "SELECT run_id, accepted_shrink FROM meta.run")
    assert run_row["accepted_shrink"].to_list() == [None]


def test_the_stage_line_of_the_lead_customer_links_counts_the_links(first_run) -> None:
    _, stdout = first_run
    (line,) = [
        line
        for line in stdout.splitlines()
        if line.startswith("stage ") and "lead_customer_link" in line
    ]
    rows = int(line.split(" rows")[0].split()[-1].replace(",", ""))
    assert rows > 0, line


def test_a_run_killed_at_any_stage_changes_nothing_and_the_next_run_is_green(
    published: Site, tmp_path: Path
) -> None:
    site = copy_site(published, tmp_path)
    before = fingerprint(site)
    # mid-run, by the clock: as soon as the private work folder holds a staged frame
    frame = kill_when_exists(site.start(), site.folder, ".run-*/staging/customer.parquet")
    assert stat.S_IMODE(frame.parent.parent.stat().st_mode) == 0o700
    assert fingerprint(site) == before
    # the new warehouse complete beside the old one, just before the swap
    env = {**site.env, FAULT_PAUSE_ENV: "warehouse_built"}
    kill_when_paused(site.start(env=env), "warehouse_built")
    assert fingerprint(site) == before
    assert any(name.startswith(".warehouse.duckdb.building-") for name in leftovers(site))
    # after the warehouse swap (the commit point), before the exports swap
    env = {**site.env, FAULT_PAUSE_ENV: "warehouse_swapped"}
    kill_when_paused(site.start(env=env), "warehouse_swapped")
    committed = query(site.warehouse, "SELECT run_id FROM meta.run")["run_id"].item()
    assert f".exports.new-{committed}" in leftovers(site)

    green = site.run()
    assert green.returncode == 0, green.stdout + green.stderr
    assert f"exports of published run {committed} swapped in" in green.stdout
    assert leftovers(site) == []
    assert ids(site.warehouse).equals(ids(published.warehouse))
    after = fingerprint(site)
    assert {k: v for k, v in after.items() if k != "warehouse.duckdb"} == {
        k: v for k, v in before.items() if k != "warehouse.duckdb"
    }


def test_a_second_run_refuses_while_the_first_publishes_and_the_result_equals_a_sequential_run(
    published: Site, tmp_path: Path
) -> None:
    site = copy_site(published, tmp_path)
    first = site.start()
    wait_until_exists(site.folder, ".run-*", first)  # the first run holds the lock
    refused = site.run("--lock-wait", "0.5")
    first_out, first_err = first.communicate(timeout=600)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert (
        f"another run is publishing {site.warehouse}: crm-mdm run (pid {first.pid}"
        in refused.stderr
    )
    assert "waited 0.5 s" in refused.stderr
    assert first.returncode == 0, first_out + first_err
    log = query(site.warehouse, "SELECT run_id FROM meta.run_log")
    assert log.height == 2  # the published run and the first; nothing of the refused one
    assert ids(site.warehouse).equals(ids(published.warehouse))
    for table in ("master.customer", "master.person", "marketing.campaign_target"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert query(site.warehouse, sql).equals(query(published.warehouse, sql)), table
    assert leftovers(site) == []


def test_an_empty_landing_or_one_level_too_high_is_refused_before_any_work(
    published: Site, tmp_path: Path
) -> None:
    empty = tmp_path / "empty_landing"
    for feed in ("customer", "person", "account", "address", "lead", "campaign"):
        (empty / feed).mkdir(parents=True)
    site = copy_site(published, tmp_path / "site")
    before = fingerprint(site)
    run = Site(empty, site.warehouse, site.env).run()
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"landing folder {empty} holds no feed file" in run.stderr
    assert "nothing was run or published" in run.stderr
    assert "stage " not in run.stdout  # stopped before the first stage, not by the run guard
    assert fingerprint(site) == before and leftovers(site) == []
    # `--landing data` where the feeds are in data/landing: refused, naming the right folder
    data = tmp_path / "data"
    shutil.copytree(published.landing, data / "landing")
    high = Site(data, site.warehouse, site.env).run()
    assert high.returncode == 2, high.stdout + high.stderr
    assert f"did you mean --landing {data / 'landing'}?" in high.stderr
    assert fingerprint(site) == before and leftovers(site) == []
    # an empty landing on purpose: --accept-shrink *:* lets it through to the run guard
    accepted = Site(empty, site.warehouse, site.env).run("--accept-shrink", "*:*")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert query(site.warehouse, "SELECT count(*) AS n FROM master.customer")["n"].item() == 0


def test_a_missing_extract_accepted_for_one_run_and_back_changes_no_id(
    published: Site, tmp_path: Path
) -> None:
    landing, moved = tmp_path / "landing", tmp_path / "moved"
    shutil.copytree(published.landing, landing)
    moved.mkdir()
    for path in (landing / "customer").glob("bss_*"):
        path.rename(moved / path.name)
    site = copy_site(published, tmp_path / "site")
    site = Site(landing, site.warehouse, site.env)
    accepted = site.run("--accept-shrink", "*:BSS")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    guard = query(
        site.warehouse,
        "SELECT guard FROM meta.run_guard WHERE breached AND accepted_by_operator "
        "AND feed = 'customer' AND source_system = 'BSS'",
    )
    assert guard["guard"].to_list() == ["SOURCE_VANISHED"]
    assert query(site.warehouse, "SELECT accepted_shrink FROM meta.run").item() == "*:BSS"
    dormant = query(
        site.warehouse,
        "SELECT count(*) AS n FROM master.identity_registry WHERE status = 'DORMANT'",
    )
    assert dormant["n"].item() > 0

    for path in moved.iterdir():
        path.rename(landing / "customer" / path.name)
    back = site.run()
    assert back.returncode == 0, back.stdout + back.stderr
    changed = (
        ids(site.warehouse)
        .join(ids(published.warehouse), on=["entity", "source_system", "source_id"], how="full")
        .filter(pl.col("master_id").ne_missing(pl.col("master_id_right")))
    )
    assert changed.height == 0, changed.rows()
    dormant_now = query(
        site.warehouse,
        "SELECT count(*) AS n FROM master.identity_registry WHERE status = 'DORMANT'",
    )
    assert dormant_now["n"].item() == 0  # every id that slept is back
