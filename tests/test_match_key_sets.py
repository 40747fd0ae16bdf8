"""Records holding sets of keys (the buildings and areas a person lives in): two records
share a building when any key is common, however many each holds."""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.comparisons import COMPARISONS, compare_pairs, encode_for

KEYS = pl.List(pl.UInt64)


def _levels(buildings: list, areas: list, pairs: list[tuple[int, int]]) -> list[str]:
    features = pl.DataFrame(
        {"address_keys": buildings, "area_keys": areas},
        schema={"address_keys": KEYS, "area_keys": KEYS},
    )
    frame = pl.DataFrame(pairs, schema={"l": pl.UInt32, "r": pl.UInt32}, orient="row")
    codes = compare_pairs(encode_for(features, ["home"]), frame, ["home"])["home"]
    return [COMPARISONS["home"].levels[c] for c in codes]


def test_a_key_common_to_sets_of_any_size_is_a_shared_building() -> None:
    buildings = [[1], [1], [2, 7], [7], [3, 4], [5, 6, 1], None, [9]]
    areas = [[10], [10], [20], [20], [10], [10], [10], None]
    pairs = [(0, 1), (2, 3), (0, 2), (3, 4), (4, 5), (0, 5), (0, 6), (6, 7), (0, 7), (2, 5)]
    assert _levels(buildings, areas, pairs) == [
        "same_building",  # one key each, the same
        "same_building",  # two keys and one: one is common
        "different",  # nothing common, other area
        "different",
        "same_area",  # two keys and three, none common, one area
        "same_building",  # the common key is not the first of the three
        "same_area",  # no building on one side, one area
        "missing",  # neither a common building nor an area on both sides
        "different",  # a building each, no area on one side
        "different",
    ]


def test_a_key_common_past_the_first_three_of_a_long_set_is_a_shared_building() -> None:
    # two owned addresses give six building keys: only the first three are compared
    # crosswise, the longer sets as whole sets
    buildings = [[1, 2, 3, 4, 5, 6], [6], [7, 8, 9, 10], [11, 12, 13, 10], [2, 14, 15]]
    areas = [[1]] * 5
    pairs = [(0, 1), (2, 3), (0, 2), (0, 4), (1, 3)]
    assert _levels(buildings, areas, pairs) == [
        "same_building",  # the sixth key of one, the only key of the other
        "same_building",  # the fourth key of both
        "same_area",  # no key common
        "same_building",  # the second key of one, the first of the other
        "same_area",
    ]
