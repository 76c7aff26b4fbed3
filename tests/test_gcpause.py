"""The cyclic garbage collector is held off during a scan: the result must not depend on it."""

from __future__ import annotations

import contextlib
import gc

import pytest

from probectl import gcpause
from tests.scan_fixtures import small_cluster, write_dump


def test_collector_paused_restores_the_previous_state():
    assert gc.isenabled()
    with gcpause.collector_paused():
        assert not gc.isenabled()
        with gcpause.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner block leaves an outer one paused
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_scan_is_the_same_with_the_collector_running(cli, tmp_path, monkeypatch):
    dump = str(write_dump(tmp_path / "dump", *small_cluster()))
    paused = cli("scan", "-f", dump, "-A", "--all", "--include-history", "-o", "json")
    assert gc.isenabled()  # given back after the scan

    calls = []

    @contextlib.contextmanager
    def running():  # the collector on, and eager: a collection every few allocations
        calls.append(1)
        old = gc.get_threshold()
        gc.set_threshold(50, 2, 2)
        try:
            yield
        finally:
            gc.set_threshold(*old)

    monkeypatch.setattr(gcpause, "collector_paused", running)
    collected = cli("scan", "-f", dump, "-A", "--all", "--include-history", "-o", "json")
    assert calls, "the scan no longer goes through gcpause.collector_paused"
    assert collected == paused
    assert paused[0] == 1 and '"items": [' in paused[1]
