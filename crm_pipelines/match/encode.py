"""Integer codes for string features, so candidate pairs compare u32 ids, not strings.

Columns of one group share a dictionary, so their codes compare across columns (a first
name against a last name read as a first name, for name-order swaps).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

GROUPS: dict[str, str] = {
    "fn_fold": "first",
    "fn_canon": "first",
    "ln_as_fn_canon": "first",
    "ln_fold": "last",
    "ln_stem": "last",
    "fn_as_ln_stem": "last",
}


@dataclass
class Encoded:
    """Coded feature columns (by rid) and each group's dictionary (code -> text)."""

    codes: pl.DataFrame
    dictionaries: dict[str, pl.Series]
    groups: dict[str, str]

    def text(self, column: str) -> pl.Series:
        return self.dictionaries[self.groups[column]]

    def code_of(self, column: str, values: list[str]) -> pl.Series:
        """Codes of some texts in a column's dictionary (null when unknown)."""
        return (
            pl.Series(values, dtype=pl.String)
            .cast(pl.Enum(self.text(column)), strict=False)
            .to_physical()
        )


RAW = {"ln_gender"}  # tiny code values compared as text
# columns compared only for equality: a 64-bit hash will do (no dictionary to build)
TEXT_NEEDED = {*GROUPS, "email", "org_norm", "street_norm", "city_norm", "postcode_norm"}


def encode(features: pl.DataFrame, columns: set[str]) -> Encoded:
    strings = [c for c in columns if features.schema[c] == pl.String and c not in RAW]
    string_cols = sorted(c for c in strings if c in TEXT_NEEDED)
    hashed = {c for c in strings if c not in TEXT_NEEDED}
    groups = {c: GROUPS.get(c, c) for c in string_cols}
    dictionaries: dict[str, pl.Series] = {}
    for group in set(groups.values()):
        members = [c for c in string_cols if groups[c] == group]
        values = pl.concat([features[c].drop_nulls().unique() for c in members]).unique()
        dictionaries[group] = values
    coded = [
        features[c].cast(pl.Enum(dictionaries[groups[c]])).to_physical().cast(pl.UInt32).alias(c)
        if c in groups
        else features.select(pl.when(pl.col(c).is_not_null()).then(pl.col(c).hash(seed=11)))
        .to_series()
        .alias(c)
        if c in hashed
        else features[c]
        for c in sorted(columns)
    ]
    return Encoded(pl.DataFrame(coded), dictionaries, groups)
