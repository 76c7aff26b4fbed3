#!/usr/bin/env python3
"""Fleet benchmark: `probectl scan --all-contexts -A -o json` over three generated clusters
(2,000, 1,000 and 500 pods by default) and a context whose server is gone, against the
sequential loop of single scans (`probectl scan -A --context C -o json`, one per live
cluster) that a user writes in shell today.

Each cluster is served over TLS by its own stand-in API server on 127.0.0.1
(tests/apiserver.py, paging by 500, 2 ms a request, answers cached so the servers' own
cost drops out). Medians over --runs runs after a warm-up; wall time and peak RSS of the
measured process (from /usr/bin/time). The goals (issue 24): the fleet at most 0.8x the
summed time of the single scans, at most 1.5x the peak memory of the largest.

    python bench/fleet.py --runs 5 --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.gencluster import generate  # noqa: E402
from tests.apiserver import FakeAPIServer  # noqa: E402
from tests.fleet_helpers import dead_url, fleet_kubeconfig  # noqa: E402

TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
NAMES = ["prod-us", "prod-eu", "staging", "dev", "qa", "perf"]


def run_once(cmd: list[str], env: dict, ok: tuple[int, ...]) -> tuple[float, float | None, str]:
    """Wall seconds, peak RSS in MB (None without /usr/bin/time) and stdout of one run."""
    full = [TIME, "-f", "RSS_KB=%M", *cmd] if TIME else cmd
    t0 = time.perf_counter()
    r = subprocess.run(full, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-500:]}")
    kb = [line for line in r.stderr.splitlines() if line.startswith("RSS_KB=")]
    return wall, (int(kb[-1].split("=")[1]) / 1024 if kb else None), r.stdout


def _med(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s ({min(xs):.3f}–{max(xs):.3f})"


def _mb(xs: list) -> str:
    xs = [x for x in xs if x is not None]
    return f"{statistics.median(xs):.0f} MB" if xs else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 1000, 500], help="pods of each live cluster")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.002, help="seconds each server waits per request")
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    if len(a.sizes) > len(NAMES):
        raise SystemExit(f"at most {len(NAMES)} clusters")

    probectl = shutil.which("probectl") or os.path.join(os.path.dirname(sys.executable), "probectl")
    import trustme  # the test extra: pip install -e '.[test]'

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    work = Path(tempfile.mkdtemp(prefix="probectl-fleet-bench-"))
    names = NAMES[:len(a.sizes)]
    try:
        with ExitStack() as stack:
            contexts = {}
            for name, n in zip(names, a.sizes, strict=True):
                pods, events = generate(n)
                api = stack.enter_context(FakeAPIServer(pods, events, token=f"token-{name}", latency=a.latency, tls=cert))
                api.cache_responses = True
                contexts[name] = {"server": api.url, "token": f"token-{name}", "ca_pem": ca.cert_pem.bytes()}
                del pods, events
            contexts["gone"] = {"server": dead_url().replace("http:", "https:"), "token": "token-gone",
                                "ca_pem": ca.cert_pem.bytes()}
            cfg = fleet_kubeconfig(work / "config", contexts, current=names[0])
            env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "KUBECONFIG": str(cfg), "NO_COLOR": "1",
                   "COLUMNS": "120"}
            singles = {name: [probectl, "scan", "-A", "--context", name, "-o", "json"] for name in names}
            fleet = [probectl, "scan", "--all-contexts", "-A", "-o", "json", "--parallel", str(a.parallel)]
            # warm-up (page cache, the servers' answer caches), and the check that the fleet
            # gives each context exactly its own scan's findings
            found = {n: json.loads(run_once(cmd, env, (0, 1))[2])["items"] for n, cmd in singles.items()}
            doc = json.loads(run_once(fleet, env, (3,))[2])
            strip = lambda items: [{k: v for k, v in i.items() if k not in ("context", "asOf")} for i in items]  # noqa: E731
            for n in names:
                assert strip([i for i in doc["items"] if i["context"] == n]) == strip(found[n]), n
            assert [c["status"] for c in doc["contexts"] if c["name"] == "gone"] == ["error"]
            seq_wall, seq_rss, per = [], [], {n: ([], []) for n in names}
            fl_wall, fl_rss = [], []
            for _ in range(a.runs):  # interleaved, so a busy moment of the machine hits both
                total, peak = 0.0, 0.0
                for n, cmd in singles.items():
                    w, m, _ = run_once(cmd, env, (0, 1))
                    per[n][0].append(w)
                    per[n][1].append(m)
                    total, peak = total + w, max(peak, m or 0)
                seq_wall.append(total)
                seq_rss.append(peak or None)
                w, m, _ = run_once(fleet, env, (3,))
                fl_wall.append(w)
                fl_rss.append(m)
                print(f"  run: sequential {total:.3f} s, fleet {w:.3f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [(f"probectl scan -A --context {n} -o json ({s} pods)", _med(per[n][0]), _mb(per[n][1]))
            for n, s in zip(names, a.sizes, strict=True)]
    rows.append(("sequential loop of the single scans (sum; peak = the largest)", _med(seq_wall), _mb(seq_rss)))
    rows.append((f"probectl scan --all-contexts -A -o json ({' + '.join(map(str, a.sizes))} pods and a dead context)",
                 _med(fl_wall), _mb(fl_rss)))
    ratio_t = statistics.median(fl_wall) / statistics.median(seq_wall)
    rss_f = [x for x in fl_rss if x is not None]
    rss_s = [x for x in seq_rss if x is not None]
    ratio_m = statistics.median(rss_f) / statistics.median(rss_s) if rss_f and rss_s else None
    verdict = (f"fleet / sequential: wall {ratio_t:.2f}x (goal ≤ 0.8x), peak RSS "
               + (f"{ratio_m:.2f}x" if ratio_m is not None else "-") + " of the largest single scan (goal ≤ 1.5x)")
    if a.markdown:
        print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; {a.runs} runs each "
              f"(after a warm-up); --parallel {a.parallel}; each server waits {a.latency * 1000:.0f} ms per request.\n")
        print("| command | wall time: median (min–max) | peak RSS |")
        print("|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print(f"\n{verdict}")
    else:
        for r in rows:
            print("  ".join(f"{c:<28}" if i else f"{c:<90}" for i, c in enumerate(r)))
        print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
