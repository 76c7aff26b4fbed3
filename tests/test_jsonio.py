"""orjson is optional: with or without it, the same data in and the same text out."""

from __future__ import annotations

import json

import pytest

from probectl import jsonio
from probectl.core.diagnose import diagnose
from tests.builders import NOW
from tests.scenarios import SCENARIOS


@pytest.fixture(params=["orjson", "stdlib"])
def backend(request, monkeypatch):
    if request.param == "stdlib":
        monkeypatch.setattr(jsonio, "_orjson", None)
    elif jsonio._orjson is None:
        pytest.skip("orjson is not installed")
    return request.param


def test_same_output_both_ways(backend):
    for sc in SCENARIOS[:10]:
        doc = diagnose(sc.pod, sc.events, NOW).to_dict()
        assert jsonio.dumps_pretty(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_loads_both_ways(backend):
    text = json.dumps({"msg": "caf\u00e9 \x1b[31m", "n": [1, 2.5, None, True]})
    assert jsonio.loads(text) == jsonio.loads(text.encode()) == json.loads(text)
    with pytest.raises(ValueError):
        jsonio.loads(b'{"truncated": ')
