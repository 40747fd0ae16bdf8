"""Readable words for why a pair is uncertain, built from its comparison levels."""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.comparisons import COMPARISONS

# level name -> (phrase template for one field, template for several), in reading order
PHRASES: dict[str, tuple[str, str]] = {
    "same": ("same {}", "same {}"),
    "alike": ("{} equivalent (nickname or name form)", "{} equivalent (nickname or name form)"),
    "similar": ("{} similar (typo?)", "{} similar (typo?)"),
    "misspelt": ("{} misspelt", "{} misspelt"),
    "transposed": ("{} with day and month swapped", "{} with day and month swapped"),
    "one_off": ("{} one digit or one day apart", "{} one digit or one day apart"),
    "near": ("{} differs by less than a generation", "{} differ by less than a generation"),
    "same_building": ("{} at the same building", "{} at the same building"),
    "same_postcode": ("{} in the same postcode", "{} in the same postcode"),
    "same_area": ("{} in the same postcode or town", "{} in the same postcode or town"),
    "same_town": ("{} in the same town", "{} in the same town"),
    "gender_mismatch": ("{} in male vs female form", "{} in male vs female form"),
    "maiden_or_married": ("{} another (maiden?) name", "{} other (maiden?) names"),
    "different": ("{} differs", "{} differ"),
    "missing": ("{} missing", "{} missing"),
}


def reason_expr(fields: list[str]) -> pl.Expr:
    """Words such as "same first name and birth date; e-mail differs; phone missing"."""
    parts = []
    for level_name, (one, several) in PHRASES.items():
        labels = []
        for f in fields:
            comparison = COMPARISONS[f]
            if level_name in comparison.levels:
                code = comparison.levels.index(level_name)
                labels.append(pl.when(pl.col(f"level_{f}") == code).then(pl.lit(comparison.label)))
        if not labels:
            continue
        listed = pl.concat_list(labels).list.drop_nulls()
        joined = listed.list.join(" and ")
        parts.append(
            pl.when(listed.list.len() == 0)
            .then(None)
            .when(listed.list.len() == 1)
            .then(pl.format(one, joined))
            .otherwise(pl.format(several, joined))
        )
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)
