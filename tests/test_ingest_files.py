"""One landing file at a time: what is read, and why a file is quarantined instead."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path

import polars as pl
import pytest

from crm_pipelines.ingest.landing import read_feed
from crm_pipelines.ingest.limits import LandingLimits
from crm_pipelines.ingest.readers import FileRejected, csv_bytes
from crm_pipelines.validate.feed import validate_feed

HEADER = "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name,country"
ROW = "BSS,C1,2026-01-01,INDIVIDUAL,RESIDENTIAL,ACTIVE,Jan,Novák,CZ"


def _landing(tmp_path: Path) -> Path:
    (tmp_path / "landing" / "customer").mkdir(parents=True)
    return tmp_path / "landing"


def _statuses(landing: Path) -> dict[str, tuple[str, str | None]]:
    return {r.file: (r.status, r.message) for r in read_feed(landing, "customer").files}


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (HEADER + ",email,email", "columns 'email', 'email' all map to contract column email"),
        (HEADER + ",E_MAIL,Email ", "columns 'E_MAIL', 'Email ' all map to contract column email"),
        (
            HEADER + ",customer_id",
            "columns 'source_id', 'customer_id' all map to contract column source_id",
        ),
    ],
)
def test_a_header_whose_columns_collide_quarantines_the_file(tmp_path, header, reason) -> None:
    landing = _landing(tmp_path)
    extra = ",x@y.cz" * (header.count(",") - HEADER.count(","))
    (landing / "customer" / "c.csv").write_text(f"{header}\n{ROW}{extra}\n", encoding="utf-8")
    status, message = _statuses(landing)["customer/c.csv"]
    assert status == "UNREADABLE" and message.startswith(f"header collision: {reason}")


def test_unknown_columns_are_ignored_whatever_their_case(tmp_path) -> None:
    landing = _landing(tmp_path)
    (landing / "customer" / "c.csv").write_text(
        f"{HEADER},Notes,notes\n{ROW},x,y\n", encoding="utf-8"
    )
    raw = read_feed(landing, "customer")
    assert [r.status for r in raw.files] == ["READ"] and raw.unknown_columns == ["notes"]


def test_a_fifo_dangling_link_and_linked_folder_are_listed_with_reasons_never_opened(
    tmp_path,
) -> None:
    landing = _landing(tmp_path)
    os.mkfifo(landing / "customer" / "pipe.csv")  # opening it would block the run for ever
    os.symlink(landing / "customer" / "gone.csv", landing / "customer" / "dangling.csv")
    (landing / "archive").mkdir()
    os.symlink(landing / "archive", landing / "customer" / "linked")
    (landing / "archive" / "inside.csv").write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    os.symlink(landing / "archive" / "inside.csv", landing / "customer" / "inside.csv")
    statuses = _statuses(landing)
    assert statuses["customer/pipe.csv"] == ("UNREADABLE", "not a regular file; not read")
    assert statuses["customer/dangling.csv"][1].startswith("dangling symlink")
    assert statuses["customer/linked"] == ("UNREADABLE", "symlinked folder; not followed")
    assert statuses["customer/inside.csv"] == ("READ", None)  # a link inside the landing folder


def test_csv_text_past_its_cap_is_refused_while_streaming(tmp_path) -> None:
    plain, packed = tmp_path / "a.csv", tmp_path / "a.csv.gz"
    plain.write_bytes(b"x" * 5000)
    packed.write_bytes(gzip.compress(b"x" * 5000))
    assert csv_bytes(plain, LandingLimits(5000, 1.0)) == b"x" * 5000
    with pytest.raises(FileRejected, match="file too large: 5,000 bytes"):
        csv_bytes(plain, LandingLimits(4999, 100.0))
    with pytest.raises(FileRejected, match="gzip decompresses past its cap: more than 4,000 bytes"):
        csv_bytes(packed, LandingLimits(4000, 1000.0))
    with pytest.raises(FileRejected, match="gzip decompresses past its cap"):
        csv_bytes(packed, LandingLimits(10_000, 2.0))


def test_chars_written_as_a_parquet_struct_is_read_as_its_json_object(tmp_path) -> None:
    landing = _landing(tmp_path)
    frame = pl.DataFrame(
        {
            "source_system": ["BSS"],
            "source_id": ["C1"],
            "updated_at": ["2026-01-01"],
            "party_type": ["INDIVIDUAL"],
            "customer_type": ["RESIDENTIAL"],
            "status": ["ACTIVE"],
            "first_name": ["Jan"],
            "last_name": ["Novák"],
            "country": ["CZ"],
            "chars": [{"vip": True, "preferred_language": "cs"}],
        }
    )
    frame.write_parquet(landing / "customer" / "c.parquet")
    result = validate_feed(read_feed(landing, "customer"), dt.date(2026, 6, 1))
    assert result.issues.height == 0
    assert result.winners["chars"].to_list() == ['{"vip":true,"preferred_language":"cs"}']


def test_a_string_characteristic_with_control_characters_is_left_out() -> None:
    from crm_pipelines.paths import quality_rules
    from crm_pipelines.validate.values import check_chars

    checked = check_chars(
        pl.Series(['{"loyalty_tier": "a\\u0085b", "vip": true}']),
        "customer",
        quality_rules("characteristics.yaml"),
    )
    assert checked.row(0) == (
        '{"vip": true}',
        "characteristic 'loyalty_tier' holds control characters",
    )


def test_validating_a_feed_leaves_the_rows_it_was_given_as_they_were(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    no_status = "BSS,C2,2026-01-01,INDIVIDUAL,RESIDENTIAL,,Eva,Nová,CZ"
    (landing / "customer" / "c.csv").write_text(f"{HEADER}\n{ROW}\n{no_status}\n")
    raw = read_feed(landing, "customer")
    as_read = raw.frame.clone()
    result = validate_feed(raw, dt.date(2026, 6, 1))
    assert raw.frame.equals(as_read)
    assert result.issues.select("__row", "rule_id", "column").rows() == [
        (1, "REQUIRED_FIELD", "status")
    ]
    assert result.checked["REQUIRED_FIELD"] >= 2
