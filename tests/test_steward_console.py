"""The steward console in a real headless Chromium: open the queue, decide a pair MATCH,
run the job, find the two records in one golden record with the decision in its history."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest
from conftest import AS_OF

from crm_pipelines.stewardship.decisions import (
    CONSOLE_FILE,
    DECISION_COLUMNS,
    StewardDecision,
    append_decision,
    landing_decisions,
)

CHROMIUM = Path("/usr/bin/chromium")
STEWARD = "eva.steward"
NOTE = "same person, verified by phone"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# customers in the console's own landing: at the shared sample's 600 the matcher leaves no
# customer pair undecided, and the test needs one for the steward to decide
CONSOLE_CUSTOMERS = 2500


@pytest.fixture()
def console(dagster_home: Path, tmp_path: Path):
    """A landing folder of our own, its published warehouse and the console serving both."""
    from crm_pipelines.run import run_nightly
    from crm_pipelines.sample import generate_landing

    landing = tmp_path / "landing"
    generate_landing(landing, customers=CONSOLE_CUSTOMERS, seed=11)
    warehouse = tmp_path / "out" / "warehouse.duckdb"
    assert run_nightly(landing, warehouse, AS_OF).success
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_pipelines.cli",
            "steward",
            "--warehouse",
            str(warehouse),
            "--landing",
            str(landing),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/queue", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield url, landing, warehouse
    server.terminate()
    server.wait(timeout=10)


def golden_of(warehouse: Path, record_key: str) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT master_id FROM master.xref WHERE entity = 'customer' AND record_key = ?",
            [record_key],
        ).fetchall()[0][0]


def pair_to_decide(warehouse: Path) -> tuple[str, str]:
    """A customer review pair whose records are in two golden records today."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "SELECT r.left_record_key, r.right_record_key FROM quality.match_review r "
            "JOIN master.xref a ON a.entity = 'customer' AND a.record_key = r.left_record_key "
            "JOIN master.xref b ON b.entity = 'customer' AND b.record_key = r.right_record_key "
            "WHERE r.entity = 'customer' AND a.master_id <> b.master_id "
            "ORDER BY r.score DESC, 1, 2 LIMIT 1"
        ).fetchall()
    assert found, "the sample has no customer pair to review"
    return found[0]


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/ when CRM_MDM_SCREENSHOTS names it (to refresh the committed images), else tmp."""
    return Path(os.environ.get("CRM_MDM_SCREENSHOTS") or tmp_path)


def test_a_steward_decides_a_pair_in_the_browser_and_the_next_run_joins_it(
    console, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from crm_pipelines.run import run_nightly

    url, landing, warehouse = console
    left, right = pair_to_decide(warehouse)
    shots = screenshot_dir(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/queue?entity=customer")
        row = page.locator(f'#queue tr[data-left="{left}"][data-right="{right}"]')
        assert "pending" in row.inner_text()
        row.locator("a.open-pair").click()
        assert page.locator("#probability").inner_text().endswith("%")
        side = page.locator("#side-by-side").inner_text()
        assert left in side and right in side and "would join" in side
        page.screenshot(path=str(shots / "steward-review.png"), full_page=True)
        page.check("#decision-match")
        page.fill("#decided-by", STEWARD)
        page.fill("#note", NOTE)
        page.click("#submit-decision")
        assert "MATCH recorded" in page.locator("#message").inner_text()
        row = page.locator(f'#queue tr[data-left="{left}"][data-right="{right}"]')
        assert "MATCH by eva.steward" in row.inner_text()

        with open(landing / "steward_decision" / CONSOLE_FILE, encoding="utf-8") as handle:
            written = list(csv.DictReader(handle))
        assert tuple(written[0]) == DECISION_COLUMNS  # the feeds.md form, nothing invented
        assert written == [
            {
                **written[0],
                "entity": "customer",
                "decision": "MATCH",
                "decided_by": STEWARD,
                "note": NOTE,
                "left_source_system": left.split("|")[0],
                "left_source_id": left.split("|", 1)[1],
                "right_source_system": right.split("|")[0],
                "right_source_id": right.split("|", 1)[1],
            }
        ]

        # the console keeps serving while the run publishes: it never holds the warehouse
        assert run_nightly(landing, warehouse, AS_OF).success
        joined = golden_of(warehouse, left)
        assert golden_of(warehouse, right) == joined
        page.goto(f"{url}/golden?q={joined}")
        page.locator("#results a").first.click()
        sources = page.locator("#source-records").inner_text()
        assert left.split("|", 1)[1] in sources and right.split("|", 1)[1] in sources
        history = page.locator("#history tr.decision").all_inner_texts()
        assert any("MATCH" in h and STEWARD in h and left in h for h in history)
        page.screenshot(path=str(shots / "golden-record.png"), full_page=True)

        # found by phone (typed the way people type it) and by e-mail too
        with duckdb.connect(str(warehouse), read_only=True) as con:
            phone, email = con.execute(
                "SELECT phone, email FROM master.customer WHERE customer_id = ?", [joined]
            ).fetchall()[0]
        spaced = f"{phone[:4]} {phone[4:7]} {phone[7:10]} {phone[10:]}"
        for query in (spaced, email):
            if query:
                page.goto(f"{url}/golden?q={urllib.parse.quote(query)}")
                assert joined in page.locator("#results").inner_html()

        # per-source rejection and finding rates per rule, both runs side by side
        page.goto(f"{url}/quality")
        quality = page.locator("#source-quality")
        assert "BSS" in quality.inner_text() and "REQUIRED_FIELD" in quality.inner_text()
        assert quality.locator("tr").first.locator("th").count() == 3 + 2
        browser.close()


def test_decisions_are_appended_under_one_header_in_the_feeds_md_form(tmp_path: Path) -> None:
    for n in range(3):
        append_decision(
            tmp_path,
            StewardDecision(
                "person",
                "BSS",
                f"P{n}",
                "ESHOP",
                "E1",
                "NO_MATCH",
                "jan",
                "2026-12-01T10:00:00+00:00",
                'a note, with "quotes"\nand a line',
            ),
        )
    read = landing_decisions(tmp_path)
    assert read.height == 3
    assert read["pair"].to_list()[0] == "person#BSS|P0#ESHOP|E1"
    assert read["note"].to_list()[0] == 'a note, with "quotes"\nand a line'
    with pytest.raises(ValueError, match="steward's name"):
        StewardDecision("person", "BSS", "P1", "ESHOP", "E1", "MATCH", " ", "", "")
    with pytest.raises(ValueError, match="MATCH or NO_MATCH"):
        StewardDecision("person", "BSS", "P1", "ESHOP", "E1", "MERGE", "jan", "", "")
