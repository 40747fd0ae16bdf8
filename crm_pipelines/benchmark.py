"""`crm-mdm bench`: rows/s and peak memory per stage at realistic sizes.

Each stage runs in its own freshly spawned process that reads its inputs from Parquet and
writes its outputs to Parquet -- the way the Dagster assets hand frames over through the FrameStore IO
manager -- so the peak resident memory printed per stage is that stage's own (ru_maxrss of
its process), not an accumulation of everything before it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from crm_pipelines.staged import MATCHED_ENTITIES, PROVENANCE_COLUMNS, read_without

MATCHED = MATCHED_ENTITIES  # in matching order
MASTER_TABLES = (
    "customer",
    "person",
    "person_role",
    "account",
    "crm_address",
    "crm_address_role",
    "lead",
    "campaign",
    "xref",
    "attribute_lineage",
    "identity_registry",
    "identity_retired",
)


@dataclass
class StageFigure:
    customers: int
    stage: str
    rows: int
    seconds: float
    peak_rss_mib: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        extra = "  ".join(
            f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in self.extra.items()
        )
        return (
            f"{self.customers:>9,}  {self.stage:<24} {self.rows:>11,} rows {self.seconds:>7.1f} s "
            f"{self.rows_per_second:>11,.0f} rows/s  peak {self.peak_rss_mib:>7,.0f} MiB  {extra}"
        )


def _read(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{name}.parquet")


def _write(folder: Path, frames: dict[str, pl.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_parquet(folder / f"{name}.parquet", compression="lz4")


def stage_generate(work: Path, customers: int, seed: int) -> tuple[int, dict]:
    from crm_pipelines.sample import generate_landing

    summary = generate_landing(work / "landing", customers=customers, seed=seed)
    return sum(
        v
        for k, v in summary.items()
        if k in ("customer", "person", "account", "address", "lead", "campaign")
    ), {}


def stage_validate(work: Path, as_of: date) -> tuple[int, dict]:
    from crm_pipelines.validate.pipeline import stage_landing

    staged = stage_landing(work / "landing", as_of)
    _write(work / "staged", staged.staged)
    _write(
        work / "quality",
        {
            "rejected": staged.rejected,
            "finding": staged.finding,
            "rule_result": staged.rule_result,
            "file_load": staged.file_load,
        },
    )
    rows_in = sum(v["rows_in"] for v in staged.feed_stats.values())
    return rows_in, {
        "accepted": sum(v["accepted"] for v in staged.feed_stats.values()),
        "rejected": staged.rejected.height,
    }


def stage_match(work: Path, entity: str) -> tuple[int, dict]:
    from crm_pipelines.match import match_entity
    from crm_pipelines.match.evidence import match_inputs
    from crm_pipelines.match.standardize import read_for_matching

    staged = work / "staged"
    records = read_for_matching(staged / f"{entity}.parquet", entity)
    decisions = _read(staged, "steward_decision")
    sources = {  # the evidence each entity takes (match/evidence.py), from the work folder
        "addresses": lambda: read_for_matching(staged / "address.parquet", "address"),
        "address_clusters": lambda: _read(work / "match", "address_clusters"),
        "persons": lambda: staged / "person.parquet",
        "customer_links": lambda: _read(work / "match", "lead_customer_link"),
        "customer_clusters": lambda: _read(work / "match", "customer_clusters"),
    }
    evidence = match_inputs(entity, lambda name: sources[name]())
    result = match_entity(entity, records, decisions, **evidence)
    _write(
        work / "match", {f"{entity}_clusters": result.clusters, f"{entity}_review": result.review}
    )
    m = result.metrics
    return int(m.get("pairs_scored", 0)), {
        "records": records.height,
        "candidate_pairs": int(m.get("candidate_pairs", 0)),
        "auto_matched": int(m.get("auto_matched", 0)),
        "review": int(m.get("sent_to_review", 0)),
        "clusters": int(m.get("clusters", 0)),
        "largest_cluster": int(m.get("largest_cluster", 0)),
    }


def stage_lead_link(work: Path) -> tuple[int, dict]:
    from crm_pipelines.match import match_leads_to_customers

    leads = _read(work / "staged", "lead")
    links = match_leads_to_customers(
        leads, work / "staged" / "customer.parquet", work / "staged" / "person.parquet"
    )
    _write(work / "match", {"lead_customer_link": links})
    return leads.height, {"links": links.height}


def stage_golden(work: Path) -> tuple[int, dict]:
    from crm_pipelines.golden.assemble import build_master
    from crm_pipelines.staged import STAGED_SCHEMAS

    # as the Dagster asset reads them: without the landing-file provenance columns
    staged = {
        name: read_without(work / "staged" / f"{name}.parquet", PROVENANCE_COLUMNS)
        for name in STAGED_SCHEMAS
    }
    clusters = {e: _read(work / "match", f"{e}_clusters") for e in MATCHED}
    master = build_master(
        staged,
        clusters,
        _read(work / "match", "lead_customer_link"),
        None,
        "bench",
        datetime.now(UTC),
    )
    _write(work / "master", {name: getattr(master, name) for name in MASTER_TABLES})
    return sum(f.height for f in staged.values()), {
        "golden_customers": master.customer.height,
        "golden_persons": master.person.height,
    }


def stage_marketing(work: Path, as_of: date) -> tuple[int, dict]:
    from crm_pipelines.marketing import (
        build_campaign_targets,
        consent_lineage,
        contact_statements,
        suppression_list,
        target_violations,
    )
    from crm_pipelines.marketing.suppression import STATEMENT_FEEDS

    inputs = (
        "customer",
        "person",
        "person_role",
        "crm_address",
        "crm_address_role",
        "lead",
        "campaign",
        "attribute_lineage",
    )
    master = {name: _read(work / "master", name) for name in inputs if name != "attribute_lineage"}
    master["attribute_lineage"] = consent_lineage(work / "master" / "attribute_lineage.parquet")
    started = time.perf_counter()
    statements = contact_statements(
        {feed: work / "staged" / f"{feed}.parquet" for feed in STATEMENT_FEEDS}
    )
    suppression = suppression_list(statements)
    targets = build_campaign_targets(master, as_of, suppression)
    targeting_seconds = time.perf_counter() - started
    violations = target_violations(targets, master, statements)
    _write(
        work / "marketing",
        {
            "campaign_target": targets.campaign_target,
            "campaign_exclusion": targets.campaign_exclusion,
            "campaign_summary": targets.summary,
            "suppression": suppression,
        },
    )
    return master["customer"].height + master["lead"].height, {
        "targets": targets.campaign_target.height,
        "exclusions": targets.campaign_exclusion.height,
        "targeting_s": round(targeting_seconds, 1),
        "violations": sum(v.height for v in violations.values()),
        "suppressed_contact_points": suppression.height,
    }


def stage_publish(work: Path) -> tuple[int, dict]:
    from crm_pipelines.publish.analyst import build_analyst_layer
    from crm_pipelines.publish.warehouse import publish_warehouse

    # As the Dagster publish asset does: DuckDB streams the stages' Parquet files.
    folders = {
        "master": MASTER_TABLES,
        "quality": ("rejected", "finding", "rule_result", "file_load"),
        "marketing": ("campaign_target", "campaign_exclusion", "campaign_summary", "suppression"),
    }
    tables = {
        f"{schema}.{name}": work / schema / f"{name}.parquet"
        for schema, names in folders.items()
        for name in names
    }
    path = publish_warehouse(tables, work / "warehouse.duckdb", finish=build_analyst_layer)
    rows = sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in tables.values())
    return rows, {"file_mib": round(path.stat().st_size / 2**20)}


def _child(work: Callable[[], tuple[int, dict]], queue: multiprocessing.Queue) -> None:
    try:
        started = time.perf_counter()
        rows, extra = work()
        seconds = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put((rows, seconds, peak_kib / 1024, extra, None))
    except BaseException as exc:  # report, the parent decides
        queue.put((0, 0.0, 0.0, {}, f"{type(exc).__name__}: {exc}"))


def measure(customers: int, stage: str, work: Callable[[], tuple[int, dict]]) -> StageFigure:
    """Run one stage in a spawned process (work must pickle: a functools.partial). A forked
    child inherits polars' thread pool and allocator half-initialised and ran the 1M
    person matching 27% slower than a fresh process -- the way a nightly run starts."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(work, queue))
    process.start()
    process.join()
    if queue.empty():
        raise RuntimeError(f"stage {stage} died (exit code {process.exitcode}; out of memory?)")
    rows, seconds, peak_mib, extra, error = queue.get()
    if error:
        raise RuntimeError(f"stage {stage} failed: {error}")
    figure = StageFigure(customers, stage, rows, seconds, peak_mib, extra)
    print(figure.line(), flush=True)
    return figure


def bench_size(customers: int, workdir: Path, seed: int) -> list[StageFigure]:
    work = workdir / f"size_{customers}"
    as_of = date(2026, 11, 28)
    figures = []
    if not (work / "landing" / "_truth").is_dir():
        figures.append(
            measure(customers, "sample (generator)", partial(stage_generate, work, customers, seed))
        )
    figures.append(measure(customers, "ingest+validate", partial(stage_validate, work, as_of)))
    # as in the job: lead matching compares the customers leads were linked to
    figures.append(measure(customers, "match lead->customer", partial(stage_lead_link, work)))
    for entity in MATCHED:
        figure = measure(customers, f"match {entity}", partial(stage_match, work, entity))
        figure.extra["pairs_per_s"] = round(figure.rows_per_second)
        figures.append(figure)
    figures.append(measure(customers, "golden (survivorship+ids)", partial(stage_golden, work)))
    figures.append(measure(customers, "marketing (+guards)", partial(stage_marketing, work, as_of)))
    figures.append(measure(customers, "publish (DuckDB)", partial(stage_publish, work)))
    return figures


# generated folders up to this size are also scored against their truth (match.evaluate
# re-stages and re-matches the folder: at 1M customers that is minutes more)
QUALITY_MAX_CUSTOMERS = 200_000


def matching_quality(sizes: list[int], workdir: Path) -> dict[str, dict]:
    """Precision, recall, blocking recall and review load on FEBRL1/2 (data nobody here
    wrote) and on the generated folders; printed, and returned for bench.json."""
    from crm_pipelines.match.evaluate import evaluate, quality_line
    from crm_pipelines.match.febrl import DATASETS, write_febrl_landing

    folders = {}
    for dataset in DATASETS:
        folders[dataset] = workdir / dataset
        if not (folders[dataset] / "_truth").is_dir():
            write_febrl_landing(dataset, folders[dataset])
    for customers in sizes:
        if customers <= QUALITY_MAX_CUSTOMERS:
            folders[f"generated {customers:,}"] = workdir / f"size_{customers}" / "landing"
    report: dict[str, dict] = {}
    print("== matching quality (pairwise over clusters; blocking recall = true pairs scored)")
    for name, folder in folders.items():
        report[name] = evaluate(folder, date(2026, 11, 28))
        for entity, figures in report[name].items():
            if figures.get("records"):
                print(quality_line(name, entity, figures), flush=True)
    return report


def run_benchmark(sizes: list[int], workdir: Path, seed: int = 7) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"crm-mdm bench on {os.cpu_count()} cores; sizes {sizes}; workdir {workdir}", flush=True)
    everything: list[StageFigure] = []
    for customers in sizes:
        figures = bench_size(customers, workdir, seed)
        everything += figures
        by = {f.stage: f for f in figures}
        core = [by["ingest+validate"], by["golden (survivorship+ids)"], by["publish (DuckDB)"]]
        matching = [f for f in figures if f.stage.startswith("match")]
        print(
            f"== {customers:,} customers: ingest+validate+golden+publish {sum(f.seconds for f in core):.1f} s; "
            f"matching, all entities {sum(f.seconds for f in matching):.1f} s "
            f"(persons {by['match person'].seconds:.1f} s); peak of any stage "
            f"{max(f.peak_rss_mib for f in figures if f.stage != 'sample (generator)'):,.0f} MiB",
            flush=True,
        )
    quality = matching_quality(sizes, workdir)
    report = workdir / "bench.json"
    stages = [asdict(f) | {"rows_per_second": f.rows_per_second} for f in everything]
    report.write_text(
        json.dumps({"stages": stages, "matching_quality": quality}, indent=2), encoding="utf-8"
    )
    print(f"figures written to {report}")
    return 0
