#!/usr/bin/env python3
"""API benchmarks: `probectl why` and `probectl scan` against a local stand-in API server
serving a generated cluster, side by side with the kubectl commands that fetch the same
data, plus offline `scan -f` over the files kubectl writes (`get -o json` and a
`cluster-info dump` directory).

Medians over --runs runs with min and max; wall time, peak RSS (of the measured process)
and the number of API requests. Everything runs on 127.0.0.1.

    python bench/api.py --pods 10000 --runs 3 --markdown
    python bench/api.py --pods 50000 --runs 1 --kubectl-max 0 --markdown   # big: once, without kubectl
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.gencluster import generate, generate_workloads, write_dump, write_list  # noqa: E402
from tests.apiserver import FakeAPIServer  # noqa: E402
from tests.kube import kubeconfig  # noqa: E402

TIME = shutil.which("time") and "/usr/bin/time"


def measure(cmd: list[str], env: dict, server: FakeAPIServer | None, runs: int) -> dict:
    """Run `cmd` `runs` times; wall seconds, peak RSS in MB and requests per run."""
    walls, rss, reqs = [], [], []
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm-up: caches, page cache
    for _ in range(runs):
        if server:
            server.requests.clear()
        full = [TIME, "-f", "RSS_KB=%M", *cmd] if TIME else cmd
        t0 = time.perf_counter()
        r = subprocess.run(full, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t0)
        if r.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-500:]}")
        kb = [line for line in r.stderr.splitlines() if line.startswith("RSS_KB=")]
        if kb:
            rss.append(int(kb[-1].split("=")[1]) / 1024)
        if server:
            reqs.append(len(server.requests))
    return {"wall": walls, "rss": rss, "requests": reqs}


def fmt(m: dict) -> tuple[str, str, str]:
    w = m["wall"]
    wall = f"{statistics.median(w):.3f} s ({min(w):.3f}–{max(w):.3f})"
    rss = f"{statistics.median(m['rss']):.0f} MB" if m["rss"] else "-"
    req = str(int(statistics.median(m["requests"]))) if m["requests"] else "-"
    return wall, rss, req


def _versions(kubectl: str | None) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in ("probectl", "orjson", "kubernetes", "requests"):
        try:
            out.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            out.append(f"no {dist}")
    if kubectl:
        r = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True)
        line = next((x for x in r.stdout.splitlines() if x.startswith("Client Version")), "")
        out.append("kubectl " + line.split(":", 1)[-1].strip())
    return ", ".join(out)


TRACEBACK = [
    "2026-11-20 09:59:58,100 INFO starting worker",
    "Traceback (most recent call last):",
    '  File "/app/worker.py", line 12, in main',
    '    dsn = os.environ["DATABASE_URL"]',
    '  File "<frozen os>", line 679, in __getitem__',
    "KeyError: 'DATABASE_URL'",
]


def _crash_logs(pods: list[dict]) -> dict:
    """App errors lose their termination message (the log is then where to look) and get a
    Python traceback as their previous instance's log."""
    logs = {}
    for p in pods:
        st = p["status"]["containerStatuses"][0]
        term = (st.get("lastState") or {}).get("terminated") or {}
        if term.get("exitCode") == 1:
            term.pop("message", None)
            logs[(p["metadata"]["namespace"], p["metadata"]["name"], "app", True)] = TRACEBACK
    return logs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.002, help="seconds the server waits per request")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--no-kubectl", action="store_true")
    ap.add_argument("--kubectl-max", type=int, default=10000, help="run kubectl only for clusters up to this many pods")
    ap.add_argument("--no-offline", action="store_true", help="skip the offline scan -f rows")
    ap.add_argument("--crash-logs", action="store_true",
                    help="app errors without a termination message, their logs served: what reading logs costs")
    ap.add_argument("--workloads", action="store_true",
                    help="also serve the pods' Deployments (scan's workload pass, issue 27: what it costs)")
    ap.add_argument("--no-why-workload", action="store_true", help="skip `why deploy/NAME` (versions without it)")
    ap.add_argument("--probectl", default="", help="the probectl command to measure, e.g. 'python -m probectl'")
    ap.add_argument("--pythonpath", default="", help="PYTHONPATH for it (a checkout of an older version)")
    a = ap.parse_args()

    import shlex

    probectl = shlex.split(a.probectl) if a.probectl else [
        shutil.which("probectl") or os.path.join(os.path.dirname(sys.executable), "probectl")]
    kubectl = None if a.no_kubectl else shutil.which("kubectl")
    rows: list[tuple[str, ...]] = []
    work = tempfile.mkdtemp(prefix="probectl-bench-")
    import trustme  # the test extra: pip install -e '.[test]'

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    for n in a.pods:
        pods, events = generate(n)
        failing = next(p for p in pods if p["status"]["containerStatuses"][0]["restartCount"])
        name, ns = failing["metadata"]["name"], failing["metadata"]["namespace"]
        logs = _crash_logs(pods) if a.crash_logs else {}
        # TLS, as a real API server: kubectl sends no bearer token over plain HTTP
        workloads = generate_workloads(pods) if a.workloads else []
        with FakeAPIServer(pods, events, token="bench-token", latency=a.latency, tls=server_cert, logs=logs,
                           workloads=workloads) as api:
            api.cache_responses = True
            home = os.path.join(work, f"home{n}")
            os.makedirs(home, exist_ok=True)
            from pathlib import Path

            cfg = kubeconfig(Path(home) / "config", server=api.url, token="bench-token", namespace="default",
                             ca_pem=ca.cert_pem.bytes())
            env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "KUBECONFIG": str(cfg), "NO_COLOR": "1", "COLUMNS": "120"}
            if a.pythonpath:
                env["PYTHONPATH"] = a.pythonpath
            cases = [
                (f"probectl why POD ({n} pods)", [*probectl, "why", name, "-n", ns]),
                (f"probectl scan -A -o json ({n} pods)", [*probectl, "scan", "-A", "-o", "json"]),
                (f"probectl scan -A, table ({n} pods)", [*probectl, "scan", "-A"]),
            ]
            if workloads and not a.no_why_workload:
                stuck = workloads[0]["metadata"]  # generate_workloads: the first is past its deadline
                cases.insert(1, (f"probectl why deploy/NAME ({n} pods)",
                                 [*probectl, "why", f"deploy/{stuck['name']}", "-n", stuck["namespace"], "--no-logs"]))
            if logs:
                ans, aname = next(iter(logs))[:2]
                cases = [
                    (f"probectl why APP-ERROR-POD: 1 log read ({n} pods)", [*probectl, "why", aname, "-n", ans]),
                    (f"probectl why APP-ERROR-POD --no-logs ({n} pods)", [*probectl, "why", aname, "-n", ans, "--no-logs"]),
                    (f"probectl scan -A -o json: a log read per unexplained group, at most 20 ({n} pods)",
                     [*probectl, "scan", "-A", "-o", "json"]),
                    (f"probectl scan -A -o json --no-logs ({n} pods)", [*probectl, "scan", "-A", "-o", "json", "--no-logs"]),
                ]
            elif kubectl and n <= a.kubectl_max:
                subprocess.run([kubectl, "get", "--raw", "/api"], env=env, capture_output=True)  # warm discovery cache
                cases.insert(1, (f"kubectl describe pod POD ({n} pods)", [kubectl, "describe", "pod", name, "-n", ns]))
                cases += [(f"kubectl get pods -A -o json ({n} pods)", [kubectl, "get", "pods", "-A", "-o", "json"]),
                          (f"kubectl get events -A -o json ({n} pods)", [kubectl, "get", "events", "-A", "-o", "json"])]
            for label, cmd in cases:
                rows.append((label, *fmt(measure(cmd, env, api, a.runs))))
                print(f"  done: {label}", file=sys.stderr)
        if a.no_offline:
            continue
        env = {"PATH": os.environ.get("PATH", ""), "HOME": work, "NO_COLOR": "1", "COLUMNS": "120"}
        # what `kubectl get pods -A -o json > pods.json` and `kubectl get events -A -o json` write
        files = [os.path.join(work, f"pods{n}.json"), os.path.join(work, f"events{n}.json")]
        write_list(files[0], pods, "Pod")
        write_list(files[1], events, "Event")
        mb = sum(os.path.getsize(f) for f in files) / 2**20
        rows.append((f"probectl scan -f pods.json -f events.json -A -o json ({n} pods, {mb:.0f} MB of JSON)",
                     *fmt(measure([*probectl, "scan", "-f", files[0], "-f", files[1], "-A", "-o", "json"], env, None, a.runs))))
        for f in files:
            os.unlink(f)
        dump = os.path.join(work, f"dump{n}")
        write_dump(dump, pods, events)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(dump) for f in fs) / 2**20
        rows.append((f"probectl scan -f DUMP -A -o json ({n} pods, cluster-info dump, {size:.0f} MB of JSON)",
                     *fmt(measure([*probectl, "scan", "-f", dump, "-A", "-o", "json"], env, None, a.runs))))
        shutil.rmtree(dump, ignore_errors=True)
        print(f"  done: offline {n}", file=sys.stderr)
        del pods, events
    shutil.rmtree(work, ignore_errors=True)

    head = ("command", "wall time: median (min–max)", "peak RSS", "API requests")
    if a.markdown:
        print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; {_versions(kubectl)}; "
              f"{a.runs} runs each; the server waits {a.latency * 1000:.0f} ms per request.\n")
        print("| " + " | ".join(head) + " |")
        print("|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        for r in rows:
            print("  ".join(f"{c:<28}" if i else f"{c:<62}" for i, c in enumerate(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
