"""Name comparisons: first and last names, swapped names, female forms, nicknames."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from crm_pipelines.match.config import similarity_cutoff
from crm_pipelines.match.encode import Encoded
from crm_pipelines.match.levels import column_similarity as _sim
from crm_pipelines.match.levels import left as _l
from crm_pipelines.match.levels import missing as _missing
from crm_pipelines.match.levels import pair_levels as _levels
from crm_pipelines.match.levels import right as _r
from crm_pipelines.match.similarity import OSA, code_similarity
from crm_pipelines.match.standard_forms import (
    canonical_first_name,
    first_name_is_female,
    nickname_table,
)


def close(p: pl.DataFrame, enc: Encoded, left: str, right: str) -> pl.Series:
    """Typo-close: Jaro-Winkler at the swapped-name cut-off, or one edit on names of three
    or more letters."""
    text = enc.text(left.removesuffix("_l"))
    jw = code_similarity(p[left], p[right], text)
    edits = code_similarity(p[left], p[right], text, OSA)
    lengths = text.str.len_chars()
    shortest = pl.min_horizontal(lengths.gather(p[left]), lengths.gather(p[right]))
    frame = pl.DataFrame({"jw": jw, "edits": edits, "n": pl.select(shortest).to_series()})
    return frame.select(
        (
            (pl.col("jw") >= similarity_cutoff("swapped_name_jw"))
            | ((pl.col("edits") <= 1) & (pl.col("n") >= 3))
        ).fill_null(False)
    ).to_series()


def names_swapped(a: Callable[[str], pl.Expr], b: Callable[[str], pl.Expr]) -> pl.Expr:
    """First and last name exchanged between side `a` and side `b` (each a column getter),
    read through the canonical forms (nicknames, female surname forms)."""
    return ((a("fn_canon") == b("ln_as_fn_canon")) & (a("ln_stem") == b("fn_as_ln_stem"))) | (
        (b("fn_canon") == a("ln_as_fn_canon")) & (b("ln_stem") == a("fn_as_ln_stem"))
    )


def swapped(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """First and last name exchanged on one side (nicknames, female forms, a typo allowed):
    either side may be the one exchanged, so the fuzzy reading is tried both ways."""
    exact = p.select(names_swapped(_l, _r).fill_null(False)).to_series()
    result = exact.to_numpy().copy()
    for frame in (p, _flipped(p)):
        result[_fuzzy_swaps(frame, enc, exact)] = True
    found = np.flatnonzero(result)
    if len(found):
        result[found[_crosses_gender(p[found], enc).to_numpy()]] = False
    return pl.Series("_swapped", result)


def _flipped(p: pl.DataFrame) -> pl.DataFrame:
    """The pairs read from the other side (`_l` and `_r` columns exchanged)."""

    def other(name: str) -> str:
        return name[:-2] + ("_r" if name.endswith("_l") else "_l")

    return p.rename({c: other(c) for c in p.columns if c.endswith(("_l", "_r"))})


def _fuzzy_swaps(p: pl.DataFrame, enc: Encoded, exact: pl.Series) -> np.ndarray:
    """Rows where the right side exchanged its names and a typo or a nickname is left in a
    crossed name ("Štěpánková Kateřina" ~ "Katka Štěpánková" read from the left).

    Fuzzy only where the straight reading disagrees and one of the crossed names is exact
    (a swap plus one typo), or both crossed names begin alike (a swap with a typo in each,
    Nguy En Elixa ~ Eliza Nguyen: a re-keyed name keeps its first letter far more often
    than not): keeps the fuzzy work to a small share of the pairs."""
    first = enc.text("fn_canon")
    crossed_initials = pl.lit(
        _same_initial(p, enc, "fn_canon_l", "ln_as_fn_canon_r")
        & _same_initial(p, enc, "ln_stem_l", "fn_as_ln_stem_r")
    )
    candidates = p.with_row_index("_i").filter(
        ~exact
        & (_l("fn_canon") != _r("fn_canon"))
        & (
            (_l("fn_canon") == _r("ln_as_fn_canon"))
            | (_l("ln_stem") == _r("fn_as_ln_stem"))
            | ((_l("ln_stem") != _r("ln_stem")) & crossed_initials)
        )
    )
    if not (candidates.height and first.len()):
        return np.zeros(0, dtype=np.int64)
    nickname = candidates.select(
        _nickname_pair(candidates, enc, ("ln_as_fn_canon",), ("fn_fold", "fn_canon"))
    ).to_series()
    fuzzy = close(candidates, enc, "fn_canon_l", "ln_as_fn_canon_r") & (
        close(candidates, enc, "ln_stem_l", "fn_as_ln_stem_r") | nickname
    )
    return candidates["_i"].filter(fuzzy).to_numpy()


def _same_initial(p: pl.DataFrame, enc: Encoded, left: str, right: str) -> np.ndarray:
    """Per pair: the `left` column's name and the `right` column's name begin alike (first
    letters coded once per dictionary entry, compared as integers)."""
    first_a = enc.text(left.removesuffix("_l")).str.slice(0, 1)
    first_b = enc.text(right.removesuffix("_r")).str.slice(0, 1)
    if not (first_a.len() and first_b.len()):
        return np.zeros(p.height, dtype=bool)
    letters = pl.Enum(pl.concat([first_a, first_b]).drop_nulls().unique().sort())
    codes_a = first_a.cast(letters).to_physical().fill_null(-1).to_numpy()
    codes_b = first_b.cast(letters).to_physical().fill_null(-2).to_numpy()
    known = ~(p[left].is_null() | p[right].is_null()).to_numpy()
    a = p[left].fill_null(0).to_numpy().astype(np.int64)
    b = p[right].fill_null(0).to_numpy().astype(np.int64)
    return known & (codes_a[a] == codes_b[b])


def _female_form(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """b is a's female form or the reverse: Jan ~ Jana, Procházka ~ Procházková (folded)."""

    def one_way(x: pl.Expr, y: pl.Expr) -> pl.Expr:
        return (y == x + "a") | _ova_form(x, y)

    return one_way(a, b) | one_way(b, a)


def _ova_form(x: pl.Expr, y: pl.Expr) -> pl.Expr:
    """y is surname x with the female -ová (Nagy ~ Nagyová, Kučera ~ Kučerová, folded)."""
    return (y == x + "ova") | (y == x.str.strip_suffix("a") + "ova")


def _crosses_gender(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """A swapped reading that pairs a name with its female form is a man and a woman of one
    family (twins Jan and Jana Procházka), not one person with names exchanged -- unless the
    pair is a surname and its -ová form beside one woman's first name on both records
    ("Nagyová Zdeňka" ~ "Zdeňka Nagy": foreign systems strip -ová, see compare_last_name)."""
    first, last = enc.text("fn_fold"), enc.text("ln_fold")
    names = pl.DataFrame(
        {
            "fn_l": first.gather(p["fn_fold_l"]),
            "ln_l": last.gather(p["ln_fold_l"]),
            "fn_r": first.gather(p["fn_fold_r"]),
            "ln_r": last.gather(p["ln_fold_r"]),
        }
    )

    def crossed(x: str, y: str, other: str, other_first_name: str) -> pl.Expr:
        """x ~ y in female form, unless it is a surname's -ová form and the other crossed
        pair one woman's first name"""
        x_, y_ = pl.col(x), pl.col(y)
        one_woman = (
            (_ova_form(x_, y_) | _ova_form(y_, x_))
            & (pl.col(other) == pl.col(other_first_name))
            & first_name_is_female(canonical_first_name(pl.col(other_first_name)))
        )
        return _female_form(x_, y_) & ~one_woman

    return names.select(
        (
            crossed("fn_l", "ln_r", "ln_l", "fn_r") | crossed("ln_l", "fn_r", "ln_r", "fn_l")
        ).fill_null(False)
    ).to_series()


def _nickname_pair(
    p: pl.DataFrame,
    enc: Encoded,
    left: tuple[str, ...] = ("fn_fold", "fn_canon"),
    right: tuple[str, ...] = ("fn_fold", "fn_canon"),
) -> pl.Expr:
    """Known nickname pair (Péťa ~ Petr, Míša ~ Michaela) as u64 code-pair keys, between
    the `left` columns of one side and the `right` columns of the other (one dictionary)."""
    table = nickname_table()
    nick = enc.code_of("fn_fold", table["nick"].to_list()).cast(pl.UInt64)
    name = enc.code_of("fn_fold", table["name"].to_list()).cast(pl.UInt64)
    keys = pl.concat([nick * (1 << 32) + name, name * (1 << 32) + nick]).drop_nulls()
    found = [
        (_l(a).cast(pl.UInt64) * (1 << 32) + _r(b).cast(pl.UInt64)).is_in(keys.implode())
        for a in left
        for b in right
    ]
    return pl.any_horizontal(found)


def compatible_names(p: pl.DataFrame, enc: Encoded, column: str) -> pl.Series:
    """One name holds the other: a second given name or a double surname ("jan pavel" ~
    "pavel", "novakova svobodova" ~ "svobodova") or an initial ("j" ~ "jan").

    Decided once per distinct pair of differing codes, then joined back to the pairs."""
    frame = pl.DataFrame({"a": p[f"{column}_l"], "b": p[f"{column}_r"]})
    distinct = frame.drop_nulls().filter(pl.col("a") != pl.col("b")).unique()
    text = enc.text(column)
    a = pl.lit(text.gather(distinct["a"])).str.split(" ")
    b = pl.lit(text.gather(distinct["b"])).str.split(" ")
    shared = a.list.set_intersection(b).list.len()
    shorter = pl.min_horizontal(a.list.len(), b.list.len())
    first_a, first_b = a.list.first(), b.list.first()
    initial = ((first_a.str.len_chars() == 1) & first_b.str.starts_with(first_a)) | (
        (first_b.str.len_chars() == 1) & first_a.str.starts_with(first_b)
    )
    contained = (shared == shorter) & (pl.max_horizontal(a.list.len(), b.list.len()) > 1)
    distinct = distinct.with_columns((contained | initial).alias("ok"))
    out = frame.join(distinct, on=["a", "b"], how="left", maintain_order="left")
    return out["ok"].fill_null(False)


def compare_first_name(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    lengths = enc.text("fn_canon").str.len_chars()
    p = p.with_columns(
        _sim(p, enc, "fn_canon").alias("_jw"),
        _sim(p, enc, "fn_canon", OSA).alias("_edits"),
        lengths.gather(p["fn_canon_l"]).alias("_len_l"),
        lengths.gather(p["fn_canon_r"]).alias("_len_r"),
    )
    one_edit = (pl.col("_edits") <= 1) & (pl.min_horizontal("_len_l", "_len_r") >= 3)
    # Jan ~ Jana, Pavel ~ Pavla, Michal ~ Michaela: one stem, two genders -- a man and a
    # woman of one family (twins), never a typo of one person; so are two close names of
    # known, different genders (Jiří ~ Jiřina, Milan ~ Milena, Antonín ~ Antonie). The
    # apparent gender of a misspelt or cut-off name proves nothing: Luciie is Lucie, and
    # "Sar" or "Kirr" (a field cut short) is Sara, Kirra -- no man's name.
    genders_differ = (_l("fn_female") != _r("fn_female")) & (_l("fn_canon") != _r("fn_canon"))
    both_known = _l("fn_gender_known") & _r("fn_gender_known")
    close = (pl.col("_jw") >= similarity_cutoff("first_name_typo_jw")) | one_edit
    p = p.with_columns(_misspelt(p, enc, ~close.fill_null(False) & ~both_known.fill_null(False)))
    close = close | pl.col("_misspelt")
    # Karel / Karla: the man's name is a known one; "Sar" / Sara is a name cut short
    male_side_known = (
        pl.when(_l("fn_female")).then(_r("fn_gender_known")).otherwise(_l("fn_gender_known"))
    )
    other_form = (
        genders_differ
        & (((_l("fn_canon_stem") == _r("fn_canon_stem")) & male_side_known) | (close & both_known))
    ).fill_null(False)
    typo = close & ~other_form
    # a misspelling (one of the two is no known name: Luciie, Filup) against two real names
    # a letter apart (Dana / Hana, Marie / Maria): twins bear the latter, never the former
    return _levels(
        p,
        [
            _l("fn_fold") == _r("fn_fold"),
            (_l("fn_canon") == _r("fn_canon"))
            | pl.col("_swapped")
            | _nickname_pair(p, enc)
            | pl.lit(compatible_names(p, enc, "fn_fold")),
            typo & ~both_known.fill_null(False),
            typo,
            other_form,
        ],
        _missing("fn_fold"),
    )


def _misspelt(p: pl.DataFrame, enc: Encoded, where: pl.Expr) -> pl.Series:
    """Rows (among `where`) whose written first names are a misspelling apart: one edit, or
    two on names of five letters or more -- each of two records may carry its own typo
    (Filup ~ Fiilip, Perta ~ Petrs), and a typo in a nickname hides it from the canonical
    form (Lubooš ~ Luboš read as Lubomír). Only where one of the two is no known name: two
    real names two letters apart are two people (Jarka / Jiřka, Robert / Robin)."""
    rows = p.select(where & (_l("fn_fold") != _r("fn_fold"))).to_series().fill_null(False)
    out = np.zeros(p.height, dtype=bool)
    if rows.any():
        sub = p.filter(rows)
        edits = code_similarity(sub["fn_fold_l"], sub["fn_fold_r"], enc.text("fn_fold"), OSA, 2)
        lengths = enc.text("fn_fold").str.len_chars()
        shortest = np.minimum(
            lengths.gather(sub["fn_fold_l"]).to_numpy(), lengths.gather(sub["fn_fold_r"]).to_numpy()
        )
        found = edits.fill_null(99).to_numpy()
        out[np.flatnonzero(rows.to_numpy())] = ((found <= 1) & (shortest >= 3)) | (
            (found <= 2) & (shortest >= 5)
        )
    return pl.Series("_misspelt", out)


def compare_last_name(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    p = p.with_columns(_sim(p, enc, "ln_fold").alias("_jw"))
    close = pl.col("_jw") >= similarity_cutoff("last_name_similar_jw")
    # Novák / Nováková is a man and a woman -- unless both records name the same woman:
    # foreign and old systems strip "-ová", and since 2022 a Czech woman may use the
    # masculine form (Kateřina Novák)
    one_woman = (_l("fn_canon") == _r("fn_canon")) & _l("fn_female") & _r("fn_female")
    gender_clash = (
        ((_l("ln_gender") == "F") & (_r("ln_gender") == "M"))
        | ((_l("ln_gender") == "M") & (_r("ln_gender") == "F"))
    ) & ~one_woman.fill_null(False)
    return _levels(
        p,
        [
            _l("ln_fold") == _r("ln_fold"),
            ((_l("ln_stem") == _r("ln_stem")) & ~gender_clash)
            | pl.col("_swapped")
            | pl.lit(compatible_names(p, enc, "ln_fold")),
            close & ~gender_clash,
            (_l("ln_stem") == _r("ln_stem")) | close,
            # one woman's name, another surname in the female form: a Czech or Slovak woman
            # takes her husband's name, a man keeps his -- weighed by the model apart from
            # any other difference
            (one_woman & (_l("ln_gender") == "F") & (_r("ln_gender") == "F")).fill_null(False),
        ],
        _missing("ln_fold"),
    )
