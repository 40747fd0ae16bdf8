"""Campaign export files: minimal columns, safe names, written whole or not at all."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from factories.golden_frames import GoldenBuilder

from crm_pipelines.marketing import build_campaign_targets, write_campaign_exports
from crm_pipelines.marketing.export import safe_file_stem

AS_OF = date(2025, 6, 15)


def world() -> GoldenBuilder:
    w = GoldenBuilder()
    w.campaign("SUMMER/2025 ../x", "EMAIL", include_leads=True)
    w.campaign("Dopis-Léto", "POST")
    w.campaign("EMPTY", "SMS")
    w.campaign("OLD", "EMAIL", end_date=date(2025, 6, 1))
    w.customer("c1").person(
        "p1",
        email="jana@example.cz",
        consent={"email": True, "post": True},
        first_name="Jana",
        last_name="Dvořáková",
        national_id="8551011234",
        birth_date=date(1985, 5, 1),
    )
    w.role("p1", "c1").address("a1", "CUSTOMER", "c1", "CORRESPONDENCE", street="Na Příkopě")
    w.lead("l1", email="lead@example.cz", consent={"email": True}, organization_name="ACME")
    return w


def export(tmp_path: Path):
    w = world()
    frames = w.frames()
    targets = build_campaign_targets(frames, AS_OF)
    return targets, frames, write_campaign_exports(targets, frames["campaign"], tmp_path / "out")


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_one_csv_per_active_campaign_with_safe_names(tmp_path: Path):
    _, _, paths = export(tmp_path)
    assert sorted(p.name for p in paths) == ["Dopis-Leto.csv", "EMPTY.csv", "SUMMER_2025_.._x.csv"]
    assert all(p.parent == tmp_path / "out" and p.exists() for p in paths)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging leftovers


def test_exports_carry_contacts_and_names_but_no_identifiers(tmp_path: Path):
    _, _, paths = export(tmp_path)
    by_name = {p.name: read(p) for p in paths}
    email = by_name["SUMMER_2025_.._x.csv"]
    assert {(r["target_kind"], r["contact"], r["salutation_name"]) for r in email} == {
        ("CUSTOMER", "jana@example.cz", "Jana Dvořáková"),
        ("LEAD", "lead@example.cz", "Petr Lead l1"),
    }
    letter = by_name["Dopis-Leto.csv"]
    assert letter[0]["address_line_1"].startswith("Na Příkopě")
    assert letter[0]["address_line_2"] == "120 00 Praha"
    assert by_name["EMPTY.csv"] == []
    for path in paths:
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header[:5] == ["target_id", "target_kind", "channel", "contact", "salutation_name"]
        assert not {"national_id", "birth_date", "person_id"} & set(header)
        text = path.read_text(encoding="utf-8")
        assert "8551011234" not in text and "1985-05-01" not in text


def test_a_failed_export_keeps_the_previous_folder(tmp_path: Path):
    targets, frames, paths = export(tmp_path)
    before = {p.name: p.read_bytes() for p in paths}
    broken = dataclasses.replace(
        targets, campaign_target=targets.campaign_target.drop("salutation_name")
    )
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        write_campaign_exports(broken, frames["campaign"], tmp_path / "out")
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_rerun_replaces_the_folder_whole(tmp_path: Path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.csv").write_text("old", encoding="utf-8")
    _, _, paths = export(tmp_path)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)


def test_file_stems_are_portable():
    assert safe_file_stem("../../etc/passwd") == "etc_passwd"
    assert safe_file_stem("Jaro 2025: SMS!") == "Jaro_2025_SMS"
    assert safe_file_stem("...") == "campaign"


def test_campaign_codes_that_clean_to_the_same_name_get_distinct_files(tmp_path: Path):
    w = GoldenBuilder().campaign("A/B").campaign("A_B").campaign("a b")
    w.customer("c1").person("p1", email="jana@example.cz", consent={"email": True}).role("p1", "c1")
    frames = w.frames()
    targets = build_campaign_targets(frames, AS_OF)
    paths = write_campaign_exports(targets, frames["campaign"], tmp_path / "out")
    names = [p.name for p in paths]
    assert len(set(n.lower() for n in names)) == 3
    assert all(n.startswith(("A_B-", "a_b-")) and n.endswith(".csv") for n in names)


def test_formula_cells_get_a_leading_quote_and_e164_phone_numbers_stay(tmp_path: Path):
    from crm_pipelines.marketing.export import neutralise_formulas, write_export_csv

    cells = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx", "\rx", "+420777123456", "ok"]
    frame = neutralise_formulas(pl.DataFrame({"contact": cells, "rank": range(len(cells))}))
    write_export_csv(frame, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()[:3] == [
        "contact,rank",
        '"\'=1+2",0',
        "\"'+cmd|' /C calc'!A0\",1",
    ]
    assert [r["contact"] for r in read(tmp_path / "x.csv")] == [
        "'=1+2",
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(1)",
        "'\tx",
        "'\rx",
        "+420777123456",
        "ok",
    ]
