"""Clusters from MATCH edges with cannot-link constraints.

Connected components by scipy's csgraph (a linear-time graph search), labelled by their
smallest member.
Only components that hold a cannot-link pair or exceed the size cap are rebuilt, by
re-adding their edges strongest-first with a union-find that refuses forbidden merges.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl
from scipy.sparse import coo_array, csgraph

log = logging.getLogger(__name__)


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label (= smallest member index) per node."""
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    graph = coo_array(
        (
            np.ones(len(left), dtype=np.int8),
            (np.asarray(left, np.int64), np.asarray(right, np.int64)),
        ),
        shape=(n, n),
    )
    _, component = csgraph.connected_components(graph, directed=False)
    # a component's smallest member: written last when the nodes are written in reverse
    smallest = np.empty(component.max() + 1, dtype=np.int64)
    smallest[component[::-1]] = labels[::-1]
    return smallest[component]


class _ConstrainedUnionFind:
    def __init__(self, nodes: list[int], cannot: list[tuple[int, int]]):
        self.parent = {v: v for v in nodes}
        self.size = dict.fromkeys(nodes, 1)
        self.forbidden: dict[int, set[int]] = {v: set() for v in nodes}
        for a, b in cannot:
            self.forbidden[a].add(b)
            self.forbidden[b].add(a)

    def find(self, v: int) -> int:
        root = v
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[v] != root:
            self.parent[v], v = root, self.parent[v]
        return root

    def union(self, a: int, b: int, max_size: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if rb in self.forbidden[ra] or self.size[ra] + self.size[rb] > max_size:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        for other in self.forbidden.pop(rb):
            self.forbidden[other].discard(rb)
            self.forbidden[other].add(ra)
            self.forbidden[ra].add(other)
        return True


def cluster(
    n: int,
    edges: pl.DataFrame,
    cannot_links: pl.DataFrame,
    max_cluster_size: int,
) -> tuple[np.ndarray, int]:
    """Labels per node and the number of components that had to be re-split.

    edges: l, r, strength (higher first; steward MATCH = +inf); cannot_links: l, r.
    """
    left = edges["l"].to_numpy()
    right = edges["r"].to_numpy()
    labels = connected_components(n, left, right)
    lab = pl.Series(labels)
    sizes = np.bincount(labels, minlength=n)
    bad = set(np.flatnonzero(sizes > max_cluster_size).tolist())
    if cannot_links.height:
        cl_l = lab.gather(cannot_links["l"]).to_numpy()
        cl_r = lab.gather(cannot_links["r"]).to_numpy()
        bad |= set(cl_l[cl_l == cl_r].tolist())
    if not bad:
        return labels, 0
    bad_arr = np.fromiter(bad, dtype=np.int64)
    edge_frame = edges.with_columns(pl.Series("comp", labels[left])).filter(
        pl.col("comp").is_in(bad_arr)
    )
    cl_frame = cannot_links.with_columns(
        pl.Series("comp", lab.gather(cannot_links["l"]).to_numpy()),
        pl.Series("comp_r", lab.gather(cannot_links["r"]).to_numpy()),
    )
    cl_frame = cl_frame.filter((pl.col("comp") == pl.col("comp_r")) & pl.col("comp").is_in(bad_arr))
    members = np.flatnonzero(np.isin(labels, bad_arr))
    uf = _ConstrainedUnionFind(
        members.tolist(), list(zip(cl_frame["l"].to_list(), cl_frame["r"].to_list(), strict=True))
    )
    # ties broken by the pair itself: equal weights are common (one agreement pattern), and
    # the blocking joins' row order is not fixed -- the same input must give the same clusters
    ordered = edge_frame.sort(["strength", "l", "r"], descending=[True, False, False])
    for a, b in zip(ordered["l"].to_list(), ordered["r"].to_list(), strict=True):
        uf.union(a, b, max_cluster_size)
    roots = np.array([uf.find(v) for v in members.tolist()], dtype=np.int64)
    relabel = pl.DataFrame({"node": members, "root": roots}).with_columns(
        pl.col("node").min().over("root").alias("label")
    )
    labels = labels.copy()
    labels[relabel["node"].to_numpy()] = relabel["label"].to_numpy()
    log.info(
        "re-split %d components with cannot-links or above %d records", len(bad), max_cluster_size
    )
    return labels, len(bad)
