"""Pairwise precision / recall / F1 of the matching engine on a generated landing folder.

    python -m crm_pipelines.match.evaluate <landing_dir> [--as-of YYYY-MM-DD]

Truth is `<landing>/_truth/records.parquet` (party_id per source record) and
`_truth/hard_negatives.parquet` (pairs that must never share a cluster). Records without a
truth row (the person frame's customer-holder records) take part in matching but not in
the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import time
from pathlib import Path

import polars as pl

from crm_pipelines.match.evidence import match_in_order
from crm_pipelines.match.leads import match_leads_to_customers

log = logging.getLogger(__name__)


def _pair_count(frame: pl.DataFrame, by: list[str]) -> int:
    sizes = frame.group_by(by).len()["len"].cast(pl.Int64)
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """clusters: record_key, cluster_id; truth: record_key, party_id."""
    joined = clusters.join(truth, on="record_key", how="inner")
    tp = _pair_count(joined, ["cluster_id", "party_id"])
    predicted = _pair_count(joined, ["cluster_id"])
    actual = _pair_count(joined, ["party_id"])
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": joined.height,
        "true_pairs": actual,
        "predicted_pairs": predicted,
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def blocking_recall(
    pairs: pl.DataFrame, clusters: pl.DataFrame, truth: pl.DataFrame
) -> dict[str, float]:
    """Share of the true pairs (both records accepted) that blocking put before scoring.

    pairs: every scored pair (left_record_key, right_record_key); clusters: the accepted
    records; truth: record_key, party_id. A pair blocking never proposed can only be joined
    through a chain.
    """
    party = truth.select("record_key", "party_id")
    found = (
        pairs.select("left_record_key", "right_record_key")
        .join(
            party.rename({"record_key": "left_record_key", "party_id": "a"}), on="left_record_key"
        )
        .join(
            party.rename({"record_key": "right_record_key", "party_id": "b"}), on="right_record_key"
        )
        .filter(pl.col("a") == pl.col("b"))
        .height
    )
    accepted = party.join(clusters, on="record_key", how="semi")
    actual = _pair_count(accepted, ["party_id"])
    return {
        "true_pairs_blocked": found,
        "blocking_recall": round(found / actual, 5) if actual else 1.0,
    }


def link_scores(
    links: pl.DataFrame, staged: dict[str, pl.DataFrame], truth: pl.DataFrame
) -> dict[str, float]:
    """Lead -> customer links against the truth: a link is right when the customer record's
    party, or the human holding it (its OWNER person rows), is the lead's party.

    links: lead_record_key, customer_record_key (best customer per lead); truth: entity,
    record_key, party_id. A lead whose party is an accepted customer's is a positive."""
    party = truth.select("entity", "record_key", "party_id")
    customers = truth.filter(pl.col("entity") == "customer")
    if "holder_party_id" in truth.columns:  # the generator names each customer's holder
        holders = customers.select(
            pl.col("record_key").alias("customer"), pl.col("holder_party_id").alias("party_id")
        ).drop_nulls()
    else:  # else the OWNER person rows say who holds a customer
        holders = (
            staged["person"]
            .filter((pl.col("role_type") == "OWNER") & pl.col("customer_source_id").is_not_null())
            .select(
                "record_key",
                (pl.col("source_system") + "|" + pl.col("customer_source_id")).alias("customer"),
            )
            .join(party.filter(pl.col("entity") == "person").drop("entity"), on="record_key")
            .select("customer", "party_id")
        )
    customer_parties = pl.concat(
        [customers.select(pl.col("record_key").alias("customer"), "party_id"), holders]
    ).unique()
    customer_parties = customer_parties.join(
        staged["customer"].select(pl.col("record_key").alias("customer")), on="customer", how="semi"
    )
    leads = (
        staged["lead"]
        .select("record_key")
        .join(party.filter(pl.col("entity") == "lead").drop("entity"), on="record_key")
    )
    positives = leads.join(customer_parties, on="party_id", how="semi").height
    linked = links.select(
        pl.col("lead_record_key").alias("record_key"),
        pl.col("customer_record_key").alias("customer"),
    ).join(leads, on="record_key")
    right = linked.join(customer_parties, on=["customer", "party_id"], how="semi").height
    precision = right / linked.height if linked.height else 1.0
    recall = right / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": leads.height,
        "true_links": positives,
        "links": linked.height,
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def hard_negatives_merged(entity: str, clusters: pl.DataFrame, hard: pl.DataFrame) -> dict:
    pairs = hard.filter(pl.col("entity") == entity).select(
        (pl.col("left_source_system") + "|" + pl.col("left_source_id")).alias("a"),
        (pl.col("right_source_system") + "|" + pl.col("right_source_id")).alias("b"),
        "kind",
    )
    lookup = clusters.select("record_key", "cluster_id")
    joined = pairs.join(lookup.rename({"record_key": "a", "cluster_id": "ca"}), on="a").join(
        lookup.rename({"record_key": "b", "cluster_id": "cb"}), on="b"
    )
    merged = joined.filter(pl.col("ca") == pl.col("cb"))
    return {
        "hard_negatives": joined.height,
        "hard_negatives_merged": merged.height,
        "merged_by_kind": dict(merged.group_by("kind").len().iter_rows()),
    }


def evaluate(landing_dir: Path | str, as_of: dt.date | None = None) -> dict[str, dict]:
    """Stage the landing folder, match every entity, score the clusters against _truth."""
    from crm_pipelines.validate.landing import stage_landing  # the stage before matching

    landing = Path(landing_dir)
    staged = stage_landing(landing, as_of=as_of).staged
    truth_columns = pl.read_parquet_schema(landing / "_truth" / "records.parquet")
    truth = pl.read_parquet(landing / "_truth" / "records.parquet").select(
        "entity",
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"),
        "party_id",
        *(["holder_party_id"] if "holder_party_id" in truth_columns else []),
    )
    hard = pl.read_parquet(landing / "_truth" / "hard_negatives.parquet")
    report: dict[str, dict] = {}
    total = 0.0
    started = time.perf_counter()
    # every scored pair is kept (pairs_min_score 0) so blocking recall can be measured
    for result in match_in_order(staged, settings={"pairs_min_score": 0.0}):
        entity = result.entity
        seconds = time.perf_counter() - started
        total += seconds
        entity_truth = truth.filter(pl.col("entity") == entity).drop("entity")
        report[entity] = {
            **pairwise_scores(result.clusters, entity_truth),
            # (collapsed entities score representatives: their pairs name no duplicates)
            **(
                blocking_recall(result.pairs, result.clusters, entity_truth)
                if result.metrics.get("representatives") == result.metrics["records"]
                else {}
            ),
            "review_per_1000_records": round(
                1000 * result.metrics["sent_to_review"] / max(result.metrics["records"], 1), 1
            ),
            **hard_negatives_merged(entity, result.clusters, hard),
            "seconds": round(seconds, 2),
            "sent_to_review": result.metrics["sent_to_review"],
            "clusters": result.metrics["clusters"],
        }
        started = time.perf_counter()
    if staged["lead"].height:
        links = match_leads_to_customers(staged["lead"], staged["customer"], staged["person"])
        report["lead_to_customer"] = link_scores(links, staged, truth)
    report["all"] = {"seconds": round(total, 2)}
    return report


def warehouse_scores(warehouse: Path | str, landing_dir: Path | str) -> dict[str, dict]:
    """Pairwise scores of a *published* warehouse (master.xref) against the landing's truth:
    what `crm-mdm run` delivered, not what the engine does in isolation."""
    import duckdb

    truth = pl.read_parquet(Path(landing_dir) / "_truth" / "records.parquet")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        xref = con.sql(
            "SELECT entity, source_system || '|' || source_id AS record_key, master_id "
            "FROM master.xref"
        ).pl()
    report = {}
    for entity in truth["entity"].unique().sort().to_list():
        clusters = xref.filter(pl.col("entity") == entity).select(
            "record_key", pl.col("master_id").alias("cluster_id")
        )
        entity_truth = truth.filter(pl.col("entity") == entity).select(
            (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"), "party_id"
        )
        report[entity] = pairwise_scores(clusters, entity_truth) | {
            "records_in_truth": entity_truth.height
        }
    return report


def quality_line(name: str, entity: str, figures: dict) -> str:
    """One readable line: precision, recall, blocking recall, F1, review load."""
    parts = [
        f"{name:<14} {entity:<9} records {figures['records']:>9,}",
        f"P {figures['precision']:.4f}  R {figures['recall']:.4f}",
    ]
    if "blocking_recall" in figures:
        parts.append(f"blocking recall {figures['blocking_recall']:.4f}")
    parts.append(f"F1 {figures['f1']:.4f}")
    if "review_per_1000_records" in figures:
        parts.append(f"review {figures['review_per_1000_records']:.1f}/1,000")
    if figures.get("hard_negatives"):
        parts.append(
            f"hard negatives merged {figures['hard_negatives_merged']}/{figures['hard_negatives']}"
        )
    return "  ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing_dir", type=Path)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = evaluate(args.landing_dir, args.as_of)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    for entity, figures in report.items():
        if figures.get("records"):
            print(quality_line(args.landing_dir.name, entity, figures))


if __name__ == "__main__":
    main()
