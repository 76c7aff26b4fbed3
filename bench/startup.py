#!/usr/bin/env python3
"""Start-up benchmark: `probectl exitcode 137` against its floor.

The floor is what any typer + rich program pays: `python -c "import typer, rich.console,
rich.table"`. Runs each command N times (after one warm-up run), prints median, min and
max wall time, and the ratio of the medians. Usage:

    python bench/startup.py [--runs 21] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time


def measure(cmd: list[str], runs: int) -> list[float]:
    env = dict(os.environ, NO_COLOR="1")
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    probectl = shutil.which("probectl") or os.path.join(os.path.dirname(sys.executable), "probectl")
    cases = [
        ("floor: python -c 'import typer, rich.console, rich.table'",
         [sys.executable, "-c", "import typer, rich.console, rich.table"]),
        ("probectl exitcode 137", [probectl, "exitcode", "137"]),
        ("probectl exitcode 137 -o json", [probectl, "exitcode", "137", "-o", "json"]),
        ("probectl --help", [probectl, "--help"]),
        ("python -c 'import kubernetes' (for scale)", [sys.executable, "-c", "import kubernetes"]),
    ]
    results = [(name, measure(cmd, args.runs)) for name, cmd in cases]
    floor = statistics.median(results[0][1])
    if args.markdown:
        print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, {args.runs} runs each\n")
        print("| command | median | min | max | median / floor |")
        print("|---|---|---|---|---|")
    for name, times in results:
        med = statistics.median(times)
        row = (name, f"{med * 1000:.0f} ms", f"{min(times) * 1000:.0f} ms", f"{max(times) * 1000:.0f} ms", f"{med / floor:.2f}x")
        print("| " + " | ".join(row) + " |" if args.markdown else "  ".join(f"{c:<12}" if i else f"{c:<58}" for i, c in enumerate(row)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
