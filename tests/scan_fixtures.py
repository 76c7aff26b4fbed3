"""A small cluster for scan tests: forty replicas failing the same way, and their neighbours."""

from __future__ import annotations

import copy

from tests.builders import (
    backoff_msg,
    crashloop_wait,
    event,
    http_probe,
    kill_msg,
    liveness_http_500,
    pod,
    running,
    spec,
    status,
    terminated,
    uid,
)
from tests.scenarios import BY_NAME

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the characters Kubernetes uses for generated names
SUFFIXES = ["".join(_ALPHABET[(i * 7919 + k * 104729) // (k + 1) % len(_ALPHABET)] for k in range(5)) for i in range(100)]
assert len(set(SUFFIXES)) == len(SUFFIXES)


def _rename(p: dict, name: str, ns: str | None = None) -> dict:
    p = copy.deepcopy(p)
    p["metadata"]["name"] = name
    if ns:
        p["metadata"]["namespace"] = ns
    p["metadata"]["uid"] = uid(f"{p['metadata']['namespace']}/{name}")
    refs = p["metadata"].get("ownerReferences") or []
    if refs and refs[0]["kind"] == "ReplicaSet":
        rs = name.rsplit("-", 1)[0]
        refs[0]["name"] = rs
        p["metadata"]["labels"].update({"pod-template-hash": rs.rsplit("-", 1)[-1], "app": rs.rsplit("-", 1)[0]})
    return p


def _retarget(events: list[dict], p: dict) -> list[dict]:
    out = []
    for e in copy.deepcopy(events):
        e["involvedObject"].update(name=p["metadata"]["name"], uid=p["metadata"]["uid"], namespace=p["metadata"]["namespace"])
        e["metadata"]["namespace"] = p["metadata"]["namespace"]
        e["metadata"]["name"] = f"{p['metadata']['name']}.{e['metadata']['name'].split('.')[-1]}"
        e["metadata"]["uid"] = uid(e["metadata"]["name"] + e["reason"])
        out.append(e)
    return out


def small_cluster(replicas: int = 40) -> tuple[list[dict], list[dict]]:
    pods: list[dict] = []
    events: list[dict] = []
    oom = BY_NAME["oom_killed_crashloop"]
    for i in range(replicas):
        p = _rename(oom.pod, f"web-7f9c6d8b5-{SUFFIXES[i]}")
        pods.append(p)
        events += _retarget(oom.events, p)
    live = BY_NAME["liveness_exit_143"]
    for i in range(3):
        p = _rename(live.pod, f"checkout-5d8f7c9b6-{SUFFIXES[i]}")
        pods.append(p)
        events += _retarget(live.events, p)
    for name in ("readiness_failing", "never_policy_app_error", "image_pull_backoff"):
        sc = BY_NAME[name]
        pods.append(sc.pod)
        events += sc.events
    job = _rename(BY_NAME["app_error_exit_1"].pod, "nightly-report-29000000-q7x2m", ns="batch")
    job["metadata"]["ownerReferences"][0].update(kind="Job", name="nightly-report-29000000", apiVersion="batch/v1")
    pods.append(job)
    old = BY_NAME["recovered_old_oom"].pod
    pods.append(_rename(old, "cache-5f6d7c8b9-old01"))
    for i in range(12):
        h = _rename(BY_NAME["healthy_running"].pod, f"api-6b7c8d9e0-{SUFFIXES[i]}")
        pods.append(h)
    sys_pod = pod("coredns-7db6d8ff4d-4xk2p", [spec("coredns", image="registry.k8s.io/coredns/coredns:v1.11.1", memory="170Mi",
                                                     liveness=http_probe("/health", 8080), readiness=http_probe("/ready", 8181))],
                  [status("coredns", running(86000), ready=True, image="registry.k8s.io/coredns/coredns:v1.11.1")],
                  ns="kube-system", created=86400)
    pods.append(sys_pod)
    # a crash-looping pod in kube-system, for namespace filters and forbidden namespaces
    kp = pod("kube-proxy-9zt4w", [spec("kube-proxy", image="registry.k8s.io/kube-proxy:v1.32.0", memory=None)],
             [status("kube-proxy", None, terminated(1, "Error", 70, 50), restarts=4, image="registry.k8s.io/kube-proxy:v1.32.0")],
             ns="kube-system", owner=("DaemonSet", "kube-proxy"))
    kp["status"]["containerStatuses"][0]["state"] = crashloop_wait(kp, "kube-proxy")
    pods.append(kp)
    events.append(event(kp, "BackOff", backoff_msg(kp, "kube-proxy"), type="Warning", container="kube-proxy", count=9, first=900, last=20))
    events.append(event(kp, "Unhealthy", liveness_http_500(), type="Warning", container="kube-proxy", count=1, first=5000))
    events.append(event(kp, "Killing", kill_msg("kube-proxy", "liveness"), container="kube-proxy", first=4990))
    return pods, events


def write_dump(root, pods, events):
    """`kubectl cluster-info dump --output-directory` layout."""
    from bench.gencluster import write_dump as write

    write(str(root), pods, events)
    return root
