"""Governance is data: every rule id the code emits is in rules.yaml, no key is parsed and
ignored, and the feed specs' references drive the reference checks."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from crm_pipelines.governance import governance_problems
from crm_pipelines.ingest.landing import read_feed
from crm_pipelines.ingest.specs import ColumnSpec, Reference, reference_order
from crm_pipelines.paths import ASSETS_DIR, QUALITY_RULES_DIR, REPO_ROOT
from crm_pipelines.validate.feed import validate_feed
from crm_pipelines.validate.issues import rule_issues
from crm_pipelines.validate.quality_tables import quality_rows
from crm_pipelines.validate.references import accepted_keys, check_column_reference
from crm_pipelines.validate.rules import EMITTED_RULE_IDS, catalogue_from, rule_catalogue

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
NOT_RULE_IDS = {"CHAR_TYPES", "CRM_MDM_VALUE_WORKERS"}  # upper-case strings that name no rule
AS_OF = dt.date(2026, 6, 1)


def _rule_id_literals() -> set[str]:
    """Every upper-case snake string literal in the ingest and validate code."""
    found = set()
    for folder in ("ingest", "validate"):
        for path in (REPO_ROOT / "crm_pipelines" / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if RULE_ID.match(node.value):
                        found.add(node.value)
    return found - NOT_RULE_IDS


def test_every_rule_id_the_code_emits_is_listed_in_rules_yaml() -> None:
    emitted = _rule_id_literals()
    assert emitted == EMITTED_RULE_IDS  # the registry the catalogue check uses is complete
    assert emitted <= set(rule_catalogue())


def test_a_rules_yaml_without_an_emitted_rule_id_is_refused_when_it_loads() -> None:
    document = yaml.safe_load((QUALITY_RULES_DIR / "rules.yaml").read_text(encoding="utf-8"))
    assert set(catalogue_from(document)) >= EMITTED_RULE_IDS
    for missing in ("TEXT_TOO_LONG", "UNKNOWN_BILLING_CONTACT"):  # code / feed spec emits it
        broken = copy.deepcopy(document)
        broken["rules"] = [r for r in broken["rules"] if r["id"] != missing]
        with pytest.raises(ValueError, match=missing):
            catalogue_from(broken)


def _customers(root: Path, rows: str) -> Path:
    (root / "customer").mkdir(parents=True)
    (root / "customer" / "c.csv").write_text(
        "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name,country\n"
        + rows,
        encoding="utf-8",
    )
    return root


def test_a_rule_id_missing_from_rules_yaml_rejects_its_row_instead_of_losing_it(
    tmp_path: Path,
) -> None:
    landing = _customers(tmp_path, "BSS,C1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Jan,Novák,CZ\n")
    result = validate_feed(read_feed(landing, "customer"), AS_OF)
    failed = pl.Series([True])
    result.add(rule_issues(result.winners, failed, "NO_SUCH_RULE", "first_name", "x", 1))
    rejected, finding = quality_rows({"customer": result})
    assert rejected.select("source_id", "rule_id", "severity").rows() == [
        ("C1", "NO_SUCH_RULE", "ERROR")
    ]
    assert result.error_rows().to_list() == [0]


def _governance_copy(tmp_path: Path) -> tuple[Path, Path]:
    rules, assets = tmp_path / "quality_rules", tmp_path / "assets"
    shutil.copytree(QUALITY_RULES_DIR, rules)
    shutil.copytree(ASSETS_DIR, assets)
    return rules, assets


def _misspell(path: Path, good: str, bad: str) -> int:
    """Replace the first `good` by `bad`; the 1-based line it is on."""
    text = path.read_text(encoding="utf-8")
    at = text.index(good)
    path.write_text(text[:at] + bad + text[at + len(good) :], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def test_unknown_keys_in_governance_files_are_named_with_file_and_line(tmp_path: Path) -> None:
    rules, assets = _governance_copy(tmp_path)
    assert governance_problems(rules, assets) == []
    rules_line = _misspell(rules / "rules.yaml", "    severity: ERROR", "    severty: ERROR")
    spec_line = _misspell(assets / "feeds" / "lead.yaml", "max_length: 2000", "max_lenght: 2000")
    limits_line = _misspell(rules / "landing_limits.yaml", "max_gzip_ratio", "max_gzip_ration")
    problems = governance_problems(rules, assets)
    assert [p.split(" (known keys")[0] for p in problems] == [
        f"{rules / 'landing_limits.yaml'}:{limits_line}: unknown key 'max_gzip_ration' in the top level",
        f"{rules / 'rules.yaml'}:{rules_line}: unknown key 'severty' in rules",
        f"{assets / 'feeds' / 'lead.yaml'}:{spec_line}: unknown key 'max_lenght' in columns.product_interest",
    ]


@pytest.mark.parametrize(
    ("file", "good", "bad"),
    [
        ("assets/feeds/customer.yaml", "text_max_length:", "text_max_lenght:"),
        ("quality_rules/rules.yaml", "    severity: ERROR", "    severty: ERROR"),
    ],
)
def test_a_misspelt_key_fails_the_run_at_start(
    tmp_path: Path, file: str, good: str, bad: str
) -> None:
    rules, assets = _governance_copy(tmp_path)
    line = _misspell(tmp_path / file, good, bad)
    key = bad.strip().rstrip(":").split(":")[0]
    (tmp_path / "landing" / "customer").mkdir(parents=True)
    # a feed file, so the run gets past the empty-landing check to the governance files
    (tmp_path / "landing" / "customer" / "c.csv").write_text("source_system,source_id\n")
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CRM_MDM_QUALITY_RULES": str(rules),
        "CRM_MDM_ASSETS": str(assets),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_pipelines.cli",
            "run",
            "--landing",
            str(tmp_path / "landing"),
            "--warehouse",
            str(tmp_path / "wh" / "warehouse.duckdb"),
            "--as-of",
            "2026-06-01",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode != 0
    assert f"{tmp_path / file}:{line}: unknown key '{key}'" in run.stdout + run.stderr
    assert not (tmp_path / "wh" / "warehouse.duckdb").exists()


def test_the_feed_specs_references_drive_the_reference_checks(tmp_path: Path) -> None:
    landing = _customers(tmp_path, "BSS,C1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Jan,Novák,CZ\n")
    (landing / "person").mkdir()
    (landing / "person" / "p.csv").write_text(
        "source_system,source_id,updated_at,customer_source_id,role_type,first_name,last_name\n"
        "BSS,P1,2026-01-01,C1,OWNER,Jan,Novák\nBSS,P2,2026-01-01,C9,OWNER,Eva,Nová\n",
        encoding="utf-8",
    )
    customers = accepted_keys(validate_feed(read_feed(landing, "customer"), AS_OF))
    outcomes = {}
    for rule_id in ("MISSING_REFERENCE", "UNKNOWN_BILLING_CONTACT"):  # ERROR, WARNING
        person = validate_feed(read_feed(landing, "person"), AS_OF)
        column = ColumnSpec(
            "customer_source_id", "string", reference=Reference({"*": "customer"}, None, rule_id)
        )
        person.winners, found = check_column_reference(person, column, {"customer": customers})
        person.add(found)
        outcomes[rule_id] = (
            person.winners.filter(pl.col("__row").is_in(person.error_rows().implode()))[
                "__sid"
            ].to_list(),
            person.winners.sort("__sid")["t_customer_source_id"].to_list(),
            person.issues.filter(pl.col("rule_id") == rule_id)["message"].to_list(),
        )
    assert outcomes["MISSING_REFERENCE"] == (
        ["P2"],
        ["C1", "C9"],
        ["customer_source_id 'C9' names no accepted customer of the same source system"],
    )
    assert outcomes["UNKNOWN_BILLING_CONTACT"] == (
        [],
        ["C1", None],
        [
            "customer_source_id 'C9' names no accepted customer of the same source system; left empty"
        ],
    )
    # the feed order follows the references: an address may name a lead
    order = reference_order()
    assert order.index("lead") < order.index("address") and order[0] == "customer"
