"""`crm-mdm bench`: rows/s and peak memory per stage at realistic sizes.

Runs the engine stages directly (the same functions the Dagster assets call) over a generated
landing folder, so each stage's time and memory can be told apart. Peak memory is the highest
resident set size sampled while the stage ran (the process total, not a delta).
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples /proc/self/statm every 10 ms while a stage runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRss:
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


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
        return self.rows / self.seconds if self.seconds else float("inf")

    def line(self) -> str:
        extra = "  ".join(
            f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in self.extra.items()
        )
        return (
            f"{self.customers:>9,}  {self.stage:<22} {self.rows:>11,} rows {self.seconds:>8.1f} s "
            f"{self.rows_per_second:>12,.0f} rows/s  peak {self.peak_rss_mib:>7,.0f} MiB  {extra}"
        )


def measure(
    customers: int, stage: str, rows: Callable[[Any], int], work: Callable[[], Any], **extra: Any
) -> tuple[Any, StageFigure]:
    gc.collect()
    with PeakRss() as rss:
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
    figure = StageFigure(customers, stage, rows(result), seconds, rss.peak / 2**20, dict(extra))
    print(figure.line(), flush=True)
    return result, figure


def bench_size(customers: int, workdir: Path, seed: int) -> list[StageFigure]:
    import datetime as dt

    from crm_pipelines.golden.assemble import build_master
    from crm_pipelines.marketing import build_campaign_targets
    from crm_pipelines.match import match_entity, match_leads_to_customers
    from crm_pipelines.publish.warehouse import publish_warehouse
    from crm_pipelines.sample import generate_landing
    from crm_pipelines.staged import MATCHED_ENTITIES
    from crm_pipelines.validate.pipeline import stage_landing

    figures: list[StageFigure] = []
    landing = workdir / f"landing_{customers}"
    if not (landing / "_truth").is_dir():
        _, fig = measure(
            customers,
            "sample (generator)",
            lambda s: sum(v for v in s.values() if isinstance(v, int)),
            lambda: generate_landing(landing, customers=customers, seed=seed),
        )
        figures.append(fig)
    as_of = dt.date.today()
    staged, fig = measure(
        customers,
        "ingest+validate",
        lambda s: sum(v["rows_in"] for v in s.feed_stats.values()),
        lambda: stage_landing(landing, as_of),
    )
    figures.append(fig)
    clusters = {}
    for entity in MATCHED_ENTITIES:
        records = staged.staged[entity]
        result, fig = measure(
            customers,
            f"match {entity}",
            lambda r: r.metrics.get("pairs_scored", 0),
            lambda records=records, entity=entity: match_entity(
                entity, records, staged.staged["steward_decision"]
            ),
        )
        fig.extra = {
            "records": records.height,
            "candidate_pairs": int(result.metrics.get("candidate_pairs", 0)),
            "auto_matched": int(result.metrics.get("auto_matched", 0)),
            "review": int(result.metrics.get("sent_to_review", 0)),
            "clusters": int(result.metrics.get("clusters", 0)),
        }
        print(
            f"{'':>11}{entity} pairs/s scored: {fig.rows_per_second:,.0f}; {fig.extra}", flush=True
        )
        figures.append(fig)
        clusters[entity] = result.clusters
    links, fig = measure(
        customers,
        "match lead->customer",
        lambda f: staged.staged["lead"].height,
        lambda: match_leads_to_customers(
            staged.staged["lead"], staged.staged["customer"], staged.staged["person"]
        ),
    )
    figures.append(fig)
    master, fig = measure(
        customers,
        "golden (survivorship+ids)",
        lambda m: sum(len(f) for f in staged.staged.values()),
        lambda: build_master(staged.staged, clusters, links, None, "bench", datetime.now(UTC)),
    )
    figures.append(fig)
    master_frames = {
        name: getattr(master, name)
        for name in (
            "customer",
            "person",
            "person_role",
            "crm_address",
            "crm_address_role",
            "lead",
            "campaign",
            "attribute_lineage",
        )
    }
    targets, fig = measure(
        customers,
        "marketing targeting",
        lambda t: master.customer.height + master.lead.height,
        lambda: build_campaign_targets(master_frames, as_of),
    )
    fig.extra = {
        "targets": targets.campaign_target.height,
        "exclusions": targets.campaign_exclusion.height,
    }
    figures.append(fig)
    tables = {
        f"master.{n}": getattr(master, n)
        for n in (
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
        )
    }
    tables |= {
        "quality.rejected": staged.rejected,
        "quality.finding": staged.finding,
        "marketing.campaign_target": targets.campaign_target,
    }
    _, fig = measure(
        customers,
        "publish (DuckDB)",
        lambda _: sum(f.height for f in tables.values()),
        lambda: publish_warehouse(tables, workdir / f"warehouse_{customers}.duckdb"),
    )
    figures.append(fig)
    return figures


def run_benchmark(sizes: list[int], workdir: Path, seed: int = 7) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"crm-mdm bench on {os.cpu_count()} cores; sizes {sizes}; workdir {workdir}", flush=True)
    all_figures: list[StageFigure] = []
    for customers in sizes:
        figures = bench_size(customers, workdir, seed)
        all_figures += figures
        core = [
            f
            for f in figures
            if f.stage in ("ingest+validate", "golden (survivorship+ids)", "publish (DuckDB)")
        ]
        match = [f for f in figures if f.stage.startswith("match")]
        print(
            f"== {customers:,} customers: ingest+validate+golden+publish {sum(f.seconds for f in core):.1f} s; "
            f"matching (all entities) {sum(f.seconds for f in match):.1f} s; "
            f"peak {max(f.peak_rss_mib for f in figures):,.0f} MiB",
            flush=True,
        )
    report = workdir / "bench.json"
    report.write_text(
        json.dumps(
            [asdict(f) | {"rows_per_second": f.rows_per_second} for f in all_figures], indent=2
        ),
        encoding="utf-8",
    )
    print(f"figures written to {report}")
    return 0
