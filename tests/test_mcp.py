"""`probectl mcp`: the four tools through the MCP SDK's own client (in-process), against the
local API server: same engine and same JSON as the commands, bounded answers, errors as
tool errors after which the server still answers, GET requests only."""

from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("mcp.server.mcpserver")

from probectl.mcp_server import SCAN_BUDGET, Settings, build_server  # noqa: E402
from tests.builders import event, pod, spec, status, terminated  # noqa: E402
from tests.kube import isolate_env, kubeconfig  # noqa: E402
from tests.mcp_support import RecordingAPIServer, doc, run_client, text  # noqa: E402
from tests.scan_fixtures import small_cluster  # noqa: E402
from tests.scenarios import BY_NAME  # noqa: E402

OOM = BY_NAME["oom_killed_crashloop"]
# failing whatever the clock (the scenarios' times are fixed; the live commands judge by now)
FAILING = ["oom_killed_crashloop", "liveness_exit_143", "app_error_exit_1", "image_pull_backoff",
           "unschedulable_insufficient_memory", "readiness_failing", "init_container_failing"]


def same_moment(text: str) -> str:
    """The document with what depends on the moment of reading blanked: its `asOf` and the
    ages in its sentences ("until 45s ago", "for 2m10s"), which two reads a moment apart
    may say a second apart. Everything else must be the same, byte for byte."""
    import re

    text = re.sub(r'"asOf": "[^"]*"', '"asOf": "-"', text)
    return re.sub(r"\b\d+(?:ms|s|m|h|d)(?:\d+(?:s|m|h))*\b", "<age>", text)
TOOLS = {"probectl_why", "probectl_scan", "probectl_exitcode", "probectl_lint"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    return tmp_path


def serve(api, home, **kw) -> tuple:
    kc = str(kubeconfig(home / "kubeconfig", server=api.url, token="t0ken"))
    return build_server(Settings(kubeconfig=kc, **kw)), kc


def test_lists_four_described_read_only_tools(home):
    with RecordingAPIServer([], []) as api:
        server, _ = serve(api, home)
        tools = run_client(server, lambda c: c.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    for t in tools:
        assert t.annotations.read_only_hint is True and t.annotations.destructive_hint is False, t.name
        assert len(t.description) > 200, t.name  # written for a model: what, when, the fields
    schema = {t.name: t.input_schema for t in tools}
    assert schema["probectl_why"]["required"] == ["pod"]
    assert set(schema["probectl_why"]["properties"]) == {"pod", "namespace", "logs"}
    assert set(schema["probectl_scan"]["properties"]) == {"namespace", "all_namespaces", "selector", "include_history"}
    assert set(schema["probectl_lint"]["properties"]) == {"manifest", "path"}
    assert schema["probectl_exitcode"]["required"] == ["code"]
    assert api.requests == []  # listing tools asks nothing of the cluster


@pytest.mark.parametrize("name", FAILING)
def test_why_is_the_document_why_prints(name, home, cli):
    sc = BY_NAME[name]
    p = sc.pod
    ns, pod_name = p["metadata"]["namespace"], p["metadata"]["name"]
    logs = {(ns, pod_name, c["name"], prev): ["starting", "panic: runtime error: invalid memory address"]
            for c in p["spec"]["containers"] for prev in (True, False)}
    with RecordingAPIServer([p], sc.events, logs=logs) as api:
        server, kc = serve(api, home)
        result = run_client(server, lambda c: c.call_tool("probectl_why", {"pod": pod_name, "namespace": ns}))
        mcp_requests = len(api.requests)
        status_, out, err = cli("why", pod_name, "-n", ns, "--kubeconfig", kc, "-o", "json")
    assert status_ == 1, err
    assert not result.is_error
    assert same_moment(text(result)) == same_moment(out)  # the same text, byte for byte
    assert json.loads(out)["cause"] not in ("healthy", "completed")
    assert mcp_requests * 2 == len(api.requests)  # the same requests as the command
    assert set(api.methods) == {"GET"}


def test_why_of_a_workload_and_without_logs(home, cli):
    pods, events = small_cluster()
    with RecordingAPIServer(pods, events) as api:
        server, kc = serve(api, home)

        async def steps(c):
            workload = await c.call_tool("probectl_why", {"pod": "checkout", "namespace": "shop"})
            unknown = await c.call_tool("probectl_why", {"pod": "web-7f9c6d8b5-" + "x", "namespace": "shop"})
            api.requests.clear()
            no_logs = await c.call_tool("probectl_why", {"pod": "kube-proxy-9zt4w", "namespace": "kube-system",
                                                         "logs": False})
            without = [p for p, _, _ in api.requests]
            api.requests.clear()
            with_logs = await c.call_tool("probectl_why", {"pod": "kube-proxy-9zt4w", "namespace": "kube-system"})
            return workload, unknown, no_logs, without, with_logs, [p for p, _, _ in api.requests]

        workload, unknown, no_logs, without, with_logs, asked = run_client(server, steps)
        _, out, _ = cli("why", "checkout", "-n", "shop", "--kubeconfig", kc, "-o", "json")
        assert same_moment(text(workload)) == same_moment(out)
        assert json.loads(out)["kind"] == "List" and len(json.loads(out)["items"]) == 3
        assert unknown.is_error
        assert doc(no_logs)["cause"] == doc(with_logs)["cause"] == "app-error" and len(asked) == 3
        assert not any(p.endswith("/log") for p in without) and len(without) == 2  # the pod, its events
        assert asked[-1].endswith("/kube-proxy-9zt4w/log")  # the crash log, as why reads it


def test_unknown_pod_is_a_tool_error_then_the_server_still_answers(home, cli):
    with RecordingAPIServer([OOM.pod], OOM.events) as api:
        server, kc = serve(api, home)

        async def steps(c):
            return (await c.call_tool("probectl_why", {"pod": "web-7f9c6d8b5-x2lqq"}),
                    await c.call_tool("probectl_why", {"pod": OOM.pod["metadata"]["name"]}))

        unknown, known = run_client(server, steps)
        _, out, err = cli("why", "web-7f9c6d8b5-x2lqq", "--kubeconfig", kc)
    assert unknown.is_error
    assert text(unknown) + "\n" == err  # the line the CLI prints, word for word
    assert "did you mean web-7f9c6d8b5-x2lqz" in err
    assert doc(known)["cause"] == "oom-killed"
    assert set(api.methods) == {"GET"}


def test_forbidden_namespace_is_a_tool_error(home, cli):
    pods, events = small_cluster()
    with RecordingAPIServer(pods, events) as api:
        api.forbidden_namespaces = {"kube-system"}
        server, kc = serve(api, home)

        async def steps(c):
            return (await c.call_tool("probectl_why", {"pod": "kube-proxy-9zt4w", "namespace": "kube-system"}),
                    await c.call_tool("probectl_scan", {"namespace": "kube-system"}),
                    await c.call_tool("probectl_scan", {"namespace": "shop"}))

        why, scan, shop = run_client(server, steps)
        _, _, why_err = cli("why", "kube-proxy-9zt4w", "-n", "kube-system", "--kubeconfig", kc)
        _, _, scan_err = cli("scan", "-n", "kube-system", "--kubeconfig", kc)
    assert why.is_error and text(why) + "\n" == why_err
    assert scan.is_error and text(scan) + "\n" == scan_err
    assert 'cannot get resource "pods" in API group "" in the namespace "kube-system"' in text(why)
    assert "forbidden" in text(scan) and "\n" not in text(scan)
    assert doc(shop)["groupsTotal"] >= 1  # and the server goes on


def test_unreachable_api_server_is_a_tool_error(home, cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kc = str(kubeconfig(home / "kubeconfig", server=f"https://127.0.0.1:{port}", token="t0ken"))
    server = build_server(Settings(kubeconfig=kc, request_timeout="2s"))

    async def steps(c):
        return (await c.call_tool("probectl_scan", {}), await c.call_tool("probectl_why", {"pod": "x"}),
                await c.call_tool("probectl_exitcode", {"code": 137}))

    scan, why, code = run_client(server, steps)
    _, _, err = cli("why", "x", "--kubeconfig", kc, "--request-timeout", "2s")
    for r in (scan, why):
        assert r.is_error and "connection refused" in text(r) and f"127.0.0.1:{port}" in text(r)
    assert text(why) + "\n" == err
    assert doc(code)["signal"] == "SIGKILL"


def test_missing_kubeconfig_is_a_tool_error(home):
    server = build_server(Settings(kubeconfig=str(home / "nowhere")))
    r = run_client(server, lambda c: c.call_tool("probectl_scan", {}))
    assert r.is_error and text(r).startswith("probectl: error: ") and "nowhere" in text(r)


def test_scan_groups_as_the_table_groups(home, cli):
    pods, events = small_cluster()
    with RecordingAPIServer(pods, events) as api:
        server, kc = serve(api, home)
        d = doc(run_client(server, lambda c: c.call_tool("probectl_scan", {"all_namespaces": True})))
        mcp_requests = sorted(p for p, _, _ in api.requests)
        api.requests.clear()
        _, table, _ = cli("scan", "-A", "--kubeconfig", kc)
        assert mcp_requests == sorted(p for p, _, _ in api.requests)  # the command's requests, logs included
    assert d["kind"] == "ScanGroups" and d["groupsLeftOut"] == 0
    web = d["groups"][0]
    assert (web["cause"], web["workload"], web["container"], web["pods"]) == ("oom-killed", "Deployment/web", "api", 40)
    assert web["restarts"] == 280 and web["exitCodes"] == ["137 SIGKILL"] and web["examplePod"].startswith("web-")
    assert web["evidence"] and web["nextSteps"]  # the first groups carry their example's evidence
    assert d["summary"]["podsWithFindings"] == sum(g["pods"] for g in d["groups"])
    for g in d["groups"]:  # every group is a line of the table, in the table's order
        assert f"{g['namespace']}/{g['workload'] or 'pod/' + g['examplePod']}, container {g['container']}" in table
    order = [table.index(f"{g['namespace']}/{g['workload'] or 'pod/' + g['examplePod']}, container") for g in d["groups"]]
    assert order == sorted(order)
    assert set(api.methods) == {"GET"}


def test_scan_of_a_namespace_with_a_selector_and_history(home):
    pods, events = small_cluster()
    with RecordingAPIServer(pods, events) as api:
        server, _ = serve(api, home, namespace="kube-system")

        async def steps(c):
            return (await c.call_tool("probectl_scan", {}),
                    await c.call_tool("probectl_scan", {"namespace": "shop", "include_history": True}),
                    await c.call_tool("probectl_scan", {"namespace": "shop", "selector": "app=checkout"}))

        default_ns, history, selected = map(doc, run_client(server, steps))
    assert [g["workload"] for g in default_ns["groups"]] == ["DaemonSet/kube-proxy"]
    assert history["restartedEarlier"][0]["examplePod"] == "cache-5f6d7c8b9-old01"
    assert [g["workload"] for g in selected["groups"]] == ["Deployment/checkout"]
    assert any(q.get("labelSelector") == "app=checkout" for _, q, _ in api.requests)


def test_scan_of_2000_pods_stays_bounded(home, live_now):
    sys.path.insert(0, str(__import__("tests.conftest").conftest.ROOT / "bench"))
    from gencluster import generate

    pods, events = generate(2000)
    with RecordingAPIServer(pods, events) as api:
        server, _ = serve(api, home)

        async def steps(c):
            return (await c.call_tool("probectl_scan", {"all_namespaces": True}),
                    await c.call_tool("probectl_scan", {"namespace": "payments"}))

        everything, one = run_client(server, steps)
    t = text(everything)
    assert len(t) <= SCAN_BUDGET
    d = json.loads(t)
    assert d["summary"]["podsExamined"] == 2000 and d["summary"]["podsWithFindings"] == 400
    assert d["groupsLeftOut"] > 0 and d["groupsShown"] == len(d["groups"]) > 20
    assert sum(g["pods"] for g in d["groups"]) + d["podsLeftOut"] == 400
    assert "namespace" in d["narrow"] and "selector" in d["narrow"]
    assert sum(d["leftOutByNamespace"].values()) == d["groupsLeftOut"]
    narrowed = doc(one)
    assert {g["namespace"] for g in narrowed["groups"]} == {"payments"} or narrowed["groupsTotal"] == 0
    assert set(api.methods) == {"GET"}
    pages = [q for p, q, _ in api.requests if p == "/api/v1/pods"]
    assert len(pages) == 4  # 2,000 pods in pages of 500, not a request per pod


def test_exitcode_is_the_document_exitcode_prints(home, cli):
    server = build_server(Settings())

    async def steps(c):
        return [await c.call_tool("probectl_exitcode", {"code": code}) for code in (137, "0xC0000005", "SIGSEGV", "x")]

    *ok, bad = run_client(server, steps)
    for r, code in zip(ok, ("137", "0xC0000005", "SIGSEGV"), strict=True):
        assert text(r) == cli("exitcode", code, "-o", "json")[1]
    assert bad.is_error and text(bad) + "\n" == cli("exitcode", "x")[2]


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: api
        image: registry.example.com/shop/api:1.4.2
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
          failureThreshold: 1
"""


def test_lint_text_and_path(home, cli):
    path = home / "web.yaml"
    path.write_text(MANIFEST)
    server = build_server(Settings())

    async def steps(c):
        return (await c.call_tool("probectl_lint", {"manifest": MANIFEST}),
                await c.call_tool("probectl_lint", {"path": str(path)}),
                await c.call_tool("probectl_lint", {}),
                await c.call_tool("probectl_lint", {"manifest": "kind: [unclosed"}))

    from_text, from_path, neither, broken = run_client(server, steps)
    assert text(from_path) == cli("lint", "-f", str(path), "-o", "json")[1]
    items = doc(from_text)["items"]
    pl004 = next(i for i in items if i["rule"] == "PL004")
    assert (pl004["file"], pl004["line"]) == ("<manifest>", 14)  # the failureThreshold line
    assert {i["rule"] for i in items} == {i["rule"] for i in doc(from_path)["items"]}
    assert neither.is_error and "one of them" in text(neither)
    assert broken.is_error and text(broken).startswith("probectl: error: <manifest>")


def test_cluster_text_is_neutralised(home, live_now):
    p = pod("evil-7d4b9c8f6-abcde", [spec("app", memory="64Mi")],
            [status("app", None, terminated(1, "Error", 30, 20, message="boom \x1b]8;;http://x\x1b\\click\u202egnp.exe"),
                    restarts=3)], ns="shop", owner=("ReplicaSet", "evil-7d4b9c8f6"))
    ev = [event(p, "BackOff", "Back-off restarting failed container app \x1b[31m\u200bred", type="Warning", container="app")]
    with RecordingAPIServer([p], ev) as api:
        server, _ = serve(api, home)

        async def steps(c):
            return (await c.call_tool("probectl_why", {"pod": "evil-7d4b9c8f6-abcde"}),
                    await c.call_tool("probectl_scan", {}))

        why, scan = run_client(server, steps)
    for r in (why, scan):
        t = text(r)
        assert not any(ch in t for ch in "\x1b\u202e\u200b\x9b"), t
    assert "\u202e" in json.dumps(doc(why), ensure_ascii=False) or "\\u202e" in text(why)  # escaped, not dropped
    assert "boom ^[]8;;http://x^[\\\\click<U+202E>gnp.exe" in text(scan)  # cleaned as the table cleans it


def test_serves_from_files(home, dump):
    server = build_server(Settings(filename=(dump,)))

    async def steps(c):
        return (await c.call_tool("probectl_scan", {"all_namespaces": True}),
                await c.call_tool("probectl_why", {"pod": "kube-proxy-9zt4w"}),
                await c.call_tool("probectl_why", {"pod": "nope"}))

    scan, why, nope = run_client(server, steps)
    assert doc(scan)["groups"][0]["pods"] == 40 and doc(scan)["summary"]["scope"]["source"] == "files"
    assert doc(why)["pod"]["namespace"] == "kube-system"
    assert nope.is_error and 'pod "nope" not found in the input' in text(nope)


def test_without_the_extra_says_how_to_install(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)  # as if the SDK were not installed
    status_, out, err = cli("mcp")
    assert (status_, out) == (2, "")
    assert err == "probectl: error: probectl mcp needs the MCP Python SDK 2.x: pip install 'probectl[mcp]'\n"


@pytest.mark.parametrize("args,message", [
    (["-f", "-"], "standard input carries the MCP protocol"),
    (["-f", "/nonexistent/dump"], "/nonexistent/dump: no such file or directory"),
    (["--request-timeout", "soon"], "--request-timeout 'soon'"),
])
def test_usage_errors_before_serving(cli, args, message):
    status_, out, err = cli("mcp", *args)
    assert status_ == 2 and out == "" and message in err and err.count("\n") == 1


def test_other_commands_never_import_the_sdk(tmp_path):
    import subprocess

    from tests.conftest import ROOT

    code = ("import sys, io, contextlib\nfrom probectl.cli.main import main\n"
            "for args in (['exitcode', '137'], ['--help'], ['mcp', '--help'], ['why', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n        main(args)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types', 'pydantic', 'anyio')))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_why_of_a_large_workload_stays_bounded(home, cli):
    from probectl.mcp_server import WHY_BUDGET

    pods, events = small_cluster()
    with RecordingAPIServer(pods, events) as api:
        server, kc = serve(api, home)
        r = run_client(server, lambda c: c.call_tool("probectl_why", {"pod": "web", "namespace": "shop"}))
        _, out, _ = cli("why", "web", "-n", "shop", "--kubeconfig", kc, "-o", "json")
    full = json.loads(out)
    assert len(out) > WHY_BUDGET and len(full["items"]) == 40  # the command's List: every pod
    t = text(r)
    assert len(t) <= WHY_BUDGET
    d = json.loads(t)
    assert d["kind"] == "List" and 1 <= len(d["items"]) < 40 and d["itemsLeftOut"] == 40 - len(d["items"])
    assert "probectl_why" in d["note"] and "probectl_scan" in d["note"]
    by_name = {i["pod"]["name"]: i for i in full["items"]}
    for item in d["items"]:  # each pod kept is the command's Diagnosis of it
        assert same_moment(json.dumps(item)) == same_moment(json.dumps(by_name[item["pod"]["name"]]))


def test_lint_of_many_manifests_stays_bounded(cli, tmp_path):
    from probectl.mcp_server import LINT_BUDGET

    many = "\n---\n".join(MANIFEST.replace("name: web", f"name: web{i}") for i in range(150))
    path = tmp_path / "many.yaml"
    path.write_text(many)
    server = build_server(Settings())
    r = run_client(server, lambda c: c.call_tool("probectl_lint", {"manifest": many}))
    full = json.loads(cli("lint", "-f", str(path), "-o", "json")[1])
    t = text(r)
    assert len(t) <= LINT_BUDGET < len(json.dumps(full))
    d = json.loads(t)
    assert d["itemsLeftOut"] == len(full["items"]) - len(d["items"]) > 0
    assert d["summary"]["findings"] == len(full["items"])  # the counters cover every finding
    assert [i["rule"] for i in d["items"]] == [i["rule"] for i in full["items"][:len(d["items"])]]  # worst first
    assert "left out" in d["summary"]["warnings"][-1]


def test_why_and_scan_of_a_deployment_that_cannot_create_pods(home, cli, live_now):
    """Issue 27 through MCP: probectl_why deploy/NAME is `why deploy/NAME -o json`; the scan
    has the workload's group (no pods) and counts it, as `probectl scan` does."""
    from tests import rollouts

    r = rollouts.deploy_webhook_first_install()
    with RecordingAPIServer(r.pods, r.events, workloads=[r.workload, *r.jobs, *r.replicasets]) as api:
        server, kc = serve(api, home)

        async def steps(c):
            return (await c.call_tool("probectl_why", {"pod": "deploy/web", "namespace": "shop"}),
                    await c.call_tool("probectl_scan", {"namespace": "shop"}))

        why, scan = run_client(server, steps)
        _, out, _ = cli("why", "deploy/web", "-n", "shop", "--kubeconfig", kc, "-o", "json")
    assert not why.is_error and json.loads(out)["kind"] == "WorkloadDiagnosis"
    assert same_moment(text(why)) == same_moment(out)
    d = doc(scan)
    assert [(g["cause"], g["workload"], g["pods"], g["examplePod"]) for g in d["groups"]] == [
        ("create-refused", "Deployment/web", 0, None)]
    assert d["summary"]["workloadsWithFindings"] == 1
