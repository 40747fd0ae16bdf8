"""Synthetic Czech/Slovak telco landing data with ground truth, for demo, tests and benchmarks.

`generate_landing(out_dir, customers, seed)` writes the feed folders of
shared/contract/feeds.md plus `_truth/records.parquet` and `_truth/hard_negatives.parquet`.
"""

from crm_pipelines.sample.generator import generate_landing

__all__ = ["generate_landing"]
