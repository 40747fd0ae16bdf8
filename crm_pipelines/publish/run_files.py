"""The files one run owns beside the warehouse: its lock, its private work folder, its staged
exports -- and what a killed run left of them.

- One run at a time per warehouse: `<dir>/.<warehouse>.lock` is held (filelock, an flock the
  kernel releases when the process dies, even on SIGKILL) for the whole run, however it was
  started: `crm-mdm run` takes it before the job, and the job takes it again when its frame
  store starts (orchestration/resources.py) -- re-entrant in the same process (one
  `is_singleton` lock object per path), exclusive across processes (a run launched from the
  Dagster UI, a schedule or the sensor). The lock file names its holder for whoever waits.
- Each run works in `<dir>/.run-<random>` (`crm-mdm run`) or `<dir>/.run-<Dagster root run
  id>` (a run launched by Dagster), mode 0700: the intermediate frames hold birth numbers and
  IBANs, and two runs must never share them.
- The campaign exports are built in `<dir>/.exports.new-<run id>` and swapped in right after
  the warehouse; the trained matching models likewise: a run reads and writes its own copy of
  `models/` in `<dir>/.models.new-<run id>` (made from the published one on first use),
  swapped in after the exports. The warehouse swap is the commit point: a run killed after
  it has published; the next start finds the staged exports and models of the run the
  warehouse names in meta.run and swaps them in (roll forward). Everything else left over is
  deleted, so a failed or refused run leaves neither exports nor models behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from crm_pipelines.marketing.export import swap_in_folder

swap_in_exports = swap_in_folder  # publish_assets' name for it

log = logging.getLogger(__name__)

RUN_DIR_PREFIX = ".run-"
STAGED_EXPORTS_PREFIX = ".exports.new-"
STAGED_MODELS_PREFIX = ".models.new-"
FAULT_PAUSE_ENV = "CRM_MDM_FAULT_PAUSE"


class RunRefused(RuntimeError):
    """Another run holds the warehouse's lock for longer than this run may wait."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.lock")


def export_dir(warehouse: Path) -> Path:
    return warehouse.resolve().parent / "exports"


def staged_exports(warehouse: Path, run_id: str) -> Path:
    return warehouse.resolve().parent / f"{STAGED_EXPORTS_PREFIX}{run_id}"


def model_dir(warehouse: Path) -> Path:
    """The published matching models (match/model_store.py), beside the warehouse."""
    return warehouse.resolve().parent / "models"


def staged_models(warehouse: Path, run_id: str) -> Path:
    """This run's copy of the models, made from the published ones on first use: matching
    reads and writes it; publish_staged_models swaps it in after the warehouse."""
    staged = warehouse.resolve().parent / f"{STAGED_MODELS_PREFIX}{run_id}"
    if staged.is_dir():
        return staged
    building = staged.with_name(f".{staged.name}.tmp-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    if model_dir(warehouse).is_dir():
        shutil.copytree(model_dir(warehouse), building)
    else:
        building.mkdir(parents=True)
    os.replace(building, staged)
    return staged


def publish_staged_models(warehouse: Path, run_id: str) -> bool:
    """Swap the run's models in (after its warehouse); False when the run matched nothing."""
    staged = warehouse.resolve().parent / f"{STAGED_MODELS_PREFIX}{run_id}"
    if not staged.is_dir():
        return False
    swap_in_folder(staged, model_dir(warehouse))
    return True


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "a run that did not say who it is"
    except OSError:
        return "a run that did not say who it is"


def acquire_run_lock(warehouse: Path, wait_seconds: float, holder: str) -> FileLock:
    """The warehouse's run lock, or RunRefused (naming the run holding it) after waiting
    `wait_seconds` for it. Re-entrant within a process: release it as often as acquired.

    `holder` says who takes it ("crm-mdm run", "Dagster run <id>"); the outermost holder
    writes it into the lock file (the flock is on the descriptor, not the content)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(warehouse)
    lock = FileLock(str(path), is_singleton=True)
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout as exc:
        raise RunRefused(
            f"another run is publishing {warehouse}: {_holder(path)} (lock {path} held); "
            f"waited {wait_seconds:g} s -- try again later or raise --lock-wait"
        ) from exc
    if lock.lock_counter == 1:  # not re-entered: this process just took it
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        path.write_text(
            f"{holder} (pid {os.getpid()} on {socket.gethostname()}, since {since})\n",
            encoding="utf-8",
        )
    return lock


def make_run_dir(warehouse: Path) -> Path:
    """A fresh folder only this user can read (mkdtemp creates it with mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX, dir=warehouse.resolve().parent))


def dagster_run_dir(warehouse: Path, root_run_id: str) -> Path:
    """The private folder of a run launched by Dagster: named by its root run id, so a
    re-execution from failure finds the frames its parent run left."""
    folder = warehouse.resolve().parent / f"{RUN_DIR_PREFIX}{root_run_id}"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    return folder


def published_run_id(warehouse: Path) -> str | None:
    if not warehouse.is_file():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            row = con.sql("SELECT run_id FROM meta.run LIMIT 1").fetchall()
        except duckdb.CatalogException:
            return None
    return row[0][0] if row else None


def clean_leftovers(warehouse: Path, keep: Path | None = None) -> list[str]:
    """Finish or remove what killed runs left beside the warehouse (but `keep`, this run's own
    folder). Call only with the lock held.

    Returns what was done, one line per leftover, for the run's log."""
    folder = warehouse.resolve().parent
    if not folder.is_dir():
        return []
    done = []
    committed = published_run_id(warehouse)
    published = (
        ("exports", STAGED_EXPORTS_PREFIX, export_dir(warehouse)),
        ("models", STAGED_MODELS_PREFIX, model_dir(warehouse)),
    )
    for what, prefix, target in published:
        staged = folder / f"{prefix}{committed}"
        if committed and staged.is_dir():
            swap_in_folder(staged, target)
            done.append(
                f"{what} of published run {committed} swapped in (the run was killed after publishing)"
            )
    patterns = (
        f".{warehouse.name}.building-*",
        ".exports.old-*",
        ".exports.tmp-*",
        ".models.old-*",
        f".{STAGED_EXPORTS_PREFIX}*",  # write_campaign_exports' own temporary folder
        f"{STAGED_EXPORTS_PREFIX}*",
        f".{STAGED_MODELS_PREFIX}*",  # staged_models' copy being made
        f"{STAGED_MODELS_PREFIX}*",
        f"{RUN_DIR_PREFIX}*",
    )
    for pattern in patterns:
        for leftover in sorted(folder.glob(pattern)):
            if leftover == keep:
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            done.append(f"removed leftover {leftover.name}")
    for line in done:
        log.info(line)
    return done


def fault_pause(point: str) -> None:
    """Fault injection for the kill tests: with CRM_MDM_FAULT_PAUSE=<point>, the run stops here
    (and says so on stderr) until it is killed. Unset in production, this does nothing."""
    if os.environ.get(FAULT_PAUSE_ENV) != point:
        return
    print(f"FAULT_PAUSE {point}", flush=True, file=sys.stderr)
    while True:
        time.sleep(1)
