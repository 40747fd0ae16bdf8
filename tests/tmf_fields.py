"""The TM Forum field lists of ../shared/notes/tmf-fields.md, parsed for validating exports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TMF_FIELDS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "notes" / "tmf-fields.md"
_SECTION = re.compile(r"^## (TMF\d+) v(\d+)")
_RESOURCE = re.compile(r"^### (\w+)\s+\(required: \[(.*)\]\)")
OPEN_TYPES = {"Any"}  # a value of any shape (Characteristic.value)
_FIELD = re.compile(r"^  - ([@\w]+): (\S+)")


@dataclass(frozen=True)
class Resource:
    fields: dict[str, str]  # name -> type text ("string", "array<RelatedParty>", ...)
    required: tuple[str, ...]
    enum: list[str]  # the allowed values of an enumeration type (IndividualStateType)


def parse_tmf_fields(path: Path = TMF_FIELDS_MD) -> dict[str, dict[str, Resource]]:
    """{"TMF629 v4": {"Customer": Resource, ...}, ...}"""
    apis: dict[str, dict[str, Resource]] = {}
    section = resource = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := _SECTION.match(line):
            section, resource = f"{m[1]} v{m[2]}", None
            apis.setdefault(section, {})
        elif (m := _RESOURCE.match(line)) and section:
            resource = m[1]
            required = tuple(re.findall(r"'([^']+)'", m[2]))
            apis[section][resource] = Resource({}, required, [])
        elif line.startswith("  ENUM: ") and section and resource:
            apis[section][resource].enum.extend(re.findall(r"'([^']+)'", line))
        elif (m := _FIELD.match(line)) and section and resource:
            apis[section][resource].fields[m[1]] = m[2]
    return apis


def _find(apis: dict[str, dict[str, Resource]], section: str, name: str) -> Resource | None:
    if name in apis.get(section, {}):
        return apis[section][name]
    version = section.split()[1]
    for other, resources in apis.items():
        if other.endswith(version) and name in resources:
            return resources[name]
    return None


def violations(
    apis: dict[str, dict[str, Resource]], section: str, name: str, obj: dict, path: str = ""
) -> list[str]:
    """Keys that are no field of the resource (nested resources checked too) and missing
    required fields, as readable strings."""
    resource = _find(apis, section, name)
    if resource is None:
        return [f"{path or name}: no resource {name} in {section}"]
    if not isinstance(obj, dict):
        if resource.enum and obj in resource.enum:
            return []
        return [f"{path.rstrip('.')}: {obj!r} is no {name}"]
    problems = [f"{path}{key}: not a {name} field" for key in obj if key not in resource.fields]
    problems += [
        f"{path}{key}: required by {name}, missing"
        for key in resource.required
        if obj.get(key) is None
    ]
    for key, value in obj.items():
        kind = resource.fields.get(key, "")
        inner = re.fullmatch(r"array<(\w+)>", kind)
        target = inner[1] if inner else kind
        if not target[:1].isupper() or target in OPEN_TYPES or value is None:
            continue
        items = enumerate(value) if inner else [(None, value)]
        for i, item in items:
            where = f"{path}{key}." if i is None else f"{path}{key}[{i}]."
            problems += violations(apis, section, target, item, where)
    return problems
