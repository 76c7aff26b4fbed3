"""Every scenario fixture is a valid Kubernetes object (OpenAPI schema, status included)."""

from __future__ import annotations

import json

import pytest

from tests.scenarios import SCENARIOS

kv = pytest.importorskip("kubernetes_validate")
VERSION = "1.32"


def _objects():
    for sc in SCENARIOS:
        yield f"{sc.name}/pod", sc.pod
        for i, e in enumerate(sc.events):
            yield f"{sc.name}/event{i}", e


@pytest.mark.parametrize("name,obj", list(_objects()), ids=lambda v: v if isinstance(v, str) else "")
def test_valid_against_openapi(name, obj):
    kv.validate(json.loads(json.dumps(obj)), VERSION, strict=True)


def test_demo_snapshot_valid():
    from importlib.resources import files

    doc = json.loads(files("probectl.examples").joinpath("demo.json").read_text("utf-8"))
    for item in doc["items"]:
        kv.validate(item, VERSION, strict=True)
