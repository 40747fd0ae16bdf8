"""match_settings.yaml as typed settings: every key read, none defaulted in code."""

from __future__ import annotations

import dataclasses

import pytest

from crm_pipelines.match.settings import (
    MatchSettingsError,
    _merged,
    build_entity_settings,
    entity_settings,
)


@pytest.mark.parametrize("entity", ["address", "customer", "person", "lead"])
def test_every_entity_reads_into_frozen_settings(entity: str) -> None:
    settings = entity_settings(entity)
    assert settings.blocking and settings.comparisons
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_cluster_size = 1  # type: ignore[misc]


@pytest.mark.parametrize("key", ["max_cluster_size", "max_review_share", "vetoes", "em"])
def test_a_setting_the_file_lacks_is_an_error_naming_it(key: str) -> None:
    raw = _merged("person", None)
    del raw[key]
    with pytest.raises(MatchSettingsError, match=key):
        build_entity_settings("person", raw)


def test_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(MatchSettingsError, match="lower <= upper"):
        entity_settings("person", {"thresholds": {"upper": 0.4, "lower": 0.6}})


def test_a_blocking_rule_without_its_own_cap_takes_the_entitys() -> None:
    settings = entity_settings("person")
    capped = {r.rule: r.max_block_size for r in settings.blocking}
    assert capped["email"] == settings.max_block_size
    assert capped["area_surname"] == 6  # its own cap in the file


def test_an_unknown_comparison_in_a_list_is_refused() -> None:
    with pytest.raises(MatchSettingsError, match="birthdate"):
        entity_settings("person", {"corroborated_by": ["birthdate"]})


def test_every_similarity_cutoff_the_comparisons_use_is_in_the_file() -> None:
    from crm_pipelines.match.config import SIMILARITY_CUTOFFS, similarity_cutoff
    from crm_pipelines.paths import quality_rules

    written = quality_rules("match_settings.yaml")["similarity"]
    assert set(written) == set(SIMILARITY_CUTOFFS)
    assert all(similarity_cutoff(name) == float(written[name]) for name in SIMILARITY_CUTOFFS)
