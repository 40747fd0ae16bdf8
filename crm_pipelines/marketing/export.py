"""Per-campaign CSV files for the sending tools: only what is needed to send.

Data minimisation (GDPR Art. 5(1)(c)): the files carry the target, the channel, the contact
and the salutation name -- never national identifiers or birth dates. The folder is written
whole or not at all: files go to a temporary sibling folder that replaces the old one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import polars as pl
from unidecode import unidecode

from crm_pipelines.marketing.rules import load_campaign_rules
from crm_pipelines.marketing.targeting import CampaignTargets, active_campaigns

log = logging.getLogger(__name__)

EXPORT_COLUMNS = ["target_id", "target_kind", "channel", "contact", "salutation_name"]
POSTAL_COLUMNS = ["address_line_1", "address_line_2", "address_country"]
FORBIDDEN_COLUMNS = {"national_id", "birth_date"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
FORMULA_START = r"^[=+\-@\t\r]"
E164 = r"^\+[0-9]{6,15}$"


def safe_file_stem(campaign_key: str, max_length: int = 80) -> str:
    """A portable file name from a campaign code: ASCII, no separators, no leading dot."""
    stem = _UNSAFE.sub("_", unidecode(campaign_key)).strip("._-")[:max_length]
    return stem or "campaign"


def _file_names(keys: list[str]) -> dict[str, str]:
    """File name per campaign key; keys that clean to the same stem (ignoring case, for
    case-insensitive file systems) get a hash of the key as suffix."""
    stems = {key: safe_file_stem(key) for key in keys}
    uses = Counter(stem.lower() for stem in stems.values())
    return {
        key: (
            f"{stem}.csv"
            if uses[stem.lower()] == 1
            else f"{stem}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}.csv"
        )
        for key, stem in stems.items()
    }


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """OWASP CSV injection: a text cell a spreadsheet would read as a formula (starting with
    = + - @ tab or CR) gets a leading single quote, so Excel shows it as text. A phone number
    in E.164 form (+ and digits only) is left alone: it cannot run anything, and the sending
    tools need it as it is."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        [
            pl.when(pl.col(name).str.contains(FORMULA_START) & ~pl.col(name).str.contains(E164))
            .then(pl.lit("'") + pl.col(name))
            .otherwise(pl.col(name))
            .alias(name)
            for name in text
        ]
    )


def campaign_export_frame(targets: pl.DataFrame, campaign_key: str, channel: str) -> pl.DataFrame:
    columns = EXPORT_COLUMNS + (POSTAL_COLUMNS if channel == "POST" else [])
    frame = targets.filter(pl.col("campaign_key") == campaign_key).select(columns)
    if FORBIDDEN_COLUMNS & set(frame.columns):
        raise ValueError(f"export would carry {FORBIDDEN_COLUMNS & set(frame.columns)}")
    return neutralise_formulas(frame.sort("target_kind", "target_id"))


def write_export_csv(frame: pl.DataFrame, path: Path) -> None:
    """Every text cell quoted (OWASP: wrap cells in double quotes), numbers as they are; the
    header (fixed column names) stays bare for the sending tools."""
    with open(path, "wb") as out:
        out.write((",".join(frame.columns) + "\n").encode("utf-8"))
        frame.write_csv(out, include_header=False, quote_style="non_numeric")


def write_campaign_exports(
    targets: CampaignTargets, campaigns: pl.DataFrame, export_dir: Path
) -> list[Path]:
    """One UTF-8 CSV with header per campaign active on the targets' as-of date (an empty
    campaign gets a header-only file). Replaces export_dir as a whole."""
    export_dir = Path(export_dir)
    active = (
        active_campaigns(campaigns.lazy(), targets.as_of, load_campaign_rules())
        .select("campaign_key", "channel")
        .unique()
        .sort("campaign_key")
        .collect()
    )
    names = _file_names(active["campaign_key"].to_list())
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{export_dir.name}.tmp-", dir=export_dir.parent))
    try:
        for key, channel in active.iter_rows():
            frame = campaign_export_frame(targets.campaign_target, key, channel)
            write_export_csv(frame, staging / names[key])
        swap_in_folder(staging, export_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    paths = [export_dir / names[key] for key in active["campaign_key"]]
    log.info("wrote %d campaign exports to %s", len(paths), export_dir)
    return paths


def swap_in_folder(staging: Path, export_dir: Path) -> None:
    """Replace export_dir by the finished staging folder; on failure the old one stays
    (also how a run's staged exports follow its warehouse, publish/run_files.py)."""
    if not export_dir.exists():
        os.replace(staging, export_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{export_dir.name}.old-", dir=export_dir.parent))
    os.replace(export_dir, retired / export_dir.name)
    try:
        os.replace(staging, export_dir)
    except BaseException:
        os.replace(retired / export_dir.name, export_dir)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)
