"""Data builders only tests use: synthetic persons with known truth, golden-shaped frames for
marketing, staged frames at scale. Kept out of crm_pipelines/ because the product never runs them."""
