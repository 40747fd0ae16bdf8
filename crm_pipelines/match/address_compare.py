"""Address comparisons that read Czech numbering: the entrance number, the postcode's digits.

A Czech house number is "číslo popisné / číslo orientační" (1024/76): the first names the
building within its part of town, the second its door on the street. Two rows of one street
that carry different orientation numbers are two doors, however their building numbers
agree. A postcode keyed one digit off (140 09 / 140 00) at the same street, number and town
is a typo far more often than another post office -- unless the town's district, which old
systems keep in the city field ("Praha 4" / "Praha 10"), says otherwise.
"""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.encode import Encoded
from crm_pipelines.match.levels import left, missing, pair_levels, right


def entrance_number(house_number: pl.Expr) -> pl.Expr:
    """The orientation part of a Czech house number: 1234/5a -> 5a; 12 -> null."""
    after_slash = house_number.str.to_lowercase().str.split("/").list.get(1, null_on_oob=True)
    return after_slash.str.replace_all(r"\s", "").str.extract(r"^(\d+[a-z]?)", 1)


def district_number(city: pl.Expr) -> pl.Expr:
    """The numbered district old systems keep in the city field: Praha 10 - Strašnice -> 10."""
    return city.str.extract(r"^\D*?\s(\d{1,2})(?:\D|$)", 1)


def compare_building(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """missing / different / same: the building number, and the entrance where both have one."""
    doors_differ = (left("entrance") != right("entrance")).fill_null(False)
    same = (left("building") == right("building")) & ~doors_differ
    return pair_levels(p, [same], missing("building"))


def _one_digit_apart(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Same length, exactly one position differs."""
    differing = pl.sum_horizontal(
        (a.str.slice(i, 1) != b.str.slice(i, 1)).cast(pl.Int8) for i in range(5)
    )
    return (a.str.len_chars() == b.str.len_chars()) & (a.str.len_chars() <= 5) & (differing == 1)


def compare_postcode(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """missing / different / one_digit / same; one digit apart decided once per distinct
    pair of differing codes."""
    frame = pl.DataFrame({"a": p["postcode_norm_l"], "b": p["postcode_norm_r"]})
    distinct = frame.drop_nulls().filter(pl.col("a") != pl.col("b")).unique()
    text = enc.text("postcode_norm")
    a = pl.lit(text.gather(distinct["a"]))
    b = pl.lit(text.gather(distinct["b"]))
    distinct = distinct.with_columns(_one_digit_apart(a, b).alias("near"))
    near = frame.join(distinct, on=["a", "b"], how="left", maintain_order="left")["near"]
    same = left("postcode_norm") == right("postcode_norm")
    return pair_levels(p, [same, pl.lit(near)], missing("postcode_norm"))
