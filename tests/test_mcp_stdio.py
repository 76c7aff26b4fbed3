"""The acceptance run of `probectl mcp` (issue 23, "Done when"): the installed command driven
by the MCP SDK's stdio client against a 2,000-pod cluster on the local API server."""

from __future__ import annotations

import json
import subprocess

import pytest

pytest.importorskip("mcp.server.mcpserver")

from tests.conftest import ROOT, probectl_exe  # noqa: E402
from tests.kube import kubeconfig  # noqa: E402
from tests.mcp_support import RecordingAPIServer, doc, text  # noqa: E402
from tests.test_mcp import TOOLS, same_moment  # noqa: E402


@pytest.fixture
def env(tmp_path, clean_env):
    e = {k: v for k, v in clean_env.items() if "proxy" not in k.lower() and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    e["HOME"] = str(tmp_path / "home")
    e["NO_COLOR"] = "1"
    return e


def test_stdio_against_2000_pods(tmp_path, env, live_now):
    import sys

    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    sys.path.insert(0, str(ROOT / "bench"))
    from gencluster import generate

    pods, events = generate(2000)
    failing = [p["metadata"] for p in pods if p["status"]["containerStatuses"][0]["restartCount"]][:3]
    errlog = tmp_path / "stderr.txt"
    with RecordingAPIServer(pods, events) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        params = StdioServerParameters(command=probectl_exe(), args=["mcp"], env=env)

        async def session():
            with open(errlog, "w") as err:
                async with Client(stdio_client(params, errlog=err)) as c:
                    tools = (await c.list_tools()).tools
                    whys = [await c.call_tool("probectl_why", {"pod": m["name"], "namespace": m["namespace"]})
                            for m in failing]
                    scan = await c.call_tool("probectl_scan", {"all_namespaces": True})
                    unknown = await c.call_tool("probectl_why", {"pod": "no-such-pod", "namespace": "shop"})
                    after = await c.call_tool("probectl_exitcode", {"code": 143})
                    again = await c.call_tool("probectl_why", {"pod": failing[0]["name"], "namespace": failing[0]["namespace"]})
                    return tools, whys, scan, unknown, after, again

        tools, whys, scan, unknown, after, again = anyio.run(session)
        methods = set(api.methods)
        for m, r in zip(failing, whys, strict=True):
            cli = subprocess.run([probectl_exe(), "why", m["name"], "-n", m["namespace"], "-o", "json"],
                                 capture_output=True, text=True, env=env, timeout=120)
            assert cli.returncode == 1, cli.stderr
            assert same_moment(text(r)) == same_moment(cli.stdout)

    assert {t.name for t in tools} == TOOLS
    assert all(t.annotations.read_only_hint and t.description for t in tools)
    assert len(scan.model_dump_json()) <= 40_000 and len(text(scan)) <= 30_000
    d = doc(scan)
    assert d["summary"]["podsExamined"] == 2000 and d["groupsLeftOut"] > 0
    assert unknown.is_error and text(unknown).startswith('probectl: error: pod "no-such-pod" not found in namespace "shop"')
    assert doc(after)["signal"] == "SIGTERM" and doc(again)["cause"] == json.loads(text(whys[0]))["cause"]
    assert methods == {"GET"}
    log = errlog.read_text()
    assert "Traceback" not in log
    assert "probectl mcp: INFO: probectl_why: probectl: error: pod \"no-such-pod\"" in log  # logs on stderr
