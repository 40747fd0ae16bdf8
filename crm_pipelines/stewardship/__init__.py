"""What data stewards work with: per-source quality rates, the enriched review queue, the console."""
