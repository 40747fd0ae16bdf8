"""The review queue asks stewards only what their decision would change."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import AS_OF

from crm_pipelines.match.evidence import match_in_order
from crm_pipelines.match.febrl import write_febrl_landing
from crm_pipelines.validate.landing import stage_landing


@pytest.fixture(scope="module")
def febrl2_persons(tmp_path_factory: pytest.TempPathFactory):
    landing = tmp_path_factory.mktemp("febrl2_review")
    write_febrl_landing("febrl2", landing)
    staged = stage_landing(Path(landing), AS_OF).staged
    return next(r for r in match_in_order(staged) if r.entity == "person")


def _with_clusters(pairs: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    cluster = clusters.select("record_key", "cluster_id")
    return pairs.join(
        cluster.rename({"record_key": "left_record_key", "cluster_id": "left_cluster"}),
        on="left_record_key",
    ).join(
        cluster.rename({"record_key": "right_record_key", "cluster_id": "right_cluster"}),
        on="right_record_key",
    )


def test_every_queued_pair_joins_two_records_the_clusters_keep_apart(febrl2_persons) -> None:
    queue = _with_clusters(febrl2_persons.review, febrl2_persons.clusters)
    assert queue.height > 0
    assert (queue["left_cluster"] != queue["right_cluster"]).all()


def test_a_review_pair_other_matches_already_joined_stays_in_the_pairs(febrl2_persons) -> None:
    pairs = _with_clusters(
        febrl2_persons.pairs.filter(pl.col("decision") == "REVIEW"), febrl2_persons.clusters
    )
    joined = pairs.filter(pl.col("left_cluster") == pl.col("right_cluster"))
    assert joined.height > 0  # explained in the pairs, not queued
    queued = set(
        zip(
            febrl2_persons.review["left_record_key"],
            febrl2_persons.review["right_record_key"],
            strict=True,
        )
    )
    assert not queued & set(zip(joined["left_record_key"], joined["right_record_key"], strict=True))
