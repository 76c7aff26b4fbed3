"""probectl/core/timefmt.py: the one home of the age and duration helpers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from probectl.core import objects, timefmt, wording
from probectl.core.timefmt import ago, elapsed, human_duration

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("seconds, text", [
    (None, "?"), (-5, "0s"), (0, "0s"), (59.9, "59s"), (119, "119s"), (120, "2m"), (192, "3m12s"),
    (599, "9m59s"), (600, "10m"), (3599, "59m"), (3600, "1h"), (7500, "2h5m"), (8 * 3600 - 1, "7h59m"),
    (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (3 * 86400 + 4 * 3600, "3d4h"),
    (8 * 86400, "8d"), (400 * 86400, "400d"),
])
def test_human_duration_boundaries(seconds, text):
    assert human_duration(seconds) == text


def test_elapsed_and_ago_say_the_same_span_and_a_placeholder_when_a_moment_is_unknown():
    then = NOW - timedelta(minutes=5)
    assert elapsed(NOW, then) == "5m" and ago(NOW, then) == "5m ago"
    for now, t in ((None, then), (NOW, None), (None, None)):
        assert elapsed(now, t) == "" and ago(now, t) == ""
        assert elapsed(now, t, "-") == "-" and ago(now, t, "-") == "-"


def test_one_implementation_whatever_module_it_is_imported_from():
    # older import paths stay valid (core/workload.py, the rules), and are the same function
    assert objects.human_duration is timefmt.human_duration
    assert wording.ago is timefmt.ago
