"""New golden ids: uuid5(namespace, "<entity>|<seed>") and business keys, minted in bulk.

The ids of millions of new clusters are hashed in DuckDB (sha1 over the namespace bytes and
the name), not per row in Python; only the rare seeds whose id or key is already taken walk
the sequential "retry with a counter" path, which gives the same result as minting one seed
after another in seed order.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

import duckdb
import polars as pl

log = logging.getLogger(__name__)

IDENTITY_NAMESPACE = bytes.fromhex("6f1c2a528d0e4b7e9a573f0f3c1d2e10")

KEY_PREFIX: dict[str, str] = {
    "customer": "CUS",
    "person": "PER",
    "address": "ADR",
    "account": "ACC",
    "lead": "LEA",
    "campaign": "CMP",
}

_RETRIES_IN_BULK = 4  # attempts hashed up front for the seeds that collide
_VARIANT_NIBBLE = {f"{n:x}": "89ab"[n & 3] for n in range(16)}


def uuid5_text(name: str) -> str:
    """uuid.uuid5(IDENTITY_NAMESPACE, name) as text, without building UUID objects."""
    digest = bytearray(hashlib.sha1(IDENTITY_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def business_key(entity: str, master_id: str) -> str:
    return f"{KEY_PREFIX[entity]}-{master_id.replace('-', '')[:10].upper()}"


def uuid5_series(names: pl.Series) -> pl.Series:
    """uuid5_text of every name, hashed in one DuckDB query."""
    frame = pl.DataFrame({"name": names.cast(pl.String)}).with_row_index("pos")
    namespace = "".join(f"\\x{byte:02X}" for byte in IDENTITY_NAMESPACE)
    con = duckdb.connect()
    try:
        con.register("names", frame)
        hashed = con.sql(
            f"SELECT pos, sha1('{namespace}'::BLOB || encode(name)) AS h FROM names"
        ).pl()
    finally:
        con.close()
    h = hashed.sort("pos")["h"].str.to_lowercase()
    return (
        pl.DataFrame({"h": h})
        .select(
            pl.concat_str(
                pl.col("h").str.slice(0, 8),
                pl.lit("-"),
                pl.col("h").str.slice(8, 4),
                pl.lit("-5"),
                pl.col("h").str.slice(13, 3),
                pl.lit("-"),
                pl.col("h").str.slice(16, 1).replace_strict(_VARIANT_NIBBLE),
                pl.col("h").str.slice(17, 3),
                pl.lit("-"),
                pl.col("h").str.slice(20, 12),
            )
        )
        .to_series()
        .alias(names.name)
    )


def business_key_expr(entity: str, ids: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        pl.lit(f"{KEY_PREFIX[entity]}-"),
        ids.str.replace_all("-", "").str.slice(0, 10).str.to_uppercase(),
    )


def _as_series(values: Iterable[str] | pl.Series) -> pl.Series:
    return values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)


def _mint_sequentially(
    entity: str,
    seed_list: list[str],
    order: list[int],
    taken_ids: set[str],
    taken_keys: set[str],
    given_keys: list[str] | None,
) -> tuple[list[str], list[str]]:
    ids: list[str] = [""] * len(seed_list)
    out_keys: list[str] = [""] * len(seed_list)
    for position in order:
        seed = seed_list[position]
        attempt = 0
        while True:
            name = f"{entity}|{seed}" if attempt == 0 else f"{entity}|{seed}|{attempt}"
            new_id = uuid5_text(name)
            new_key = given_keys[position] if given_keys else business_key(entity, new_id)
            if new_id not in taken_ids and (given_keys or new_key not in taken_keys):
                break
            attempt += 1
        if attempt:
            log.info("%s id for %s re-derived after %d collision(s)", entity, seed, attempt)
        taken_ids.add(new_id)
        taken_keys.add(new_key)
        ids[position] = new_id
        out_keys[position] = new_key
    return ids, out_keys


def mint_ids(
    entity: str,
    seeds: pl.Series,
    taken_ids: Iterable[str] | pl.Series,
    taken_keys: Iterable[str] | pl.Series,
    keys: pl.Series | None = None,
) -> tuple[list[str], list[str]]:
    """New ids (and business keys unless given) for seeds, avoiding everything taken.

    Seeds are processed in sorted order so the outcome of a collision is deterministic.
    """
    ids, out_keys = mint_id_series(entity, seeds, taken_ids, taken_keys, keys)
    return ids.to_list(), out_keys.to_list()


def mint_id_series(
    entity: str,
    seeds: pl.Series,
    taken_ids: Iterable[str] | pl.Series,
    taken_keys: Iterable[str] | pl.Series,
    keys: pl.Series | None = None,
) -> tuple[pl.Series, pl.Series]:
    """mint_ids as Series, aligned with seeds."""
    taken_id_series = _as_series(taken_ids)
    taken_key_series = _as_series(taken_keys).drop_nulls()
    frame = pl.DataFrame({"seed": seeds.cast(pl.String)}).with_row_index("pos")
    frame = frame.with_columns(
        uuid5_series(frame.select(pl.concat_str(pl.lit(f"{entity}|"), "seed")).to_series()).alias(
            "id"
        )
    )
    frame = frame.with_columns(
        (
            keys.cast(pl.String)
            if keys is not None
            else frame.select(business_key_expr(entity, pl.col("id"))).to_series()
        ).alias("key")
    )
    # Sorted seed order (stable): the order in which minting claims ids and keys.
    frame = frame.sort("seed", maintain_order=True, nulls_last=False).with_row_index("rank")
    clash = pl.col("id").is_in(taken_id_series.implode()) | ~pl.col("id").is_first_distinct()
    if keys is None:
        clash = (
            clash
            | pl.col("key").is_in(taken_key_series.implode())
            | ~pl.col("key").is_first_distinct()
        )
    clashing = frame.filter(clash)
    if clashing.height:
        frame = _resolve_clashes(
            entity, frame, clashing, taken_id_series, taken_key_series, keys is not None
        )
    frame = frame.sort("pos")
    return frame["id"].alias("master_id"), frame["key"].alias("master_key")


def fresh_ids(
    entity: str,
    cluster_seed: pl.DataFrame,
    survivors: pl.DataFrame,
    parts: pl.DataFrame,
    registry: pl.DataFrame,
    key_from_cluster_id: bool,
) -> pl.DataFrame:
    """Clusters without a surviving previous id get a new one: cluster_id, seed, derived_from
    (SPLIT: the previous id most of their members had), master_id, master_key.

    cluster_seed: cluster_id, seed; survivors: cluster_id, master_id; parts: prev_id,
    cluster_id, n; registry: the entity's registry (ids and keys already taken)."""
    fresh = (
        cluster_seed.join(survivors, on="cluster_id", how="anti")
        .join(
            parts.sort(["cluster_id", "n", "prev_id"], descending=[False, True, False])
            .unique("cluster_id", keep="first", maintain_order=True)
            .select("cluster_id", pl.col("prev_id").alias("derived_from")),
            on="cluster_id",
            how="left",
        )
        .sort("seed")
    )
    new_ids, new_keys = mint_id_series(
        entity,
        fresh["seed"],
        pl.concat([registry["master_id"], survivors["master_id"]]),
        registry["master_key"],
        keys=fresh["cluster_id"] if key_from_cluster_id else None,
    )
    return fresh.with_columns(new_ids.alias("master_id"), new_keys.alias("master_key"))


def _retry_candidates(entity: str, clashing: pl.DataFrame, keys_given: bool) -> pl.DataFrame:
    """rank, seed, attempt, id, key: the first few ids (and keys) one-by-one minting would try
    for each colliding seed, hashed in bulk rather than one retry at a time."""
    attempts = pl.DataFrame(
        {"attempt": list(range(_RETRIES_IN_BULK + 1))}, schema={"attempt": pl.Int64}
    )
    candidates = clashing.select("rank", "seed", "key").join(attempts, how="cross")
    names = candidates.select(
        pl.when(pl.col("attempt") == 0)
        .then(pl.concat_str(pl.lit(f"{entity}|"), "seed"))
        .otherwise(
            pl.concat_str(
                pl.lit(f"{entity}|"), "seed", pl.lit("|"), pl.col("attempt").cast(pl.String)
            )
        )
    ).to_series()
    candidates = candidates.with_columns(uuid5_series(names).alias("id"))
    if not keys_given:
        candidates = candidates.with_columns(business_key_expr(entity, pl.col("id")).alias("key"))
    return candidates


def _with_holders(
    candidates: pl.DataFrame,
    clean: pl.DataFrame,
    taken_ids: pl.Series,
    taken_keys: pl.Series,
    keys_given: bool,
) -> pl.DataFrame:
    """The candidates marked with what already holds their id or key: the registry
    (id_taken, key_taken) or a seed minted without a clash (id_holder, key_holder: its rank),
    in seed order and attempt order, as one-by-one minting would meet them."""
    return (
        candidates.with_columns(
            pl.col("id").is_in(taken_ids.implode()).alias("id_taken"),
            (pl.col("key").is_in(taken_keys.implode()) & pl.lit(not keys_given)).alias("key_taken"),
        )
        .join(clean.select(pl.col("id"), pl.col("rank").alias("id_holder")), on="id", how="left")
        .join(
            clean.select(pl.col("key"), pl.col("rank").alias("key_holder")).filter(
                pl.lit(not keys_given)
            ),
            on="key",
            how="left",
        )
        .sort("rank", "attempt")
    )


def _first_free_attempts(
    entity: str, candidates: pl.DataFrame, keys_given: bool
) -> dict[int, tuple[str, str]] | None:
    """rank -> (id, key): each colliding seed's first attempt that nothing holds, nor an
    earlier colliding seed took. None when one-by-one minting would differ: a later seed
    holds the id or key, or every attempt hashed up front is taken."""
    held_ids: set[str] = set()
    held_keys: set[str] = set()
    chosen: dict[int, tuple[str, str]] = {}
    for (rank,), options in candidates.group_by("rank", maintain_order=True):
        for option in options.iter_rows(named=True):
            holders = [h for h in (option["id_holder"], option["key_holder"]) if h is not None]
            if any(holder > rank for holder in holders):
                return None
            if option["id_taken"] or option["key_taken"] or holders:
                continue
            if option["id"] in held_ids or (not keys_given and option["key"] in held_keys):
                continue
            if option["attempt"]:
                log.info(
                    "%s id for %s re-derived after %d collision(s)",
                    entity,
                    option["seed"],
                    option["attempt"],
                )
            chosen[rank] = (option["id"], option["key"])
            held_ids.add(option["id"])
            held_keys.add(option["key"])
            break
        else:
            return None
    return chosen


def _with_chosen(frame: pl.DataFrame, chosen: dict[int, tuple[str, str]]) -> pl.DataFrame:
    """The frame with the re-derived ids and keys in place of the colliding ones."""
    fixed = pl.DataFrame(
        {
            "rank": list(chosen),
            "new_id": [value[0] for value in chosen.values()],
            "new_key": [value[1] for value in chosen.values()],
        },
        schema={"rank": pl.UInt32, "new_id": pl.String, "new_key": pl.String},
    )
    return (
        frame.join(fixed, on="rank", how="left")
        .with_columns(
            pl.coalesce("new_id", "id").alias("id"), pl.coalesce("new_key", "key").alias("key")
        )
        .drop("new_id", "new_key")
    )


def _resolve_clashes(
    entity: str,
    frame: pl.DataFrame,
    clashing: pl.DataFrame,
    taken_ids: pl.Series,
    taken_keys: pl.Series,
    keys_given: bool,
) -> pl.DataFrame:
    """Re-derive the ids of the seeds that collide, exactly as one-by-one minting would.

    Falls back to minting everything one by one when a re-derived id would displace a
    later seed's id (vanishingly rare)."""
    clean = frame.join(clashing.select("rank"), on="rank", how="anti")
    candidates = _with_holders(
        _retry_candidates(entity, clashing, keys_given), clean, taken_ids, taken_keys, keys_given
    )
    chosen = _first_free_attempts(entity, candidates, keys_given)
    if chosen is None:
        return _fallback(entity, frame, taken_ids, taken_keys, keys_given)
    return _with_chosen(frame, chosen)


def _fallback(
    entity: str,
    frame: pl.DataFrame,
    taken_ids: pl.Series,
    taken_keys: pl.Series,
    keys_given: bool,
) -> pl.DataFrame:
    log.warning("%s: chained id collisions, minting %d ids one by one", entity, frame.height)
    ordered = frame.sort("rank")
    ids, keys = _mint_sequentially(
        entity,
        ordered["seed"].to_list(),
        list(range(ordered.height)),
        set(taken_ids.to_list()),
        set(taken_keys.to_list()),
        ordered["key"].to_list() if keys_given else None,
    )
    return ordered.with_columns(pl.Series("id", ids, pl.String), pl.Series("key", keys, pl.String))
