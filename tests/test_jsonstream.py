"""JSON read item by item gives what json.loads gives, across any block boundary."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probectl.errors import InputError
from probectl.sources import files, jsonstream

DOC = {"apiVersion": "v1", "items": [
    {"kind": "Pod", "metadata": {"name": "caf\u00e9-\U0001F600", "n": 12345678901234567890123, "f": 1.5e-7},
     "spec": {"containers": [{"name": "a\"b\n\u0001", "x": [True, False, None, -0.0]}]}},
    {"kind": "Event", "message": "x" * 300, "count": 7},
], "kind": "List", "metadata": {"resourceVersion": ""}}


def _stream(text: str) -> list:
    got: list = []
    rest = jsonstream.read_object(jsonstream.Reader(io.BytesIO(text.encode())), lambda item, members: got.append(item))
    rest.pop("\0items", None)
    return [got, rest]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 4])
def test_items_one_by_one_equal_json_loads(monkeypatch, block, indent):
    monkeypatch.setattr(jsonstream, "BLOCK", block)
    text = json.dumps(DOC, indent=indent, ensure_ascii=False)
    items, rest = _stream(text)
    whole = json.loads(text)
    assert items == whole.pop("items") and rest == whole


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=5), json_values, st.integers(min_value=1, max_value=40))
def test_any_items_any_blocks(items, other, block):
    old = jsonstream.BLOCK
    jsonstream.BLOCK = block
    try:
        text = json.dumps({"kind": "List", "items": items, "other": other}, ensure_ascii=False)
        got, rest = _stream(text)
    finally:
        jsonstream.BLOCK = old
    assert got == items and rest == {"kind": "List", "other": other}


@pytest.mark.parametrize("text", ['{"kind": "List",\n  "items": [1, 2,]}', '{"a": 1,\n\n "b": tru}', '{"a"\n: [1 2]}'])
def test_syntax_errors_say_where_as_json_does(monkeypatch, text):
    monkeypatch.setattr(jsonstream, "BLOCK", 5)
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        line = e.lineno
    with pytest.raises(jsonstream.Syntax) as got:
        _stream(text)
    assert got.value.line == line


def _snap(text: str, block: int, monkeypatch) -> files.Snapshot:
    monkeypatch.setattr(jsonstream, "BLOCK", block)
    return files.load_data(text, "input")


@pytest.mark.parametrize("block", [3, 1 << 20])
def test_list_kind_after_kindless_items(monkeypatch, block):
    pod = {"metadata": {"name": "web"}, "spec": {"containers": []}}
    text = json.dumps({"items": [pod, {"kind": "Event", "reason": "x"}], "kind": "PodList"})
    snap = _snap(text, block, monkeypatch)
    assert [p["metadata"]["name"] for p in snap.pods] == ["web"] and len(snap.events) == 1


@pytest.mark.parametrize("block", [3, 1 << 20])
def test_kind_first_and_not_a_list(monkeypatch, block):
    text = json.dumps({"kind": "ConfigMap", "items": [{"kind": "Pod", "metadata": {"name": "no"}}]})
    with pytest.raises(InputError, match=r"found ConfigMap"):
        _snap(text, block, monkeypatch)


@pytest.mark.parametrize("block", [3, 1 << 20])
def test_empty_lists_are_valid(monkeypatch, block):
    for doc in ({"apiVersion": "v1", "items": [], "kind": "List", "metadata": {}}, {"kind": "EventList", "items": []}):
        snap = _snap(json.dumps(doc), block, monkeypatch)
        assert snap.empty_lists == 1 and not snap.pods


def test_concatenated_documents_and_log_blocks(monkeypatch):
    parts = [json.dumps({"kind": "PodList", "items": [{"metadata": {"name": f"p{i}"}, "spec": {}}]}, indent=4)
             for i in range(3)]
    text = parts[0] + "\n==== START logs ====\n{broken {\n==== END logs ====\n" + parts[1] + "\n" + parts[2]
    snap = _snap(text, 4, monkeypatch)
    assert [p["metadata"]["name"] for p in snap.pods] == ["p0", "p1", "p2"]
