"""Source ids, timestamps, chars and source selection shared by the record builders."""

from __future__ import annotations

import numpy as np
import polars as pl

SOURCES = ("BSS", "ESHOP", "LEGACY_CRM", "PARTNER_PORTAL", "MARKETING")
NOW = np.datetime64("2026-11-27T06:00:00", "s")  # fixed: files must not depend on the clock

# (prefix, zero-padded width); width 0 = plain number (the legacy CRM's integer keys,
# which collide across its feeds -- allowed, ids are per feed)
ID_FORMATS: dict[str, dict[str, tuple[str, int]]] = {
    "customer": {"BSS": ("C", 9), "ESHOP": ("ES", 8), "PARTNER_PORTAL": ("PP-", 7)},
    "person": {
        "BSS": ("P", 9),
        "ESHOP": ("EU", 8),
        "PARTNER_PORTAL": ("PC-", 7),
        "MARKETING": ("MC", 8),
    },
    "account": {"BSS": ("A", 9), "ESHOP": ("EA", 8), "PARTNER_PORTAL": ("PA-", 7)},
    "address": {
        "BSS": ("AD", 9),
        "ESHOP": ("EAD", 8),
        "PARTNER_PORTAL": ("PAD-", 7),
        "MARKETING": ("MAD", 8),
    },
    "lead": {"MARKETING": ("L", 8), "ESHOP": ("EL", 8), "PARTNER_PORTAL": ("PL-", 7)},
}
VALID_CHARS = [
    '{"vip": true, "preferred_language": "cs"}',
    '{"preferred_language": "sk"}',
    '{"vip": false}',
    '{"vip": true}',
    '{"preferred_language": "en", "vip": false}',
]


def source_ids(rng: np.random.Generator, feed: str, source: np.ndarray) -> pl.Series:
    """Unique ids per (source, feed), shuffled so they do not reveal the real party."""
    number = np.zeros(len(source), dtype=np.int64)
    for s in SOURCES:
        mask = source == s
        number[mask] = rng.permutation(int(mask.sum())) + 1
    frame = pl.DataFrame({"s": source, "n": number})
    expr = (pl.col("n") + 100_000).cast(pl.String)  # legacy CRM: plain integers
    for s, (prefix, width) in ID_FORMATS[feed].items():
        expr = (
            pl.when(pl.col("s") == s)
            .then(prefix + pl.col("n").cast(pl.String).str.zfill(width))
            .otherwise(expr)
        )
    return frame.select(expr).to_series()


def updated_at(rng: np.random.Generator, n: int, max_days: int = 1500) -> pl.Series:
    seconds = rng.integers(3600, max_days * 86400, size=n)
    stamps = (NOW - seconds.astype("timedelta64[s]")).astype("datetime64[us]")
    return pl.Series("updated_at", stamps).dt.replace_time_zone("UTC")


def chars(rng: np.random.Generator, n: int, share: float = 0.06) -> pl.Series:
    values = pl.Series(VALID_CHARS).gather(rng.integers(0, len(VALID_CHARS), size=n))
    return masked(values, rng.random(n) < share).alias("chars")


def masked(values: pl.Series | np.ndarray, keep: np.ndarray) -> pl.Series:
    """values where keep, else null (string Series)."""
    series = pl.Series(values, dtype=pl.String) if isinstance(values, np.ndarray) else values
    return pl.select(pl.when(pl.lit(pl.Series(keep))).then(series)).to_series()


def pick_sources(
    rng: np.random.Generator, weights: np.ndarray, k_probs: list[float], sources: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Each entity (row of ``weights``) appears in 1..len(k_probs) distinct sources.

    Weighted sampling without replacement via exponential keys (Efraimidis-Spirakis).
    Returns (entity index, source) per record, grouped by entity.
    """
    n, m = weights.shape
    k = rng.choice(np.arange(1, len(k_probs) + 1), size=n, p=k_probs)
    keys = np.log(rng.random((n, m))) / weights
    order = np.argsort(-keys, axis=1, kind="stable")[:, : len(k_probs)]
    take = np.arange(len(k_probs))[None, :] < k[:, None]
    entity = np.broadcast_to(np.arange(n)[:, None], take.shape)[take]
    return entity, np.asarray(sources)[order[take]]
