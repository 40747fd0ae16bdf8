"""Shared fixtures: a generated landing folder and one real nightly run over it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from crm_pipelines.cli import ensure_dagster_home

AS_OF = dt.date(2026, 11, 28)
SAMPLE_CUSTOMERS = 600


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    previous = os.environ.get("DAGSTER_HOME")
    os.environ.pop("DAGSTER_HOME", None)
    home = ensure_dagster_home(tmp_path_factory.mktemp("dagster"))
    yield home
    if previous is not None:
        os.environ["DAGSTER_HOME"] = previous


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crm_pipelines.sample import generate_landing

    landing = tmp_path_factory.mktemp("landing")
    generate_landing(landing, customers=SAMPLE_CUSTOMERS, seed=11)
    return landing


@pytest.fixture(scope="session")
def sample_run(sample_landing: Path, dagster_home: Path, tmp_path_factory: pytest.TempPathFactory):
    from crm_pipelines.run import run_nightly

    warehouse = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    outcome = run_nightly(sample_landing, warehouse, AS_OF)
    assert outcome.success, outcome.failure
    return outcome
