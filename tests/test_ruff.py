"""ruff, including the import bans that keep start-up fast (pyproject.toml [tool.ruff])."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_clean():
    pytest.importorskip("ruff")
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "probectl", "tests", "bench"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
