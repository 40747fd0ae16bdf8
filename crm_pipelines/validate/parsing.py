"""Raw feed strings into typed values, plus the helpers every value validator shares.

Every public function takes a Series of raw strings (one per row, possibly untrimmed or
null) and returns a frame with the same rows in the same order. A null or blank input is
"not stated": null outputs and ``valid`` null. Python-level work runs once per distinct
input through ``map_distinct``; everything else is vectorised polars.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from typing import Any

import polars as pl
import pycountry

logger = logging.getLogger(__name__)

PRAGUE = "Europe/Prague"
UTC_TS = pl.Datetime("us", "UTC")

_TRUE_WORDS = ("true", "t", "1", "yes", "y")
_FALSE_WORDS = ("false", "f", "0", "no", "n")
_DECIMAL = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = (
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,9}))?)?"
    r" ?(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_h>[0-9]{2})(?::?(?P<off_m>[0-9]{2}))?)?)?$"
)
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
PARALLEL_MIN_VALUES = 20_000


# C0 and C1 control characters (NUL, BEL, ESC, ...), DEL; line breaks and tabs included
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"


_CONTROL = re.compile(CONTROL_CHARACTERS)


def without_control_characters(values: pl.Series) -> pl.Series:
    """Line breaks and tabs become one space, every other control character goes."""
    return values.str.replace_all(r"[\t\n\r]+", " ").str.replace_all(CONTROL_CHARACTERS, "")


def clean_text(values: pl.Series) -> pl.Series:
    """Trimmed strings; blank becomes null, because a blank field states nothing."""
    trimmed = values.cast(pl.String).str.strip_chars()
    return pl.select(
        pl.when(trimmed.str.len_chars() > 0).then(trimmed).alias(values.name or "value")
    ).to_series()


def _value_workers() -> int:
    return max(1, int(os.environ.get("CRM_MDM_VALUE_WORKERS", os.cpu_count() or 1)))


# Modules whose validators run in worker processes: the fork server imports them once, so a
# pool's workers start with them loaded (and with the lazily imported phone metadata and
# stdnum modules importing cleanly in a single-threaded process).
WORKER_PRELOAD = [
    "crm_pipelines.validate.contacts",
    "crm_pipelines.validate.identifiers",
    "crm_pipelines.validate.addresses",
    "crm_pipelines.validate.parsing",
]


def _run_slice(task: tuple[Callable[..., tuple[Any, ...]], list[tuple]]) -> list[tuple[Any, ...]]:
    compute, keys = task
    return [compute(*key) for key in keys]


def _compute_all(compute: Callable[..., tuple[Any, ...]], keys: list[tuple]) -> list[tuple]:
    """Python validators are the slowest part of validation: spread large batches over cores.

    Workers come from a fork server, not a fork of this process: by now this process has
    threads (polars, DuckDB, Dagster's), and a forked child inherits any lock one of them
    held -- a child blocked for good on an import lock hung a test run. `compute` must
    pickle (a module-level function or a functools.partial of one); small batches stay
    in-process.
    """
    workers = _value_workers()
    if workers < 2 or len(keys) < PARALLEL_MIN_VALUES:
        return [compute(*key) for key in keys]
    step = -(-len(keys) // (workers * 4))
    tasks = [(compute, keys[start : start + step]) for start in range(0, len(keys), step)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    # an executor, not a Pool: a Pool waits for ever when a worker dies (a fresh-clone CI run
    # hung 120 s there once); a broken executor raises, and the batch runs in this process
    try:
        with _main_script_hidden(), ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(pool.map(_run_slice, tasks))
    except BrokenProcessPool:
        logger.warning("value workers died; validating %d values in this process", len(keys))
        return [compute(*key) for key in keys]
    return [row for part in parts for row in part]


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While workers start: they need only this package's modules, but multiprocessing
    would re-run the caller's main script in each of them (a script without an
    `if __name__ == "__main__"` guard then stages its landing folder again, recursively)."""
    main = sys.modules["__main__"]
    saved = {
        name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


# Run-scoped memo of pure validators: the same phone or e-mail arrives in several feeds.
_MEMO: dict[Callable[..., tuple[Any, ...]], pl.DataFrame] = {}


def clear_value_memo() -> None:
    _MEMO.clear()


def map_distinct(
    keys: Mapping[str, pl.Series],
    compute: Callable[..., tuple[Any, ...]],
    schema: Mapping[str, pl.DataType],
    memo: bool = False,
) -> pl.DataFrame:
    """Run ``compute`` once per distinct key tuple and spread the results back over the rows.

    The first key is the value: rows where it is null are not computed and get nulls.
    Further keys (e.g. a region) may be null and are passed through as None. With ``memo``
    (only for pure functions of the keys) results are kept until ``clear_value_memo``.
    """
    key_names = [f"__key{i}" for i in range(len(keys))]
    frame = pl.DataFrame(dict(zip(key_names, keys.values(), strict=True)))
    distinct = frame.filter(pl.col(key_names[0]).is_not_null()).unique()
    known = _MEMO.get(compute) if memo else None
    todo = (
        distinct
        if known is None
        else distinct.join(known, on=key_names, how="anti", nulls_equal=True)
    )
    logger.debug(
        "%d distinct of %d rows, %d to compute", distinct.height, frame.height, todo.height
    )
    rows = _compute_all(compute, todo.rows())
    results = pl.DataFrame(rows, schema=dict(schema), orient="row")
    lookup = pl.concat([todo, results], how="horizontal")
    if known is not None:
        lookup = pl.concat([known, lookup])
    if memo:
        _MEMO[compute] = lookup
    return frame.join(
        lookup, on=key_names, how="left", nulls_equal=True, maintain_order="left"
    ).select(list(schema))


def validity(cleaned: pl.Series, parsed: pl.Series) -> pl.Series:
    """valid = parsed is not null, but null where nothing was stated."""
    return pl.select(
        pl.when(cleaned.is_not_null()).then(parsed.is_not_null()).alias("valid")
    ).to_series()


def parse_boolean(values: pl.Series) -> pl.DataFrame:
    """Booleans as feeds.md lists them; anything else (e.g. Czech "ano") is invalid."""
    cleaned = clean_text(values)
    words = dict.fromkeys(_TRUE_WORDS, True) | dict.fromkeys(_FALSE_WORDS, False)
    parsed = cleaned.str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.Boolean)
    return pl.DataFrame({"value": parsed, "valid": validity(cleaned, parsed)})


def parse_decimal(values: pl.Series) -> pl.DataFrame:
    """Plain dot decimals only: "1 500,00 Kč" is unparseable per feeds.md, not guessed at."""
    cleaned = clean_text(values)
    plain = cleaned.str.contains(_DECIMAL)
    number = pl.select(pl.when(plain).then(cleaned).cast(pl.Float64)).to_series()
    parsed = pl.select(pl.when(number.is_finite()).then(number)).to_series()  # 400 digits: inf
    return pl.DataFrame({"value": parsed, "valid": validity(cleaned, parsed)})


def parse_date(values: pl.Series) -> pl.DataFrame:
    """Strict YYYY-MM-DD; impossible calendar dates (2024-02-30) are invalid."""
    cleaned = clean_text(values)
    shaped = pl.select(pl.when(cleaned.str.contains(_DATE)).then(cleaned)).to_series()
    parsed = shaped.str.to_date("%Y-%m-%d", strict=False)
    return pl.DataFrame({"value": parsed, "valid": validity(cleaned, parsed)})


def parse_timestamp(values: pl.Series) -> pl.DataFrame:
    """ISO 8601 instants as UTC; without an offset the value is Prague wall-clock time.

    DST choice (PEP 495 fold=0, what ``zoneinfo`` does): an ambiguous autumn time
    (2024-10-27 02:30) is the first occurrence, CEST (00:30 UTC); a time in the spring gap
    (2024-03-31 02:30) is read with the offset before the gap, CET (01:30 UTC = 03:30 CEST).
    Both stay valid, because rejecting a required updated_at for it would lose the record.
    """
    cleaned = clean_text(values)
    parts = cleaned.str.extract_groups(_TIMESTAMP).struct.unnest()
    offset_minutes = (
        pl.col("off_h").cast(pl.Int64) * 60 + pl.col("off_m").cast(pl.Int64).fill_null(0)
    ) * pl.when(pl.col("sign") == "-").then(-1).otherwise(1)
    wall_text = pl.concat_str(
        pl.col("date"),
        pl.lit(" "),
        pl.col("hour").fill_null("00"),
        pl.lit(":"),
        pl.col("minute").fill_null("00"),
        pl.lit(":"),
        pl.col("second").fill_null("00"),
    )
    micros = pl.col("fraction").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64).fill_null(0)
    naive = wall_text.str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"
    ) + pl.duration(microseconds=micros)
    in_prague = naive.dt.replace_time_zone(PRAGUE, ambiguous="earliest", non_existent="null")
    after_gap = (naive + pl.duration(hours=1)).dt.replace_time_zone(
        PRAGUE, ambiguous="earliest", non_existent="null"
    )
    offset = pl.col("offset").str.to_uppercase()
    parsed = parts.select(
        pl.when(offset.is_null())
        .then(pl.coalesce(in_prague, after_gap).dt.convert_time_zone("UTC"))
        .when(offset == "Z")
        .then(naive.dt.replace_time_zone("UTC"))
        .when(offset_minutes.abs() <= 18 * 60)
        .then((naive - pl.duration(minutes=offset_minutes)).dt.replace_time_zone("UTC"))
        .cast(UTC_TS)
        .alias("value")
    ).to_series()
    return pl.DataFrame({"value": parsed, "valid": validity(cleaned, parsed)})


def plausible_birth_date(dates: pl.Series, today: dt.date) -> pl.Series:
    """A birth date from 1900-01-01 up to today; null stays null (not checked)."""
    return dates.cast(pl.Date).is_between(_EARLIEST_BIRTH, today, closed="both").alias("plausible")


# --- extension characteristics -------------------------------------------------------------

CHAR_TYPES = ("boolean", "string", "integer", "number", "language", "date")


def _typed_char(kind: str, value: Any) -> tuple[bool, Any]:
    """(ok, canonical value) for one characteristic value of the registered kind."""
    if kind == "boolean":
        return isinstance(value, bool), value
    if kind == "string":
        return isinstance(value, str), value
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == "number":
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value), value
    if kind == "language":
        if isinstance(value, str) and len(value.strip()) == 2:
            code = value.strip().lower()
            return pycountry.languages.get(alpha_2=code) is not None, code
        return False, value
    if kind == "date":
        try:
            shaped = isinstance(value, str) and re.fullmatch(_DATE, value) is not None
            return shaped and bool(dt.date.fromisoformat(value)), value
        except ValueError:
            return False, value
    raise ValueError(f"unknown characteristic type {kind!r}")


def _json_kind(value: Any) -> str:
    names = {bool: "boolean", str: "string", int: "integer", float: "number", dict: "object"}
    return names.get(type(value), "array" if isinstance(value, list) else "null")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_chars_text(text: str, registered: Mapping[str, str]) -> tuple[str | None, str | None]:
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        return None, "chars is not a JSON object"
    kept: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in parsed.items():
        kind = registered.get(name)
        if kind is None:
            problems.append(f"characteristic {name!r} is not registered")
            continue
        ok, canonical = _typed_char(kind, value)
        if ok and isinstance(canonical, str) and _CONTROL.search(canonical):
            problems.append(f"characteristic {name!r} holds control characters")
        elif ok:
            kept[name] = canonical
        else:
            problems.append(f"characteristic {name!r} must be {kind}, got {_json_kind(value)}")
    chars = json.dumps(kept, ensure_ascii=False) if kept else None
    return chars, "; ".join(problems) or None


def check_chars(
    values: pl.Series, entity: str, registry: Mapping[str, Mapping[str, str]]
) -> pl.DataFrame:
    """Keep the registered, well-typed characteristics; name every dropped one.

    ``chars`` is null when nothing valid remains (also for "{}").
    """
    registered = dict(registry.get(entity, {}))
    unknown = set(registered.values()) - set(CHAR_TYPES)
    if unknown:
        raise ValueError(f"characteristics registry for {entity}: unknown types {sorted(unknown)}")
    return map_distinct(
        {"value": clean_text(values)},
        partial(_check_chars_text, registered=registered),
        {"chars": pl.String, "problems": pl.String},
    )
