"""`probectl scan`: the join, grouping, --since, selectors, formats and the exit-code contract."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from lxml import etree

from probectl.core import scan as core
from probectl.core.model import Cause
from tests.builders import NOW
from tests.conftest import ROOT
from tests.kube import SERVER, isolate_env, kubeconfig
from tests.scan_fixtures import small_cluster

GOLDEN = ROOT / "tests" / "golden"


def run_core(cluster, **kw):
    pods, events = cluster
    index = core.EventIndex()
    for e in events:
        index.add(e)
    return core.scan(iter(pods), index, NOW, **kw)


def test_forty_replicas_read_as_one_line(cluster):
    report = run_core(cluster)
    groups = core.group(report.findings)
    web = [g for g in groups if g.owner == "Deployment/web"]
    assert len(web) == 1 and web[0].count == 40 and web[0].cause == "oom-killed"
    assert web[0].restarts == 40 * 7
    assert report.examined == len(cluster[0])
    assert report.by_cause["oom-killed"] == 40  # the pod OOM-killed two days ago and fine since is history
    assert report.history_count == 1 and report.summary()["podsRestartedEarlier"] == 1
    assert report.failed


def test_healthy_pods_only_with_all(cluster):
    report = run_core(cluster)
    assert all(d.severity.value != "ok" for d in report.findings)
    # -o json lists the findings and the pods that restarted earlier (cause healthy, with lastRestart)
    assert {d.pod.name for d in report.items} - {d.pod.name for d in report.findings} == {"cache-5f6d7c8b9-old01"}
    everything = run_core(cluster, include_healthy=True)
    assert len(everything.items) == len(cluster[0])


def test_fail_on_thresholds(cluster):
    pods, events = cluster
    cart = [p for p in pods if p["metadata"]["name"].startswith("cart-")]
    index = core.EventIndex()
    for e in events:
        index.add(e)
    assert not core.scan(iter(cart), index, NOW, fail_on="critical").failed  # readiness is a warning
    assert core.scan(iter(cart), index, NOW, fail_on="warning").failed
    assert not run_core(cluster, fail_on="never").failed


def test_since_keeps_the_window(cluster):
    report = run_core(cluster, since=timedelta(minutes=30), since_text="30m")
    names = {d.pod.name for d in report.items}
    assert "cache-5f6d7c8b9-old01" not in {d.pod.name for d in report.findings}  # its OOM kill was two days ago
    assert any(n.startswith("web-") for n in names)
    kp = next(d for d in report.items if d.pod.name == "kube-proxy-9zt4w")
    assert kp.cause.value == "app-error"  # the old liveness kill is outside the window
    full = run_core(cluster)
    cache = next(d for d in full.items if d.pod.name == "cache-5f6d7c8b9-old01")
    assert cache.cause.value == "healthy" and cache.containers[0].last_restart.cause.value == "oom-killed"


def test_event_index_keeps_only_decisive_events(cluster):
    index = core.EventIndex()
    for e in cluster[1]:
        index.add(e)
    kept = [e for es in index.by_key.values() for e in es]
    assert index.seen == len(cluster[1])
    assert all(e.reason not in ("Pulled", "Created", "Started") for e in kept)
    assert len(kept) < index.seen


def test_event_index_ignores_duplicates_after_a_restarted_list(cluster):
    index = core.EventIndex()
    for e in cluster[1] + cluster[1]:
        index.add(e)
    assert index.seen == len(cluster[1])


@pytest.mark.parametrize(
    "selector,name,expected",
    [
        ("app=web", "web-1", True), ("app!=web", "web-1", False), ("app in (web,api)", "x", True),
        ("app notin (web)", "x", False), ("tier", "x", False), ("!tier", "x", True), ("app==web,!canary", "x", True),
    ],
)
def test_label_selectors(selector, name, expected):
    pod = {"metadata": {"name": name, "labels": {"app": "web"}}}
    assert core.label_matcher(selector)(pod) is expected


def test_field_selectors():
    pod = {"metadata": {"name": "a", "namespace": "shop"}, "spec": {"nodeName": "node-3"}, "status": {"phase": "Running"}}
    assert core.field_matcher("spec.nodeName=node-3,status.phase!=Failed")(pod)
    assert not core.field_matcher("status.phase=Pending")(pod)
    from probectl.errors import UsageError

    with pytest.raises(UsageError):
        core.field_matcher("status.podIP=1.2.3.4")


# ----------------------------------------------------------------- files through the CLI


def test_scan_dump_directory(cli, dump, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    status, out, err = cli("scan", "-f", dump, "-A")
    assert status == 1, err
    assert "web-7f9c6d8b5-24glw and 39 more" in out and "shop/Deployment/web, container api" in out
    assert "oom-killed 40" in out
    assert "1 pod restarted earlier and is fine now" in out and "--include-history" in out


def test_namespace_filter_and_exit_0(cli, dump):
    status, out, _ = cli("scan", "-f", dump, "-n", "batch", "--fail-on", "never")
    assert status == 0
    assert "nightly-report" in out and "web-7f9c6d8b5" not in out


def test_selector_filter(cli, dump):
    status, out, _ = cli("scan", "-f", dump, "-A", "-l", "app=cart", "-o", "json")
    doc = json.loads(out)
    assert {d["pod"]["name"].split("-")[0] for d in doc["items"]} == {"cart"}
    assert status == 0  # readiness alone is a warning: below the default --fail-on critical
    assert cli("scan", "-f", dump, "-A", "-l", "app=cart", "--fail-on", "warning")[0] == 1


def test_scan_report_contract(cli, dump):
    status, out, _ = cli("scan", "-f", dump, "-A", "-o", "json")
    doc = json.loads(out)
    assert doc["apiVersion"] == "probectl/v1" and doc["kind"] == "ScanReport"
    assert all(i["kind"] == "Diagnosis" and i["cause"] and i["confidence"] for i in doc["items"])
    s = doc["summary"]
    assert s["podsExamined"] == 62 and s["failed"] is True and s["byCause"]["oom-killed"] == 40
    history = [i for i in doc["items"] if i["pod"]["name"] == "cache-5f6d7c8b9-old01"]
    assert history and history[0]["cause"] == "healthy"
    assert history[0]["containers"][0]["lastRestart"]["cause"] == "oom-killed"


def test_output_file_writes_the_format_and_shows_the_table(cli, dump, tmp_path):
    target = tmp_path / "probectl.xml"
    status, out, _ = cli("scan", "-f", dump, "-A", "-o", "junit", "--output-file", str(target))
    assert status == 1
    assert "Critical: 6 problems in 47 pods" in out  # the table on the terminal
    etree.fromstring(target.read_bytes())


def test_bad_since(cli, dump):
    status, _, err = cli("scan", "-f", dump, "--since", "soon")
    assert status == 2 and "--since" in err


# ----------------------------------------------------------------- golden outputs


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} changed; if intended, run with UPDATE_GOLDEN=1 and review the diff"


@pytest.mark.parametrize("fmt,name", [("markdown", "scan.md"), ("junit", "scan.junit.xml"), ("github", "scan.github.txt")])
def test_golden(cli, dump, fmt, name):
    status, out, _ = cli("scan", "-f", dump, "-A", "-o", fmt)
    assert status == 1
    _golden(name, out)


def test_junit_is_valid_against_the_schema(cli, dump):
    out = cli("scan", "-f", dump, "-A", "-o", "junit", "--all")[1]
    doc = etree.fromstring(out.encode())
    schema = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd")))
    schema.assertValid(doc)
    suites = {s.get("name"): s for s in doc.findall("testsuite")}
    assert set(suites) == {"shop", "batch", "kube-system"}
    assert int(suites["shop"].get("tests")) == len(suites["shop"].findall("testcase"))
    names = [c.get("name") for c in doc.iter("testcase")]
    assert len(names) == len(set(names))  # GitLab counts only the first of duplicate names
    assert doc.find(".//failure[@type='oom-killed']") is not None


def test_github_annotations_are_capped_and_grouped(cli, dump):
    out = cli("scan", "-f", dump, "-A", "-o", "github")[1]
    lines = out.splitlines()
    assert sum(line.startswith("::error") for line in lines) <= 10
    assert sum(line.startswith("::warning") for line in lines) <= 10
    assert all(line.startswith("::") for line in lines)


def test_hostile_cluster_text_in_ci_formats(cli, tmp_path, cluster):
    pods = json.loads(json.dumps(cluster[0][:1]))
    evil = "boom\n::error::injected\r\n\x1b[31m <script>alert(1)</script> | pipe %0A ]]> & \x00"
    pods[0]["status"]["containerStatuses"][0]["lastState"]["terminated"]["message"] = evil
    pods[0]["metadata"]["name"] = "web-1|2"
    (tmp_path / "p.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": pods}))
    gh = cli("scan", "-f", str(tmp_path / "p.json"), "-o", "github")[1]
    assert "\n::error::injected" not in gh and all(line.startswith("::") for line in gh.splitlines())
    junit = cli("scan", "-f", str(tmp_path / "p.json"), "-o", "junit")[1]
    etree.fromstring(junit.encode())  # still well-formed: no raw control characters
    assert "\x1b" not in junit and "\x00" not in junit
    md = cli("scan", "-f", str(tmp_path / "p.json"), "-o", "markdown")[1]
    assert "<script>" not in md and "web-1\\|2" in md


# ----------------------------------------------------------------- against the API (responses)


def _page(kind, items, cont=""):
    strip = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]
    return {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "77", "continue": cont}, "items": strip}


@pytest.fixture
def kcfg(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "home" / "config")))


def _mock_all_namespaces(rsps, pods, events, page=25):
    """Pages of `page` items; the client asks for 500, the server may return fewer (as the API can)."""
    def register(path, kind, items, selector):
        chunks = [items[i:i + page] for i in range(0, len(items), page)] or [[]]
        for n, chunk in enumerate(chunks):
            params = {"limit": "500"} | ({"fieldSelector": selector} if selector else {})
            if n:
                params["continue"] = f"c{n}"
            rsps.get(f"{SERVER}{path}", json=_page(kind, chunk, f"c{n + 1}" if n + 1 < len(chunks) else ""),
                     match=[responses.matchers.query_param_matcher(params)])
        return len(chunks)

    return (register("/api/v1/events", "EventList", events, "involvedObject.kind=Pod") + register("/api/v1/pods", "PodList", pods, None)
            + _mock_workloads(rsps, "/api/v1/events"))


def _mock_workloads(rsps, events_path=None, workloads=(), failed_creates=()):
    """The workload pass (issue 27): a list of each workload kind, and one of FailedCreate
    events, per scope. Returns the number of requests it makes for one scope."""
    import re

    for kind, plural in (("Deployment", "deployments"), ("StatefulSet", "statefulsets"),
                         ("DaemonSet", "daemonsets"), ("Job", "jobs")):
        group = "batch" if kind == "Job" else "apps"
        rsps.get(re.compile(rf"{re.escape(SERVER)}/apis/{group}/v1/(namespaces/[^/]+/)?{plural}\b.*"),
                 json=_page(f"{kind}List", [w for w in workloads if w["kind"] == kind]))
    if events_path:
        rsps.get(f"{SERVER}{events_path}", json=_page("EventList", list(failed_creates)),
                 match=[responses.matchers.query_param_matcher({"limit": "500", "fieldSelector": "reason=FailedCreate"})])
    return 5


@responses.activate
def test_all_namespaces_pages_and_counts_requests(cli, kcfg, cluster):
    expected = _mock_all_namespaces(responses, *cluster)
    status, out, err = cli("scan", "-A", "-o", "json", "--no-logs")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["summary"]["podsExamined"] == len(cluster[0])
    assert len(responses.calls) == expected == doc["summary"]["scope"]["requests"]  # never one per pod


@responses.activate
def test_one_log_read_per_unexplained_failing_group(cli, kcfg, cluster):
    """Failing groups whose termination messages hold no crash line get one log read each
    (here only kube-proxy's app-error: the OOM, probe and image groups need none, the two
    Jobs' termination messages explain them), capped by --log-groups."""
    expected = _mock_all_namespaces(responses, *cluster)
    log_url = f"{SERVER}/api/v1/namespaces/kube-system/pods/kube-proxy-9zt4w/log"
    responses.get(log_url, body='I1120 09:59:10.1 server.go:200] starting\nF1120 09:59:11.2 server.go:495] '
                                'failed to run Kube-proxy: open /var/lib/kube-proxy/config.conf: no such file or directory\n')
    status, out, err = cli("scan", "-A", "-o", "json")
    doc = json.loads(out)
    assert len(responses.calls) == expected + 1 and doc["summary"]["scope"]["logRequests"] == 1
    log_call = next(c for c in responses.calls if "/log" in c.request.url)
    q = parse_qs(urlparse(log_call.request.url).query)
    assert q["container"] == ["kube-proxy"] and q["previous"] == ["true"] and q["tailLines"] == ["200"]
    kp = next(i for i in doc["items"] if i["pod"]["name"] == "kube-proxy-9zt4w")["containers"][0]
    assert kp["crash"]["kind"] == "file-not-found" and kp["crash"]["source"] == "previous-logs"
    assert "config.conf: no such file or directory" in kp["crash"]["line"]
    jobs = [i for i in doc["items"] if i["pod"]["owner"] and i["pod"]["owner"]["kind"] == "Job"]
    assert all(i["containers"][0]["crash"]["source"] == "termination-message" for i in jobs)
    table = cli("scan", "-A")[1]
    assert "file-not-found: F1120" in table  # the group's row shows the crash line
    responses.calls.reset()
    cli("scan", "-A", "-o", "json", "--log-groups", "0")
    assert not any("/log" in c.request.url for c in responses.calls)


@responses.activate
def test_selectors_go_to_the_api(cli, kcfg):
    responses.get(f"{SERVER}/api/v1/namespaces/shop/events", json=_page("EventList", []))
    responses.get(f"{SERVER}/api/v1/namespaces/shop/pods", json=_page("PodList", []))
    cli("scan", "-l", "app=web", "--field-selector", "status.phase!=Succeeded")
    pods = next(c for c in responses.calls if urlparse(c.request.url).path.endswith("/pods"))  # asked for during the events
    q = parse_qs(urlparse(pods.request.url).query)
    assert q["labelSelector"] == ["app=web"] and q["fieldSelector"] == ["status.phase!=Succeeded"]


@responses.activate
def test_410_gone_restarts_the_list_once(cli, kcfg, cluster):
    pods = cluster[0][:30]
    responses.get(f"{SERVER}/api/v1/namespaces/shop/events", json=_page("EventList", []))
    url = f"{SERVER}/api/v1/namespaces/shop/pods"
    first = responses.matchers.query_param_matcher({"limit": "500"})
    second = responses.matchers.query_param_matcher({"limit": "500", "continue": "tok"})
    responses.get(url, json=_page("PodList", pods[:10], "tok"), match=[first])
    responses.get(url, status=410, json={"kind": "Status", "code": 410, "reason": "Expired",
                                         "message": "The provided continue parameter is too old to display a consistent list result."},
                  match=[second])
    responses.get(url, json=_page("PodList", pods), match=[first])
    status, out, _ = cli("scan", "-o", "json")
    doc = json.loads(out)
    assert doc["summary"]["podsExamined"] == 30  # the ten seen twice are counted once
    assert any("410 Gone" in w and "restarted" in w for w in doc["summary"]["warnings"])


@responses.activate
def test_forbidden_namespace_among_several_is_skipped(cli, kcfg, cluster):
    forbidden = {"kind": "Status", "code": 403, "reason": "Forbidden",
                 "message": 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "kube-system"'}
    responses.get(f"{SERVER}/api/v1/namespaces/shop/events", json=_page("EventList", cluster[1]))
    responses.get(f"{SERVER}/api/v1/namespaces/kube-system/events", status=403, json=forbidden | {"message": "events is forbidden"})
    responses.get(f"{SERVER}/api/v1/namespaces/shop/pods", json=_page("PodList", [p for p in cluster[0] if p["metadata"]["namespace"] == "shop"]))
    responses.get(f"{SERVER}/api/v1/namespaces/kube-system/pods", status=403, json=forbidden)
    status, out, err = cli("scan", "-n", "shop", "-n", "kube-system", "-o", "json")
    assert status == 1, err
    warnings = json.loads(out)["summary"]["warnings"]
    assert any('namespace "kube-system" skipped' in w for w in warnings)


@responses.activate
def test_nothing_readable_is_exit_3_not_0(cli, kcfg):
    forbidden = {"kind": "Status", "code": 403, "message": "pods is forbidden"}
    responses.get(f"{SERVER}/api/v1/namespaces/shop/events", status=403, json=forbidden)
    responses.get(f"{SERVER}/api/v1/namespaces/shop/pods", status=403, json=forbidden)
    status, out, err = cli("scan")
    assert status == 3 and out == "" and "no pods could be read" in err


def test_fast_path_agrees_with_the_engine():
    """plainly_healthy() may only skip pods the engine calls healthy."""
    from probectl.core.diagnose import diagnose
    from tests.scenarios import SCENARIOS

    pods = [s.pod for s in SCENARIOS] + small_cluster()[0]
    skipped = 0
    for p in pods:
        if core.plainly_healthy(p):
            skipped += 1
            d = diagnose(p, [], NOW)
            assert d.cause.value == "healthy" and d.severity.value == "ok", p["metadata"]["name"]
    assert skipped >= 10


def test_table_reads_in_80_columns(cli, dump, monkeypatch):
    """Issue 13: one row per group, no line wider than the terminal; a name that does not
    fit ends in an ellipsis rather than running on or breaking onto the next line."""
    monkeypatch.setenv("COLUMNS", "80")
    everything = cli("scan", "-f", dump, "-A", "--all", "--include-history")[1]
    assert max(len(line) for line in everything.splitlines()) <= 80
    lines = cli("scan", "-f", dump, "-A")[1].splitlines()
    import re

    causes = {c.value for c in Cause}
    rows = [n for n, line in enumerate(lines[:-1]) if line.split(" ")[0] in causes and lines[n + 1].startswith("  ")]
    titles = [int(m.group(1)) for m in (re.match(r"(?:Critical|Warning): (\d+) problem", line) for line in lines) if m]
    assert len(rows) == sum(titles) == 7  # a row and its where-line for each group
    assert "  batch/Job/nightly-report-29000000, container orders: nightly-report-29000000-…" in lines


def test_since_never_hides_the_evidence_of_a_termination_inside_the_window():
    """--since 30s: the termination 26 s ago is inside the window; the liveness kills that
    explain it began before the window and must still count."""
    from tests.scenarios import BY_NAME

    sc = BY_NAME["liveness_exit_143"]
    index = core.EventIndex()
    for e in sc.events:
        index.add(e)
    report = core.scan([sc.pod], index, NOW, since=timedelta(seconds=30), since_text="30s")
    assert [d.cause.value for d in report.findings] == ["liveness-probe-failed"]


def test_a_long_grace_deletion_does_not_move_the_snapshot_forward():
    """deletionTimestamp is the deletion request plus the grace period (a deadline, possibly
    an hour ahead), not a moment anything was observed."""
    import copy

    from probectl.core.diagnose import snapshot_time
    from tests.builders import ts
    from tests.scenarios import BY_NAME

    p = copy.deepcopy(BY_NAME["healthy_running"].pod)
    p["metadata"]["deletionTimestamp"] = ts(-3540)  # asked 60 s ago, grace 3600 s
    p["metadata"]["deletionGracePeriodSeconds"] = 3600
    assert snapshot_time([p], []) <= NOW
