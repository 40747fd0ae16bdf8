"""Titles and generation markers parsed out of name fields (quality_rules/name_titles.yaml).

Czech and Slovak systems keep "Ing. Jana" in first_name and "Nováková, Ph.D." in last_name;
a matcher that compares "ing jana" with "jana" loses the pair, and a letter needs the title
in its salutation. Parsed once per distinct name value; a value without any title keeps its
exact text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import polars as pl

from crm_pipelines.paths import quality_rules

NAME_FIELDS = ("first_name", "last_name")
_TOKEN = re.compile(r"[^\s,;]+")
KNOWN_KEYS = {"before", "after", "joiners", "generation"}


def _key(token: str) -> str:
    return token.replace(".", "").lower()


@dataclass(frozen=True)
class TitleVocabulary:
    """Title word sequences (as keys) -> their written form; longest sequences first."""

    before: tuple[tuple[tuple[str, ...], str], ...]
    after: tuple[tuple[tuple[str, ...], str], ...]
    joiners: frozenset[str]
    generation: dict[str, str]

    @property
    def one_word(self) -> frozenset[str]:
        """The keys of titles written as one word (Ing., Ph.D., Ing.arch.)."""
        return frozenset(seq[0] for seq, _ in self.before + self.after if len(seq) == 1)

    @classmethod
    def load(cls) -> TitleVocabulary:
        raw = quality_rules("name_titles.yaml")
        unknown = set(raw) - KNOWN_KEYS
        if unknown:
            raise ValueError(f"quality_rules/name_titles.yaml: unknown keys {sorted(unknown)}")

        def sequences(titles: list[str]) -> tuple[tuple[tuple[str, ...], str], ...]:
            keyed = [(tuple(_key(t) for t in title.split()), title) for title in titles]
            # a multi-word title is also written as one word ("Ing.arch.")
            keyed += [(("".join(seq),), title) for seq, title in keyed if len(seq) > 1]
            return tuple(sorted(keyed, key=lambda kt: -len(kt[0])))

        return cls(
            before=sequences(raw["before"]),
            after=sequences(raw["after"]),
            joiners=frozenset(_key(j) for j in raw["joiners"]),
            generation={_key(k): v for k, v in raw["generation"].items()},
        )


@cache
def vocabulary() -> TitleVocabulary:
    return TitleVocabulary.load()


def _title_at(keys: list[str], i: int, vocab: TitleVocabulary) -> tuple[str, str, int] | None:
    """(side, written form, words) of a title starting at word i, else None."""
    for side, titles in (("before", vocab.before), ("after", vocab.after)):
        for seq, written in titles:
            if tuple(keys[i : i + len(seq)]) == seq:
                return side, written, len(seq)
    return None


def _unglued(token: str, titles: frozenset[str]) -> list[str]:
    """A title typed without its space split off: "Bc.Jana" -> "Bc." "Jana",
    "prof.MUDr.Jan" -> "prof." "MUDr." "Jan"; a title itself ("Ph.D.") or an initial
    ("J.Novák") stays whole."""
    head, dot, rest = token.partition(".")
    if not dot or not rest or _key(token) in titles or _key(head) not in titles:
        return [token]
    return [head + ".", *_unglued(rest, titles)]


@cache
def _dotless_titles() -> dict[str, str]:
    """One-word titles as written without their dots ("MUDr", "PhD") -> the written form."""
    vocab = vocabulary()
    return {
        written.replace(".", ""): written
        for seq, written in vocab.before + vocab.after
        if len(seq) == 1 and " " not in written
    }


def _title_run(token: str) -> list[str] | None:
    """Two or more titles typed as one word by a system that drops dots and spaces
    ("IngBc", "profMUDr", "docIng"), each in its own letter case: the titles, else None.
    One title alone is left to the vocabulary ("Bc" may be a name)."""
    dotless = _dotless_titles()

    def split(rest: str) -> list[str] | None:
        if not rest:
            return []
        for size in range(len(rest), 0, -1):
            if rest[:size] in dotless and (tail := split(rest[size:])) is not None:
                return [dotless[rest[:size]], *tail]
        return None

    found = split(token) if "." not in token else None
    return found if found and len(found) >= 2 else None


def parse_name(value: str) -> tuple[str | None, list[str], list[str], str | None]:
    """(name without titles, titles before, titles after, generation) of one name value."""
    vocab = vocabulary()
    titles = vocab.one_word
    tokens = [
        part
        for token in _TOKEN.findall(value)
        for part in (_title_run(token) or _unglued(token, titles))
    ]
    keys = [_key(t) for t in tokens]
    kept: list[str] = []
    before: list[str] = []
    after: list[str] = []
    generation = None
    i = 0
    while i < len(tokens):
        found = _title_at(keys, i, vocab)
        if found:
            side, written, width = found
            (before if side == "before" else after).append(written)
            i += width
        elif keys[i] in vocab.generation:
            generation = vocab.generation[keys[i]]
            i += 1
        elif keys[i] in vocab.joiners and (before or after) and _title_at(keys, i + 1, vocab):
            i += 1
        else:
            kept.append(tokens[i])
            i += 1
    if not before and not after and generation is None:
        return value, [], [], None
    # nothing but title-like words: a name (Ma, Bc) unless written as a title ("Ing.")
    if not kept and "." not in value:
        return value, [], [], None
    return (" ".join(kept) or None), before, after, generation


def _parsed_table(values: pl.Series) -> pl.DataFrame:
    """One row per distinct value: the cleaned name and what was taken out of it."""
    distinct = values.drop_nulls().unique().to_list()
    rows = [parse_name(v) for v in distinct]
    return pl.DataFrame(
        {
            "raw": distinct,
            "clean": [r[0] for r in rows],
            "before": [r[1] for r in rows],
            "after": [r[2] for r in rows],
            "generation": [r[3] for r in rows],
        },
        schema={
            "raw": pl.String,
            "clean": pl.String,
            "before": pl.List(pl.String),
            "after": pl.List(pl.String),
            "generation": pl.String,
        },
    )


def with_parsed_names(frame: pl.DataFrame) -> pl.DataFrame:
    """first_name / last_name without titles; title_before, title_after, generation added."""
    present = [f for f in NAME_FIELDS if f in frame.columns]
    if not present:
        return frame
    table = _parsed_table(pl.concat([frame[f] for f in present]))
    parts = []
    for f in present:
        found = frame.select(pl.col(f).alias("raw")).join(
            table, on="raw", how="left", maintain_order="left"
        )
        parts.append(found.rename({c: f"{f}__{c}" for c in found.columns}))
    joined = pl.concat(parts, how="horizontal")
    empty = pl.lit([], dtype=pl.List(pl.String))
    before = pl.concat_list([pl.col(f"{f}__before").fill_null(empty) for f in present])
    after = pl.concat_list([pl.col(f"{f}__after").fill_null(empty) for f in present])
    derived = joined.select(
        *[pl.col(f"{f}__clean").alias(f) for f in present],
        pl.when(before.list.len() > 0).then(before.list.join(" ")).alias("title_before"),
        pl.when(after.list.len() > 0).then(after.list.join(", ")).alias("title_after"),
        pl.coalesce([pl.col(f"{f}__generation") for f in present]).alias("generation"),
    )
    return frame.with_columns(derived)
