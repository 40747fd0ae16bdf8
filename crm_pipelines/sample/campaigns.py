"""Campaigns: a handful of hand-shaped rows (steward decisions: see steward.py)."""

from __future__ import annotations

from pathlib import Path

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


def _marketing_row(i: int, campaign: tuple) -> dict:
    """Row i of marketing's CSV; the fourth campaign also carries a chars blob that is not
    allowed (a BAD_CHARS warning), the first a valid one."""
    (code, name, status, channel, start, end, types, segs, ctry, inc_c, inc_l, defect) = campaign
    return {
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


def _bss_resend(marketing: pl.DataFrame) -> pl.DataFrame:
    """BSS sends the winter campaign again later, renamed and extended: one campaign, two records."""
    return marketing.filter(pl.col("campaign_code") == "WINTER-NET-2026").with_columns(
        source_system=pl.lit("BSS"),
        source_id=pl.lit("BSS-CMP-77"),
        updated_at=pl.lit("2026-11-26T08:30:00Z"),
        name=pl.lit("Zimní internet za polovic (prodlouženo)"),
        end_date=pl.lit("2027-01-15"),
    )


def write_campaigns(out_dir: Path) -> pl.DataFrame:
    """Marketing's CSV (BOM) plus a BSS Parquet re-sending one campaign later; returns truth."""
    rows = [_marketing_row(i, campaign) for i, campaign in enumerate(CAMPAIGNS)]
    marketing = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]} | {"_valid": pl.Boolean})
    bss = _bss_resend(marketing)
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
