"""The Dagster UI tells the truth: severities as the rules say, one description per asset,
owners and kinds, described schedule and sensor, spread samples, readable review samples,
help text for every CLI option."""

from __future__ import annotations

import re
import subprocess
import sys

import duckdb
import pytest
from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance

from crm_pipelines.orchestration.definitions import defs


@pytest.fixture(scope="module")
def check_evaluations(sample_run) -> list:
    instance = DagsterInstance.get()
    records = instance.all_logs(sample_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    return [r.dagster_event.event_specific_data for r in records]


@pytest.fixture(scope="module")
def materializations(sample_run) -> dict:
    instance = DagsterInstance.get()
    records = instance.all_logs(sample_run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    return {
        r.dagster_event.asset_key.to_user_string(): r.dagster_event.materialization.metadata
        for r in records
    }


def test_every_asset_has_its_own_description_owners_and_kinds() -> None:
    specs = defs.resolve_all_asset_specs()
    descriptions = [spec.description for spec in specs]
    assert all(descriptions)
    assert len(set(descriptions)) == len(descriptions)
    assert all(spec.owners and spec.kinds for spec in specs)


def test_schedule_and_sensor_say_what_they_do() -> None:
    assert (
        "02:00 Europe/Prague"
        in defs.resolve_schedule_def("nightly_master_data_0200_prague").description
    )
    sensor = defs.resolve_sensor_def("new_landing_files").description
    assert "landing feed files" in sensor and "has changed for 60 s" in sensor


def test_error_rules_are_error_checks_and_warning_rules_warn_checks(
    sample_run, check_evaluations
) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        severity = dict(
            con.execute(
                "SELECT DISTINCT lower(rule_id) || '@' || entity, severity FROM quality.rule_result"
            ).fetchall()
        )
    rule_checks = [
        e
        for e in check_evaluations
        if e.asset_key.path[0] == "staging" and f"{e.check_name}@{e.asset_key.path[1]}" in severity
    ]
    assert len(rule_checks) == len(severity)
    expected = {"ERROR": AssetCheckSeverity.ERROR, "WARNING": AssetCheckSeverity.WARN}
    for evaluation in rule_checks:
        rule = f"{evaluation.check_name}@{evaluation.asset_key.path[1]}"
        assert evaluation.severity == expected[severity[rule]], rule
        assert not evaluation.blocking
    assert {e.severity for e in rule_checks} == set(expected.values())


def test_failing_samples_take_turns_across_source_systems(sample_run, check_evaluations) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        systems = dict(
            con.execute(
                "SELECT lower(rule_id) || '@' || feed, count(DISTINCT source_system) FROM ("
                "SELECT * FROM quality.rejected UNION ALL SELECT * FROM quality.finding) GROUP BY 1"
            ).fetchall()
        )
    spread = 0
    for evaluation in check_evaluations:
        rule = f"{evaluation.check_name}@{evaluation.asset_key.path[-1]}"
        sample = evaluation.metadata.get("failing_sample")
        if sample is None or rule not in systems:
            continue
        shown = {record.data["source_system"] for record in sample.value.records}
        assert len(shown) == min(systems[rule], len(sample.value.records)), rule
        spread += len(shown) > 1
    assert spread > 0


def test_review_samples_show_rounded_probabilities_and_whole_reasons(
    sample_run, materializations
) -> None:
    sample = materializations["match/person_review"]["sample"].value.records
    assert sample
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        reasons = {r[0] for r in con.execute("SELECT reason FROM quality.match_review").fetchall()}
    for record in sample:
        assert re.fullmatch(r"(>99\.9|<0\.1|\d{1,2}(\.\d)?|100\.0) %", record.data["probability"])
        assert record.data["reason"] in reasons


def test_per_source_quality_numbers_are_plotted(materializations) -> None:
    meta = materializations["quality/source_rule_rate"]
    systems = {key.split(".", 1)[1] for key in meta if key.startswith("rejected_pct.")}
    assert {"BSS", "ESHOP", "LEGACY_CRM"} <= systems
    assert all(isinstance(meta[f"rejected_pct.{s}"].value, float) for s in systems)


@pytest.mark.parametrize(
    "command", ["sample", "run", "bench", "export", "steward", "train", "febrl"]
)
def test_every_cli_option_has_help_text(command: str) -> None:
    args = [command, "tmf", "--help"] if command == "export" else [command, "--help"]
    text = subprocess.run(
        [sys.executable, "-m", "crm_pipelines.cli", *args], capture_output=True, text=True
    ).stdout
    options = text.split("options:", 1)[1]
    entries = re.split(r"\n  (?=-)", "\n" + options.split("\n", 1)[1])
    for entry in entries:
        if not entry.strip() or entry.strip().startswith("-h"):
            continue
        head, _, rest = entry.strip().partition("  ")
        assert rest.strip() or "\n" in entry.strip(), f"{command}: {head} has no help"
