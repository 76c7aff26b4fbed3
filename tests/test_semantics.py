"""probectl.core.semantics: the kubelet facts behind issue 22's verdicts, and the same
verdicts through every path (why and scan, files and the API server).

The facts are named where they are stated (core/semantics.py); the real-world cases that
exercise them end to end are tests/realworld/ (probe-arithmetic-*, preempted-1-26-*,
node-shutdown-*, podgc-*, eviction-api-*, restart-rule-*, restart-all-containers-*,
stop-signal-*, pod-level-resources-*, resize-*, sidecar-*).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from probectl.core import semantics as sem
from probectl.core.diagnose import diagnose, snapshot_time
from probectl.core.model import ProbeConfig
from probectl.core.objects import compact_pod
from tests.apiserver import FakeAPIServer
from tests.kube import isolate_env, kubeconfig

REALWORLD = Path(__file__).resolve().parent / "realworld"
ISSUE22 = sorted(p.name for p in REALWORLD.iterdir() if p.name.startswith((
    "probe-arithmetic-", "preempted-1-26-", "node-shutdown-reason-terminated", "node-shutdown-1-21", "podgc-",
    "eviction-api-", "restart-rule-", "restart-all-containers-", "stop-signal-", "pod-level-resources-", "resize-",
    "sidecar-exit")))


def cfg(kind="liveness", delay=0, period=10, threshold=3) -> ProbeConfig:
    return ProbeConfig(kind, "http-get http://:8080/healthz", delay, period, 1, 1, threshold)


# --- probe arithmetic ----------------------------------------------------------------------

@pytest.mark.parametrize("delay,period,threshold,floor", [(0, 10, 3, 20), (5, 5, 3, 15), (30, 10, 1, 30), (0, 1, 1, 0)])
def test_probe_kill_floor(delay, period, threshold, floor):
    assert sem.probe_kill_floor(cfg(delay=delay, period=period, threshold=threshold)) == floor


def test_an_instance_shorter_than_the_floor_cannot_be_a_probe_kill():
    why = sem.probe_kill_impossible(cfg(delay=5, period=5, threshold=3), 9)
    assert "at least 15s" in why and "ran 9s" in why


@pytest.mark.parametrize("run", [13, 15, 400])
def test_an_instance_that_lived_long_enough_may_be_one(run):
    assert sem.probe_kill_impossible(cfg(delay=5, period=5, threshold=3), run) == ""  # 13: timestamps are whole seconds


@pytest.mark.parametrize("config,run", [(None, 3), (cfg(), None)])
def test_unknown_config_or_run_time_rules_nothing_out(config, run):
    assert sem.probe_kill_impossible(config, run) == ""


# --- who stopped the pod -------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["PreemptionByScheduler", "PreemptionByKubeScheduler"])
def test_both_spellings_of_scheduler_preemption(reason):
    assert sem.disruption(reason)[0] == "preempted"


def test_an_unknown_disruption_reason_still_says_kubernetes_stopped_it():
    what, why = sem.disruption("DeletionByWorkloadController")
    assert what == "stopped by Kubernetes" and "DeletionByWorkloadController" in why


@pytest.mark.parametrize("reason", ["", "TerminationByKubelet"])
def test_no_disruption_verdict_without_a_reason_or_for_the_kubelet(reason):
    assert sem.disruption(reason) is None


@pytest.mark.parametrize("phase,reason,message,dt_reason,dt_message,want", [
    ("Failed", "Terminated", "Pod was terminated in response to imminent node shutdown.", "", "", True),
    ("Failed", "Terminated", "", "", "", True),  # pasted without its message
    ("Failed", "", "", "TerminationByKubelet", "Pod was terminated in response to imminent node shutdown.", True),
    ("Failed", "Shutdown", "Node is shutting, evicting pods", "", "", True),  # 1.21
    ("Failed", "NodeShutdown", "Pod was rejected as the node is shutting down.", "", "", True),
    ("Failed", "Evicted", "The node was low on resource: memory.", "TerminationByKubelet", "", False),
    ("Running", "Terminated", "", "", "", False),
    ("Failed", "Terminated", "some other text", "", "", False),
])
def test_node_shutdown(phase, reason, message, dt_reason, dt_message, want):
    assert sem.node_shutdown(phase, reason, message, dt_reason, dt_message) is want


# --- restart rules -------------------------------------------------------------------------

RULES = {"restartPolicy": "Never", "restartPolicyRules": [
    {"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}},
    {"action": "RestartAllContainers", "exitCodes": {"operator": "NotIn", "values": [0, 1]}},
]}


@pytest.mark.parametrize("code,index,action", [(42, 0, "Restart"), (88, 1, "RestartAllContainers"), (2, 1, "RestartAllContainers")])
def test_the_first_matching_rule_wins(code, index, action):
    hit = sem.restart_rule(RULES, code)
    assert (hit.index, hit.action) == (index, action)


@pytest.mark.parametrize("code", [0, 1, None])
def test_no_rule_matches(code):
    assert sem.restart_rule(RULES, code) is None


@pytest.mark.parametrize("rule", [
    {"action": "Restart"},  # no exitCodes: rejected by the API server, never matched here
    {"action": "Restart", "exitCodes": {"operator": "Weird", "values": [1]}},
    {"action": "Explode", "exitCodes": {"operator": "In", "values": [1]}},
    {"action": "Restart", "exitCodes": {"operator": "In", "values": [True, "1"]}},
])
def test_malformed_rules_match_nothing(rule):
    assert sem.restart_rule({"restartPolicyRules": [rule, "junk"]}, 1) is None


def _pod(containers, statuses, conditions=()):
    return {"spec": {"containers": containers}, "status": {"containerStatuses": statuses, "conditions": list(conditions)}}


def _term(code, finished):
    return {"terminated": {"exitCode": code, "reason": "Error", "finishedAt": finished}}


def test_restart_all_finds_the_trigger_and_its_siblings():
    rule = [{"action": "RestartAllContainers", "exitCodes": {"operator": "In", "values": [88]}}]
    pod = _pod([{"name": "w", "restartPolicy": "Never", "restartPolicyRules": rule}, {"name": "main"}],
               [{"name": "w", "lastState": _term(88, "2026-01-12T10:13:58Z"), "state": {"running": {}}},
                {"name": "main", "lastState": _term(137, "2026-01-12T10:14:00Z"), "state": {"running": {}}}])
    ra = sem.restart_all(pod)
    assert (ra.trigger, ra.exit_code, ra.restarting) == ("w", 88, False)
    assert sem.killed_by_restart_all(ra, "main", datetime(2026, 1, 12, 10, 14, 0, tzinfo=timezone.utc))
    assert not sem.killed_by_restart_all(ra, "main", datetime(2026, 1, 12, 9, 0, 0, tzinfo=timezone.utc))
    assert not sem.killed_by_restart_all(ra, "w", datetime(2026, 1, 12, 10, 14, 0, tzinfo=timezone.utc))
    # the re-run of an init container, started after the trigger, ends on its own
    assert not sem.killed_by_restart_all(ra, "main", datetime(2026, 1, 12, 10, 14, 30, tzinfo=timezone.utc),
                                         datetime(2026, 1, 12, 10, 14, 20, tzinfo=timezone.utc))


def test_restart_all_needs_a_matching_exit():
    rule = [{"action": "RestartAllContainers", "exitCodes": {"operator": "In", "values": [88]}}]
    pod = _pod([{"name": "w", "restartPolicy": "Never", "restartPolicyRules": rule}],
               [{"name": "w", "lastState": _term(1, "2026-01-12T10:13:58Z")}])
    assert sem.restart_all(pod) is None


# --- stop signals, pod-level resources, resize ---------------------------------------------

@pytest.mark.parametrize("spec,status,code", [
    ({"lifecycle": {"stopSignal": "SIGINT"}}, {}, 130),
    ({}, {"stopSignal": "SIGQUIT"}, 131),
    ({"lifecycle": {"stopSignal": "SIGINT"}}, {"stopSignal": "SIGUSR1"}, 138),  # the effective one wins
    ({"lifecycle": {"stopSignal": "SIGTERM"}}, {}, None),
    ({}, {}, None),
])
def test_stop_exit_code(spec, status, code):
    assert sem.stop_exit_code(spec, status) == code


def test_pod_memory_limit_and_resize_policy():
    assert sem.pod_memory_limit({"resources": {"limits": {"memory": "2Gi"}}}) == "2Gi"
    assert sem.pod_memory_limit({}) == ""
    assert sem.resize_restarts({"resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"},
                                                 {"resourceName": "memory", "restartPolicy": "RestartContainer"}]}) == ["memory"]
    assert sem.resize_restart("Container cache resize requires restart")
    assert not sem.resize_restart("Container cache definition changed, will be restarted")


def test_compact_pods_keep_what_the_rules_read_and_no_hook_commands():
    c = {"name": "a", "restartPolicy": "Never", "restartPolicyRules": RULES["restartPolicyRules"],
         "resizePolicy": [{"resourceName": "memory", "restartPolicy": "RestartContainer"}],
         "lifecycle": {"stopSignal": "SIGINT", "preStop": {"exec": {"command": ["curl", "-H", "token: s3cret"]}}},
         "env": [{"name": "PASSWORD", "value": "s3cret"}]}
    out = compact_pod({"metadata": {"name": "p"}, "spec": {"containers": [c], "resources": {"limits": {"memory": "1Gi"}}}})
    kept = out["spec"]["containers"][0]
    assert kept["restartPolicyRules"] == c["restartPolicyRules"] and kept["resizePolicy"] == c["resizePolicy"]
    assert kept["lifecycle"] == {"stopSignal": "SIGINT"} and "env" not in kept
    assert out["spec"]["resources"] == {"limits": {"memory": "1Gi"}}
    assert "s3cret" not in json.dumps(out)


# --- the same verdicts through every path ---------------------------------------------------

def _case(name):
    case = yaml.safe_load((REALWORLD / name / "case.yaml").read_text("utf-8"))
    doc = json.loads((REALWORLD / name / "pod.json").read_text("utf-8"))
    pod = next(p for p in doc["items"] if p["metadata"]["name"] == case["pod"]) if doc["kind"] == "List" else doc
    events = json.loads((REALWORLD / name / "events.json").read_text("utf-8"))["items"]
    return case, pod, events


def test_the_issue_22_cases_are_there():
    assert len(ISSUE22) >= 16


@pytest.mark.parametrize("name", ISSUE22)
def test_scan_over_files_gives_the_case_verdict(cli, name):
    case, _, _ = _case(name)
    status, out, err = cli("scan", "-A", "--all", "-f", str(REALWORLD / name / "pod.json"),
                           "-f", str(REALWORLD / name / "events.json"), "-o", "json")
    assert status in (0, 1), err
    items = {d["pod"]["name"]: d for d in json.loads(out)["items"]}
    want = case["cause"] if isinstance(case["cause"], list) else [case["cause"]]
    assert items[case["pod"]]["cause"] in want


def _verdict(d: dict) -> tuple:
    return (d["cause"], d["confidence"], tuple((c["name"], c["cause"], c.get("willRestart")) for c in d["containers"]))


def test_scan_and_why_through_the_api_server_agree_with_the_engine(cli, tmp_path, monkeypatch):
    pods, events = [], []
    for name in ISSUE22:
        _, pod, evs = _case(name)
        pods.append(pod)
        events += [e for e in evs if e["apiVersion"] == "v1"]  # /api/v1 serves the core view only
    isolate_env(monkeypatch, tmp_path / "home")
    with FakeAPIServer(pods, events, token="t0ken-prod") as api:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "config", server=api.url)))
        status, out, err = cli("scan", "-A", "--all", "-o", "json")
        assert status == 1, err
        doc = json.loads(out)
        now = datetime.strptime(doc["summary"]["asOf"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        by_name = {d["pod"]["name"]: d for d in doc["items"]}
        for pod in pods:
            name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
            mine = [e for e in events if (e.get("involvedObject") or e.get("regarding") or {}).get("name") == name]
            want = _verdict(diagnose(pod, mine, now).to_dict())
            assert _verdict(by_name[name]) == want, name
            st, one, err = cli("why", name, "-n", ns, "-o", "json")
            assert st in (0, 1), err
            assert _verdict(json.loads(one))[0] == want[0], name


def test_files_and_the_engine_agree_on_the_snapshot_moment():
    # the realworld verdicts are judged at each case's own snapshot moment
    for name in ISSUE22:
        case, pod, events = _case(name)
        d = diagnose(pod, events, snapshot_time([pod], events)).to_dict()
        want = case["cause"] if isinstance(case["cause"], list) else [case["cause"]]
        assert d["cause"] in want, name


def test_a_restart_that_is_history_names_the_pod_level_limit():
    from datetime import timedelta

    _, pod, _ = _case("pod-level-resources-oom-at-pod-limit")
    d = diagnose(pod, [], snapshot_time([pod], []) + timedelta(hours=5)).to_dict()
    etl = next(c for c in d["containers"] if c["name"] == "etl")
    assert etl["cause"] == "healthy" and "OOM-killed at the pod's 2Gi limit" in etl["summary"]


def test_liveness_waits_for_the_startup_probe():
    live, startup = cfg(delay=0, period=5, threshold=3), cfg("startup", delay=30, period=10, threshold=30)
    assert sem.probe_kill_impossible(live, 20) == ""
    why = sem.probe_kill_impossible(live, 20, startup)
    assert "at least 40s" in why and "startup probe passes" in why
    assert sem.probe_kill_impossible(cfg("startup", delay=0, period=10, threshold=3), 25, startup) == ""


def test_resize_restart_wording_for_sidecars_too():
    assert sem.resize_restart("Init container proxy resize requires restart")


# --- watch: the same engine -----------------------------------------------------------------

def _before(pod, restarts=0):
    import copy

    before = copy.deepcopy(pod)
    for key in ("containerStatuses", "initContainerStatuses"):
        for c in before["status"].get(key, []):
            c["restartCount"], c["lastState"] = restarts, {}
    return before


def test_watch_reports_the_restart_all_trigger_not_its_siblings():
    from probectl.core.watch import Tracker

    _, pod, _ = _case("restart-all-containers-sibling-not-to-blame")
    t = Tracker()
    t.baseline(_before(pod))
    found = t.pod_update(pod, snapshot_time([pod], []))
    assert [(f.container, f.cause) for f in found] == [("watcher-sidecar", "app-error")]


def test_watch_does_not_call_short_instances_probe_kills():
    from probectl.core.watch import Tracker

    _, pod, events = _case("probe-arithmetic-exit1-before-liveness-threshold")
    before = _before(pod, restarts=5)
    before["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2025-03-11T10:41:02Z"}}
    t = Tracker()
    t.baseline(before)
    now = snapshot_time([pod], events)
    found = [f for e in events for f in t.event_update(e, now)] + t.pod_update(pod, now)
    assert found and {f.cause for f in found} == {"app-error"}
