"""Landing limits from quality_rules/landing_limits.yaml: what one landing file may cost."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from crm_pipelines.paths import quality_rules

LIMITS_FILE = "landing_limits.yaml"
MIB = 1024 * 1024


@dataclass(frozen=True)
class LandingLimits:
    max_csv_bytes: int  # text of one CSV after decompression
    max_gzip_ratio: float  # decompressed / compressed size

    def gzip_budget(self, compressed_bytes: int) -> int:
        """Most bytes a gzip file of this size may decompress to."""
        return min(self.max_csv_bytes, int(max(compressed_bytes, 1) * self.max_gzip_ratio))


@cache
def landing_limits() -> LandingLimits:
    raw = quality_rules(LIMITS_FILE)
    expected = {"max_csv_mib", "max_gzip_ratio"}
    if set(raw) != expected:
        raise ValueError(
            f"{LIMITS_FILE}: keys must be exactly {sorted(expected)}, not {sorted(raw)}"
        )
    mib, ratio = raw["max_csv_mib"], raw["max_gzip_ratio"]
    if not (isinstance(mib, int) and mib > 0 and isinstance(ratio, int | float) and ratio >= 1):
        raise ValueError(
            f"{LIMITS_FILE}: max_csv_mib must be a positive integer, max_gzip_ratio >= 1"
        )
    return LandingLimits(max_csv_bytes=mib * MIB, max_gzip_ratio=float(ratio))
