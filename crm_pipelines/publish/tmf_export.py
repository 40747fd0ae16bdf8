"""`crm-mdm export tmf`: the tmf views of the published warehouse as NDJSON files.

One file per resource (customer.ndjson, individual.ndjson, ...), one JSON object per line
with the TM Forum field names the views carry. The warehouse is opened read-only, so an
export never blocks a run (and a run never sees a half-written export: files are written
aside and renamed).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

# view of schema tmf -> (TM Forum API, resource): what each file holds
TMF_RESOURCES: dict[str, tuple[str, str]] = {
    "customer": ("TMF629", "Customer"),
    "individual": ("TMF632", "Individual"),
    "organization": ("TMF632", "Organization"),
    "party_role": ("TMF669", "PartyRole"),
    "billing_account": ("TMF666", "BillingAccount"),
    "geographic_address": ("TMF673", "GeographicAddress"),
}


def export_tmf(warehouse: Path, out_dir: Path) -> dict[str, int]:
    """Write <out_dir>/<view>.ndjson for every tmf view; returns rows per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for view in TMF_RESOURCES:
            target = out_dir / f"{view}.ndjson"
            partial = target.with_name(f".{target.name}.partial")
            path = str(partial).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM tmf.{view} ORDER BY id) TO '{path}' (FORMAT json)")
            os.replace(partial, target)
            rows[view] = con.execute(f"SELECT count(*) FROM tmf.{view}").fetchall()[0][0]
    return rows
