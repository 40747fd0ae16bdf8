"""orchestration stage."""
