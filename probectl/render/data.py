"""JSON and YAML: the data exact, through their serializers (they escape control characters)."""

from __future__ import annotations

from probectl.jsonio import dumps_pretty


def to_json(doc) -> str:
    return dumps_pretty(doc)


def to_yaml(doc) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)


def dump(doc, fmt: str) -> str:
    """`doc` as `fmt` ("json" or "yaml")."""
    return to_yaml(doc) if fmt == "yaml" else to_json(doc)
