"""Build Pods and Events in the exact shapes the API server returns.

Message texts are the kubelet's and the scheduler's own (pkg/kubelet/prober/prober.go,
pkg/kubelet/kuberuntime/, pkg/scheduler/), so the engine is tested on what it will read.
Times are seconds before NOW, the moment of the snapshot.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=timezone.utc)
NODE = "node-3"


def ts(before: float) -> str:
    return (NOW - timedelta(seconds=before)).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro(before: float) -> str:
    return (NOW - timedelta(seconds=before)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def http_probe(path="/healthz", port=8080, **timing) -> dict:
    return {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}, **_timing(timing)}


def tcp_probe(port=5432, **timing) -> dict:
    return {"tcpSocket": {"port": port}, **_timing(timing)}


def exec_probe(command, **timing) -> dict:
    return {"exec": {"command": list(command)}, **_timing(timing)}


def grpc_probe(port=9090, **timing) -> dict:
    return {"grpc": {"port": port, "service": ""}, **_timing(timing)}


def _timing(t: dict) -> dict:
    out = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    keys = {"delay": "initialDelaySeconds", "timeout": "timeoutSeconds", "period": "periodSeconds",
            "failures": "failureThreshold", "successes": "successThreshold"}
    for k, v in t.items():
        out[keys[k]] = v
    return out


def spec(name="api", image="registry.example.com/shop/api:1.4.2", memory="256Mi", liveness=None,
         readiness=None, startup=None, command=None, ports=(8080,), restart_policy=None, env=None) -> dict:
    c = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": p, "protocol": "TCP"} for p in ports],
        "resources": {"requests": {"cpu": "100m"}, "limits": {}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"name": "kube-api-access-x7k2p", "readOnly": True,
                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
    }
    if memory:
        c["resources"]["requests"]["memory"] = memory
        c["resources"]["limits"]["memory"] = memory
    if command:
        c["command"] = list(command)
    if env:
        c["env"] = env
    for key, probe in (("livenessProbe", liveness), ("readinessProbe", readiness), ("startupProbe", startup)):
        if probe:
            c[key] = probe
    if restart_policy:
        c["restartPolicy"] = restart_policy
    return c


def running(before: float) -> dict:
    return {"running": {"startedAt": ts(before)}}


def waiting(reason: str, message: str | None = None) -> dict:
    w = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def terminated(code: int, reason: str, started: float | None, finished: float | None, message: str | None = None,
               container_id: bool = True) -> dict:
    t = {"exitCode": code, "reason": reason}
    if started is not None:
        t["startedAt"] = ts(started)
    if finished is not None:
        t["finishedAt"] = ts(finished)
    if message:
        t["message"] = message
    if container_id:
        t["containerID"] = "containerd://" + hashlib.sha256(f"{code}{reason}{started}".encode()).hexdigest()
    return {"terminated": t}


def status(name="api", state=None, last=None, restarts=0, ready=False, started=None,
           image="registry.example.com/shop/api:1.4.2") -> dict:
    state = state or running(600)
    s = {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": ready,
        "restartCount": restarts,
        "state": state,
        "lastState": last or {},
        "containerID": "",
    }
    if "waiting" not in state:
        s["imageID"] = image.split(":")[0] + "@sha256:" + hashlib.sha256(image.encode()).hexdigest()
        s["containerID"] = "containerd://" + hashlib.sha256((name + str(state)).encode()).hexdigest()
    s["started"] = ("running" in state) if started is None else started
    return s


def pod(name: str, containers: list[dict], statuses: list[dict], *, ns="shop", phase="Running",
        restart_policy="Always", owner=("ReplicaSet", None), init=(), init_statuses=(), ephemeral=(),
        ephemeral_statuses=(), node=NODE, created=7200, ready=None, reason=None, message=None,
        conditions=None, deleting=None, uid_seed=None, extra_spec=None) -> dict:
    labels = {"app": name.rsplit("-", 2)[0]}
    meta = {
        "name": name,
        "namespace": ns,
        "uid": uid(uid_seed or f"{ns}/{name}"),
        "resourceVersion": str(int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)),
        "creationTimestamp": ts(created),
        "labels": labels,
    }
    kind, oname = owner
    if kind == "ReplicaSet":
        parts = name.rsplit("-", 1)
        oname = oname or parts[0]
        labels["pod-template-hash"] = oname.rsplit("-", 1)[-1]
    if kind:
        meta["ownerReferences"] = [{
            "apiVersion": "batch/v1" if kind == "Job" else "apps/v1", "kind": kind, "name": oname or name.rsplit("-", 1)[0],
            "uid": uid(f"{ns}/{kind}/{oname}"), "controller": True, "blockOwnerDeletion": True,
        }]
    if deleting is not None:
        meta["deletionTimestamp"] = ts(deleting)
        meta["deletionGracePeriodSeconds"] = 30
    pspec = {
        "containers": containers,
        "restartPolicy": restart_policy,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "securityContext": {},
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ],
        "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}],
    }
    if node:
        pspec["nodeName"] = node
    if init:
        pspec["initContainers"] = list(init)
    if ephemeral:
        pspec["ephemeralContainers"] = list(ephemeral)
    if extra_spec:
        pspec.update(extra_spec)
    all_ready = all(s.get("ready") for s in statuses) if ready is None else ready
    unready = [s["name"] for s in statuses if not s.get("ready")]
    if conditions is None:
        conditions = [
            {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts(created - 3)},
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts(created - 2)},
            _cond("Ready", all_ready, created - 5, unready),
            _cond("ContainersReady", all_ready, created - 5, unready),
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts(created)},
        ]
    st = {
        "phase": phase,
        "conditions": conditions,
        "qosClass": "Burstable",
    }
    if node:
        st.update({"hostIP": "10.0.1.23", "hostIPs": [{"ip": "10.0.1.23"}], "podIP": "10.244.1.7",
                   "podIPs": [{"ip": "10.244.1.7"}], "startTime": ts(created - 1)})
    if statuses:
        st["containerStatuses"] = list(statuses)
    if init_statuses:
        st["initContainerStatuses"] = list(init_statuses)
    if ephemeral_statuses:
        st["ephemeralContainerStatuses"] = list(ephemeral_statuses)
    if reason:
        st["reason"] = reason
    if message:
        st["message"] = message
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pspec, "status": st}


def _cond(ctype: str, ok: bool, before: float, unready: list[str]) -> dict:
    c = {"type": ctype, "status": "True" if ok else "False", "lastProbeTime": None, "lastTransitionTime": ts(before)}
    if not ok:
        c["reason"] = "ContainersNotReady"
        c["message"] = f"containers with unready status: [{' '.join(unready)}]"
    return c


_SEQ = [0]


def event(p: dict, reason: str, message: str, *, type="Normal", container: str | None = None, kind="containers",
          count=1, first: float = 60, last: float | None = None, component="kubelet", involved_uid=None) -> dict:
    """A core/v1 Event as the kubelet records it (aggregated: count, first and last time)."""
    _SEQ[0] += 1
    meta = p["metadata"]
    obj = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
           "uid": involved_uid or meta["uid"], "apiVersion": "v1", "resourceVersion": meta["resourceVersion"]}
    if container:
        obj["fieldPath"] = f"spec.{kind}{{{container}}}"
    last = first if last is None else last
    e = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{hashlib.sha256(f'{reason}{message}{_SEQ[0]}'.encode()).hexdigest()[:16]}",
                     "namespace": meta["namespace"], "uid": uid(f"event{_SEQ[0]}"),
                     "resourceVersion": str(100000 + _SEQ[0]), "creationTimestamp": ts(first)},
        "involvedObject": obj,
        "reason": reason,
        "message": message,
        "source": {"component": component} | ({"host": NODE} if component == "kubelet" else {}),
        "firstTimestamp": ts(first),
        "lastTimestamp": ts(last),
        "count": count,
        "type": type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": NODE if component == "kubelet" else "",
    }
    return e


def new_event(p: dict, reason: str, note: str, *, type="Normal", container=None, count=1, first=60, last=None,
              controller="kubelet") -> dict:
    """An events.k8s.io/v1 Event (eventTime and series; deprecated* fields empty)."""
    _SEQ[0] += 1
    meta = p["metadata"]
    regarding = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"], "apiVersion": "v1"}
    if container:
        regarding["fieldPath"] = f"spec.containers{{{container}}}"
    e = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{_SEQ[0]:016x}", "namespace": meta["namespace"],
                     "uid": uid(f"nevent{_SEQ[0]}"), "resourceVersion": str(200000 + _SEQ[0]),
                     "creationTimestamp": ts(first)},
        "eventTime": micro(first),
        "reportingController": controller,
        "reportingInstance": f"{controller}-{NODE}",
        "action": "Killing" if reason == "Killing" else "Probe" if reason == "Unhealthy" else reason,
        "reason": reason,
        "regarding": regarding,
        "note": note,
        "type": type,
    }
    if count > 1:
        e["series"] = {"count": count, "lastObservedTime": micro(first if last is None else last)}
    return e


# Kubelet and runtime message texts.
def liveness_http_500() -> str:
    return "Liveness probe failed: HTTP probe failed with statuscode: 500"


def refused(kind: str, port=8080, path="/healthz", ip="10.244.1.7") -> str:
    return f'{kind} probe failed: Get "http://{ip}:{port}{path}": dial tcp {ip}:{port}: connect: connection refused'


def timeout_msg(kind: str, port=8080, path="/healthz", ip="10.244.1.7") -> str:
    return (f'{kind} probe failed: Get "http://{ip}:{port}{path}": context deadline exceeded '
            "(Client.Timeout exceeded while awaiting headers)")


def kill_msg(container: str, kind: str) -> str:
    return f"Container {container} failed {kind} probe, will be restarted"


def backoff_msg(p: dict, container: str) -> str:
    m = p["metadata"]
    return f"Back-off restarting failed container {container} in pod {m['name']}_{m['namespace']}({m['uid']})"


def crashloop_wait(p: dict, container: str, backoff="5m0s") -> dict:
    m = p["metadata"]
    return waiting("CrashLoopBackOff",
                   f"back-off {backoff} restarting failed container={container} pod={m['name']}_{m['namespace']}({m['uid']})")


def lifecycle_events(p: dict, container: str, image: str, *, count=1, first=7190, last=None) -> list[dict]:
    """Pulled / Created / Started, as every start of a container records them."""
    last = first if last is None else last
    return [
        event(p, "Pulled", f'Container image "{image}" already present on machine', container=container,
              count=count, first=first, last=last),
        event(p, "Created", f"Created container: {container}", container=container, count=count, first=first, last=last),
        event(p, "Started", f"Started container {container}", container=container, count=count, first=first, last=last),
    ]


def start_error(detail: str) -> str:
    return ("failed to create containerd task: failed to create shim task: OCI runtime create failed: "
            f"runc create failed: unable to start container process: {detail}: unknown")
