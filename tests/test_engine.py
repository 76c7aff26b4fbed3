"""The diagnosis engine over the scenario corpus, and its invariants."""

from __future__ import annotations

import json

import pytest

from probectl.core.diagnose import diagnose
from tests.builders import NOW
from tests.scenarios import BY_NAME, SCENARIOS

CAUSES = {
    "healthy", "completed", "oom-killed", "liveness-probe-failed", "startup-probe-failed", "readiness-probe-failed",
    "app-error", "crashed-signal", "killed", "terminated", "command-not-found", "permission-denied", "start-error",
    "image-pull-failed", "config-error", "evicted", "deadline-exceeded", "unschedulable", "unknown",
}


def test_corpus_size_and_coverage():
    assert len(SCENARIOS) >= 40
    assert {s.cause for s in SCENARIOS} == CAUSES  # at least one scenario per cause code


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(sc):
    d = diagnose(sc.pod, sc.events, NOW)
    detail = json.dumps(d.to_dict(), indent=1)[:3000]
    assert d.cause.value == sc.cause, detail
    if sc.confidence:
        assert d.confidence.value == sc.confidence, detail
    if sc.severity:
        assert d.severity.value == sc.severity, detail
    if sc.culprit:
        assert d.culprit == sc.culprit
    by_name = {c.name: c for c in d.containers}
    for name, cause in sc.containers.items():
        assert by_name[name].cause.value == cause, detail
    for name, cause in sc.last_restart.items():
        assert by_name[name].last_restart is not None and by_name[name].last_restart.cause.value == cause, detail
    for text in sc.summary_has:
        assert text in d.summary, d.summary
    evidence = " | ".join(d.evidence)
    for text in sc.evidence_has:
        assert text in evidence, evidence


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_contract_fields(sc):
    doc = diagnose(sc.pod, sc.events, NOW).to_dict()
    assert doc["apiVersion"] == "probectl/v1" and doc["kind"] == "Diagnosis"
    assert doc["pod"]["namespace"] and doc["pod"]["name"]
    assert doc["cause"] in CAUSES
    assert doc["confidence"] in ("high", "medium", "low")
    assert isinstance(doc["summary"], str) and doc["summary"]
    for c in doc["containers"]:
        assert c["type"] in ("container", "init", "sidecar", "ephemeral")
        assert c["cause"] in CAUSES and c["confidence"] in ("high", "medium", "low")
        assert isinstance(c["restartCount"], int)
        lt = c["lastTermination"]
        assert lt is None or {"exitCode", "signal", "reason"} <= set(lt)
    json.dumps(doc)  # serialisable


def test_problem_verdicts_name_next_steps():
    for sc in SCENARIOS:
        d = diagnose(sc.pod, sc.events, NOW)
        if d.severity.value != "ok":
            assert d.next_steps, sc.name
            assert d.evidence, sc.name


def test_oom_next_steps_are_concrete():
    d = diagnose(BY_NAME["oom_killed_crashloop"].pod, BY_NAME["oom_killed_crashloop"].events, NOW)
    steps = " ".join(d.next_steps)
    assert "kubectl logs -n shop web-7f9c6d8b5-x2lqz -c api --previous" in steps
    assert "kubectl set resources deployment/web -n shop -c api --limits=memory=512Mi" in steps


def test_liveness_next_steps_name_the_setting():
    sc = BY_NAME["liveness_exit_143"]
    steps = " ".join(diagnose(sc.pod, sc.events, NOW).next_steps)
    assert "timeoutSeconds (now 1s)" in steps and "failureThreshold (now 3)" in steps
    assert "kubectl port-forward -n shop pod/checkout-5d8f7c9b6-q4tnm 8080:8080" in steps


def test_config_error_names_the_missing_object():
    sc = BY_NAME["config_error_configmap"]
    assert "kubectl get configmap app-config -n shop" in diagnose(sc.pod, sc.events, NOW).next_steps


def test_will_restart_semantics():
    def container(name, cname):
        sc = BY_NAME[name]
        return {c.name: c for c in diagnose(sc.pod, sc.events, NOW).containers}[cname]

    assert container("oom_killed_crashloop", "api").will_restart is True
    assert container("never_policy_app_error", "backup").will_restart is False  # Never, and the pod is Failed
    assert container("completed_job", "report").will_restart is False
    assert container("completed_under_always", "hello").will_restart is True
    assert container("sidecar_crashloop", "log-shipper").will_restart is True
    assert container("sidecar_crashloop", "log-shipper").type == "sidecar"
    assert container("init_container_failing", "migrate").type == "init"
    assert container("ephemeral_debugger_done", "debugger-7xk2q").will_restart is False
    assert container("terminated_143_deletion", "api").will_restart is False  # being deleted


def test_probe_budget_and_handler():
    sc = BY_NAME["startup_probe_kill"]
    app = diagnose(sc.pod, sc.events, NOW).containers[0]
    startup = app.probes["startup"]
    assert startup.config.budget_seconds == 30  # 0 + 5 x 6
    assert startup.config.handler == "http-get http://:8080/started"
    assert startup.kills == 5 and startup.failures == 30
    assert app.probes["liveness"].failures == 0


def test_event_counts_and_series():
    sc = BY_NAME["liveness_new_events_api"]
    d = diagnose(sc.pod, sc.events, NOW)
    live = d.containers[0].probes["liveness"]
    assert live.failures == 9 and live.kills == 3
    assert live.config.handler == "grpc <pod>:9090"


def test_timeline_is_deduplicated_and_ordered():
    sc = BY_NAME["image_pull_backoff"]
    d = diagnose(sc.pod, sc.events, NOW)
    times = [e.last for e in d.events]
    assert times == sorted(times)
    assert len(d.events) == 5


def test_without_now_uses_the_newest_timestamp():
    sc = BY_NAME["liveness_exit_143"]
    d = diagnose(sc.pod, sc.events)
    assert d.as_of is not None and d.as_of <= NOW
    assert d.cause.value == "liveness-probe-failed"


def test_no_events_warns():
    sc = BY_NAME["readiness_no_events"]
    d = diagnose(sc.pod, [], NOW)
    assert any("No events" in w for w in d.warnings)


def test_env_values_never_reach_the_result():
    sc = BY_NAME["config_error_secret_key"]
    pod = json.loads(json.dumps(sc.pod))
    pod["spec"]["containers"][0]["env"].append({"name": "API_TOKEN", "value": "s3cr3t-token-value"})
    doc = json.dumps(diagnose(pod, [], NOW).to_dict())
    assert "s3cr3t-token-value" not in doc


def test_events_grouped_by_pod_give_the_same_verdicts():
    """by_pod()/for_pod_key() (used for many pods at once) hand diagnose() the same evidence."""
    from probectl.core.events import by_pod, for_pod_key

    everything = [e for sc in SCENARIOS for e in sc.events]
    grouped = by_pod(everything)
    for sc in SCENARIOS:
        alone = diagnose(sc.pod, sc.events, NOW).to_dict()
        assert diagnose(sc.pod, for_pod_key(grouped, sc.pod), NOW).to_dict() == alone, sc.name


def test_exit_codes_are_read_as_int32():
    """An NTSTATUS printed unsigned (3221225477, as docker shows it) is the API's int32
    -1073741819 (0xC0000005, access violation); nothing leaves the int32 range."""
    import copy

    sc = BY_NAME["windows_access_violation"]
    for raw, want in ((3221225477, -1073741819), (-1073741819, -1073741819), (99999999999, 2**31 - 1)):
        p = copy.deepcopy(sc.pod)
        p["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] = raw
        c = diagnose(p, sc.events, NOW).containers[0]
        assert c.last_termination.exit_code == want, raw
        if raw == 3221225477:
            assert c.cause.value == "crashed-signal" and c.last_termination.meaning == "STATUS_ACCESS_VIOLATION"
