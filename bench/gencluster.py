"""Generate a realistic cluster for the benchmarks: pods as the API server stores them
(managedFields, two containers with probes and resources, owner references, statuses)
and events in the kubelet's formats for the failing ones.

    python bench/gencluster.py --pods 10000 --dump /tmp/dump10k   # a cluster-info dump directory
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.builders import (  # noqa: E402
    NOW,
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
    ts,
    uid,
)

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAMESPACES = ["shop", "payments", "search", "checkout", "platform", "data", "ml", "batch", "monitoring", "ingress"]


def _suffix(i: int, n: int = 5) -> str:
    out = []
    for _ in range(n):
        i, r = divmod(i * 31 + 7, len(ALPHABET))
        out.append(ALPHABET[r])
    return "".join(out)


def _managed_fields(p: dict) -> list[dict]:
    """What the API server keeps in metadata.managedFields: a good share of a real pod's bytes."""
    spec_fields = {f"k:{{\"name\":\"{c['name']}\"}}": {
        ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {"f:limits": {".": {}, "f:memory": {}},
                                                                                      "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
        "f:livenessProbe": {".": {}, "f:failureThreshold": {}, "f:httpGet": {".": {}, "f:path": {}, "f:port": {}, "f:scheme": {}},
                            "f:periodSeconds": {}, "f:successThreshold": {}, "f:timeoutSeconds": {}},
        "f:ports": {".": {}, 'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
        "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {},
    } for c in p["spec"]["containers"]}
    return [
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": p["metadata"]["creationTimestamp"],
         "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
                                                               "f:ownerReferences": {".": {}, f"k:{{\"uid\":\"{uid(p['metadata']['name'])}\"}}": {}}},
                                                  "f:spec": {"f:containers": spec_fields, "f:dnsPolicy": {}, "f:enableServiceLinks": {},
                                                             "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {},
                                                             "f:terminationGracePeriodSeconds": {}}}},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": ts(60), "fieldsType": "FieldsV1", "subresource": "status",
         "fieldsV1": {"f:status": {"f:conditions": {'k:{"type":"ContainersReady"}': {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {},
                                                                                    "f:status": {}, "f:type": {}},
                                                    'k:{"type":"Ready"}': {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {},
                                                                           "f:status": {}, "f:type": {}}},
                                   "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:startTime": {}}}},
    ]


def generate(n_pods: int, failing: float = 0.2, events_per_failing: int = 10) -> tuple[list[dict], list[dict]]:
    pods, events = [], []
    per_deploy = 20
    n_fail_every = max(1, round(1 / failing)) if failing > 0 else 0
    for i in range(n_pods):
        ns = NAMESPACES[i % len(NAMESPACES)]
        deploy = f"svc{(i // per_deploy):04d}"
        rs = f"{deploy}-{_suffix(i // per_deploy, 9)}"[:len(deploy) + 10]
        name = f"{rs}-{_suffix(i)}"
        containers = [
            spec("app", image=f"registry.example.com/{ns}/{deploy}:1.{i % 7}.0", memory="512Mi",
                 liveness=http_probe("/healthz", 8080), readiness=http_probe("/ready", 8080)),
            spec("envoy", image="envoyproxy/envoy:v1.31.2", memory="128Mi", ports=(15000,),
                 readiness=http_probe("/ready", 15000)),
        ]
        fail = n_fail_every and i % n_fail_every == 0
        if fail:
            kind = (i // n_fail_every) % 3
            if kind == 0:  # OOM
                st = [status("app", None, terminated(137, "OOMKilled", 95, 40), restarts=6,
                             image=containers[0]["image"]), status("envoy", running(7000), ready=True, image="envoyproxy/envoy:v1.31.2")]
            elif kind == 1:  # liveness
                st = [status("app", running(25), terminated(143, "Error", 300, 26), restarts=4, image=containers[0]["image"]),
                      status("envoy", running(7000), ready=True, image="envoyproxy/envoy:v1.31.2")]
            else:  # app error
                st = [status("app", None, terminated(1, "Error", 12, 9, message="panic: missing DATABASE_URL"), restarts=9,
                             image=containers[0]["image"]), status("envoy", running(7000), ready=True, image="envoyproxy/envoy:v1.31.2")]
        else:
            kind = -1
            st = [status("app", running(7000), ready=True, image=containers[0]["image"]),
                  status("envoy", running(7000), ready=True, image="envoyproxy/envoy:v1.31.2")]
        p = pod(name, containers, st, ns=ns, owner=("ReplicaSet", rs))
        if kind in (0, 2):
            p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "app")
        p["metadata"]["generateName"] = rs + "-"
        p["metadata"]["managedFields"] = _managed_fields(p)
        p["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "2026-11-19T08:00:00Z",
                                        "prometheus.io/scrape": "true", "prometheus.io/port": "9102"}
        pods.append(p)
        if fail:
            image = containers[0]["image"]
            evs = [
                event(p, "Pulled", f'Container image "{image}" already present on machine', container="app", count=7, first=7190, last=95),
                event(p, "Created", "Created container: app", container="app", count=7, first=7190, last=95),
                event(p, "Started", "Started container app", container="app", count=7, first=7190, last=95),
                event(p, "BackOff", backoff_msg(p, "app"), type="Warning", container="app", count=30, first=3000, last=30),
            ]
            if kind == 1:
                evs += [event(p, "Unhealthy", liveness_http_500(), type="Warning", container="app", count=12, first=1260, last=55),
                        event(p, "Killing", kill_msg("app", "liveness"), container="app", count=4, first=1240, last=35)]
            while len(evs) < events_per_failing:
                evs.append(event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                                 container="app", count=3 + len(evs), first=600 + len(evs), last=20 + len(evs)))
            events += evs[:max(events_per_failing, 4)]
    return pods, events


def generate_workloads(pods: list[dict], stuck_every: int = 50) -> list[dict]:
    """The Deployments the generated pods belong to (20 replicas each, ready as many as
    their pods are), as the API server stores them; every `stuck_every`-th one is past its
    progress deadline. What scan's workload pass lists (issue 27)."""
    ready: dict[tuple[str, str], list[int]] = {}
    for p in pods:
        ns, rs = p["metadata"]["namespace"], p["metadata"]["ownerReferences"][0]["name"]
        counts = ready.setdefault((ns, rs), [0, 0])
        counts[0] += 1
        counts[1] += all(c.get("ready") for c in p["status"]["containerStatuses"])
    out = []
    for i, ((ns, rs), (total, ok)) in enumerate(sorted(ready.items())):
        name = rs.rsplit("-", 1)[0]
        stuck = stuck_every and i % stuck_every == 0
        progressing = ({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                        "message": f'ReplicaSet "{rs}" has timed out progressing.'} if stuck else
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{rs}" has successfully progressed.'})
        progressing.update(lastUpdateTime=ts(600), lastTransitionTime=ts(600))
        out.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "uid": uid(f"{ns}/Deployment/{name}"), "generation": 3,
                         "creationTimestamp": ts(86400), "labels": {"app": name},
                         "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {"replicas": total, "selector": {"matchLabels": {"app": name}}, "progressDeadlineSeconds": 600,
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": pods[0]["spec"]["containers"]}}},
            "status": {"observedGeneration": 3, "replicas": total, "updatedReplicas": total, "readyReplicas": ok,
                       "availableReplicas": ok, "unavailableReplicas": total - ok,
                       "conditions": [{"type": "Available", "status": "False" if ok < total else "True",
                                       "reason": "MinimumReplicasUnavailable" if ok < total else "MinimumReplicasAvailable",
                                       "message": "Deployment does not have minimum availability." if ok < total else
                                       "Deployment has minimum availability.",
                                       "lastUpdateTime": ts(600), "lastTransitionTime": ts(600)}, progressing]},
        })
    return out


def write_dump(root: str, pods: list[dict], events: list[dict]) -> None:
    by_ns: dict[str, tuple[list, list]] = {}
    for p in pods:
        by_ns.setdefault(p["metadata"]["namespace"], ([], []))[0].append(p)
    for e in events:
        by_ns.setdefault(e["metadata"]["namespace"], ([], []))[1].append(e)
    os.makedirs(root, exist_ok=True)
    strip = lambda o: {k: v for k, v in o.items() if k not in ("kind", "apiVersion")}  # noqa: E731
    with open(os.path.join(root, "nodes.json"), "w") as f:
        json.dump({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}, f)
    for ns, (ps, es) in by_ns.items():
        os.makedirs(os.path.join(root, ns), exist_ok=True)
        with open(os.path.join(root, ns, "pods.json"), "w") as f:
            json.dump({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [strip(p) for p in ps]}, f, indent=4)
        with open(os.path.join(root, ns, "events.json"), "w") as f:
            json.dump({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [strip(e) for e in es]}, f, indent=4)


def write_list(path: str, items: list[dict], kind: str) -> None:
    """One file as `kubectl get pods -A -o json` (or events) writes it: a List, items with
    their kind and apiVersion, indented by 4, the List's kind after its items."""
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "items": [{**i, "kind": kind, "apiVersion": "v1"} for i in items], "kind": "List",
                   "metadata": {"resourceVersion": ""}}, f, indent=4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--failing", type=float, default=0.2)
    ap.add_argument("--dump", required=True)
    a = ap.parse_args()
    pods, events = generate(a.pods, a.failing)
    write_dump(a.dump, pods, events)
    print(f"{len(pods)} pods, {len(events)} events -> {a.dump} (snapshot time {NOW.isoformat()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
