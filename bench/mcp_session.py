#!/usr/bin/env python3
"""`probectl mcp` benchmark: the installed command driven by the MCP SDK's stdio client
against a generated cluster on the local API server (needs the mcp extra).

One session: `probectl_scan` of the whole cluster --runs times (the first run is cold: the
server serialises the pages then), `probectl_why` of a failing pod, then the same scan with
the CLI (`probectl scan -A`) for comparison. Reports wall times, the size of the answers,
the groups shown, the API requests of a call and the server process's peak RSS.

    python bench/mcp_session.py --pods 2000 --runs 3 --markdown
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

from bench.gencluster import generate  # noqa: E402
from tests.apiserver import FakeAPIServer  # noqa: E402
from tests.kube import kubeconfig  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()

    import json

    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    exe = os.path.join(os.path.dirname(sys.executable), "probectl")
    pods, events = generate(a.pods)
    failing = next(p["metadata"] for p in pods if p["status"]["containerStatuses"][0]["restartCount"])
    tmp = tempfile.mkdtemp()
    timer = shutil.which("time") and "/usr/bin/time"
    rows = []
    with FakeAPIServer(pods, events) as api:
        api.cache_responses = True
        env = {"KUBECONFIG": str(kubeconfig(__import__("pathlib").Path(tmp) / "kubeconfig", server=api.url,
                                             token="t0ken")), "HOME": tmp, "PATH": os.environ.get("PATH", "")}
        command, args = (timer, ["-f", "RSS_KB=%M", exe, "mcp"]) if timer else (exe, ["mcp"])
        errlog = os.path.join(tmp, "stderr.txt")

        async def session():
            out = {"scan": [], "why": None}
            with open(errlog, "w") as err:
                t0 = time.perf_counter()
                async with Client(stdio_client(StdioServerParameters(command=command, args=args, env=env),
                                               errlog=err)) as c:
                    await c.list_tools()
                    out["start"] = time.perf_counter() - t0
                    for _ in range(a.runs):
                        api.requests.clear()
                        t = time.perf_counter()
                        r = await c.call_tool("probectl_scan", {"all_namespaces": True})
                        out["scan"].append((time.perf_counter() - t, r, len(api.requests)))
                    api.requests.clear()
                    t = time.perf_counter()
                    r = await c.call_tool("probectl_why", {"pod": failing["name"], "namespace": failing["namespace"]})
                    out["why"] = (time.perf_counter() - t, r, len(api.requests))
            return out

        out = anyio.run(session)
        t = time.perf_counter()
        cli = subprocess.run([exe, "scan", "-A"], env=env, capture_output=True, text=True)
        cli_wall = time.perf_counter() - t
    rss = [line for line in open(errlog).read().splitlines() if line.startswith("RSS_KB=")]
    walls = [w for w, _, _ in out["scan"]]
    _, scan, scan_requests = out["scan"][-1]
    doc = json.loads(scan.content[0].text)
    why_wall, why, why_requests = out["why"]
    rows.append(("start-up and tools/list", f"{out['start']:.2f} s", "", "", ""))
    rows.append((f"probectl_scan all_namespaces ({a.runs} runs)",
                 f"{statistics.median(walls):.2f} s ({min(walls):.2f}–{max(walls):.2f}, first {walls[0]:.2f})",
                 f"{len(scan.content[0].text):,} text / {len(scan.model_dump_json()):,} result",
                 str(scan_requests), f"{doc['groupsShown']} of {doc['groupsTotal']} groups"))
    rows.append(("probectl_why of a failing pod", f"{why_wall:.2f} s", f"{len(why.content[0].text):,} text", str(why_requests), ""))
    rows.append(("probectl scan -A (the CLI, for comparison)", f"{cli_wall:.2f} s", f"{len(cli.stdout):,} table", "", ""))
    peak = f"{int(rss[-1].split('=')[1]) / 1024:.0f} MB" if rss else "-"
    if a.markdown:
        print(f"{a.pods:,} pods, {len(events):,} events; Python {platform.python_version()}, {os.cpu_count()} cores; "
              f"peak RSS of the server process over the session: {peak}\n")
        print("| call | wall | answer (characters) | API requests | groups |\n|---|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        for r in rows:
            print("  ".join(x for x in r if x))
        print(f"peak RSS {peak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
