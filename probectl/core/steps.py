"""Next steps for a container's verdict: one function per cause, reading the verdict (its
cause and flags) and the container's facts."""

from __future__ import annotations

from collections.abc import Callable

from probectl.core import objects as ob
from probectl.core import probes as pr
from probectl.core import reasons as rs
from probectl.core import semantics as sem
from probectl.core.facts import ContainerFacts
from probectl.core.model import Cause
from probectl.core.verdict import Verdict


class _Cmd:
    """The kubectl commands a step names, for this container."""

    def __init__(self, f: ContainerFacts):
        ns, pod, c = f.pf.pod.namespace, f.pf.pod.name, f.name
        self.ns, self.pod, self.c = ns, pod, c
        self.logs_prev = f"kubectl logs -n {ns} {pod} -c {c} --previous"
        self.logs_now = f"kubectl logs -n {ns} {pod} -c {c}"
        self.events = f"kubectl get events -n {ns} --field-selector involvedObject.name={pod} --sort-by=.lastTimestamp"
        t = f.last
        self.logs = self.logs_now if (t and t.current) or f.restarts == 0 else self.logs_prev
        kind, name = f.pf.pod.owner_kind, f.pf.pod.owner_name
        self.workload = f"{kind.lower()}/{name}" if kind in ("Deployment", "StatefulSet", "DaemonSet") else ""


def probe_port(f: ContainerFacts, kind: str) -> str | None:
    probe = ob.get(f.ref.spec, pr.SPEC_KEY[kind])
    for key in ("httpGet", "tcpSocket", "grpc"):
        port = ob.get(probe, key, "port")
        if isinstance(port, int) and not isinstance(port, bool):
            return str(port)
        if isinstance(port, str) and port:
            for p in ob.dicts(f.ref.spec, "ports"):
                if p.get("name") == port and isinstance(p.get("containerPort"), int):
                    return str(p["containerPort"])
    return None


def _oom(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    steps = [k.logs_prev if f.restarts else k.logs_now]
    b = ob.quantity_bytes(f.limit)
    if b:
        target = ob.format_bytes(b * 2)
        steps.append(f"raise resources.limits.memory above {f.limit} (e.g. {target}) or find the leak"
                     + (f": kubectl set resources {k.workload} -n {k.ns} -c {k.c} --limits=memory={target}" if k.workload else ""))
    elif sem.pod_memory_limit(f.pf.spec):
        steps.append(f"raise the pod-level spec.resources.limits.memory above {sem.pod_memory_limit(f.pf.spec)}, "
                     "or give this container a limit of its own so it cannot starve its siblings")
    else:
        steps.append("set resources.requests.memory and resources.limits.memory to what it really uses")
    steps.append(f"kubectl top pod -n {k.ns} {k.pod} --containers")
    return steps


def _probe_kill(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    kind = "liveness" if v.cause is Cause.LIVENESS_PROBE_FAILED else "startup"
    stats = f.probes.get(kind)
    cfg = stats.config if stats else None
    steps = [k.logs_prev]
    if cfg and kind == "liveness":
        steps.append(f"if it is slow rather than dead, raise livenessProbe.timeoutSeconds (now {cfg.timeout}s) or "
                     f"failureThreshold (now {cfg.failure_threshold}); if it fails right after start, add a startupProbe")
    elif cfg:
        steps.append(f"raise startupProbe.failureThreshold (now {cfg.failure_threshold}, budget {cfg.budget_seconds}s) "
                     "to cover the real start-up time")
    port = probe_port(f, kind)
    if port:
        steps.append(f"kubectl port-forward -n {k.ns} pod/{k.pod} {port}:{port}  # then request the probe endpoint yourself")
    return steps


def _readiness(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    steps = []
    port = probe_port(f, "readiness")
    if port:
        steps.append(f"kubectl port-forward -n {k.ns} pod/{k.pod} {port}:{port}  # then request the readiness endpoint")
    steps.append(k.logs_now)
    steps.append(f"kubectl get endpointslices -n {k.ns} -o wide  # the pod is left out of its Services' endpoints while unready")
    return steps


def _logs(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    steps = [k.logs]
    if v.cause is Cause.CRASHED_SIGNAL and f.last and f.last.signal == "SIGBUS":
        steps.append("SIGBUS often means /dev/shm is full: mount an emptyDir with medium: Memory at /dev/shm")
    if v.cause is Cause.COMPLETED and f.pf.pod.restart_policy == "Always" and f.ref.type == "container":
        steps.append("run one-shot work as a Job (restartPolicy OnFailure/Never), or keep the process in the foreground")
    return steps


def _killed(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    if v.terminating:
        return ["handle SIGTERM in the program (or a preStop hook) so it stops within terminationGracePeriodSeconds, "
                "or raise terminationGracePeriodSeconds"]
    steps = [k.events]
    if f.pf.pod.node:
        steps.append(f"kubectl describe node {f.pf.pod.node}")
    steps.append(k.logs)
    steps.append("if it was asked to stop: handle SIGTERM, or raise terminationGracePeriodSeconds")
    return steps


def _terminated(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    if v.by_design:
        return ["nothing to fix in this container: Kubernetes restarted it on purpose (see the evidence)"]
    if v.terminating:
        return ["nothing to fix: the pod is being deleted (a rollout, scale-down or manual deletion)"]
    steps = [k.events]
    if k.workload:
        steps.append(f"kubectl rollout history {k.workload} -n {k.ns}")
    steps.append(k.logs)
    return steps


def _waiting_message(f: ContainerFacts) -> str:
    return f.ref.status and ob.text(f.ref.status, "state", "waiting", "message") or ""


def _start(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    steps = [f"kubectl get pod -n {k.ns} {k.pod} -o jsonpath='{{.spec.containers[?(@.name==\"{k.c}\")].command}}'"]
    t = f.last
    text = " ".join(x for x in (_waiting_message(f), t.message if t else "") if x)
    if rs.EXEC_FORMAT.search(text) or (v.cause is Cause.START_ERROR and any(rs.EXEC_FORMAT.search(e.message) for e in f.events)):
        steps.append("rebuild the image for the nodes' CPU architecture (docker buildx build --platform linux/amd64,linux/arm64), "
                     "or pin the pod to matching nodes with nodeSelector kubernetes.io/arch")
    if v.cause is Cause.PERMISSION_DENIED:
        steps.append("make the entrypoint executable in the image (chmod +x) and check securityContext.runAsUser")
    else:
        steps.append("check the image's entrypoint and that the binary exists at that path in the image")
    steps.append(k.events)
    return steps


def _image(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    return [f"kubectl get pod -n {k.ns} {k.pod} -o jsonpath='{{.spec.containers[*].image}} {{.spec.imagePullSecrets}}'",
            "check the image name and tag exist in the registry, and the pull secret for private registries",
            k.events]


def _config(f: ContainerFacts, v: Verdict, k: _Cmd) -> list[str]:
    steps = []
    m = rs.MISSING_REF.search(_waiting_message(f))
    if m and m.group(1):
        steps.append(f"kubectl get {m.group(1).lower()} {m.group(2)} -n {k.ns}")
    elif m and m.group(3):
        steps.append(f"kubectl get {m.group(4).lower()} {m.group(5).split('/')[-1]} -n {k.ns} -o jsonpath='{{.data}}'  # key {m.group(3)} is missing")
    steps.append(k.events)
    return steps


STEPS: dict[Cause, Callable[[ContainerFacts, Verdict, _Cmd], list[str]]] = {
    Cause.OOM_KILLED: _oom,
    Cause.LIVENESS_PROBE_FAILED: _probe_kill,
    Cause.STARTUP_PROBE_FAILED: _probe_kill,
    Cause.READINESS_PROBE_FAILED: _readiness,
    Cause.APP_ERROR: _logs, Cause.CRASHED_SIGNAL: _logs, Cause.COMPLETED: _logs, Cause.UNKNOWN: _logs,
    Cause.KILLED: _killed,
    Cause.TERMINATED: _terminated,
    Cause.COMMAND_NOT_FOUND: _start, Cause.PERMISSION_DENIED: _start, Cause.START_ERROR: _start,
    Cause.IMAGE_PULL_FAILED: _image,
    Cause.CONFIG_ERROR: _config,
}


def next_steps(f: ContainerFacts, v: Verdict) -> list[str]:
    fn = STEPS.get(v.cause)
    return fn(f, v, _Cmd(f)) if fn else []
