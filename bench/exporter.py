"""`probectl exporter` under churn: time to ready, memory as pods come and go, scrape time.

    python bench/exporter.py --pods 10000 --rounds 20 --churn 0.1 --markdown

Serves a generated cluster (bench/gencluster.py) from the evolving stand-in API server
(tests/evolving.py: real watches from resourceVersion), starts the installed command
with --listen on 127.0.0.1, then in each round deletes a share of the pods, creates as
many new ones (new uids, some failing with their events), OOM-kills a few running pods,
and reads the exporter's RSS (/proc) and /metrics. Memory should follow the number of
live pods, not the number of rounds: that is what "flat over hours" means here.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.gencluster import generate  # noqa: E402
from tests.builders import running, terminated  # noqa: E402
from tests.evolving import EvolvingAPIServer  # noqa: E402
from tests.kube import kubeconfig  # noqa: E402


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def scrape(addr: str) -> tuple[float, dict[str, float]]:
    t = time.perf_counter()
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=30) as r:
        body = r.read().decode()
    took = time.perf_counter() - t
    values: dict[str, float] = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            values[name] = values.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return took, values


def wait_ready(addr: str, proc, timeout: float = 600) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"exporter exited: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://{addr}/readyz", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("exporter never ready")


def fresh(template: dict, i: int) -> dict:
    """A new replica: a new uid and name, containers just started (restartCount 0)."""
    p = copy.deepcopy(template)
    p["metadata"]["uid"] = str(uuid.uuid4())
    for st in p["status"]["containerStatuses"]:
        st.update(state=running(5), lastState={}, restartCount=0, ready=True)
    p["metadata"]["name"] = p["metadata"]["name"].rsplit("-", 1)[0] + f"-n{i:05d}"
    return p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--churn", type=float, default=0.1, help="share of the pods replaced per round")
    ap.add_argument("--ooms", type=int, default=20, help="running pods OOM-killed per round")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    pods, events = generate(args.pods)
    with EvolvingAPIServer(pods, events, token="t0ken") as api, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "KUBECONFIG"}
        env["KUBECONFIG"] = str(kubeconfig(__import__("pathlib").Path(tmp) / "kubeconfig", server=api.url, token="t0ken"))
        env["HOME"] = tmp
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            addr = f"127.0.0.1:{s.getsockname()[1]}"
        exe = os.path.join(os.path.dirname(sys.executable), "probectl")
        proc = subprocess.Popen([exe, "exporter", "--listen", addr], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            ready = wait_ready(addr, proc)
            rows = [("ready", 0, len(api.pods), rss_mb(proc.pid), *scrape(addr))]
            serial, counted = 0, 0
            for r in range(1, args.rounds + 1):
                live = [p for p in api.pods]
                for p in live[: int(len(live) * args.churn)]:
                    api.apply("pods", "DELETED", p)
                for p in live[: int(len(live) * args.churn)]:
                    serial += 1
                    api.apply("pods", "ADDED", fresh(p, serial))
                healthy = [p for p in api.pods if p["status"]["containerStatuses"][0].get("ready")]
                for p in healthy[: args.ooms]:
                    q = copy.deepcopy(p)
                    st = q["status"]["containerStatuses"][0]
                    st["lastState"] = terminated(137, "OOMKilled", 600, 3)
                    st["lastState"]["terminated"]["containerID"] = f"containerd://{uuid.uuid4().hex}"
                    st["state"], st["restartCount"] = running(1), st["restartCount"] + 1
                    api.apply("pods", "MODIFIED", q)
                    counted += 1
                time.sleep(5)  # the watch catches up; terminations settle (3 s)
                took, values = scrape(addr)
                rows.append((f"round {r}", r, int(values.get("probectl_exporter_pods", 0)), rss_mb(proc.pid), took, values))
            _, values = scrape(addr)
        finally:
            proc.terminate()
            proc.wait(30)
    got = values.get("probectl_container_restarts_total", 0)
    head = (f"{args.pods} pods, {args.rounds} rounds replacing {args.churn:.0%} of the pods and OOM-killing "
            f"{args.ooms} each; Python {platform.python_version()}, {os.cpu_count()} cores")
    if args.markdown:
        print(head + "\n")
        print(f"Ready (first lists, every pod judged) after {ready:.2f} s.\n")
        print("| after | pods tracked | RSS | /metrics scrape |")
        print("|---|---|---|---|")
        for name, _, n, rss, took, _ in rows:
            print(f"| {name} | {n} | {rss:.0f} MB | {took * 1000:.0f} ms |")
        print(f"\nRestarts counted: {got:.0f} of {counted} OOM kills made (each once).")
    else:
        print(head)
        print(f"ready after {ready:.2f} s")
        for name, _, n, rss, took, _ in rows:
            print(f"{name:>10}  pods {n:6d}  rss {rss:6.0f} MB  scrape {took * 1000:5.0f} ms")
        print(f"restarts counted {got:.0f} / {counted}")
    return 0 if got == counted else 1


if __name__ == "__main__":
    sys.exit(main())
