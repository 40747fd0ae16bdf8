"""The files one run owns beside the warehouse: its lock, its private work folder, its staged
exports -- and what a killed run left of them.

- One run at a time per warehouse: `<dir>/.<warehouse>.lock` is held (filelock, an flock the
  kernel releases when the process dies, even on SIGKILL) for the whole run.
- Each run works in `<dir>/.run-<random>` (mode 0700): the intermediate frames hold birth
  numbers and IBANs, and two runs must never share them.
- The campaign exports are built in `<dir>/.exports.new-<run id>` and swapped in right after
  the warehouse. The warehouse swap is the commit point: a run killed between the two swaps
  has published; the next start finds the staged exports of the run the warehouse names in
  meta.run and swaps them in (roll forward). Everything else left over is deleted.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from crm_pipelines.marketing.export import swap_in_folder as swap_in_exports

log = logging.getLogger(__name__)

RUN_DIR_PREFIX = ".run-"
STAGED_EXPORTS_PREFIX = ".exports.new-"
FAULT_PAUSE_ENV = "CRM_MDM_FAULT_PAUSE"


class RunRefused(RuntimeError):
    """Another run holds the warehouse's lock for longer than this run may wait."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.lock")


def export_dir(warehouse: Path) -> Path:
    return warehouse.resolve().parent / "exports"


def staged_exports(warehouse: Path, run_id: str) -> Path:
    return warehouse.resolve().parent / f"{STAGED_EXPORTS_PREFIX}{run_id}"


def acquire_run_lock(warehouse: Path, wait_seconds: float) -> FileLock:
    """The warehouse's run lock, or RunRefused after waiting `wait_seconds` for it."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(warehouse)))
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout as exc:
        raise RunRefused(
            f"another crm-mdm run is publishing {warehouse} (lock {lock_path(warehouse)} held); "
            f"waited {wait_seconds:g} s -- try again later or raise --lock-wait"
        ) from exc
    return lock


def make_run_dir(warehouse: Path) -> Path:
    """A fresh folder only this user can read (mkdtemp creates it with mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX, dir=warehouse.resolve().parent))


def published_run_id(warehouse: Path) -> str | None:
    if not warehouse.is_file():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            row = con.sql("SELECT run_id FROM meta.run LIMIT 1").fetchall()
        except duckdb.CatalogException:
            return None
    return row[0][0] if row else None


def clean_leftovers(warehouse: Path) -> list[str]:
    """Finish or remove what killed runs left beside the warehouse. Call only with the lock held.

    Returns what was done, one line per leftover, for the run's log."""
    folder = warehouse.resolve().parent
    if not folder.is_dir():
        return []
    done = []
    committed = published_run_id(warehouse)
    for staged in sorted(folder.glob(f"{STAGED_EXPORTS_PREFIX}*")):
        if committed and staged.name == f"{STAGED_EXPORTS_PREFIX}{committed}":
            swap_in_exports(staged, export_dir(warehouse))
            done.append(
                f"exports of published run {committed} swapped in (the run was killed after publishing)"
            )
    patterns = (
        f".{warehouse.name}.building-*",
        ".exports.old-*",
        ".exports.tmp-*",
        f".{STAGED_EXPORTS_PREFIX}*",  # write_campaign_exports' own temporary folder
        f"{STAGED_EXPORTS_PREFIX}*",
        f"{RUN_DIR_PREFIX}*",
    )
    for pattern in patterns:
        for leftover in sorted(folder.glob(pattern)):
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
