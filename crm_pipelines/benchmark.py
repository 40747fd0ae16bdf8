"""`crm-mdm bench`: rows/s and peak memory per stage at realistic sizes.

Every stage is the job's own function (crm_pipelines/stages/), reading its inputs from and
writing its outputs to the frame files the Dagster assets hand over through the FrameStore,
so the benchmark runs what the nightly job runs and publishes the same warehouse. Each stage
runs in its own freshly spawned process, so the peak resident memory printed per stage is
that stage's own (ru_maxrss of its process), not an accumulation of everything before it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from crm_pipelines.staged import MATCHED_ENTITIES
from crm_pipelines.stages.frames import (
    LEAD_LINK,
    REVIEW_QUEUE,
    RUN_GUARD,
    SOURCE_RULE_RATE,
    Key,
    read_inputs,
    write_frame,
)

AS_OF = date(2026, 11, 28)
# Each stage imports its own modules: a spawned stage's peak memory holds only what it runs.


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


def _frames(work: Path) -> Path:
    return work / "frames"


def _warehouse(work: Path) -> Path:
    return work / "warehouse.duckdb"


def _write(work: Path, outputs: dict[Key, pl.DataFrame]) -> None:
    for key, frame in outputs.items():
        write_frame(_frames(work), key, frame)


def stage_generate(work: Path, customers: int, seed: int) -> tuple[int, dict]:
    from crm_pipelines.sample import generate_landing

    summary = generate_landing(work / "landing", customers=customers, seed=seed)
    return sum(
        v
        for k, v in summary.items()
        if k in ("customer", "person", "account", "address", "lead", "campaign")
    ), {}


def stage_validate(work: Path, as_of: date) -> tuple[int, dict]:
    from crm_pipelines.stages import landing

    staged = landing.validate_landing(work / "landing", as_of)
    _write(work, landing.staging_outputs(staged))
    rows_in = sum(v["rows_in"] for v in staged.feed_stats.values())
    return rows_in, {
        "accepted": sum(v["accepted"] for v in staged.feed_stats.values()),
        "rejected": staged.rejected.height,
    }


def stage_lead_link(work: Path) -> tuple[int, dict]:
    from crm_pipelines.stages import matching

    inputs = read_inputs(_frames(work), matching.LEAD_LINK_INPUTS)
    links = matching.link_leads(**inputs)
    _write(work, {LEAD_LINK: links})
    return inputs["leads"].height, {"links": links.height}


def stage_match(work: Path, entity: str) -> tuple[int, dict]:
    from crm_pipelines.stages import matching

    inputs = read_inputs(_frames(work), matching.match_stage_inputs(entity))
    # models beside the warehouse, as the job keeps them (none at the start: trained here)
    stage = matching.match_stage(entity, model_dir=work / "models", **inputs)
    _write(work, stage.outputs())
    m = stage.result.metrics
    return int(m.get("pairs_scored", 0)), {
        "records": int(m.get("records", 0)),
        "candidate_pairs": int(m.get("candidate_pairs", 0)),
        "auto_matched": int(m.get("auto_matched", 0)),
        "review": int(m.get("sent_to_review", 0)),
        "clusters": int(m.get("clusters", 0)),
        "largest_cluster": int(m.get("largest_cluster", 0)),
    }


def stage_review_queue(work: Path) -> tuple[int, dict]:
    from crm_pipelines.stages import matching

    review = matching.review_queue(**read_inputs(_frames(work), matching.REVIEW_INPUTS))
    _write(work, {REVIEW_QUEUE: review})
    return review.height, {}


def stage_golden(work: Path, run_id: str) -> tuple[int, dict]:
    from crm_pipelines.stages import master

    inputs = read_inputs(_frames(work), master.MASTER_INPUTS)
    stage = master.master_stage(_warehouse(work), run_id, datetime.now(UTC), **inputs)
    _write(work, stage.outputs())
    staged = master.staged_feeds(inputs)
    return sum(f.height for f in staged.values()), {
        "golden_customers": stage.master.customer.height,
        "golden_persons": stage.master.person.height,
    }


def stage_marketing(work: Path, as_of: date) -> tuple[int, dict]:
    from crm_pipelines.stages import master

    inputs = read_inputs(_frames(work), master.MARKETING_INPUTS)
    stage = master.marketing_stage(as_of, **inputs)
    _write(work, stage.outputs())
    return inputs["customer"].height + inputs["lead"].height, {
        "targets": stage.targets.campaign_target.height,
        "exclusions": stage.targets.campaign_exclusion.height,
        "targeting_s": round(stage.targeting_seconds, 1),
        "violations": sum(v.height for v in stage.violations.values()),
        "suppressed_contact_points": stage.suppression.height,
    }


def stage_source_rates(work: Path, run_id: str, as_of: date) -> tuple[int, dict]:
    from crm_pipelines.stages import landing

    inputs = read_inputs(_frames(work), landing.SOURCE_RATE_INPUTS)
    rates = landing.source_rate_stage(run_id, as_of, **inputs)
    _write(work, {SOURCE_RULE_RATE: rates})
    return rates.height, {}


def stage_run_guard(work: Path) -> tuple[int, dict]:
    from crm_pipelines.stages import publish

    inputs = read_inputs(_frames(work), publish.GUARD_INPUTS)
    stage = publish.run_guard_stage(_warehouse(work), (), **inputs)
    if stage.stopping.height:  # the job's blocking check: nothing would be published
        raise RuntimeError("run guards breached: " + "; ".join(stage.stopping["message"]))
    _write(work, {RUN_GUARD: stage.checked})
    return stage.checked.height, {}


def stage_publish(work: Path, run_id: str, as_of: date) -> tuple[int, dict]:
    from crm_pipelines.publish.run_log import RunInfo, row_count
    from crm_pipelines.stages import publish

    inputs = read_inputs(_frames(work), publish.PUBLISH_INPUTS)
    run = RunInfo(run_id, as_of, work / "landing")
    published = publish.publish_stage(run, _warehouse(work), **inputs)
    rows = sum(row_count(t) for name, t in published.tables.items() if not name.startswith("meta."))
    return rows, {
        "file_mib": round(published.path.stat().st_size / 2**20),
        "exports": len(published.exports),
    }


def _cpu_seconds() -> float:
    """This process's CPU time (the validators' fork-server workers are not its children)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _child(work: Callable[[], tuple[int, dict]], queue: multiprocessing.Queue) -> None:
    try:
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        rows, extra = work()
        seconds = time.perf_counter() - started
        # CPU seconds of the stage's own process: comparable on a busy machine
        extra["cpu_s"] = round(_cpu_seconds() - cpu_started, 1)
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


def first_run(work: Path) -> None:
    """Start as the job's first run on the folder: no frames, models, warehouse or exports."""
    for folder in ("frames", "models", "exports"):
        shutil.rmtree(work / folder, ignore_errors=True)
    _warehouse(work).unlink(missing_ok=True)


def bench_size(customers: int, workdir: Path, seed: int) -> list[StageFigure]:
    """Every stage of the nightly job in its order, each measured in its own process."""
    work = workdir / f"size_{customers}"
    run_id = str(uuid.uuid4())
    figures = []
    if not (work / "landing" / "_truth").is_dir():
        figures.append(
            measure(customers, "sample (generator)", partial(stage_generate, work, customers, seed))
        )
    first_run(work)

    def stage(name: str, work_fn: Callable[..., tuple[int, dict]], *args: Any) -> StageFigure:
        figures.append(measure(customers, name, partial(work_fn, work, *args)))
        return figures[-1]

    stage("ingest+validate", stage_validate, AS_OF)
    # as in the job: lead matching compares the customers leads were linked to
    stage("match lead->customer", stage_lead_link)
    for entity in MATCHED_ENTITIES:
        figure = stage(f"match {entity}", stage_match, entity)
        figure.extra["pairs_per_s"] = round(figure.rows_per_second)
    stage("review queue (stewards)", stage_review_queue)
    stage("golden (survivorship+ids)", stage_golden, run_id)
    stage("marketing (+guards)", stage_marketing, AS_OF)
    stage("source rule rates", stage_source_rates, run_id, AS_OF)
    stage("run guard", stage_run_guard)
    stage("publish (DuckDB)", stage_publish, run_id, AS_OF)
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
        report[name] = evaluate(folder, AS_OF)
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
