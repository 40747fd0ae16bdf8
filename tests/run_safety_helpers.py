"""The crm-mdm CLI as a subprocess, and fingerprints of what a run publishes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

AS_OF = "2026-11-28"
CUSTOMERS = 200  # small generated folders: every run-safety test runs the CLI several times


@dataclass(frozen=True)
class Site:
    """A landing folder, a warehouse beside its exports, and a DAGSTER_HOME."""

    landing: Path
    warehouse: Path
    env: dict[str, str]

    @property
    def folder(self) -> Path:
        return self.warehouse.parent

    def run_args(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "crm_pipelines.cli",
            "run",
            "--landing",
            str(self.landing),
            "--warehouse",
            str(self.warehouse),
            "--as-of",
            AS_OF,
            *extra,
        ]

    def run(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.run_args(*extra),
            capture_output=True,
            text=True,
            env=env or self.env,
            timeout=600,
        )

    def start(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            self.run_args(*extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or self.env,
        )


def make_site(root: Path, landing: Path) -> Site:
    home = root / "dagster_home"
    home.mkdir(parents=True)
    out = root / "out"
    out.mkdir()
    return Site(landing, out / "warehouse.duckdb", {**os.environ, "DAGSTER_HOME": str(home)})


def fingerprint(site: Site) -> dict[str, str]:
    """sha256 of the warehouse and of every export file, by name."""
    files = [site.warehouse, *sorted((site.folder / "exports").glob("*"))]
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files if path.exists()
    }


def leftovers(site: Site) -> list[str]:
    """Anything beside the warehouse but the warehouse, its exports, its lock file and the
    matching models (match/model_store.py)."""
    expected = {site.warehouse.name, "exports", "models", f".{site.warehouse.name}.lock"}
    return sorted(p.name for p in site.folder.iterdir() if p.name not in expected)


def kill_when_paused(process: subprocess.Popen, point: str, timeout: float = 300) -> None:
    """Wait for the run's FAULT_PAUSE line on stderr, then SIGKILL it."""
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    for line in process.stderr:
        if line.strip() == f"FAULT_PAUSE {point}":
            break
        assert time.monotonic() < deadline, f"run never reached {point}"
    else:
        raise AssertionError(f"run ended before {point}: exit {process.wait()}")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def kill_when_exists(process: subprocess.Popen, folder: Path, pattern: str) -> Path:
    """SIGKILL the run as soon as a file matching `pattern` appears under `folder`."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return found[0]
        assert process.poll() is None, f"run ended before {pattern} appeared"
        time.sleep(0.02)
    raise AssertionError(f"{pattern} never appeared")


def wait_until_exists(folder: Path, pattern: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while not list(folder.glob(pattern)):
        assert process.poll() is None, f"run ended before {pattern} appeared"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def ids(warehouse: Path) -> pl.DataFrame:
    return query(
        warehouse,
        "SELECT entity, source_system, source_id, master_id FROM master.xref ORDER BY ALL",
    )


def small_landing_in(folder: Path) -> Path:
    """A generated landing folder of CUSTOMERS customers (seed 5) in `folder`."""
    from crm_pipelines.sample import generate_landing

    generate_landing(folder, customers=CUSTOMERS, seed=5)
    return folder
