"""One case per verdict rule that neither tests/scenarios.py nor tests/realworld decides:
(rule id, pod, events, container or "" for the pod, expected cause). Each names the fact
it rests on (../shared/kubelet-facts.md and the kubelet sources named there)."""

from __future__ import annotations

from tests.builders import event, http_probe, pod, running, spec, status, terminated, waiting


def _rejected():
    # kubelet lifecycle/predicate.go: a pod that does not fit at admission ends phase Failed,
    # reason "OutOf" + resource, message "Node didn't have enough resource: cpu, requested: ..."
    p = pod("batch-7d9f8c6b5-r2x4z", [spec("worker")], [], phase="Failed", reason="OutOfcpu",
            message="Pod Node didn't have enough resource: cpu, requested: 2000, used: 7600, capacity: 8000")
    return "P07", p, [], "", "unschedulable"


def _no_status():
    # a pod as users paste it: two containers in the spec, the status trimmed to one
    p = pod("api-5c7d8e9f0-n3m4k", [spec("api"), spec("proxy", image="envoyproxy/envoy:v1.30.1")],
            [status("api", running(600), None, ready=True)])
    return "S02", p, [], "proxy", "unknown"


def _startup_failing():
    # kubelet-facts §2: the startup probe's budget is initialDelaySeconds + periodSeconds x
    # failureThreshold (here 30s); 100s in and still failing: the kill is due
    p = pod("legacy-6f7e8d9c0-k8j7h", [spec("app", startup=http_probe("/started", failures=3, period=10))],
            [status("app", running(100), None, ready=False, started=False)])
    ev = [event(p, "Unhealthy", "Startup probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                container="app", count=5, first=90, last=5)]
    return "R02", p, ev, "app", "startup-probe-failed"


def _startup_errored():
    # prober.go: a probe that could not run is recorded as "probe errored" and its result
    # discarded (kubelet-facts §2): the startup probe then never passes
    p = pod("legacy-6f7e8d9c0-q2w3e", [spec("app", startup=http_probe("/started", failures=30, period=10))],
            [status("app", running(100), None, ready=False, started=False)])
    ev = [event(p, "Unhealthy", 'Startup probe errored: rpc error: code = Unknown desc = failed to exec in container',
                type="Warning", container="app", count=9, first=90, last=5)]
    return "R03", p, ev, "app", "startup-probe-failed"


def _startup_not_passed():
    # status.containerStatuses[].started stays false until the startup probe succeeds
    p = pod("legacy-6f7e8d9c0-z9x8c", [spec("app", startup=http_probe("/started", failures=30, period=10))],
            [status("app", running(100), None, ready=False, started=False)])
    return "R04", p, [], "app", "startup-probe-failed"


def _unready_unexplained():
    # without a readiness probe the kubelet reports ready once started; unready without one
    # is something else (a readiness gate, a status written by hand)
    p = pod("api-5c7d8e9f0-u7i8o", [spec("api")], [status("api", running(600), None, ready=False)])
    return "R07", p, [], "api", "unknown"


def _ready_unknown():
    # fragments pasted from `kubectl get -o yaml | grep -A` often lose the ready field
    p = pod("api-5c7d8e9f0-p0o9i", [spec("api")], [status("api", running(600), None, ready=True)])
    del p["status"]["containerStatuses"][0]["ready"]
    return "R08", p, [], "api", "healthy"


def _runtime_exit_code():
    # exit 128 with reason Error and no start-error text: exitcodes' RUNTIME class (a program
    # that called exit(128), or a runtime failure the status does not explain)
    p = pod("api-5c7d8e9f0-t5r4e", [spec("api")],
            [status("api", running(30), terminated(128, "Error", 300, 40), restarts=2, ready=True)])
    ev = [event(p, "Started", "Started container api", container="api", first=3000, last=30)]
    return "T20", p, ev, "api", "start-error"


def _no_record_failures():
    # lastState empty (a fragment) and liveness failures past failureThreshold: the kill whose
    # Killing event is missing (the kubelet's event spam filter, kubelet-facts §7)
    p = pod("api-5c7d8e9f0-w2q1a", [spec("api", liveness=http_probe())],
            [status("api", running(20), None, restarts=3, ready=True)])
    ev = [event(p, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", type="Warning",
                container="api", count=6, first=600, last=40)]
    return "N03", p, ev, "api", "liveness-probe-failed"


def _pod_warning():
    # kuberuntime_sandbox: FailedCreatePodSandBox (Warning) keeps the containers in ContainerCreating
    p = pod("api-5c7d8e9f0-s3d4f", [spec("api")], [status("api", waiting("ContainerCreating"), None)],
            phase="Pending")
    ev = [event(p, "FailedCreatePodSandBox", 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to '
                'setup network for sandbox "4f1c": plugin type="calico" failed (add): error getting ClusterInformation: '
                'connection is unauthorized: Unauthorized', type="Warning", count=12, first=600, last=10)]
    return "W05", p, ev, "api", "unknown"


def _waiting_unknown():
    # kuberuntime_container.go: ErrPreCreateHook = "PreCreateHookError" (a device plugin or
    # CPU/memory manager refused the container): no rule of its own
    p = pod("gpu-job-5c7d8e9f0-g6h7j", [spec("train")],
            [status("train", waiting("PreCreateHookError", "failed to allocate device: nvidia.com/gpu"), None)])
    return "W07", p, [], "train", "unknown"


def _no_state():
    # a status whose state is empty ({}) and no lastState: an incomplete object
    p = pod("api-5c7d8e9f0-b8n9m", [spec("api")], [status("api", running(60), None, ready=False)])
    p["status"]["containerStatuses"][0]["state"] = {}
    return "U01", p, [], "api", "unknown"


def _preempted_event():
    # kube-scheduler preemption.go: Eventf(victim, pod, v1.EventTypeNormal, "Preempted",
    # "Preempting", "Preempted by pod %v on node %v"): a Normal event, with no DisruptionTarget
    # condition on clusters before 1.26
    p = pod("report-6b7c8d9e0-v4b5n", [spec("report")],
            [status("report", terminated(143, "Error", 3000, 50), None, restarts=0)], phase="Failed")
    ev = [event(p, "Preempted", "Preempted by pod 3f5b2c1a-7d4e-4b8a-9c6d-2e1f0a9b8c7d on node node-2",
                first=60, component="default-scheduler")]
    return "P05", p, ev, "", "terminated"


RULE_CASES = [fn() for fn in (_preempted_event, _rejected, _no_status, _startup_failing, _startup_errored, _startup_not_passed,
                              _unready_unexplained, _ready_unknown, _runtime_exit_code, _no_record_failures,
                              _pod_warning, _waiting_unknown, _no_state)]
