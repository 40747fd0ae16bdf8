"""Behaviour of the sample landing generator (small scale, ~500 customers)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from stdnum import iban
from stdnum.cz import dic, rc

from crm_pipelines.sample import generate_landing
from crm_pipelines.sample.population import World, build_world

FEEDS = ("customer", "person", "account", "address", "lead", "campaign", "steward_decision")
MATCHED = ("customer", "person", "address", "lead")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("landing")
    return out, generate_landing(out, customers=500, seed=7)


def read_feed(folder: Path) -> pl.DataFrame:
    frames = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.all().cast(pl.String))
        else:
            frame = pl.read_csv(path, infer_schema=False)
        frames.append(frame.with_columns(file=pl.lit(path.name)))
    return pl.concat(frames, how="diagonal")


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(landing, tmp_path):
    out, _ = landing
    again = tmp_path / "again"
    generate_landing(again, customers=500, seed=7)
    assert digests(out) == digests(again)


def test_other_seed_gives_other_data(landing, tmp_path):
    out, _ = landing
    other = tmp_path / "other"
    generate_landing(other, customers=500, seed=8)
    assert digests(out) != digests(other)


def test_every_feed_folder_present_with_several_files_and_formats(landing):
    out, summary = landing
    for feed in FEEDS:
        files = list((out / feed).iterdir())
        assert files, feed
        assert summary[feed] > 0
    for feed in ("customer", "person", "account", "address", "lead"):
        kinds = {p.name.split(".", 1)[1] for p in (out / feed).iterdir()}
        assert {"csv", "parquet"} <= kinds, (feed, kinds)
    kinds = {p.name.split(".", 1)[1] for p in (out / "customer").iterdir()}
    assert "csv.gz" in kinds
    boms = [p for p in out.rglob("*.csv") if p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert boms, "some CSV files carry a BOM"
    native = pl.read_parquet_schema(next((out / "customer").glob("eshop_*full*.parquet")))
    assert native["updated_at"] != pl.String and native["consent_email"] == pl.Boolean
    text = pl.read_parquet_schema(next((out / "customer").glob("partner_portal_*.parquet")))
    assert set(text.values()) == {pl.String}


def test_truth_covers_every_written_record(landing):
    out, _ = landing
    truth = pl.read_parquet(out / "_truth" / "records.parquet")
    assert truth.select("entity", "source_system", "source_id").is_duplicated().sum() == 0
    for feed in FEEDS:
        written = read_feed(out / feed).select("source_system", "source_id").unique()
        known = truth.filter(pl.col("entity") == feed).select("source_system", "source_id")
        missing = written.join(known, on=["source_system", "source_id"], how="anti")
        assert missing.is_empty(), (feed, missing.head())


def test_snapshot_and_delta_resend_records_later(landing):
    out, _ = landing
    rows = read_feed(out / "customer").filter(pl.col("source_system") == "BSS")
    again = rows.filter(pl.col("source_id").is_duplicated())
    assert again.height > 0
    assert again.filter(pl.col("file").str.contains("delta"))["source_id"].n_unique() == (
        again["source_id"].n_unique()
    )
    stamps = again.with_columns(ts=pl.col("updated_at").str.to_datetime(time_zone="UTC"))
    latest = stamps.sort("ts").group_by("source_id").agg(pl.col("file").last())
    assert latest["file"].str.contains("delta").all()


def test_same_party_appears_in_several_sources(landing):
    out, _ = landing
    truth = pl.read_parquet(out / "_truth" / "records.parquet")
    for entity in MATCHED:
        spread = (
            truth.filter(pl.col("entity") == entity)
            .group_by("party_id")
            .agg(pl.col("source_system").n_unique().alias("n"))
        )
        assert (spread["n"] >= 2).sum() > 0, entity
    persons = truth.filter(pl.col("entity") == "customer")
    per_party = persons.group_by("party_id").len()
    assert 1.4 < persons.height / per_party.height < 2.1


def test_duplicates_differ_in_realistic_ways(landing):
    out, _ = landing
    truth = pl.read_parquet(out / "_truth" / "records.parquet").filter(pl.col("entity") == "person")
    persons = read_feed(out / "person").unique(["source_system", "source_id"], keep="last")
    persons = persons.join(truth, on=["source_system", "source_id"])
    names = persons.group_by("party_id").agg(
        pl.col("first_name").n_unique().alias("first"), pl.col("last_name").n_unique().alias("last")
    )
    assert (names["first"] > 1).sum() > 0 and (names["last"] > 1).sum() > 0
    assert persons["first_name"].is_in(["Honza", "Pepa", "Jirka", "Franta", "Standa"]).any()
    assert persons["phone"].str.starts_with("00420").any()
    assert persons["phone"].str.contains(r"^\d{9}$").any()


def test_hard_negatives_are_different_parties_that_look_alike(landing):
    out, _ = landing
    truth = pl.read_parquet(out / "_truth" / "records.parquet")
    hn = pl.read_parquet(out / "_truth" / "hard_negatives.parquet")
    assert {"TWINS", "FATHER_SON", "NAMESAKE_SAME_CITY", "SIMILAR_COMPANY_NAME"} <= set(hn["kind"])
    keyed = truth.select("entity", "source_system", "source_id", "party_id")
    left = hn.join(
        keyed.rename(
            {"source_system": "left_source_system", "source_id": "left_source_id", "party_id": "lp"}
        ),
        on=["entity", "left_source_system", "left_source_id"],
    ).join(
        keyed.rename(
            {
                "source_system": "right_source_system",
                "source_id": "right_source_id",
                "party_id": "rp",
            }
        ),
        on=["entity", "right_source_system", "right_source_id"],
    )
    assert left.height == hn.height
    assert (left["lp"] != left["rp"]).all()


def test_bad_rows_of_both_severities_present(landing):
    out, _ = landing
    truth = pl.read_parquet(out / "_truth" / "records.parquet")
    for feed in ("customer", "person", "account", "address", "lead", "campaign"):
        rows = truth.filter(pl.col("entity") == feed)
        assert (~rows["expected_valid"]).sum() > 0, feed
        assert rows.filter(pl.col("expected_valid") & pl.col("defect").is_not_null()).height > 0, (
            feed
        )
        if feed != "campaign":  # a hand-made handful, a third of them broken
            assert rows["expected_valid"].mean() > 0.85, feed
    defects = set(truth["defect"].drop_nulls().str.split("+").explode())
    for expected in (
        "BAD_UPDATED_AT",
        "INVALID_COUNTRY",
        "NO_ADDRESS_FORM",
        "MISSING_CUSTOMER_REF",
        "REF_REJECTED",
        "INVALID_EMAIL",
        "INVALID_ICO",
        "INVALID_IBAN",
        "INVALID_BIRTH_NUMBER",
        "BAD_BOOLEAN",
        "BAD_DECIMAL",
        "BIRTH_BEFORE_1900",
        "END_BEFORE_START",
        "BAD_CHARS",
        "UNKNOWN_BILLING_CONTACT",
        "UNKNOWN_RECORD",
        "HOSTILE_TEXT",
    ):
        assert expected in defects, expected


def test_valid_identifiers_pass_their_check_digits(landing):
    out, _ = landing
    truth = pl.read_parquet(out / "_truth" / "records.parquet").filter(pl.col("defect").is_null())

    def clean(feed: str) -> pl.DataFrame:
        keys = truth.filter(pl.col("entity") == feed)
        return read_feed(out / feed).join(keys, on=["source_system", "source_id"], how="semi")

    customers = clean("customer")
    icos = customers["registration_no"].drop_nulls().str.replace_all(" ", "").str.zfill(8)
    assert icos.len() > 0 and all(dic.is_valid("CZ" + v) for v in icos)
    assert all(rc.is_valid(v) for v in clean("person")["national_id"].drop_nulls())
    assert all(iban.is_valid(v) for v in clean("account")["iban"].drop_nulls())


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(np.random.default_rng(11), 100_000)


def test_one_building_per_street_descriptive_number_and_city(world, tmp_path):
    """warehouse.md: `1234/5` and `1234` are one building, so one party per číslo popisné."""
    buildings = world.buildings.with_columns(number=pl.col("house_number").str.extract(r"^(\d+)"))
    assert (buildings["number"] == buildings["descriptive"]).all()
    assert buildings["house_number"].str.contains("/").any()
    for city in ("city", "plain_city"):  # Praha 1 or just Praha: still the same building
        key = ["country", city, "street", "descriptive"]
        assert not buildings.select(pl.struct(key).is_duplicated().any()).item(), city

    generate_landing(tmp_path, customers=20_000, seed=3)
    truth = pl.read_parquet(tmp_path / "_truth" / "records.parquet")
    addresses = read_feed(tmp_path / "address").join(truth, on=["source_system", "source_id"])
    keyed = addresses.filter(pl.col("defect").is_null()).select(
        "party_id",
        "country",
        "street",
        city=pl.col("city").str.replace(r"( \d+| - .*)$", ""),
        number=pl.col("house_number").str.extract(r"^(\d+)"),
    )
    parties = keyed.drop_nulls().group_by(pl.exclude("party_id")).agg(pl.col("party_id").n_unique())
    assert parties.height > 1000
    assert parties["party_id"].max() == 1, parties.filter(pl.col("party_id") > 1)


def _spellings(world: World, side: str, kind: str) -> pl.DataFrame:
    pairs = world.hard_negatives.filter((pl.col("entity") == "person") & (pl.col("kind") == kind))
    humans = world.humans[pairs[side]]
    folded = pl.concat_list(
        humans["first_name"].str.to_lowercase(), humans["nickname"].str.to_lowercase()
    ).list.drop_nulls()
    return humans.select("first_name", "last_name", "birth_date", "building").with_columns(
        spellings=folded
    )


def test_twins_never_share_a_first_name_or_nickname(world):
    """Twins share surname, birth date and home; only the first name tells them apart."""
    left, right = _spellings(world, "left", "TWINS"), _spellings(world, "right", "TWINS")
    assert left.height > 100
    assert (left["birth_date"] == right["birth_date"]).all()
    assert (left["building"] == right["building"]).all()
    shared = left["spellings"].list.set_intersection(right["spellings"]).list.len() > 0
    assert not shared.any(), pl.DataFrame({"l": left["first_name"], "r": right["first_name"]})
    pairs = set(zip(left["first_name"], right["first_name"], strict=True))
    assert pairs & {("Jan", "Jana"), ("Jana", "Jan")}, "similar names are welcome"


def test_father_son_and_namesakes_share_the_full_name(world):
    father, son = _spellings(world, "left", "FATHER_SON"), _spellings(world, "right", "FATHER_SON")
    assert (father["first_name"] == son["first_name"]).all()
    assert ((father["birth_date"] - son["birth_date"]).dt.total_days() >= 25 * 365).all()
    one, other = (_spellings(world, side, "NAMESAKE_SAME_CITY") for side in ("left", "right"))
    assert (one["first_name"] == other["first_name"]).all()
    assert (one["last_name"] == other["last_name"]).all()
    assert (one["birth_date"] != other["birth_date"]).all()
    assert (one["building"] != other["building"]).all()
