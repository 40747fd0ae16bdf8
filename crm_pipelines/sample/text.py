"""Reference lists and vectorised text perturbations (diacritics, typos, case, formats)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

DATA_DIR = Path(__file__).with_name("data")

_DIACRITICS = dict(
    zip(
        "áčďéěíňóřšťúůýžľĺŕäôÁČĎÉĚÍŇÓŘŠŤÚŮÝŽĽĹŔÄÔ",
        "acdeeinorstuuyzllraoACDEEINORSTUUYZLLRAO",
        strict=True,
    )
)
_LETTERS = np.array(list("aeiounrstlkmvpdhjbcz"))


@cache
def reference(name: str) -> pl.DataFrame:
    """One of the small CSV lists in data/ (first_names, surnames, cities, streets, …)."""
    return pl.read_csv(DATA_DIR / f"{name}.csv", infer_schema_length=0)


def strip_diacritics(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(list(_DIACRITICS), list(_DIACRITICS.values()))


def ascii_lower(expr: pl.Expr) -> pl.Expr:
    return strip_diacritics(expr).str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def typo(expr: pl.Expr, u_pos: pl.Expr, u_kind: pl.Expr, letter: pl.Expr) -> pl.Expr:
    """One keyboard-style edit at a random inner position: delete, transpose, substitute, double.

    u_pos and u_kind are uniform [0, 1) columns, letter a one-character column.
    """
    length = expr.str.len_chars()
    p = (u_pos * (length - 1).clip(lower_bound=1)).cast(pl.Int64).clip(lower_bound=1)
    kind = (u_kind * 4).cast(pl.Int64)
    head = expr.str.slice(0, p)
    at = expr.str.slice(p, 1)
    tail = expr.str.slice(p + 1)
    edited = (
        pl.when(kind == 0)
        .then(head + tail)
        .when(kind == 1)
        .then(expr.str.slice(0, p - 1) + at + expr.str.slice(p - 1, 1) + tail)
        .when(kind == 2)
        .then(head + letter + tail)
        .otherwise(head + at + at + tail)
    )
    return pl.when(length >= 4).then(edited).otherwise(expr)


def random_letters(rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(rng.choice(_LETTERS, size=n))


def choose(rng: np.random.Generator, values: list, p: list[float], n: int) -> np.ndarray:
    """Weighted choice of labels; p is normalised here."""
    w = np.asarray(p, dtype=float)
    return np.asarray(values)[rng.choice(len(values), size=n, p=w / w.sum())]


def phone_formats(e164: pl.Expr, u: pl.Expr, preferred: pl.Expr, national_ok: pl.Expr) -> pl.Expr:
    """Render an E.164 CZ/SK mobile in one of the formats sources send.

    0 "+420 777 123 456", 1 "777123456" / SK "0905123456", 2 "00420777123456",
    3 "+420777123456", 4 "777 123 456". ``preferred`` is used 70 % of the time.
    """
    cc = e164.str.slice(0, 4)
    national = e164.str.slice(4)
    spaced = national.str.slice(0, 3) + " " + national.str.slice(3, 3) + " " + national.str.slice(6)
    trunk = pl.when(cc == "+421").then(pl.lit("0")).otherwise(pl.lit(""))
    fmt = pl.when(u < 0.7).then(preferred).otherwise(((u - 0.7) / 0.3 * 5).cast(pl.Int64))
    fmt = pl.when(fmt.is_in([1, 4]) & ~national_ok).then(0).otherwise(fmt)
    return (
        pl.when(fmt == 0)
        .then(cc + " " + spaced)
        .when(fmt == 1)
        .then(trunk + national)
        .when(fmt == 2)
        .then("00" + e164.str.slice(1))
        .when(fmt == 3)
        .then(e164)
        .otherwise(trunk + spaced)
    )
