"""The nightly job's stages as plain functions: what each one reads, runs and hands on.

The Dagster assets (orchestration/*_assets.py) and `crm-mdm bench` both call these, so the
benchmark runs exactly what the job runs and publishes the same warehouse. Between stages,
frames travel as one Parquet file per (group, table) -- the FrameStore's layout; each
stage's inputs say which ones it takes as a file (to stream or filter it) and which
columns it leaves unread. No Dagster here: the assets add metadata, checks and progress.
"""
