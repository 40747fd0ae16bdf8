"""Landing data full of traps: the run succeeds and every readable key is accounted for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from landing_keys import readable_keys

from crm_pipelines.run import run_nightly

SQL_NAME = "Robert'); DROP TABLE master.customer;--"
LONG_NAME = "Ž" * 10_000
CONTROL_NAME = "Jan\x07\x1b[31mNovák\x00"  # NUL can't travel in CSV text; see below
CUSTOMER_HEADER = (
    "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name,"
    "organization_name,email,phone,country,consent_email\n"
)


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def build_hostile_landing(root: Path) -> Path:
    for feed in ("customer", "person", "account", "address", "lead", "campaign"):
        (root / feed).mkdir(parents=True)
    control = CONTROL_NAME.replace("\x00", "")
    rows = [
        f"BSS,H1,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,{_csv_field(SQL_NAME)},Novák,,jan@example.cz,777123456,CZ,true",
        f"BSS,H2,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,Eva,{_csv_field(LONG_NAME)},,,,CZ,",
        f"BSS,H3,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,{_csv_field(control)},Dvořák,,,,CZ,",
        'BSS,H4,2026-01-01T08:00:00,ORGANIZATION,BUSINESS,ACTIVE,,,"Emoji 😀 ""quoted"" s.r.o.",,,CZ,',
        'BSS,H5,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,"Multi\nLine",Name,,,,CZ,',
        "BSS,H6,not-a-date,INDIVIDUAL,RESIDENTIAL,ACTIVE,Petr,Malý,,,,CZ,",
        "BSS,H7,2026-01-01T08:00:00,MARTIAN,RESIDENTIAL,ACTIVE,Petr,Malý,,,,CZ,",
    ]
    (root / "customer" / "good.csv").write_text(
        CUSTOMER_HEADER + "\n".join(rows) + "\n", encoding="utf-8"
    )
    (root / "customer" / "bom.csv").write_bytes(
        "\ufeff".encode()
        + (CUSTOMER_HEADER + "LEGACY_CRM,B1,2026-02-01,FO,RES,A,Jiří,Černý,,,,CZ,ano\n").encode()
    )
    (root / "customer" / "empty.csv").write_bytes(b"")
    (root / "customer" / "header_only.csv").write_text(CUSTOMER_HEADER, encoding="utf-8")
    (root / "customer" / "latin1.csv").write_bytes(
        (
            CUSTOMER_HEADER
            + "BSS,L1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Jiří,Šťastný,,,,CZ,\n"
        ).encode("latin-1", "replace")
        + "Žluťoučký".encode("cp1250")
    )
    (root / "customer" / "not_csv.csv.gz").write_bytes(b"this is not gzip at all")
    # A required column (country) missing from a whole file: every row rejected, none lost.
    (root / "customer" / "no_country.csv").write_text(
        "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name\n"
        "ESHOP,E1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Jana,Nová\n",
        encoding="utf-8",
    )
    good = pl.DataFrame(
        {
            "source_system": ["BSS"],
            "source_id": ["P1"],
            "updated_at": ["2026-01-01"],
            "customer_source_id": ["H1"],
            "role_type": ["OWNER"],
            "first_name": ["Jan"],
            "last_name": [LONG_NAME],
        }
    )
    good.write_parquet(root / "person" / "persons.parquet")
    data = (root / "person" / "persons.parquet").read_bytes()
    (root / "person" / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (root / "account" / "a.csv").write_text(
        "source_system,source_id,updated_at,customer_source_id,account_type,status,currency\n"
        "BSS,A1,2026-01-01,H1,BILLING,ACTIVE,CZK\nBSS,A2,2026-01-01,H6,BILLING,ACTIVE,CZK\n",
        encoding="utf-8",
    )
    (root / "address" / "a.csv").write_text(
        "source_system,source_id,updated_at,owner_kind,owner_source_id,role_type,address_line,country\n"
        'BSS,AD1,2026-01-01,ACCOUNT,A2,BILLING,"Dlouhá 12, 110 00 Praha 1",CZ\n'
        'BSS,AD2,2026-01-01,CUSTOMER,H1,CORRESPONDENCE,"Vinohradská 1234/5a, 120 00 Praha 2",CZ\n',
        encoding="utf-8",
    )
    (root / "campaign" / "c.csv").write_text(
        "source_system,source_id,updated_at,campaign_code,name,status,channel,start_date,end_date\n"
        "MARKETING,K1,2026-01-01,WINTER,Winter,ACTIVE,EMAIL,2026-01-01,2026-12-31\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory, dagster_home: Path):
    landing = build_hostile_landing(tmp_path_factory.mktemp("hostile") / "landing")
    warehouse = tmp_path_factory.mktemp("hostile_wh") / "warehouse.duckdb"
    outcome = run_nightly(landing, warehouse, dt.date(2026, 6, 1))
    assert outcome.success, outcome.failure
    return landing, warehouse


def test_unreadable_files_are_quarantined_and_the_run_goes_on(hostile_run) -> None:
    _, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = {
            r[0]
            for r in con.sql(
                "SELECT file FROM quality.rejected WHERE rule_id = 'FILE_UNREADABLE'"
            ).fetchall()
        }
        loads = dict(con.sql("SELECT file, status FROM quality.file_load").fetchall())
    assert files == {"customer/latin1.csv", "customer/not_csv.csv.gz", "person/truncated.parquet"}
    assert loads["customer/empty.csv"] == "EMPTY" and loads["customer/header_only.csv"] == "EMPTY"


def test_nothing_is_lost(hostile_run) -> None:
    landing, warehouse = hostile_run
    keys = readable_keys(landing)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        accounted = con.sql(
            "SELECT CASE entity WHEN 'person_holder' THEN 'customer' ELSE entity END AS feed, source_system, source_id FROM master.xref "
            "UNION SELECT feed, source_system, source_id FROM quality.rejected"
        ).pl()
    lost = keys.join(accounted, on=["feed", "source_system", "source_id"], how="anti")
    assert lost.height == 0, lost


def test_hostile_text_is_data_stored_as_it_came(hostile_run) -> None:
    _, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = {r[0] for r in con.sql("SELECT first_name FROM master.customer").fetchall()}
        last = {r[0] for r in con.sql("SELECT last_name FROM master.customer").fetchall()}
        reasons = dict(
            con.sql(
                "SELECT source_id, rule_id FROM quality.rejected WHERE feed = 'customer' AND source_id IS NOT NULL"
            ).fetchall()
        )
        line_of_h7 = con.sql("SELECT line FROM quality.rejected WHERE source_id = 'H7'").fetchall()[
            0
        ][0]
    assert SQL_NAME in names and LONG_NAME in last and CONTROL_NAME.replace("\x00", "") in names
    assert reasons["H6"] == "INVALID_TIMESTAMP" and reasons["H7"] == "UNKNOWN_CODE"
    assert reasons["E1"] == "REQUIRED_FIELD"
    assert line_of_h7 == 9  # the quoted two-line record H5 pushes later records down one line
