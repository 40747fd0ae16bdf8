"""Clustering: components, cannot-links (also through chains) and the size cap."""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.match.clustering import cluster, connected_components


def _edges(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"l": pl.UInt32, "r": pl.UInt32, "strength": pl.Float64}, orient="row"
    )


def _cannot(rows: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"l": pl.UInt32, "r": pl.UInt32}, orient="row")


def test_connected_components_label_by_smallest_member() -> None:
    labels = connected_components(7, np.array([5, 1, 2, 3]), np.array([6, 2, 3, 4]))
    assert labels.tolist() == [0, 1, 1, 1, 1, 5, 5]


def test_long_chain_is_one_component() -> None:
    n = 10_000
    left = np.arange(n - 1)[::-1].copy()
    labels = connected_components(n, left, left + 1)
    assert set(labels.tolist()) == {0}


def test_cannot_link_splits_a_chain_at_its_weakest_edge() -> None:
    edges = _edges([(0, 1, 30.0), (1, 2, 5.0), (2, 3, 40.0)])
    labels, resplit = cluster(4, edges, _cannot([(0, 3)]), max_cluster_size=100)
    assert resplit == 1
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]


def test_steward_match_edges_win_over_scores() -> None:
    edges = _edges([(0, 1, float("inf")), (1, 2, 50.0)])
    labels, _ = cluster(3, edges, _cannot([(0, 2)]), max_cluster_size=100)
    assert labels[0] == labels[1] != labels[2]


def test_oversized_components_are_cut_to_the_cap() -> None:
    star = _edges([(0, i, float(i)) for i in range(1, 50)])
    labels, resplit = cluster(50, star, _cannot([]), max_cluster_size=10)
    assert resplit == 1
    assert np.bincount(labels).max() <= 10
    assert labels[0] == labels[49]  # strongest edges first
