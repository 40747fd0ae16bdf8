"""crm-pipelines: landing feeds -> governed CRM master data in DuckDB."""

import os

__version__ = "0.1.0"

# polars allocates through jemalloc, which by default hands freed pages back to the kernel
# within seconds; the next large frame then faults them in again (34.3M page faults, 104 s
# of system time in a 1M-customer run). Keeping freed pages 30 s (set before polars loads;
# a value the caller set wins): 12.0M faults, 51 s; person matching alone 57-63 -> 46 s,
# peak +0.5-1.1 GiB (README, Benchmark: round 15).
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:30000,muzzy_decay_ms:30000")
