"""Where the declarative governance lives, so code reads it instead of copying it."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = Path(os.environ.get("CRM_MDM_ASSETS", REPO_ROOT / "assets"))
QUALITY_RULES_DIR = Path(os.environ.get("CRM_MDM_QUALITY_RULES", REPO_ROOT / "quality_rules"))


@cache
def load_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def quality_rules(name: str) -> Any:
    """A steward-editable file under quality_rules/, e.g. quality_rules('code_tables.yaml')."""
    return load_yaml(QUALITY_RULES_DIR / name)
