"""Trained matching models as versioned, readable JSON files, reused night after night.

EM re-estimated every night moves unrelated records when a few records change (a tiny delta
shifted five person records to new golden ids). A model is trained once, written beside the
warehouse (`models/<entity>.json`: per field and level the m and u probabilities and the
weight in bits, the match share, what it was trained on), and reused until the steward
retrains on purpose (`crm-mdm train`), the comparisons it was trained for change, or the
candidates' level mix drifts beyond `match_settings.yaml`'s `model.retrain_drift`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.match.comparisons import COMPARISONS
from crm_pipelines.match.scoring import FieldModel, Model

log = logging.getLogger(__name__)
FORMAT = 1


@dataclass(frozen=True)
class StoredModel:
    model: Model
    version: str
    level_mix: dict[str, dict[str, float]]  # candidates' level shares when it was trained


def signature(entity: str, fields: list[str]) -> str:
    """What a model is valid for: the entity, its fields and their level names."""
    described = [[f, list(COMPARISONS[f].levels)] for f in fields]
    text = json.dumps([FORMAT, entity, described], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def level_mix(levels: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Share of each level per field among the candidate pairs (what drift compares)."""
    mix = {}
    for f in levels.columns:
        names = COMPARISONS[f].levels
        counts = np.bincount(levels[f].to_numpy().astype(np.int64), minlength=len(names))
        total = counts.sum()
        mix[f] = {
            name: round(float(counts[i] / total), 6) if total else 0.0
            for i, name in enumerate(names)
        }
    return mix


def drift(stored: StoredModel, levels: pl.DataFrame) -> float:
    """Largest total-variation distance between the stored and today's level mix."""
    today = level_mix(levels)
    distances = [
        0.5 * sum(abs(share - stored.level_mix[f].get(name, 0.0)) for name, share in mix.items())
        for f, mix in today.items()
        if f in stored.level_mix
    ]
    return round(max(distances, default=0.0), 6)


def _path(model_dir: Path, entity: str) -> Path:
    return model_dir / f"{entity}.json"


def save(
    model_dir: Path, entity: str, fields: list[str], model: Model, levels: pl.DataFrame
) -> StoredModel:
    """Write the model (readable JSON, atomically) and return it with its version."""
    body = {
        "format": FORMAT,
        "entity": entity,
        "signature": signature(entity, fields),
        "match_share": model.match_share,
        "candidate_pairs": model.candidate_pairs,
        "em_iterations": model.iterations,
        "level_mix": level_mix(levels),
        "fields": {
            f: {
                name: {
                    "m": float(fm.m[i]),
                    "u": float(fm.u[i]),
                    "weight_bits": round(float(fm.weights[i]), 4),
                }
                for i, name in enumerate(COMPARISONS[f].levels)
            }
            for f, fm in model.fields.items()
        },
    }
    version = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    document = {"version": version, "trained_at": dt.datetime.now(dt.UTC).isoformat()} | body
    model_dir.mkdir(parents=True, exist_ok=True)
    target = _path(model_dir, entity)
    temporary = target.with_suffix(f".tmp-{os.getpid()}")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, target)
    log.info("%s: trained model %s written to %s", entity, version, target)
    return StoredModel(model, version, body["level_mix"])


def load(model_dir: Path, entity: str, fields: list[str]) -> StoredModel | None:
    """The stored model of the entity, or None when there is none or it was trained for
    other comparisons (then it must be retrained)."""
    path = _path(model_dir, entity)
    if not path.exists():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("signature") != signature(entity, fields):
        log.warning("%s: stored model %s was trained for other comparisons", entity, path)
        return None
    field_models = {}
    for f in fields:
        levels = COMPARISONS[f].levels
        stored = document["fields"][f]
        field_models[f] = FieldModel(
            np.array([stored[name]["m"] for name in levels]),
            np.array([stored[name]["u"] for name in levels]),
        )
    model = Model(
        field_models,
        document["match_share"],
        document["em_iterations"],
        document["candidate_pairs"],
    )
    return StoredModel(model, document["version"], document["level_mix"])
