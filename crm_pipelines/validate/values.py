"""Value-level validators and standardisers of the validate stage: the one import for them.

Each function takes polars Series (one raw value per row) and returns a frame with the same
rows in the same order; null or blank input means "not stated" (null outputs, ``valid``
null). Python-level checks run once per distinct input, the rest is vectorised polars.
The rule engine decides severities and findings; these functions only say what is valid.
"""

from __future__ import annotations

from crm_pipelines.validate.addresses import (
    check_country,
    check_currency,
    check_postcode,
    parse_address_line,
)
from crm_pipelines.validate.contacts import check_email, check_phone
from crm_pipelines.validate.identifiers import (
    check_birth_number,
    check_iban,
    check_registration_no,
    check_vat,
    ico_is_valid,
)
from crm_pipelines.validate.parsing import (
    CHAR_TYPES,
    check_chars,
    parse_boolean,
    parse_date,
    parse_decimal,
    parse_timestamp,
    plausible_birth_date,
)

__all__ = [
    "CHAR_TYPES",
    "check_birth_number",
    "check_chars",
    "check_country",
    "check_currency",
    "check_email",
    "check_iban",
    "check_phone",
    "check_postcode",
    "check_registration_no",
    "check_vat",
    "ico_is_valid",
    "parse_address_line",
    "parse_boolean",
    "parse_date",
    "parse_decimal",
    "parse_timestamp",
    "plausible_birth_date",
]
