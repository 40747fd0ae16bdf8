"""Blocking: every pair of records sharing a rule's keys, once, named by the first rule that
found it -- checked against pairs enumerated one by one."""

from __future__ import annotations

import itertools
import random

import polars as pl
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity
from crm_pipelines.match.blocking import _first_rule_hashed, block_rule, candidate_pairs
from crm_pipelines.match.settings import BlockingRule
from crm_pipelines.staged import conform

RULES = (
    BlockingRule("phone", ("phone",), 4),
    BlockingRule("name_year", ("name", "year"), 3),
    BlockingRule("building_name", ("buildings", "name"), 5),
)


def _records(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)

    def some(values: list, share_null: float):
        return None if rng.random() < share_null else rng.choice(values)

    return pl.DataFrame(
        {
            "rid": pl.Series(range(n), dtype=pl.UInt32),
            "phone": [some(["1", "2", "3", "4", "5", "6"], 0.3) for _ in range(n)],
            "name": [some(["jan", "eva", "petr"], 0.1) for _ in range(n)],
            "year": [some([1970, 1980], 0.2) for _ in range(n)],
            "buildings": [
                None if rng.random() < 0.2 else sorted(set(rng.choices([11, 12, 13, 14], k=2)))
                for _ in range(n)
            ],
        },
        schema_overrides={"buildings": pl.List(pl.UInt64)},
    )


def _expected(records: pl.DataFrame) -> dict[tuple[int, int], str]:
    """Pair -> first rule, by looking at every block of every rule one by one."""
    rows = records.to_dicts()
    found: dict[tuple[int, int], str] = {}
    for rule in RULES:
        blocks: dict[tuple, list[int]] = {}
        for row in rows:
            values = [row[k] if isinstance(row[k], list) else [row[k]] for k in rule.keys]
            for key in itertools.product(*values):
                if None not in key:
                    blocks.setdefault(key, []).append(row["rid"])
        for members in blocks.values():
            if len(members) <= rule.max_block_size:
                for pair in itertools.combinations(sorted(members), 2):
                    found.setdefault(pair, rule.rule)
    return found


def test_each_pair_sharing_a_rules_keys_comes_once_named_by_the_first_rule_that_found_it() -> None:
    records = _records(300, seed=3)
    pairs, counts = candidate_pairs(records, RULES)
    got = {(row["l"], row["r"]): row["rule"] for row in pairs.iter_rows(named=True)}
    assert got == _expected(records)
    assert pairs.height == len(got)  # no pair twice
    assert counts == {
        rule.rule: block_rule(records, rule.rule, list(rule.keys), rule.max_block_size).height
        for rule in RULES
    }


def test_pairs_deduplicated_by_hashing_are_the_pairs_deduplicated_by_sorting() -> None:
    # the hashed path serves frames too large to pack a pair and its rule into 64 bits
    records = _records(500, seed=8)
    pairs, _ = candidate_pairs(records, RULES)
    per_rule = [block_rule(records, r.rule, list(r.keys), r.max_block_size) for r in RULES]
    hashed = _first_rule_hashed(per_rule, pl.Series([r.rule for r in RULES]))
    assert hashed.sort("l", "r").equals(pairs.sort("l", "r"))


def test_a_block_larger_than_the_rules_cap_gives_no_pairs() -> None:
    records = pl.DataFrame(
        {"rid": pl.Series(range(6), dtype=pl.UInt32), "phone": ["1"] * 4 + ["2"] * 2}
    )
    pairs = block_rule(records, "phone", ["phone"], max_block_size=3)
    assert pairs.rows() == [(4, 5)]


def test_a_rule_whose_keys_no_record_has_gives_no_pairs() -> None:
    records = pl.DataFrame(
        {"rid": pl.Series(range(3), dtype=pl.UInt32), "phone": [None, None, None]},
        schema_overrides={"phone": pl.String},
    )
    assert block_rule(records, "phone", ["phone"], max_block_size=3).height == 0
    pairs, counts = candidate_pairs(records, [BlockingRule("phone", ("phone",), 3)])
    assert pairs.height == 0 and counts == {"phone": 0}


def test_both_names_mistyped_and_swapped_still_reach_scoring() -> None:
    """An old system re-keyed "Connor Hilton" as "Hilotn Conor": no name, birth date or
    address key survives, the names' consonant skeletons do (the person rules as configured)."""
    people = conform(
        "person",
        pl.DataFrame(
            {
                "source_system": ["BSS", "LEGACY_CRM", "ESHOP"],
                "source_id": ["1", "2", "3"],
                "first_name": ["Connor", "Hilotn", "Connie"],
                "last_name": ["Hilton", "Conor", "Holt"],
                "country": ["CZ"] * 3,
            }
        ).with_columns((pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key")),
    )
    records = pl.concat([synthetic_people_as("person", 300), people])
    pairs = match_entity("person", records, settings={"pairs_min_score": 0.0}).pairs
    ours = pairs.filter(pl.col("left_record_key").is_in(people["record_key"].implode()))
    found = ours.filter(pl.col("right_record_key").is_in(people["record_key"].implode()))
    assert found.select("left_record_key", "right_record_key", "rule").rows() == [
        ("BSS|1", "LEGACY_CRM|2", "name_skeletons")
    ]
