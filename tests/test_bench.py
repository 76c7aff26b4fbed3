"""The benchmark scripts run (tiny sizes, one run): the figures in BENCHMARKS.md come from them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_startup_benchmark_runs(clean_env):
    env = dict(clean_env, PATH=os.path.dirname(sys.executable) + os.pathsep + clean_env.get("PATH", ""))
    r = subprocess.run([sys.executable, "bench/startup.py", "--runs", "1", "--markdown"], cwd=ROOT, capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "| probectl exitcode 137 |" in r.stdout


def test_api_benchmark_runs(clean_env):
    pytest.importorskip("trustme")
    env = dict(clean_env, PATH=os.path.dirname(sys.executable) + os.pathsep + clean_env.get("PATH", ""))
    r = subprocess.run([sys.executable, "bench/api.py", "--pods", "40", "--runs", "1", "--no-kubectl", "--markdown"],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "probectl scan -A -o json (40 pods)" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("| probectl why POD"))
    assert row.rstrip(" |").endswith("| 2")  # the request count of a pod diagnosis


def test_rules_benchmark_runs(clean_env):
    r = subprocess.run([sys.executable, "bench/rules.py", "--pods", "40", "--runs", "1", "--markdown"], cwd=ROOT,
                       capture_output=True, text=True, env=clean_env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "| diagnose, 40 generated pods |" in r.stdout and "crash.find" in r.stdout


def test_mcp_benchmark_runs(clean_env):
    pytest.importorskip("mcp.server.mcpserver")
    r = subprocess.run([sys.executable, "bench/mcp_session.py", "--pods", "40", "--runs", "1", "--markdown"],
                       cwd=ROOT, capture_output=True, text=True, env=clean_env, timeout=300)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("| probectl_why of a failing pod"))
    assert row.rstrip(" |").endswith("| 2")  # GET the pod, LIST its events: the CLI's requests
    assert "| probectl_scan all_namespaces (1 runs) |" in r.stdout


def test_fleet_benchmark_runs(clean_env):
    pytest.importorskip("trustme")
    env = dict(clean_env, PATH=os.path.dirname(sys.executable) + os.pathsep + clean_env.get("PATH", ""))
    r = subprocess.run([sys.executable, "bench/fleet.py", "--sizes", "40", "20", "--runs", "1", "--markdown"],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "| probectl scan --all-contexts -A -o json (40 + 20 pods and a dead context) |" in r.stdout
    assert "fleet / sequential: wall" in r.stdout
