"""`probectl scan --all-contexts` / `--contexts`: several local API servers (one gone, one
answering 401) behind one kubeconfig, as a platform team's merged kubeconfig has them."""

from __future__ import annotations

import json
import stat
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from lxml import etree

from bench.gencluster import generate
from tests.apiserver import FakeAPIServer
from tests.conftest import ROOT
from tests.fleet_helpers import dead_url, fleet_kubeconfig
from tests.kube import isolate_env

# three generated clusters of different sizes, each with its own token
SIZES = {"prod-us": 120, "prod-eu": 60, "staging": 30}


# What one context's scan asks (a page each): its pods and events, then each workload kind and
# the FailedCreate events for the workload pass (issue 27).
SCAN_REQUESTS = 7


def scan_paths(ns: str | None = None) -> set:
    at = f"/namespaces/{ns}" if ns else ""
    return {f"/api/v1{at}/events", f"/api/v1{at}/pods", f"/apis/apps/v1{at}/deployments",
            f"/apis/apps/v1{at}/statefulsets", f"/apis/apps/v1{at}/daemonsets", f"/apis/batch/v1{at}/jobs"}


@pytest.fixture(scope="module")
def clusters():
    return {name: generate(n) for name, n in SIZES.items()}


@pytest.fixture
def fleet(tmp_path, monkeypatch, clusters):
    """The servers by context name, the kubeconfig and the tokens; `expired` answers 401 to
    its (wrong) token, `gone` has no server any more."""
    isolate_env(monkeypatch, tmp_path / "home")
    with ExitStack() as stack:
        servers = {name: stack.enter_context(FakeAPIServer(*clusters[name], token=f"token-{name}")) for name in SIZES}
        servers["expired"] = stack.enter_context(FakeAPIServer([], [], token="the-new-token"))
        contexts = {name: {"server": s.url, "token": f"token-{name}"} for name, s in servers.items()}
        contexts["expired"]["token"] = "an-expired-token"
        contexts["gone"] = {"server": dead_url(), "token": "token-gone"}
        cfg = fleet_kubeconfig(tmp_path / "config", contexts, current="staging")
        monkeypatch.setenv("KUBECONFIG", str(cfg))
        yield {"servers": servers, "kubeconfig": cfg}


def _items_without_context(items: list[dict]) -> list[dict]:
    return [{k: v for k, v in it.items() if k not in ("context", "asOf")} for it in items]


def test_each_context_gets_exactly_its_own_scans_findings(cli, fleet):
    status, out, err = cli("scan", "--all-contexts", "-A", "-o", "json")
    assert status == 3, err
    doc = json.loads(out)
    contexts = {c["name"]: c for c in doc["contexts"]}
    assert [c["name"] for c in doc["contexts"]] == sorted(contexts)  # as kubectl config get-contexts lists them
    assert {n: c["status"] for n, c in contexts.items()} == {
        "prod-us": "ok", "prod-eu": "ok", "staging": "ok", "expired": "error", "gone": "error"}
    assert "connection refused" in contexts["gone"]["error"] and contexts["gone"]["summary"] is None
    assert "401" in contexts["expired"]["error"]
    # the stderr says each failure in one line
    assert err.count("probectl: error:") == 2 and "Traceback" not in err
    for name in SIZES:
        single_status, single_out, single_err = cli("scan", "-A", "--context", name, "-o", "json")
        assert single_status == 1, single_err
        single = json.loads(single_out)
        mine = [it for it in doc["items"] if it["context"] == name]
        # the same items (but for the moment of the scan, asOf, a second apart at most)
        assert mine and _items_without_context(mine) == _items_without_context(single["items"])
        got, want = contexts[name]["summary"], single["summary"]
        for key in ("podsExamined", "podsWithFindings", "byCause", "bySeverity", "eventsRead"):
            assert got[key] == want[key], key
        assert got["scope"]["context"] == name
        assert got["podsExamined"] == SIZES[name]
    s = doc["summary"]
    assert s["contextsTotal"] == 5 and s["contextsRead"] == 3 and s["contextsFailed"] == 2
    assert s["podsExamined"] == sum(SIZES.values())
    assert s["podsWithFindings"] == len(doc["items"])
    assert list(doc["items"][0])[:3] == ["apiVersion", "kind", "context"]


def test_no_state_shared_between_contexts(cli, fleet):
    """Each server sees only its own context's token: no context scanned with another's
    client (kubescape#3217 scanned the wrong cluster through shared client state)."""
    cli("scan", "--all-contexts", "-A", "-o", "json", "--parallel", "5")
    for name, server in fleet["servers"].items():
        assert server.requests, name
        want = "Bearer an-expired-token" if name == "expired" else f"Bearer token-{name}"
        assert {h.get("Authorization") for _, _, h in server.requests} == {want}, name


def test_contexts_scans_just_those(cli, fleet):
    status, out, err = cli("scan", "--contexts", "prod-us,staging", "-A", "-o", "json")
    assert status == 1, err  # both read, critical findings
    doc = json.loads(out)
    assert [c["name"] for c in doc["contexts"]] == ["prod-us", "staging"]  # in the order asked
    assert {it["context"] for it in doc["items"]} == {"prod-us", "staging"}
    assert not fleet["servers"]["prod-eu"].requests and not fleet["servers"]["expired"].requests
    # repeated, and a name given twice counts once
    status, out, _ = cli("scan", "--contexts", "staging", "--contexts", "prod-eu,staging", "-A", "-o", "json")
    assert [c["name"] for c in json.loads(out)["contexts"]] == ["staging", "prod-eu"]


@pytest.mark.parametrize("args,says", [
    (["--contexts", "prod-us,nope"], "'nope' not found"),
    (["--contexts", ","], "name at least one context"),
    (["--contexts", "prod-us", "--context", "staging"], "--context names one cluster"),
    (["--contexts", "prod-us", "--all-contexts"], "give one of them"),
    (["--all-contexts", "-f", "pods.json"], "-f reads files"),
    (["--all-contexts", "--since", "soon"], "--since"),
    (["--all-contexts", "--request-timeout", "often"], "--request-timeout"),
    (["--all-contexts", "--report", "nope=x"], "unknown format"),
])
def test_usage_errors_before_any_request(cli, fleet, args, says):
    status, out, err = cli("scan", *args)
    assert status == 2 and says in err and not out
    assert all(not s.requests for s in fleet["servers"].values())


def test_exit_codes(cli, fleet):
    assert cli("scan", "--contexts", "prod-us", "-A", "--fail-on", "never", "-o", "json")[0] == 0
    assert cli("scan", "--contexts", "prod-us", "-A", "-o", "json")[0] == 1
    # a context that could not be read wins over --fail-on never
    assert cli("scan", "--contexts", "prod-us,gone", "-A", "--fail-on", "never", "-o", "json")[0] == 3
    assert cli("scan", "--contexts", "expired", "-A")[0] == 3


def test_a_context_failing_part_way_leaves_no_items(cli, fleet):
    fleet["servers"]["prod-eu"].truncate.add("/api/v1/pods")  # the answer is cut short mid-body
    status, out, err = cli("scan", "--contexts", "prod-eu,staging", "-A", "-o", "json")
    assert status == 3
    doc = json.loads(out)
    assert {it["context"] for it in doc["items"]} == {"staging"}
    assert doc["contexts"][0]["status"] == "error" and "cut short" in doc["contexts"][0]["error"]


def test_table_status_line_per_context_findings_under_each(cli, fleet, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    status, out, err = cli("scan", "--all-contexts", "-A")
    assert status == 3
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), [x for x in lines if len(x) > 80]
    assert lines[0] == "Contexts: 3 of 5 read"
    head = lines[1:lines.index("Context prod-eu")]
    status_lines = {ln.split()[1]: ln.split()[0] for ln in head if ln.split() and ln.split()[0] in ("ok", "error")}
    assert status_lines == {"expired": "error", "gone": "error", "prod-eu": "ok", "prod-us": "ok", "staging": "ok"}
    sections = [i for i, ln in enumerate(lines) if ln.startswith("Context ")]
    assert [lines[i] for i in sections] == ["Context prod-eu", "Context prod-us", "Context staging"]
    assert "Critical:" in lines[sections[0] + 2]
    assert any(ln.startswith("Fleet: 5 contexts, 3 read, 2 could not be read") for ln in lines)
    assert "Failing: 2 contexts could not be read." in out
    # no word broken at 80 columns: every wrapped line of an error is made of whole words
    words = set(" ".join(lines).split())
    assert "refused" in words


def test_every_report_from_one_scan(cli, fleet, tmp_path, monkeypatch):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    status, out, err = cli("scan", "--all-contexts", "-A", "-o", "github", "--report", f"junit={tmp_path / 'f.xml'}",
                           "--report", f"markdown={tmp_path / 'f.md'}", "--report", f"json={tmp_path / 'f.json'}",
                           "--report", f"yaml={tmp_path / 'f.yaml'}")
    assert status == 3, err
    # one scan: each live server listed its events and pods once (a page of 500 each), then
    # each workload kind and the FailedCreate events once (issue 27), whatever the reports
    for name in SIZES:
        paths = [p for p, _, _ in fleet["servers"][name].requests]
        assert sorted(paths) == ["/api/v1/events", "/api/v1/events", "/api/v1/pods",
                                 "/apis/apps/v1/daemonsets", "/apis/apps/v1/deployments",
                                 "/apis/apps/v1/statefulsets", "/apis/batch/v1/jobs"], (name, paths)
    # GitHub: annotations name their context, the unreadable ones are errors, at most 10 errors
    lines = out.splitlines()
    assert sum(ln.startswith("::error") for ln in lines) <= 10
    assert any(ln.startswith("::error title=probectl%3A context gone could not be read::") for ln in lines)
    for name in SIZES:  # each cluster in trouble is named, though one has more groups than ten
        assert any(ln.startswith(f"::error title=[{name}] ") for ln in lines), name
    assert "kubectl --context prod-us logs" in out
    # JUnit: valid, one suite per context, the unreadable ones as errors
    doc = etree.parse(str(tmp_path / "f.xml")).getroot()
    etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd"))).assertValid(doc)
    suites = {s.get("name"): s for s in doc.findall("testsuite")}
    assert set(suites) == {"prod-us", "prod-eu", "staging", "expired", "gone"}
    assert suites["gone"].get("errors") == "1" and suites["gone"].find("testcase/error") is not None
    read = {c["name"]: c for c in json.loads((tmp_path / "f.json").read_text())["contexts"]}
    assert int(suites["prod-us"].get("failures")) == read["prod-us"]["summary"]["podsWithFindings"]
    names = [c.get("name") for c in doc.iter("testcase")]
    assert len(names) == len(set(names))  # the same pod names in several clusters stay apart
    # Markdown: a row per context; the same text in the step summary
    md = (tmp_path / "f.md").read_text()
    assert md.startswith("## ❌ probectl fleet scan: failed")
    assert "| gone | **error** |" in md and "| prod-us | ok | 120 |" in md and "### prod-eu" in md
    assert summary.read_text() == md
    # YAML: the same document as JSON
    import yaml

    assert yaml.safe_load((tmp_path / "f.yaml").read_text()) == json.loads((tmp_path / "f.json").read_text())


def test_kubeconfig_merging_first_file_wins(cli, tmp_path, monkeypatch, clusters):
    """KUBECONFIG=a:b, both define "prod": kubectl uses a's; b's other contexts join."""
    isolate_env(monkeypatch, tmp_path / "home")
    with FakeAPIServer(*clusters["staging"], token="a") as first, FakeAPIServer(*clusters["staging"], token="b") as second:
        a = fleet_kubeconfig(tmp_path / "a", {"prod": {"server": first.url, "token": "a"}})
        b = fleet_kubeconfig(tmp_path / "b", {"prod": {"server": second.url, "token": "b"},
                                              "dev": {"server": second.url, "token": "b"}})
        monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing'}:{b}")
        status, out, err = cli("scan", "--all-contexts", "-A", "-o", "json")
        assert status == 1, err
        doc = json.loads(out)
        assert [c["name"] for c in doc["contexts"]] == ["dev", "prod"]
        assert {h["Authorization"] for _, _, h in first.requests} == {"Bearer a"}
        assert len(second.requests) == SCAN_REQUESTS  # dev's lists only


def _exec_plugin(path: Path, log: Path, token: str, mode: str | None) -> dict:
    """An exec plugin that logs when it starts and ends, and takes a moment."""
    path.write_text(f"#!/bin/sh\necho start {token} $(date +%s.%N) >> {log}\nsleep 0.3\n"
                    f"echo end {token} $(date +%s.%N) >> {log}\n"
                    "cat <<'EOF'\n" + json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                                  "status": {"token": token}}) + "\nEOF\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    spec = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(path), "provideClusterInfo": False}
    if mode:
        spec["interactiveMode"] = mode
    return {"exec": spec}


def _intervals(log: Path) -> list[tuple[float, float]]:
    starts, out = {}, []
    for line in log.read_text().splitlines():
        what, token, t = line.split()
        if what == "start":
            starts[token] = float(t)
        else:
            out.append((starts[token], float(t)))
    return sorted(out)


def test_exec_plugins_that_may_prompt_run_one_at_a_time(cli, tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    log = tmp_path / "plugin.log"
    with ExitStack() as stack:
        contexts = {}
        for i in range(3):
            s = stack.enter_context(FakeAPIServer([], [], token=f"exec-{i}"))
            contexts[f"c{i}"] = {"server": s.url, "user": _exec_plugin(tmp_path / f"p{i}", log, f"exec-{i}", "IfAvailable")}
        monkeypatch.setenv("KUBECONFIG", str(fleet_kubeconfig(tmp_path / "config", contexts)))
        status, out, err = cli("scan", "--all-contexts", "-o", "json")
        assert status == 0, err
    spans = _intervals(log)
    assert len(spans) == 3
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans  # never two at once


def test_a_failing_exec_plugin_is_named_in_its_own_context_only(cli, tmp_path, monkeypatch):
    from tests.kube import exec_plugin, exec_user

    isolate_env(monkeypatch, tmp_path / "home")
    bad = exec_plugin(tmp_path / "bad", fail="error: SSO session expired, run: cloud login")
    with FakeAPIServer([], [], token="ok") as ok_server, FakeAPIServer([], [], token="x") as bad_server:
        good = {"exec": dict(exec_user(exec_plugin(tmp_path / "good", token="ok"))["exec"], interactiveMode="Never")}
        contexts = {"good": {"server": ok_server.url, "user": good},
                    "bad": {"server": bad_server.url, "user": exec_user(bad)}}
        monkeypatch.setenv("KUBECONFIG", str(fleet_kubeconfig(tmp_path / "config", contexts)))
        status, out, err = cli("scan", "--all-contexts", "-o", "json")
    doc = {c["name"]: c for c in json.loads(out)["contexts"]}
    assert status == 3
    assert doc["good"]["status"] == "ok" and doc["good"]["error"] is None
    assert "SSO session expired" in doc["bad"]["error"] and not bad_server.requests


class _Tracked(FakeAPIServer):
    """Answers after 0.2 s and records how many servers of the fleet were being asked at once."""

    active: set = set()
    most = 0
    lock = threading.Lock()

    def route(self, path, q):
        cls = _Tracked
        with cls.lock:
            cls.active.add(id(self))
            cls.most = max(cls.most, len(cls.active))
        time.sleep(0.2)
        with cls.lock:
            cls.active.discard(id(self))
        return super().route(path, q)


@pytest.mark.parametrize("parallel", [1, 2, 4])
def test_parallelism_is_bounded(cli, tmp_path, monkeypatch, parallel):
    """At most --parallel clusters are read at once (and with room, several are)."""
    isolate_env(monkeypatch, tmp_path / "home")
    _Tracked.active, _Tracked.most = set(), 0
    with ExitStack() as stack:
        servers = {f"c{i}": stack.enter_context(_Tracked([], [], token="t")) for i in range(5)}
        contexts = {n: {"server": s.url, "token": "t"} for n, s in servers.items()}
        monkeypatch.setenv("KUBECONFIG", str(fleet_kubeconfig(tmp_path / "config", contexts)))
        status, out, err = cli("scan", "--all-contexts", "-A", "-o", "json", "--parallel", str(parallel))
    assert status == 0, err
    assert all(len(s.requests) == SCAN_REQUESTS for s in servers.values())
    assert _Tracked.most <= parallel
    if parallel > 1:
        assert _Tracked.most >= 2


def test_context_names_are_untrusted_text(cli, tmp_path, monkeypatch, clusters):
    isolate_env(monkeypatch, tmp_path / "home")
    with FakeAPIServer(*clusters["staging"], token="t") as s:
        evil = "prod\x1b]8;;https://evil.example\x07x"
        monkeypatch.setenv("KUBECONFIG", str(fleet_kubeconfig(tmp_path / "config", {evil: {"server": s.url, "token": "t"}})))
        status, out, err = cli("scan", "--all-contexts", "-A")
        assert status == 1, err
        assert "\x1b" not in out and "\x07" not in out and "prod^[]8;;" in out
        status, out, err = cli("scan", "--all-contexts", "-A", "-o", "junit")
        etree.fromstring(out.encode())  # still valid XML
        assert "\x1b" not in out


def test_without_a_namespace_each_context_uses_its_own(cli, tmp_path, monkeypatch, clusters):
    isolate_env(monkeypatch, tmp_path / "home")
    with FakeAPIServer(*clusters["staging"], token="a") as a, FakeAPIServer(*clusters["staging"], token="b") as b:
        monkeypatch.setenv("KUBECONFIG", str(fleet_kubeconfig(tmp_path / "config", {
            "a": {"server": a.url, "token": "a", "namespace": "shop"},
            "b": {"server": b.url, "token": "b", "namespace": "data"}})))
        status, out, err = cli("scan", "--all-contexts", "-o", "json")
        assert status == 1, err
        assert {p for p, _, _ in a.requests} == scan_paths("shop")
        assert {p for p, _, _ in b.requests} == scan_paths("data")
        doc = json.loads(out)
        assert {(i["context"], i["pod"]["namespace"]) for i in doc["items"]} == {("a", "shop"), ("b", "data")}


def test_fleet_summary_sums_the_contexts_read():
    """core/fleet.py on literal reports: sums, failed, and the unreadable left out of the counts."""
    from collections import Counter

    from probectl.core.fleet import ContextResult, FleetReport
    from probectl.core.model import Severity
    from probectl.core.scan import ScanReport

    def report(examined, findings, worst, causes):
        r = ScanReport([], examined, examined - findings, Counter(causes), Counter({"ok": examined - findings}),
                       {"context": "x"}, [], None, "critical", None)
        r.findings_count, r.worst = findings, worst
        return r

    fleet = FleetReport([ContextResult("a", report(10, 2, Severity.WARNING, {"readiness-probe-failed": 2})),
                         ContextResult("b", report(5, 1, Severity.CRITICAL, {"oom-killed": 1})),
                         ContextResult("c", error="cannot reach")])
    s = fleet.summary()
    assert (s["contextsTotal"], s["contextsRead"], s["contextsFailed"]) == (3, 2, 1)
    assert s["podsExamined"] == 15 and s["podsWithFindings"] == 3 and s["podsHealthy"] == 12
    assert s["byCause"] == {"oom-killed": 1, "readiness-probe-failed": 2} and s["failed"] is True
    assert s["warnings"] == ['context "c" could not be read: cannot reach']
    assert [c.to_dict()["status"] for c in fleet.contexts] == ["ok", "ok", "error"]
    assert fleet.contexts[2].to_dict() == {"name": "c", "status": "error", "error": "cannot reach", "summary": None}
    # only warnings: not failing at --fail-on critical
    assert FleetReport(fleet.contexts[:1]).failed is False
    assert FleetReport(fleet.contexts[:1], fail_on="warning").failed is True
    assert FleetReport([ContextResult("c", error="x")]).failed is False


def test_a_context_whose_deployment_cannot_create_pods_fails_the_fleet(cli, tmp_path, monkeypatch, clusters, live_now):
    """Issue 27 in a fleet: a context with no troubled pod but a Deployment whose pods are
    refused is a finding there, in the fleet's JSON (with its context), counts and exit
    status, as `scan --context` of that context alone says."""
    from tests import rollouts

    isolate_env(monkeypatch, tmp_path / "home")
    r = rollouts.deploy_webhook_first_install()
    with FakeAPIServer(r.pods, r.events, token="t", workloads=[r.workload, *r.jobs, *r.replicasets]) as bad, \
            FakeAPIServer([], [], token="t") as calm:
        monkeypatch.setenv("KUBECONFIG", str(fleet_kubeconfig(tmp_path / "config", {
            "calm": {"server": calm.url, "token": "t"}, "blocked": {"server": bad.url, "token": "t"}})))
        alone, one, _ = cli("scan", "--context", "blocked", "-A", "-o", "json", "--no-logs")
        status, out, err = cli("scan", "--all-contexts", "-A", "-o", "json", "--no-logs")
        table_status, table, _ = cli("scan", "--all-contexts", "-A", "--no-logs")
    assert alone == 1 and status == 1, err
    doc = json.loads(out)
    assert [(w["context"], w["cause"]) for w in doc["workloads"]] == [("blocked", "create-refused")]
    single = json.loads(one)["workloads"][0]
    stable = ("kind", "workload", "cause", "severity", "confidence", "rollout", "summary")  # no "Ns ago"
    assert {k: doc["workloads"][0].get(k) for k in stable} == {k: single.get(k) for k in stable}
    assert doc["summary"]["workloadsWithFindings"] == 1 and doc["summary"]["failed"] is True
    assert table_status == 1 and "1 workload stuck or unable to create pods" in table
