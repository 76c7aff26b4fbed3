"""orjson is optional: with or without it, the same data in and the same text out."""

from __future__ import annotations

import json

import pytest

from probectl import jsonio
from probectl.core.diagnose import diagnose
from tests.builders import NOW
from tests.scenarios import SCENARIOS


def test_same_output_both_ways(backend):
    for sc in SCENARIOS[:10]:
        doc = diagnose(sc.pod, sc.events, NOW).to_dict()
        assert jsonio.dumps_pretty(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_loads_both_ways(backend):
    text = json.dumps({"msg": "caf\u00e9 \x1b[31m", "n": [1, 2.5, None, True]})
    assert jsonio.loads(text) == jsonio.loads(text.encode()) == json.loads(text)
    with pytest.raises(ValueError):
        jsonio.loads(b'{"truncated": ')


def test_too_deep_is_a_value_error_both_ways(backend):
    """10,000 nested arrays: orjson stops at 1024 levels, the standard library at the
    recursion limit; either way a ValueError the callers already handle, never RecursionError."""
    with pytest.raises(jsonio.TooDeep, match="nested too deeply"):
        jsonio.loads("[" * 10_000 + "]" * 10_000)
    with pytest.raises(ValueError):
        jsonio.loads(b"[" * 10_000)
    deep = 1
    for _ in range(200):  # deep, but nothing like the limit: parsed
        deep = [deep]
    assert jsonio.loads(json.dumps({"a": deep})) == {"a": deep}
