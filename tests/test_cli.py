"""The crm-mdm command as the acceptance run uses it: a fresh DAGSTER_HOME, any landing folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb


def crm_mdm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crm_pipelines.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_sample_then_run_with_an_empty_dagster_home(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    landing, warehouse = tmp_path / "landing", tmp_path / "out" / "warehouse.duckdb"
    sample = crm_mdm("sample", "--out", str(landing), "--customers", "150", "--seed", "3", env=env)
    assert sample.returncode == 0, sample.stderr
    run = crm_mdm(
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--as-of",
        "2026-11-28",
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for words in (
        "source rows in",
        "accepted",
        "quarantined",
        "golden customers",
        "campaign targets",
    ):
        assert words in run.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM master.xref").fetchall()[0][0] > 0
    assert list((tmp_path / "out" / "exports").glob("*.csv"))


def test_run_fails_clearly_on_a_missing_landing_folder(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    run = crm_mdm(
        "run",
        "--landing",
        str(tmp_path / "nope"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        env=env,
    )
    assert run.returncode != 0
    assert "does not exist" in run.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_bad_as_of_is_refused(tmp_path: Path) -> None:
    run = crm_mdm("run", "--as-of", "28.11.2026", env={**os.environ, "DAGSTER_HOME": str(tmp_path)})
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr
