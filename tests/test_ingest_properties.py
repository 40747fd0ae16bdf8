"""Random bytes, random CSV shapes and random Unicode thrown at ingest + validate (the engine
functions the staging asset calls): nothing crashes and every input row is accounted for --
the file is quarantined as a whole, or each of its lines is accepted or rejected."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crm_pipelines.ingest.header import normalised
from crm_pipelines.ingest.landing import read_feed
from crm_pipelines.ingest.specs import feed_spec
from crm_pipelines.validate.feed import validate_feed
from crm_pipelines.validate.quality_tables import quality_rows

AS_OF = dt.date(2026, 6, 1)
SPEC = feed_spec("customer")
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALID = {  # a row made of these (and anything in optional columns) can be accepted
    "source_system": "BSS",
    "updated_at": "2026-01-01",
    "party_type": "INDIVIDUAL",
    "customer_type": "RESIDENTIAL",
    "status": "ACTIVE",
    "country": "CZ",
    "first_name": "Jan",
    "last_name": "Novák",
}
# required, also for an INDIVIDUAL (the valid rows are individuals)
REQUIRED = [c.name for c in SPEC.columns.values() if c.required or c.name in VALID]
OPTIONAL = [c for c in SPEC.columns if c not in REQUIRED]
EXTRA_NAMES = ["EMAIL", " Email ", "customer_id", "notes", "Notes", "tags", ""]
PLAUSIBLE = {
    "source_system": ["BSS", "ESHOP", "e-shop", "MARS", ""],
    "updated_at": ["2026-01-01", "2026-01-01T08:00:00+01:00", "yesterday", ""],
    "party_type": ["INDIVIDUAL", "ORGANIZATION", "FO", "alien"],
    "customer_type": ["RESIDENTIAL", "BUSINESS", "x"],
    "status": ["ACTIVE", "A", "?"],
    "country": ["CZ", "SK", "XX", ""],
    "email": ["a@example.cz", "=1+2@seznam.cz", "@", ""],
    "birth_date": ["1980-02-29", "1981-02-29", "0000-00-00"],
    "first_name": ["Jan", '=HYPERLINK("x")', "Ž" * 1001],
    "last_name": ["Nováková", "Jan\x00ek", "a\nb"],
}
CSV_HEAD = (",".join(SPEC.columns) + "\n").encode()
RANDOM_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=400).map(lambda t: t.encode("utf-8")),
    st.binary(max_size=400).map(lambda b: CSV_HEAD + b),
    st.text(max_size=400).map(lambda t: CSV_HEAD + t.encode("utf-8")),
)


def _ingest(landing: Path):
    raw = read_feed(landing, "customer")
    rows_in = raw.frame.height
    result = validate_feed(raw, AS_OF)
    rejected, finding = quality_rows({"customer": result})
    errors = result.error_rows()
    accepted = result.winners.filter(~pl.col("__row").is_in(errors.implode()))
    return raw.files, rows_in, result, rejected, finding, accepted


def _assert_counts_add_up(rows_in, result, rejected, accepted) -> None:
    assert rows_in == result.winners.height + result.superseded
    assert accepted.height + result.error_rows().len() == result.winners.height
    assert rejected.select("line").n_unique() == result.error_rows().len() or rejected.height == 0


def _landing_with(name: str, data: bytes) -> tuple[tempfile.TemporaryDirectory, Path]:
    folder = tempfile.TemporaryDirectory()
    landing = Path(folder.name)
    (landing / "customer").mkdir()
    (landing / "customer" / name).write_bytes(data)
    return folder, landing


@PROPERTY
@given(
    data=RANDOM_BYTES,
    name=st.sampled_from(["x.csv", "x.csv.gz", "x.parquet"]),
    gzipped=st.booleans(),
)
def test_random_bytes_never_crash_and_every_row_is_counted(data, name, gzipped) -> None:
    payload = gzip.compress(data) if gzipped and name.endswith(".gz") else data
    folder, landing = _landing_with(name, payload)
    with folder:
        files, rows_in, result, rejected, _, accepted = _ingest(landing)
        assert [f.status in ("READ", "EMPTY", "UNREADABLE") for f in files] == [True]
        event(files[0].status)
        if files[0].status != "READ":
            assert rows_in == 0 and (files[0].status == "EMPTY" or files[0].message)
        _assert_counts_add_up(rows_in, result, rejected, accepted)


def _collides(header: list[str]) -> bool:
    targets = [
        n if n in SPEC.columns else SPEC.column_aliases.get(n)
        for n in (normalised(h) for h in header)
    ]
    named = [t for t in targets if t]
    return len(named) != len(set(named))


@st.composite
def csv_files(draw):
    text = st.text(max_size=40)
    complete = draw(st.booleans())  # all required columns, so that rows can be accepted
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=len(OPTIONAL)))
    columns = REQUIRED if complete else draw(st.lists(st.sampled_from(REQUIRED), unique=True))
    extra = draw(st.lists(st.sampled_from(EXTRA_NAMES), max_size=2))
    header = draw(st.permutations([*columns, *optional, *extra]))
    if not header:
        header = ["source_id"]
    n_rows = draw(st.integers(min_value=0, max_value=8))
    rows = []
    for i in range(n_rows):
        row = []
        clean = draw(st.booleans())
        for column in header:
            key = normalised(column)
            if clean and key in VALID:
                row.append(VALID[key])
            elif key == "source_id":  # unique keys: no row is superseded, each must show up
                row.append(f"S{i}-{draw(text)}")
            elif key in PLAUSIBLE:
                good = st.sampled_from(PLAUSIBLE[key])
                row.append(draw(st.one_of(good, good, good, text)))
            else:
                row.append(draw(text))
        rows.append(row)
    return header, rows


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _physical_lines(header: list[str], rows: list[list[str]]) -> list[int]:
    """Line where each record starts (header = 1): quoted line breaks push records down."""
    lines, line = [], 2
    for row in rows:
        lines.append(line)
        line += 1 + sum(v.count("\n") for v in row)
    return lines


@PROPERTY
@given(csv_files(), st.booleans())
def test_random_csv_shapes_and_unicode_keep_every_line_accounted_for(shaped, gzipped) -> None:
    header, rows = shaped
    data = _csv_bytes(header, rows)
    folder, landing = _landing_with(
        "x.csv.gz" if gzipped else "x.csv", gzip.compress(data) if gzipped else data
    )
    with folder:
        files, rows_in, result, rejected, finding, accepted = _ingest(landing)
        (read,) = files
        event(f"{read.status}, {rows_in} rows, {accepted.height} accepted")
        if _collides(header):
            assert read.status == "UNREADABLE" and read.message.startswith("header collision")
            return
        if read.status == "UNREADABLE":  # only a header polars cannot take (an empty name twice)
            assert header.count("") > 1 or not rows, read.message
            return
        assert rows_in == len(rows)
        _assert_counts_add_up(rows_in, result, rejected, accepted)
        if "source_id" in {normalised(h) for h in header}:
            # every line is either accepted or rejected, never both, never neither
            accepted_lines = set(accepted["__line"].to_list())
            rejected_lines = set(rejected["line"].to_list())
            assert accepted_lines.isdisjoint(rejected_lines)
            assert accepted_lines | rejected_lines == set(_physical_lines(header, rows))
        for column in SPEC.of_type("string"):
            typed = result.winners[f"t_{column.name}"].drop_nulls()
            assert not typed.str.contains(r"[\x00-\x1f\x7f-\x9f]").any()
        assert finding["severity"].eq("WARNING").all() and rejected["severity"].eq("ERROR").all()
