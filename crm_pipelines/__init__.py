"""crm-pipelines: landing feeds -> governed CRM master data in DuckDB."""

__version__ = "0.1.0"
