"""While the engine moves into rule tables: the new engine and the old module (kept as
tests/legacy_diagnose.py) give the same JSON on mutated scenario pods. Deleted with it."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from probectl.core.diagnose import diagnose
from tests import legacy_diagnose
from tests.builders import NOW
from tests.scenarios import SCENARIOS
from tests.test_properties import corrupted


def _same(pod, events, now=NOW):
    try:
        old = json.dumps(legacy_diagnose.diagnose(pod, events, now).to_dict(), sort_keys=True, default=str)
    except Exception as e:  # the old module's own crash: the new one must not do better or worse silently
        old = f"error {type(e).__name__}"
    try:
        new = json.dumps(diagnose(pod, events, now).to_dict(), sort_keys=True, default=str)
    except Exception as e:
        new = f"error {type(e).__name__}"
    assert new == old


def test_scenarios_unchanged():
    for sc in SCENARIOS:
        _same(sc.pod, sc.events)
        _same(sc.pod, [])
        _same(sc.pod, sc.events, None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_mutated_pods_unchanged(case):
    pod, events = case
    _same(pod, events)
