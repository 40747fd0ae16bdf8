"""Campaigns and steward decisions: a handful of hand-shaped rows each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.ingest.specs import feed_spec

# The contract columns of the campaign feed, from its spec under assets/feeds/.
CAMPAIGN_COLUMNS = tuple(feed_spec("campaign").columns)
# code, name, status, channel, start, end, types, segments, countries, incl_cust, incl_leads, defect
CAMPAIGNS = [
    (
        "WINTER-NET-2026",
        "Zimní internet za polovic",
        "ACTIVE",
        "EMAIL",
        "2026-11-01",
        "2026-12-31",
        "RESIDENTIAL",
        "MASS",
        "CZ",
        "true",
        "true",
        None,
    ),
    (
        "SOHO-SMS-1126",
        "Firemní tarif – SMS výzva",
        "ACTIVE",
        "SMS",
        "2026-11-20",
        "2026-12-05",
        "BUSINESS|GOVERNMENT",
        "SOHO|SME",
        "CZ|SK",
        "true",
        "false",
        None,
    ),
    (
        "AUTUMN-POST-26",
        "Podzimní katalog",
        "FINISHED",
        "POST",
        "2026-09-01",
        "2026-10-15",
        None,
        None,
        None,
        "true",
        "false",
        None,
    ),
    (
        "NY-2027-EMAIL",
        "Novoroční nabídka 2027",
        "DRAFT",
        "EMAIL",
        "2027-01-10",
        "2027-02-28",
        None,
        None,
        "CZ",
        "true",
        "true",
        None,
    ),
    (
        "TV-SMS-CANCEL",
        "TV Plus – zrušená kampaň",
        "CANCELLED",
        "SMS",
        "2026-10-01",
        "2026-11-30",
        "RESIDENTIAL",
        None,
        None,
        "true",
        "false",
        None,
    ),
    (
        "SK-ONE-DAY",
        "Jednodňová akcia pre Slovensko",
        "ACTIVE",
        "EMAIL",
        "2026-11-27",
        "2026-11-27",
        None,
        None,
        "SK",
        "true",
        "true",
        None,
    ),
    (
        "KEY-POST-2026",
        "Dopis klíčovým zákazníkům",
        "ACTIVE",
        "POST",
        "2026-06-01",
        "2027-05-31",
        None,
        "KEY_ACCOUNT|CORPORATE",
        None,
        "true",
        "false",
        None,
    ),
    (
        "XMAS-2025",
        "Vánoce 2025",
        "FINISHED",
        "EMAIL",
        "2025-12-01",
        "2025-12-24",
        "RESIDENTIAL|BUSINESS",
        None,
        None,
        "true",
        "true",
        None,
    ),
    (
        "LEADS-ONLY-WEB",
        "Leady z webu – follow-up",
        "ACTIVE",
        "EMAIL",
        "2026-11-15",
        "2026-12-15",
        None,
        None,
        "CZ|SK",
        "false",
        "true",
        None,
    ),
    (
        "BAD-NO-NAME",
        None,
        "ACTIVE",
        "EMAIL",
        "2026-11-01",
        "2026-12-01",
        None,
        None,
        None,
        "true",
        "false",
        ("EMPTY_NAME", "ERROR"),
    ),
    (
        "BAD-FAX",
        "Faxová kampaň",
        "ACTIVE",
        "FAX",
        "2026-11-01",
        "2026-12-01",
        None,
        None,
        None,
        "true",
        "false",
        ("UNKNOWN_CHANNEL", "ERROR"),
    ),
    (
        "BAD-STATUS",
        "Kampaň s neznámým stavem",
        "RUNNING",
        "SMS",
        "2026-11-01",
        "2026-12-01",
        None,
        None,
        None,
        "true",
        "false",
        ("UNKNOWN_STATUS", "ERROR"),
    ),
    (
        "BAD-START",
        "Špatné datum",
        "ACTIVE",
        "SMS",
        "1.12.2026",
        "2026-12-31",
        None,
        None,
        None,
        "true",
        "false",
        ("BAD_START_DATE", "ERROR"),
    ),
    (
        "BAD-RANGE",
        "Konec před začátkem",
        "DRAFT",
        "POST",
        "2026-12-20",
        "2026-12-01",
        None,
        None,
        None,
        "true",
        "false",
        ("END_BEFORE_START", "WARNING"),
    ),
    (
        "BAD-BOOL",
        "Leady ano/ne",
        "ACTIVE",
        "EMAIL",
        "2026-11-01",
        "2026-12-31",
        None,
        None,
        None,
        "true",
        "ano",
        ("BAD_BOOLEAN", "WARNING"),
    ),
]


def write_campaigns(out_dir: Path) -> pl.DataFrame:
    """Marketing's CSV (BOM) plus a BSS Parquet re-sending one campaign later; returns truth."""
    rows = []
    for i, (
        code,
        name,
        status,
        channel,
        start,
        end,
        types,
        segs,
        ctry,
        inc_c,
        inc_l,
        defect,
    ) in enumerate(CAMPAIGNS):
        rows.append(
            {
                "source_system": "MARKETING",
                "source_id": f"CMP-{i + 1:04d}",
                "updated_at": f"2026-11-{1 + i % 25:02d}T09:00:00+01:00",
                "campaign_code": code,
                "name": name,
                "status": status,
                "channel": channel,
                "start_date": start,
                "end_date": end,
                "target_customer_types": types,
                "target_segments": segs,
                "target_countries": ctry,
                "include_customers": inc_c,
                "include_leads": inc_l,
                "chars": '{"vip": true}' if i == 0 else ('{"budget": "high"}' if i == 3 else None),
                "_defect": defect[0] if defect else ("BAD_CHARS" if i == 3 else None),
                "_valid": not (defect and defect[1] == "ERROR"),
            }
        )
    marketing = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]} | {"_valid": pl.Boolean})
    bss = marketing.filter(pl.col("campaign_code") == "WINTER-NET-2026").with_columns(
        source_system=pl.lit("BSS"),
        source_id=pl.lit("BSS-CMP-77"),
        updated_at=pl.lit("2026-11-26T08:30:00Z"),
        name=pl.lit("Zimní internet za polovic (prodlouženo)"),
        end_date=pl.lit("2027-01-15"),
    )
    folder = out_dir / "campaign"
    folder.mkdir(parents=True, exist_ok=True)
    marketing.select(CAMPAIGN_COLUMNS).write_csv(
        folder / "marketing_campaigns_20261127.csv", include_bom=True
    )
    bss.select(CAMPAIGN_COLUMNS).write_parquet(
        folder / "bss_campaigns_20261127.parquet", statistics=False
    )
    both = pl.concat([marketing, bss])
    return both.select(
        entity=pl.lit("campaign"),
        source_system="source_system",
        source_id="source_id",
        party_id="campaign_code",
        expected_valid="_valid",
        defect="_defect",
    )


def write_steward_decisions(
    out_dir: Path, records: pl.DataFrame, hard_negatives: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """MATCH pairs of one real party across sources, NO_MATCH look-alikes, one unknown record."""
    rows: list[dict] = []
    valid = records.filter(pl.col("expected_valid"))
    for entity in ("person", "customer", "lead", "address"):
        multi = (
            valid.filter(pl.col("entity") == entity)
            .group_by("party_id", maintain_order=True)
            .agg("source_system", "source_id")
            .filter(pl.col("source_id").list.len() >= 2)
        )
        for r in multi.head(2).iter_rows(named=True):
            rows.append(
                {
                    "entity": entity,
                    "l": (r["source_system"][0], r["source_id"][0]),
                    "r": (r["source_system"][1], r["source_id"][1]),
                    "decision": "MATCH",
                    "note": "ověřeno telefonicky",
                }
            )
    # both records accepted: a decision on a quarantined record is the unknown-record case
    keys = valid.select("entity", "source_system", "source_id")
    accepted = hard_negatives.join(
        keys.rename({"source_system": "left_source_system", "source_id": "left_source_id"}),
        on=["entity", "left_source_system", "left_source_id"],
        how="semi",
    ).join(
        keys.rename({"source_system": "right_source_system", "source_id": "right_source_id"}),
        on=["entity", "right_source_system", "right_source_id"],
        how="semi",
    )
    one_per_kind = accepted.unique(["entity", "kind"], keep="first", maintain_order=True)
    for r in one_per_kind.head(4).iter_rows(named=True):
        rows.append(
            {
                "entity": r["entity"],
                "l": (r["left_source_system"], r["left_source_id"]),
                "r": (r["right_source_system"], r["right_source_id"]),
                "decision": "NO_MATCH",
                "note": f"různé osoby ({r['kind']})",
            }
        )
    rows.append(
        {
            "entity": "person",
            "l": ("BSS", "P000000000"),
            "r": ("ESHOP", "EU00000000"),
            "decision": "MATCH",
            "note": "záznam mezitím smazán",
        }
    )
    out = pl.DataFrame(
        {
            "source_system": "BSS",
            "source_id": [f"SD-{i + 1:05d}" for i in range(len(rows))],
            "updated_at": [
                f"2026-11-{10 + i % 15:02d}T14:{i % 60:02d}:00+01:00" for i in range(len(rows))
            ],
            "entity": [r["entity"] for r in rows],
            "left_source_system": [r["l"][0] for r in rows],
            "left_source_id": [r["l"][1] for r in rows],
            "right_source_system": [r["r"][0] for r in rows],
            "right_source_id": [r["r"][1] for r in rows],
            "decision": [r["decision"] for r in rows],
            "decided_by": [
                ["jana.steward", "petr.dq", None][int(rng.integers(0, 3))] for _ in rows
            ],
            "decided_at": [
                f"2026-11-{10 + i % 15:02d}T13:{i % 60:02d}:00+01:00" for i in range(len(rows))
            ],
            "note": [r["note"] for r in rows],
        }
    )
    folder = out_dir / "steward_decision"
    folder.mkdir(parents=True, exist_ok=True)
    out.write_csv(folder / "steward_decisions.csv")
    unknown = len(rows) - 1
    return out.select(
        entity=pl.lit("steward_decision"),
        source_system="source_system",
        source_id="source_id",
        party_id=pl.lit(None, dtype=pl.String),
        expected_valid=pl.lit(True),
        defect=pl.when(pl.int_range(pl.len()) == unknown)
        .then(pl.lit("UNKNOWN_RECORD"))
        .otherwise(None),
    )
