#!/usr/bin/env python3
"""The engine's own cost, without I/O: `diagnose` over generated pods and `crash.find`
over the posted crash outputs of tests/test_crash_posted.py and a 64 KiB log tail.

Best of N runs (in-process, after a warm-up). To compare two revisions, run it with
PYTHONPATH pointing at each checkout's tree. Usage:

    python bench/rules.py [--pods 3000] [--runs 5] [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gencluster import generate  # noqa: E402
from probectl.core import crash  # noqa: E402
from probectl.core.diagnose import diagnose, snapshot_time  # noqa: E402
from probectl.core.events import by_pod, for_pod_key  # noqa: E402
from probectl.core.objects import compact_pod  # noqa: E402


def best(fn, runs: int) -> float:
    fn()
    out = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    pods, events = generate(args.pods)
    pods = [compact_pod(p) for p in pods]
    grouped = by_pod(events)
    now = snapshot_time(pods, events)
    sys.path.insert(0, str(ROOT / "tests"))
    import test_crash_posted  # noqa: PLC0415

    texts = [p.values[1] for p in test_crash_posted.CASES]
    tail = ("2024-05-01T10:00:00.000Z INFO request handled path=/api/v1/orders status=200 took=12ms\n" * 800)[-65536:]
    rows = [
        (f"diagnose, {args.pods} generated pods", best(lambda: [diagnose(p, for_pod_key(grouped, p), now) for p in pods],
                                                        args.runs)),
        (f"crash.find, {len(texts)} posted crash outputs", best(lambda: [crash.find(t, "logs") for t in texts], args.runs)),
        ("crash.find, one 64 KiB log tail", best(lambda: crash.find(tail, "logs"), args.runs)),
    ]
    head = f"Python {platform.python_version()}, {platform.machine()}, best of {args.runs}"
    if args.markdown:
        print(head + "\n\n| what | time |\n|---|---|")
        for what, t in rows:
            print(f"| {what} | {t * 1000:.1f} ms |")
    else:
        print(head)
        for what, t in rows:
            print(f"{what:45} {t * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
