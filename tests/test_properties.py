"""Property-based tests: arbitrary, partial or wrongly typed objects never crash the engine,
the report or the loaders."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probectl.core.diagnose import diagnose, snapshot_time
from probectl.errors import InputError
from probectl.render.console import Style
from probectl.render.why import render
from probectl.sources.files import Snapshot, _load_text
from tests.builders import NOW
from tests.scenarios import SCENARIOS

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**40), max_value=2**40), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(["2026-11-20T09:00:00Z", "0001-01-01T00:00:00Z", "yesterday", "Always",
                                            "OOMKilled", "CrashLoopBackOff", "Unhealthy", "Killing", "spec.containers{api}"]),
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                           max_leaves=20)


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@st.composite
def corrupted(draw):
    """A real scenario with some fields replaced by arbitrary values or removed."""
    sc = draw(st.sampled_from(SCENARIOS))
    pod, events = copy.deepcopy(sc.pod), copy.deepcopy(sc.events)
    target = {"pod": pod, "events": events}
    paths = [p for p in _paths(target) if len(p) > 1]
    for _ in range(draw(st.integers(1, 6))):
        path = draw(st.sampled_from(paths))
        parent = target
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    return target.get("pod", {}), target.get("events", [])


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STYLE = Style(color=True, unicode=True, width=100)


@FAST
@given(corrupted())
def test_corrupted_objects_never_crash(data):
    pod, events = data
    events = events if isinstance(events, list) else []
    d = diagnose(pod, events, NOW)
    json.dumps(d.to_dict())
    render(d, STYLE)


@FAST
@given(json_values, st.lists(json_values, max_size=5))
def test_arbitrary_values_never_crash(pod, events):
    d = diagnose(pod, events, None)
    json.dumps(d.to_dict())
    render(d, STYLE)
    snapshot_time([pod] if isinstance(pod, dict) else [], [e for e in events if isinstance(e, dict)])


@FAST
@given(st.text(max_size=300))
def test_loader_only_raises_input_error(text):
    try:
        _load_text(Snapshot(), text, "input", explicit=True)
    except InputError:
        pass


@FAST
@given(json_values)
def test_loader_on_json_documents(value):
    try:
        _load_text(Snapshot(), json.dumps(value), "input", explicit=True)
    except InputError:
        pass
