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


def test_stdout_carries_only_the_protocol(tmp_path, env):
    """Raw JSON-RPC on the installed command: every line on stdout is a protocol message
    (loading the kubeconfig and reading the cluster print nothing there), the logs are on
    stderr, and closing stdin ends the server with status 0."""
    from tests.scenarios import BY_NAME

    oom = BY_NAME["oom_killed_crashloop"]
    name = oom.pod["metadata"]["name"]
    with RecordingAPIServer([oom.pod], oom.events) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        messages = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "probectl_why", "arguments": {"pod": name}}},
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "probectl_why", "arguments": {"pod": "nope"}}},
            {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "probectl_scan", "arguments": {}}},
        ]
        proc = subprocess.Popen([probectl_exe(), "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=(tmp_path / "stderr.txt").open("w"), text=True, env=env)
        try:
            proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
            proc.stdin.flush()
            answers = []
            while len([a for a in answers if "id" in a]) < 5:  # then the client hangs up
                line = proc.stdout.readline()
                assert line, "the server closed stdout early"
                answers.append(json.loads(line))  # nothing but JSON-RPC
            proc.stdin.close()
            rest = proc.stdout.read()
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert rest == ""
    assert all(a.get("jsonrpc") == "2.0" for a in answers)
    by_id = {a["id"]: a for a in answers if "id" in a}
    assert set(by_id) == {1, 2, 3, 4, 5}
    assert len(by_id[2]["result"]["tools"]) == 4
    assert json.loads(by_id[3]["result"]["content"][0]["text"])["cause"] == "oom-killed"
    assert by_id[4]["result"]["isError"] is True
    assert json.loads(by_id[5]["result"]["content"][0]["text"])["groupsTotal"] == 1
    assert "Traceback" not in stderr and "serving 4 tools over stdio" in stderr
    assert set(api.methods) == {"GET"}


def test_ctrl_c_exits_130_without_a_traceback(env):
    import signal

    proc = subprocess.Popen([probectl_exe(), "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stderr.readline()  # serving: the SDK is loaded and reading stdin
        assert "serving 4 tools over stdio" in first
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert out == "" and "Traceback" not in err
