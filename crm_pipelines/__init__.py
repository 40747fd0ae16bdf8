"""crm-pipelines: landing feeds -> governed CRM master data in DuckDB."""

import os

__version__ = "0.1.0"

# polars allocates through jemalloc, which by default hands freed pages back to the kernel
# within seconds; the next large frame then faults them in again (34.6M page faults, 119 s
# of system time in a 1M-customer run). Keeping freed pages 30 s (set before polars loads;
# a value the caller set wins): person matching at 1M customers 57-63 -> 44-46 s, system
# time 17 -> 6-7 s, peak +0.8 GiB (crm-mdm bench; README "Performance").
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:30000,muzzy_decay_ms:30000")
