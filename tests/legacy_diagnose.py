"""diagnose(pod, events, now) -> Diagnosis: the rules, in one readable place.

Pure: the pod and its events as the API returns them go in, a frozen Diagnosis comes out.
The order of the rules is the order of authority: pod-level evidence (an eviction, a
preemption, a deadline) first, then what the kubelet and the runtime state outright (a
termination reason, a waiting reason, a kill announced for a probe), then what an exit
code suggests; when the deciding evidence is missing, the confidence says so.

Current versus history: a container's trouble is *current* when it is not running and
ready now, or its last termination ended within the recent window (1 hour by default), or
it restarts repeatedly (REPEATED restarts or more in all, and on average one or more per
window over the pod's life). Otherwise the restart is history: the container is `healthy`
and `lastRestart` keeps the explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from probectl.core import events as ev
from probectl.core import exitcodes
from probectl.core import objects as ob
from probectl.core import probes as pr
from probectl.core.model import (
    SEVERITY,
    Cause,
    Confidence,
    ContainerDiagnosis,
    Diagnosis,
    EventRecord,
    LastRestart,
    PodInfo,
    ProbeStats,
    Severity,
    Termination,
)
from probectl.core.objects import human_duration

EVENT_TTL = timedelta(hours=1)  # kube-apiserver --event-ttl default
RECENT = timedelta(hours=1)  # default --recent: a termination older than this (and fine since) is history
REPEATED = 3  # at least this many restarts, and one or more per recent window on average: flapping, current
BACKOFF_RESET = timedelta(minutes=10)  # the kubelet forgets the back-off after 10 min of running
STUCK_TERMINATING = timedelta(minutes=5)  # past its deletion deadline this long: stuck, not terminating
MESSAGE_LIMIT = 300

IMAGE_PULL = {
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "ImageInspectError", "RegistryUnavailable", "SignatureValidationFailed", "PullImageError",
}
CONFIG = {"CreateContainerConfigError", "CreateContainerError"}
START = {"StartError", "ContainerCannotRun", "RunContainerError"}
POD_WARNINGS = {
    "FailedMount", "FailedAttachVolume", "FailedCreatePodSandBox", "FailedCreatePodContainer",
    "NetworkNotReady", "FailedKillPod", "FailedSync", "FailedPostStartHook", "FailedPreStopHook",
}
# The status manager's stand-in for a container it could not find when the pod was
# terminated or deleted (exit 137, no times): not a kill of its own (kubelet-facts §5).
PLACEHOLDER = "ContainerStatusUnknown"

# What the runtime's start error says. runc: `exec: "gunicorn": executable file not found
# in $PATH`, `exec: "/app/bin/server": stat /app/bin/server: no such file or directory`
# (CRI-O, older runc), `exec /app/server: no such file or directory` (runc 1.1+, also a
# script whose #! interpreter is missing), `exec: "/app/run.sh": permission denied`,
# `exec /app/server: exec format error` (an image built for another CPU). Mount, chdir and
# cgroup failures also say "no such file or directory" or "permission denied": start-error.
_EXEC_NOT_FOUND = re.compile(
    r'executable file not found|not found in \$PATH|\bexec(?:: "[^"]*": stat [^:]+| [^\s:"]+): no such file or directory',
    re.I)
_EXEC_DENIED = re.compile(r'\bexec(?:: "[^"]*"| [^\s:"]+): permission denied', re.I)
_EXEC_FORMAT = re.compile(r"exec format error", re.I)
_NOT_MAIN_PROCESS = re.compile(r"mount|rootfs|chdir|volume|subpath|cgroup|seccomp|apparmor|device", re.I)
_NO_SUCH_FILE = re.compile(r"no such file or directory", re.I)
_PERMISSION = re.compile(r"permission denied", re.I)
# containerd after a slow create: the runtime's trouble, not the spec's (kubelet-facts §4)
_RUNTIME_TROUBLE = re.compile(r"failed to reserve container name|context deadline exceeded", re.I)
_BACKOFF = re.compile(r"back-off (\S+) restarting failed container")
_MISSING_REF = re.compile(r'(configmap|secret) "([^"]+)" not found|couldn\'t find key (\S+) in (ConfigMap|Secret) (\S+)', re.I)


def start_cause(text: str) -> Cause | None:
    """command-not-found / permission-denied / start-error read from a runtime's start
    error text; None when the text says nothing specific."""
    if not text:
        return None
    if _EXEC_NOT_FOUND.search(text):
        return Cause.COMMAND_NOT_FOUND
    if _EXEC_DENIED.search(text):
        return Cause.PERMISSION_DENIED
    if _EXEC_FORMAT.search(text):
        return Cause.START_ERROR
    if _NOT_MAIN_PROCESS.search(text):
        return None
    if _NO_SUCH_FILE.search(text):
        return Cause.COMMAND_NOT_FOUND
    if _PERMISSION.search(text):
        return Cause.PERMISSION_DENIED
    return None


def _clip(s: str, limit: int = MESSAGE_LIMIT) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _pull_detail(message: str, image: str) -> str:
    """The part of a runtime's pull error that says what went wrong: `not found`,
    `pull access denied, ...`, rather than the image name three times over."""
    code = re.search(r"rpc error: code = (\w+)", message)
    tail = message
    if image:
        for marker in (f'{image}": ', f"{image}: "):
            i = tail.rfind(marker)
            if i >= 0:
                tail = tail[i + len(marker):]
                break
    if tail == message and "desc = " in tail:
        tail = tail.split("desc = ", 1)[1]
    return tail + (f" (rpc code {code.group(1)})" if code and code.group(1) not in tail else "")


# --------------------------------------------------------------------------- time


def snapshot_time(pods: list[dict], events: list[dict]) -> datetime | None:
    """The newest timestamp in the input: the moment a file snapshot was taken, near enough."""
    best: datetime | None = None

    def see(value) -> None:
        nonlocal best
        t = ob.parse_time(value)
        if t and (best is None or t > best):
            best = t

    for pod in pods:
        see(ob.get(pod, "metadata", "creationTimestamp"))
        asked = _deletion_requested(pod, ob.get(pod, "spec", default={}))  # deletionTimestamp is a deadline
        if asked and (best is None or asked > best):
            best = asked
        see(ob.get(pod, "status", "startTime"))
        for c in ob.dicts(pod, "status", "conditions"):
            see(c.get("lastTransitionTime"))
            see(c.get("lastProbeTime"))
        for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
            for s in ob.dicts(pod, "status", key):
                for state in ("state", "lastState"):
                    for phase in ("running", "terminated"):
                        see(ob.get(s, state, phase, "startedAt"))
                        see(ob.get(s, state, phase, "finishedAt"))
    for raw in events:
        t = event_time(raw)
        if t and (best is None or t > best):
            best = t
    return best


def event_time(raw) -> datetime | None:
    """When an event was last seen, from its raw object (either API), cheaply."""
    if not isinstance(raw, dict):
        return None
    for value in (ob.get(raw, "series", "lastObservedTime"), raw.get("lastTimestamp"), raw.get("eventTime"),
                  raw.get("deprecatedLastTimestamp"), raw.get("firstTimestamp")):
        if value:
            return ob.parse_time(value)
    return None


def _ago(now: datetime | None, t: datetime | None) -> str:
    if not now or not t:
        return ""
    return f"{human_duration((now - t).total_seconds())} ago"


# --------------------------------------------------------------------------- pod


def pod_info(pod: dict) -> PodInfo:
    kind, name = ob.owner(pod)
    return PodInfo(
        namespace=ob.text(pod, "metadata", "namespace") or "default",
        name=ob.text(pod, "metadata", "name"),
        uid=ob.text(pod, "metadata", "uid"),
        phase=ob.text(pod, "status", "phase"),
        restart_policy=ob.text(pod, "spec", "restartPolicy") or "Always",
        node=ob.text(pod, "spec", "nodeName"),
        created=ob.parse_time(ob.get(pod, "metadata", "creationTimestamp")),
        reason=ob.text(pod, "status", "reason"),
        message=ob.text(pod, "status", "message"),
        owner_kind=kind,
        owner_name=name,
        deleting=ob.get(pod, "metadata", "deletionTimestamp") is not None,
        qos=ob.text(pod, "status", "qosClass"),
    )


@dataclass(frozen=True)
class _PodLevel:
    """A verdict about the whole pod (eviction, preemption, deadline, scheduling)."""

    cause: Cause
    confidence: Confidence
    summary: str
    evidence: list[str]
    steps: list[str]
    what: str = ""  # "evicted", "preempted", ...: how its stopped containers are described
    severity: Severity | None = None  # instead of the cause's default


@dataclass(frozen=True)
class _Ctx:
    pod: PodInfo
    spec: dict
    now: datetime | None
    events: tuple[EventRecord, ...]  # the pod's events
    earliest_event: datetime | None
    recent: timedelta = RECENT
    deletion_requested: datetime | None = None  # deletionTimestamp minus its grace period
    pod_started: datetime | None = None
    pod_level: _PodLevel | None = None
    main_done: bool = False  # every regular container has stopped: sidecars are then stopped on purpose
    clock_known: bool = True  # False: "now" is only this pod's own newest timestamp (a lone pod from a file)

    def cmd(self, s: str) -> str:
        return s.format(ns=self.pod.namespace, pod=self.pod.name)

    @property
    def terminal(self) -> bool:
        return self.pod.phase in ("Succeeded", "Failed")


_CONTAINER_REASONS = {"Killing", "BackOff", "Failed", "Pulling", "Pulled", "Created", "Started", "Unhealthy",
                      "ErrImageNeverPull", "InspectFailed", "ProbeWarning"}


def _container_of(e: EventRecord, names: list[str], only: str | None, probed: dict[str, list[str]]) -> str | None:
    """The container an event is about: its fieldPath, else the name in its message, else
    the pod's only container for container-level reasons, else for a probe result the only
    container with that kind of probe (old kubelets, pasted events)."""
    if e.container:
        return e.container
    named = ev.named_container(e)
    if named in names:
        return named
    if only and (e.reason in _CONTAINER_REASONS or ev.probe_result(e)):
        return only
    result = ev.probe_result(e)
    if result and len(probed.get(result[0], [])) == 1:
        return probed[result[0]][0]
    return None


def _deletion_requested(pod: dict, spec: dict) -> datetime | None:
    """When the pod was asked to go: deletionTimestamp is that moment plus the grace period."""
    deadline = ob.parse_time(ob.get(pod, "metadata", "deletionTimestamp"))
    if deadline is None:
        return None
    grace = ob.integer(pod, "metadata", "deletionGracePeriodSeconds")
    if grace is None:
        grace = ob.integer(spec, "terminationGracePeriodSeconds", default=30) or 0
    try:
        return deadline - timedelta(seconds=min(max(0, grace), 10 * 365 * 86400))
    except OverflowError:
        return deadline


def diagnose(pod: dict, events: list, now: datetime | None = None, *, events_note: str | None = None,
             earliest_event: datetime | None = None, recent: timedelta | None = None,
             logs: dict | None = None, clock_known: bool = True) -> Diagnosis:
    """Why this pod's containers restart, crash or get no traffic.

    `events` are raw Event objects of either API (anything else is ignored); `now` is the
    moment to judge ages against: the wall clock for a live cluster, the snapshot time
    for files (snapshot_time() when None). `events_note` replaces the warning about
    missing events when the caller knows why there are none (e.g. RBAC forbids them).
    Events may also come normalised (EventRecord), as a scan keeps them; its index then
    passes `earliest_event`, how far back the pod's events reach. `recent` is the window
    within which a termination counts as current trouble (RECENT by default). `logs` maps a
    container name to (log text, source) read by the caller, where the crash line is sought.
    `clock_known` is False when `now` is only the pod's own newest timestamp (one pod from a
    file, no events): how long ago its restarts were is then unknown.
    """
    if not isinstance(pod, dict):
        pod = {}
    info = pod_info(pod)
    if now is None:
        now = snapshot_time([pod], [e for e in events if isinstance(e, dict)])
    normalised = [e for e in (r if isinstance(r, EventRecord) else ev.normalise(r) for r in events) if e is not None]
    pod_events = ev.for_pod(normalised, info.namespace, info.name, info.uid)
    refs = ob.containers(pod)
    names = [r.name for r in refs]
    regular = [r.name for r in refs if r.type != ob.EPHEMERAL]
    only = regular[0] if len(regular) == 1 else None
    by_container: dict[str, list[EventRecord]] = {n: [] for n in names}
    probed = {k: [r.name for r in refs if isinstance(ob.get(r.spec, key), dict)] for k, key in pr._SPEC_KEY.items()}
    for e in pod_events:
        c = _container_of(e, names, only, probed)
        if c in by_container:
            by_container[c].append(e)
    times = [e.first or e.last for e in pod_events if e.first or e.last]
    if earliest_event:
        times.append(earliest_event)
    spec = ob.get(pod, "spec", default={}) or {}
    spec = spec if isinstance(spec, dict) else {}
    started = ob.parse_time(ob.get(pod, "status", "startTime")) or info.created
    main = [r for r in refs if r.type == ob.CONTAINER]
    main_done = bool(main) and all(isinstance(ob.get(r.status, "state", "terminated"), dict) for r in main)
    ctx = _Ctx(info, spec, now, tuple(pod_events), min(times) if times else None, recent or RECENT,
               _deletion_requested(pod, spec), started, main_done=main_done or info.phase in ("Succeeded", "Failed"),
               clock_known=clock_known)
    ctx = _Ctx(**{**ctx.__dict__, "pod_level": _pod_level(pod, ctx)})

    notes: list[str] = []
    diags = [_container(ref, by_container.get(ref.name, []), ctx, notes, (logs or {}).get(ref.name)) for ref in refs]
    warnings: list[str] = []
    if events_note:
        warnings.append(events_note)
    elif not pod_events and not earliest_event:
        warnings.append(
            "No events for this pod in the input: Kubernetes keeps events for about an hour, and "
            "with files they must be included (kubectl get events -n "
            f"{info.namespace} -o json)."
        )
    warnings += notes
    if not refs:
        warnings.append("The pod has no containers in its spec or status: the object looks incomplete.")
    elif not any(r.status for r in refs) and info.phase not in ("", "Pending"):
        warnings.append("The pod's status lists no containers: the verdict rests on pod-level status alone.")

    timeline = tuple(ev.dedupe(pod_events))
    pl = ctx.pod_level
    if pl:
        return _aged(Diagnosis(info, pl.cause, pl.confidence, pl.severity or SEVERITY[pl.cause], pl.summary, tuple(diags),
                               timeline, tuple(pl.evidence), tuple(pl.steps), tuple(dict.fromkeys(warnings)), now, None),
                     ctx, pod)

    if info.phase in ("Pending", "") and not info.node and not any(r.status for r in refs):
        # no node, no container status, no scheduling condition or event: not yet judged
        age = (now - info.created).total_seconds() if now and info.created else None
        young = age is not None and 0 < age < 60
        return Diagnosis(info, Cause.UNKNOWN, Confidence.LOW, Severity.OK if young else Severity.WARNING,
                         f"Pod {info.name} is Pending and has not been scheduled"
                         + (" yet (created under a minute ago)." if young else
                            "; nothing in the input says why (no PodScheduled condition, no FailedScheduling event)."),
                         tuple(diags), timeline, ("status.phase is Pending, spec.nodeName is empty",),
                         (ctx.cmd("kubectl describe pod -n {ns} {pod}"), ctx.cmd(
                             "kubectl get events -n {ns} --field-selector involvedObject.name={pod}")),
                         tuple(dict.fromkeys(warnings)), now, None)
    culprit = _culprit(diags)
    if culprit is None:
        return Diagnosis(info, Cause.UNKNOWN, Confidence.LOW, Severity.WARNING,
                         f"Pod {info.name} has no container status to judge.", tuple(diags), timeline,
                         (), (ctx.cmd("kubectl describe pod -n {ns} {pod}"),), tuple(dict.fromkeys(warnings)), now, None)
    if culprit.severity is Severity.OK and (
            culprit.cause in (Cause.HEALTHY, Cause.COMPLETED) or (info.phase == "Succeeded" and not info.deleting)):
        if info.phase == "Succeeded" and not info.deleting:
            cause, summary = Cause.COMPLETED, f"Pod {info.name} ran to completion: its containers exited 0."
        else:
            cause, summary = Cause.HEALTHY, _healthy_summary(info, diags)
        regular_diags = [d for d in diags if d.type != ob.EPHEMERAL] or diags
        confidence = min((d.confidence for d in regular_diags), key=_conf_rank)
        return Diagnosis(info, cause, confidence, Severity.OK, summary, tuple(diags), timeline,
                         (), (), tuple(dict.fromkeys(warnings)), now, None)
    summary = culprit.summary
    if info.deleting and culprit.severity is Severity.OK:
        summary = f"Pod {info.name} is being deleted (terminating): {summary}"
    return _aged(Diagnosis(info, culprit.cause, culprit.confidence, culprit.severity, summary,
                           tuple(diags), timeline, culprit.evidence, culprit.next_steps, tuple(dict.fromkeys(warnings)),
                           now, culprit.name), ctx, pod)


def _aged(d: Diagnosis, ctx: _Ctx, pod: dict) -> Diagnosis:
    """A pod that finished (phase Succeeded/Failed) before the recent window stays a record
    worth a look (a failed CronJob run kept by its history limit, an evicted pod not yet
    deleted), but it is no longer critical trouble now."""
    if d.severity is not Severity.CRITICAL or not ctx.terminal or ctx.now is None:
        return d
    times = [c.last_termination.finished_at for c in d.containers if c.last_termination and c.last_termination.finished_at]
    times += [e.last for e in ctx.events if e.last]
    times += [t for c in ob.dicts(pod, "status", "conditions") if (t := ob.parse_time(c.get("lastTransitionTime")))]
    if not times:
        return d
    ended = max(times)
    if ctx.now - ended <= ctx.recent:
        return d
    import dataclasses

    note = (f"It finished {_ago(ctx.now, ended)}, before the recent window ({human_duration(ctx.recent.total_seconds())}): "
            "a warning now, not critical (delete the pod once it is understood).")
    return dataclasses.replace(d, severity=Severity.WARNING, warnings=d.warnings + (note,))


def _conf_rank(c: Confidence) -> int:
    return {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}[c]


def _healthy_summary(info: PodInfo, diags: list[ContainerDiagnosis]) -> str:
    if info.deleting:
        return f"Pod {info.name} is being deleted (terminating); nothing has failed."
    if info.phase == "Pending" and not any(d.state in ("running", "terminated") for d in diags):
        return f"Pod {info.name} is Pending: its containers are being created; nothing has failed yet."
    if any(d.state == "waiting" for d in diags if d.type not in ("init", "ephemeral")):
        return f"Pod {info.name} is starting: nothing has failed yet."
    past = [d for d in diags if d.history]
    if past:
        def ended(d: ContainerDiagnosis) -> float:
            t = (d.last_restart.finished_at if d.last_restart else None) or d.started_at
            return t.timestamp() if t else 0

        d = max(past, key=ended)
        return f"Pod {info.name} is healthy now. {d.summary}"
    return f"Pod {info.name} is running and ready; nothing to report."


def _culprit(diags: list[ContainerDiagnosis]) -> ContainerDiagnosis | None:
    """The container that explains the pod's trouble best. Ephemeral (kubectl debug)
    containers never decide the pod's cause."""
    candidates = [d for d in diags if d.type != ob.EPHEMERAL]
    if not candidates:
        return None

    def key(d: ContainerDiagnosis):
        active = d.state == "waiting" or d.ready is False or (d.state == "terminated" and d.cause is not Cause.COMPLETED)
        blocking = d.type == "init" and d.state != "terminated"
        unhealthy = d.cause not in (Cause.HEALTHY, Cause.COMPLETED)
        return (d.severity.rank, unhealthy, active, blocking, _conf_rank(d.confidence), d.restart_count)

    return max(candidates, key=key)


# DisruptionTarget condition reasons (k8s.io/api core/v1 types.go, kubelet-facts §6).
_DISRUPTION = {
    "PreemptionByScheduler": ("preempted", "the scheduler preempted it to make room for a higher-priority pod"),
    "DeletionByTaintManager": ("deleted by the taint manager",
                               "its node got a NoExecute taint (not ready, unreachable) that the pod does not tolerate"),
    "EvictionByEvictionAPI": ("evicted through the Eviction API",
                              "kubectl drain, the cluster autoscaler or a descheduler evicted it (a graceful deletion)"),
    "DeletionByPodGC": ("deleted by the pod garbage collector", "its node is gone, or it was orphaned"),
}
# nodeshutdown_manager.go: 1.21 "Node is shutting, evicting pods" (reason Shutdown), later
# "Pod was terminated in response to imminent node shutdown." (reason Terminated).
_SHUTDOWN = re.compile(r"node shutdown|node is shutting", re.I)
# Pods the kubelet refused at admission (lifecycle/predicate.go: OutOfcpu, OutOfmemory, ...).
_REJECTED = re.compile(r"OutOf\w+|NodeAffinity|NodePorts|NodeName|TopologyAffinityError|UnexpectedAdmissionError")


def _pod_level(pod: dict, ctx: _Ctx) -> _PodLevel | None:
    info = ctx.pod
    describe_node = f"kubectl describe node {info.node}" if info.node else "kubectl describe nodes"
    events_cmd = ctx.cmd("kubectl get events -n {ns} --field-selector involvedObject.name={pod} --sort-by=.lastTimestamp")
    dt = ob.condition(pod, "DisruptionTarget")
    dt_reason = ob.text(dt, "reason") if ob.text(dt, "status") == "True" else ""
    dt_message = ob.text(dt, "message")
    evicted_events = [e for e in ctx.events if e.reason == "Evicted"]
    preempted = [e for e in ctx.events if e.reason in ("Preempted", "Preempting")]
    shutdown = info.reason in ("Shutdown", "NodeShutdown") or (_SHUTDOWN.search(info.message or dt_message or "") and (
        info.reason == "Terminated" or dt_reason == "TerminationByKubelet"))

    deadline = ob.parse_time(ob.get(pod, "metadata", "deletionTimestamp"))
    if deadline is not None and ctx.now is not None and ctx.now - deadline > STUCK_TERMINATING:
        finalizers = [f for f in (ob.get(pod, "metadata", "finalizers") or []) if isinstance(f, str)]
        why = (f"finalizers {', '.join(finalizers)} have not been removed" if finalizers else
               f"its node {info.node} may be unreachable, or the kubelet cannot stop its containers" if info.node else
               "nothing has removed it")
        return _PodLevel(Cause.UNKNOWN, Confidence.MEDIUM,
                         f"Pod {info.name} has been terminating for {human_duration((ctx.now - deadline).total_seconds())} "
                         f"past its grace period: {why}.",
                         [f"metadata.deletionTimestamp passed {_ago(ctx.now, deadline)}"]
                         + ([f"metadata.finalizers: {', '.join(finalizers)}"] if finalizers else []),
                         [describe_node, ctx.cmd("kubectl get pod -n {ns} {pod} -o jsonpath='{{.metadata.finalizers}}'"),
                          "once the cause is understood: kubectl delete pod --force --grace-period=0 (the containers may still run)"],
                         "left behind while the pod is stuck terminating", Severity.WARNING)

    if shutdown:
        msg = _clip(info.message or dt_message)
        evidence = [f"status.reason is {info.reason}: {msg}" if info.reason else f"condition DisruptionTarget: {dt_reason}: {msg}"]
        if dt_reason and info.reason:
            evidence.append(f"condition DisruptionTarget is True, reason {dt_reason}")
        return _PodLevel(Cause.TERMINATED, Confidence.HIGH,
                         f"Pod {info.name} was stopped because its node {info.node or ''} shut down: {msg}".replace("node  ", "node "),
                         evidence, [describe_node, events_cmd], "stopped by the node's shutdown")

    if info.reason == "Evicted" or evicted_events or dt_reason == "TerminationByKubelet":
        msg_src = info.message or (evicted_events[-1].message if evicted_events else "") or dt_message
        msg = _clip(msg_src) or "no message"
        evidence = []
        if info.reason == "Evicted":
            evidence.append(f"status.reason is Evicted: {msg}")
        if dt_reason == "TerminationByKubelet":
            evidence.append(f"condition DisruptionTarget is True, reason TerminationByKubelet: {_clip(dt_message) or 'no message'}")
        evidence += [f"{e.reason}: {_clip(e.message)}" for e in evicted_events][-2:]
        hog = re.search(r"Container (\S+) was using (\S+), (?:request is|which exceeds its request of) (\S+?)[,.]? ", msg_src + " ")
        resource = re.search(r"low on resource: ([\w-]+)", msg_src)
        summary = f"Pod {info.name} was evicted by the kubelet"
        if resource:
            summary += f" because node {info.node} ran low on {resource.group(1)}." if info.node else f" because its node ran low on {resource.group(1)}."
        else:
            summary += f": {msg}"
        steps = [describe_node, events_cmd]
        if hog:
            steps.append(f"Container {hog.group(1)} used {hog.group(2)} against a request of {hog.group(3)}: "
                         "set requests close to real use so the scheduler and the kubelet account for it")
        steps.append(ctx.cmd("kubectl delete pod -n {ns} {pod}") + "  (evicted pods stay as records until deleted)")
        return _PodLevel(Cause.EVICTED, Confidence.HIGH, summary, evidence, steps, "stopped when the pod was evicted")

    if info.reason == "DeadlineExceeded":
        deadline = ob.integer(ctx.spec, "activeDeadlineSeconds")
        evidence = [f"status.reason is DeadlineExceeded: {_clip(info.message) or 'no message'}"]
        if deadline is not None:
            evidence.append(f"spec.activeDeadlineSeconds is {deadline}")
        summary = f"Pod {info.name} was stopped because it ran longer than its activeDeadlineSeconds" + (
            f" ({deadline}s)." if deadline is not None else ".")
        steps = [ctx.cmd("kubectl logs -n {ns} {pod} --all-containers"),
                 "raise activeDeadlineSeconds (in the pod spec or the Job) if the work legitimately takes longer",
                 events_cmd]
        return _PodLevel(Cause.DEADLINE_EXCEEDED, Confidence.HIGH, summary, evidence, steps,
                         "stopped when the pod's deadline ran out")

    if dt_reason in _DISRUPTION or preempted:
        what, why = _DISRUPTION.get(dt_reason, _DISRUPTION["PreemptionByScheduler"])
        evidence = []
        if dt_reason:
            evidence.append(f"condition DisruptionTarget is True, reason {dt_reason}" + (f": {_clip(dt_message)}" if dt_message else ""))
        evidence += [f"{e.reason}: {_clip(e.message)}" for e in preempted][-2:]
        steps = [events_cmd]
        if what == "preempted":
            steps.append("give the workload a higher priorityClassName, or add capacity so preemption is not needed")
        elif dt_reason == "DeletionByTaintManager":
            steps.insert(0, describe_node)
        return _PodLevel(Cause.TERMINATED, Confidence.HIGH, f"Pod {info.name} was {what}: {why}.", evidence, steps,
                         f"stopped when the pod was {what}")

    if info.reason == "NodeLost" or info.phase == "Unknown":
        # the node controller (older releases) or a status nobody updates: the node went silent
        msg = _clip(info.message) or "no message"
        return _PodLevel(Cause.UNKNOWN, Confidence.MEDIUM,
                         f"Pod {info.name}'s node {info.node or '?'} stopped reporting: its containers' state is unknown ({msg}).",
                         [f"status.phase is {info.phase or '?'}" + (f", status.reason {info.reason}" if info.reason else "")
                          + f": {msg}"],
                         [describe_node, "kubectl get nodes", events_cmd], "last reported before its node went silent")
    if info.phase == "Failed" and _REJECTED.fullmatch(info.reason or ""):
        msg = _clip(info.message) or "no message"
        return _PodLevel(Cause.UNSCHEDULABLE, Confidence.HIGH,
                         f"Pod {info.name} was rejected by the kubelet on node {info.node or '?'} ({info.reason}): {msg}",
                         [f"status.reason is {info.reason}: {msg}", "phase Failed: the kubelet refused to admit the pod"],
                         [describe_node, "a controller re-creates the pod; if it keeps happening, check the node's allocatable resources"],
                         "never started: the kubelet rejected the pod")

    not_ready = [e for e in ctx.events if e.reason == "NodeNotReady"]
    ready = ob.condition(pod, "Ready")
    if (not_ready and info.phase == "Running" and ready.get("status") == "False"
            and (ctx.now is None or not_ready[-1].last is None or ctx.now - not_ready[-1].last <= ctx.recent)):
        # node lifecycle controller MarkPodsNotReady: the node went NotReady, its pods leave their endpoints
        return _PodLevel(Cause.UNKNOWN, Confidence.MEDIUM,
                         f"Pod {info.name} is not ready because its node {info.node or '?'} is not ready "
                         "(the node controller marked its pods unready): it gets no traffic.",
                         [f"NodeNotReady: {_clip(not_ready[-1].message)} ({_ago(ctx.now, not_ready[-1].last) or 'time unknown'})",
                          "condition Ready is False while its containers report ready"],
                         [describe_node, "kubectl get nodes", events_cmd], "")

    sched = ob.condition(pod, "PodScheduled")
    if sched.get("status") == "False" and sched.get("reason") == "SchedulingGated":
        gates = [ob.text(g, "name") for g in ob.dicts(ctx.spec, "schedulingGates")]
        age = (ctx.now - info.created).total_seconds() if ctx.now and info.created else None
        return _PodLevel(Cause.UNKNOWN, Confidence.MEDIUM,
                         f"Pod {info.name} is held back from scheduling by its scheduling gates"
                         + (f" ({', '.join(gates)})" if gates else "") + ": the controller that owns them must remove them.",
                         ["condition PodScheduled is False, reason SchedulingGated"]
                         + ([f"spec.schedulingGates: {', '.join(gates)}"] if gates else []),
                         [ctx.cmd("kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.schedulingGates}}'"), events_cmd],
                         "not started: held by scheduling gates",
                         Severity.WARNING if age is not None and age > ctx.recent.total_seconds() else Severity.OK)
    failed_sched = [e for e in ctx.events if e.reason == "FailedScheduling"]
    if (sched.get("status") == "False" and sched.get("reason") == "Unschedulable") or (
        info.phase in ("Pending", "") and not info.node and failed_sched
    ):
        msg = ob.text(sched, "message") or (failed_sched[-1].message if failed_sched else "")
        evidence = ["condition PodScheduled is False, reason Unschedulable" if sched else "the pod has no node"]
        if msg:
            evidence.append(f"scheduler: {_clip(msg, 500)}")
        if failed_sched:
            last = failed_sched[-1]
            evidence.append(f"FailedScheduling x{sum(e.count for e in failed_sched)}, last {_ago(ctx.now, last.last)}")
        summary = f"Pod {info.name} cannot be scheduled: {_clip(msg, 200) or 'no node fits it'}"
        steps = ["kubectl get nodes -o wide", "kubectl describe nodes", events_cmd]
        low = msg.lower()
        if "insufficient" in low:
            steps.insert(0, "lower the pod's resource requests, or add node capacity (the scheduler found too little free CPU/memory)")
        if "taint" in low:
            steps.insert(0, "add a toleration for the node taints named above, or schedule on untainted nodes")
        if "affinity" in low or "selector" in low:
            steps.insert(0, ctx.cmd("kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.nodeSelector}} {{.spec.affinity}}'"))
        if "persistentvolumeclaim" in low:
            steps.insert(0, ctx.cmd("kubectl get pvc -n {ns}"))
        scale_up = [e for e in ctx.events if e.reason == "TriggeredScaleUp"]
        severity = None
        if scale_up and (ctx.now is None or scale_up[-1].last is None or ctx.now - scale_up[-1].last <= ctx.recent):
            evidence.append(f"TriggeredScaleUp: {_clip(scale_up[-1].message)}: the cluster autoscaler is adding a node, "
                            "so it may be scheduled soon")
            severity = Severity.WARNING
        return _PodLevel(Cause.UNSCHEDULABLE, Confidence.HIGH, summary, evidence, steps, "not started: the pod has no node",
                         severity)
    return None


# --------------------------------------------------------------------------- containers


def _termination(state: dict, current: bool) -> Termination | None:
    t = ob.get(state, "terminated")
    if not isinstance(t, dict):
        return None
    code = ob.integer(t, "exitCode", default=None)
    if code is None:
        code = 0 if ob.text(t, "reason") == "Completed" else -1
    if exitcodes.INT32_MAX < code <= exitcodes.UINT32_MAX:
        code -= 2**32  # an NTSTATUS printed unsigned (3221225477): the API's int32 (-1073741819)
    code = max(exitcodes.INT32_MIN, min(exitcodes.INT32_MAX, code))
    info = exitcodes.decode(code)
    return Termination(
        exit_code=code,
        signal=info.signal,
        reason=ob.text(t, "reason"),
        meaning=info.meaning,
        message=ob.text(t, "message"),
        started_at=ob.parse_time(ob.get(t, "startedAt")),
        finished_at=ob.parse_time(ob.get(t, "finishedAt")),
        current=current,
    )


def _will_restart(ref: ob.ContainerRef, ctx: _Ctx, exit_code: int | None) -> tuple[bool, str]:
    info = ctx.pod
    if info.deleting:
        return False, "no: the pod is being deleted"
    if ctx.terminal:
        return False, f"no: the pod has finished (phase {info.phase})"
    if ref.type == "ephemeral":
        return False, "no: ephemeral containers are never restarted"
    if ref.type == "sidecar":
        return True, "yes: a sidecar (init container with restartPolicy Always) is restarted whenever it stops"
    policy = ob.text(ref.spec, "restartPolicy") if ref.type == "container" else ""
    policy = policy or info.restart_policy
    label = f"restartPolicy {policy}"
    if ref.type == "init" and policy == "Always":
        policy, label = "OnFailure", "restartPolicy Always (OnFailure for init containers)"
    if exit_code is None:
        if policy == "Never":
            return False, f"no: {label}"
        return True, f"yes if it stops: {label}"
    if exit_code == 0:
        if policy == "Always" and ref.type == "container":
            return True, f"yes: {label} restarts it even after a clean exit"
        return False, f"no: it completed and {label} restarts only failures" if policy == "OnFailure" else f"no: it completed ({label})"
    if policy == "Never":
        return False, f"no: {label}; the pod fails once all its containers have stopped"
    return True, f"yes: {label}, after a back-off of 10s doubling up to 5m"


def _container(ref: ob.ContainerRef, cevents: list[EventRecord], ctx: _Ctx, notes: list[str],
               log: tuple[str, str] | None = None) -> ContainerDiagnosis:
    status, spec = ref.status, ref.spec
    state_obj = ob.get(status, "state", default={})
    state_obj = state_obj if isinstance(state_obj, dict) else {}
    state = next((k for k in ("running", "waiting", "terminated") if isinstance(state_obj.get(k), dict)), "unknown")
    state_reason = ob.text(state_obj, state, "reason") if state != "unknown" else ""
    state_message = ob.text(state_obj, state, "message") if state != "unknown" else ""
    current = _termination(state_obj, True)
    previous = _termination(ob.get(status, "lastState", default={}), False)
    last = current or previous
    restarts = ob.integer(status, "restartCount", default=0) or 0
    ready = ob.get(status, "ready") if isinstance(ob.get(status, "ready"), bool) else None
    if not status:
        ready = None
    started_at = ob.parse_time(ob.get(state_obj, "running", "startedAt"))
    probes = pr.stats(spec, cevents)
    limit = ob.memory_limit(spec)
    will, why_restart = _will_restart(ref, ctx, last.exit_code if last else None)

    j = _Judge(ref, ctx, cevents, probes, last, restarts, limit)
    cause, confidence, summary, evidence = j.decide(state, state_reason, state_message, ready, started_at, status)
    crash = _crash_line(last, log)
    if crash is not None:
        cause, confidence, evidence, more_steps = _with_crash(cause, confidence, evidence, crash, limit)
        j.extra_steps += more_steps
    severity = SEVERITY[cause]
    if cause is Cause.COMPLETED and will and ref.type == "container":
        severity = Severity.WARNING

    # lastRestart: why the previous instance ended, whatever the verdict on the container now.
    last_restart = None
    if previous is not None:
        if j.judged is previous:
            lr = (cause, confidence, summary, evidence)
        else:
            lr = _Judge(ref, ctx, cevents, probes, previous, restarts, limit).from_termination()
        last_restart = LastRestart(lr[0], lr[1], previous.exit_code, previous.signal, previous.reason,
                                   previous.finished_at, lr[2], tuple(dict.fromkeys(lr[3])))

    history = False
    fine_now = state == "running" and ready is True and (
        (last_restart is not None and j.judged is previous) or (previous is None and j.judged == "events"))
    if fine_now and cause is not Cause.HEALTHY and not ctx.clock_known:
        # one pod from a file, no events: "now" is its own newest timestamp, so how long it
        # has run fine since this restart is unknown; neither history nor critical
        if severity is Severity.CRITICAL:
            severity = Severity.WARNING
        notes.append(f"How long ago {j.label.lower()} {ref.name} restarted is unknown: the input's only times are the "
                     f"pod's own, and it has run ready since. If that was more than "
                     f"{human_duration(ctx.recent.total_seconds())} ago, the restart is history; add the namespace's "
                     "events (kubectl get events -o json) to tell.")
    elif fine_now and cause is not Cause.HEALTHY and not j.current_by_time(started_at) and not j.flapping(started_at):
        history = True
        ended = previous.finished_at if previous and previous.finished_at else started_at
        when = _ago(ctx.now, ended) or "a while ago"
        evidence = [f"state.running since {_ago(ctx.now, started_at) or '?'} and ready: the restart is history "
                    f"(older than the {human_duration(ctx.recent.total_seconds())} recent window)"]
        if restarts:
            evidence.append(f"{restarts} restart{'s' if restarts != 1 else ''} in all, not repeated recently")
        what = _short(last_restart, limit) if last_restart else "why is not recorded (its lastState is empty)"
        summary = f"{j.label} {ref.name} is healthy now; last restart {when}: {what}."
        cause, confidence, severity = Cause.HEALTHY, Confidence.HIGH, Severity.OK
    if j.starting or j.terminating or ref.type == ob.EPHEMERAL:
        severity = Severity.OK  # still within its start-up checks / stopped by the pod's deletion / kubectl debug
    if restarts and state == "waiting" and state_reason == "CrashLoopBackOff":
        m = _BACKOFF.search(state_message)
        evidence.append(
            f"waiting in CrashLoopBackOff after {restarts} restart{'s' if restarts != 1 else ''}"
            + (f": the kubelet waits {m.group(1)} before the next start" if m else "")
        )
    if ref.type == "init" and severity is not Severity.OK and ctx.pod.phase == "Pending":
        evidence.append("the pod's other containers cannot start until this init container succeeds")
    notes += j.notes
    steps = (j.next_steps(cause) + j.extra_steps) if not history else []
    return ContainerDiagnosis(
        name=ref.name, type=ref.type, image=ob.text(spec, "image") or ob.text(status, "image"),
        cause=cause, confidence=confidence, severity=severity, summary=summary, ready=ready, grace_exceeded=j.grace_exceeded,
        restart_count=restarts, state=state, state_reason=state_reason, state_message=state_message,
        started_at=started_at, last_termination=last, will_restart=will, restart_explanation=why_restart,
        probes=probes, memory_limit=limit, evidence=tuple(dict.fromkeys(evidence)), next_steps=tuple(steps),
        last_restart=last_restart, history=history, crash=crash,
    )


def _crash_line(t: Termination | None, log: tuple[str, str] | None):
    """The line that says why the process died: from the termination message first (with
    FallbackToLogsOnError it is the log's tail), else from the log the caller read."""
    from probectl.core import crash as cr

    if t is not None and t.message and t.reason != PLACEHOLDER:
        found = cr.find(t.message, "termination-message")
        if found is not None:
            return found
    if log:
        return cr.find(log[0], log[1])
    return None


CRASH_SOURCE = {"termination-message": "termination message", "previous-logs": "previous instance's log", "logs": "log"}
# A container that ended by itself or crashed: its log is worth one request to find why.
CRASH_LOG_CAUSES = frozenset({Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.UNKNOWN, Cause.COMMAND_NOT_FOUND, Cause.START_ERROR})


def wants_crash_log(d: Diagnosis, c: ContainerDiagnosis) -> bool:
    """Is this container's log worth one request to explain its death? Not for a healthy or
    OOM-killed container (read only when asked for), nor when its termination message
    already holds the telling line, nor when there is no ended instance to read."""
    if c.type == ob.EPHEMERAL or c.crash is not None or c.last_termination is None:
        return False
    job = d.pod.owner_kind == "Job" and c.cause not in (Cause.HEALTHY, Cause.COMPLETED, Cause.OOM_KILLED)
    return c.cause in CRASH_LOG_CAUSES or job
# What a crash line adds to a verdict: (kind, cause it explains) -> (evidence, next step)
_HEAP = {
    "java-out-of-memory": ("the JVM ran out of heap: its -Xmx / -XX:MaxRAMPercentage, not (only) the container's limit",
                           "raise the JVM heap (-Xmx or -XX:MaxRAMPercentage) within the container's limit, or find the leak"),
    "node-out-of-memory": ("V8 reached its heap limit (--max-old-space-size), not (only) the container's limit",
                           "raise --max-old-space-size (NODE_OPTIONS) within the container's limit, or find the leak"),
    "go-out-of-memory": ("the Go runtime could not allocate memory", "set GOMEMLIMIT below the container's limit, or find the leak"),
}


def _with_crash(cause: Cause, confidence: Confidence, evidence: list[str], crash, limit: str | None):
    """Fold a crash line into the verdict: quoted as evidence, confidence raised where it
    confirms the cause, and for an out-of-memory line which memory ran out."""
    evidence = evidence + [f"crash line ({crash.kind}, from the {CRASH_SOURCE.get(crash.source, crash.source)}): {crash.line}"]
    steps: list[str] = []
    heap = _HEAP.get(crash.kind)
    if heap and cause in (Cause.OOM_KILLED, Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.UNKNOWN):
        if cause is Cause.OOM_KILLED:
            evidence.append(f"{heap[0]}; the kernel also OOM-killed the container"
                            + (f" at its {limit} limit" if limit else ""))
        else:
            evidence.append(heap[0])
        steps.append(heap[1])
    if cause in (Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.COMMAND_NOT_FOUND) and confidence is not Confidence.HIGH:
        confidence = Confidence.HIGH  # the program said why it died
    return cause, confidence, evidence, steps


def _short(lr: LastRestart, limit: str | None) -> str:
    """A restart's cause in a few words: "OOM-killed at its 256Mi limit"."""
    code = exitcodes.decode(lr.exit_code).short() if lr.exit_code is not None else ""
    return {
        Cause.OOM_KILLED: f"OOM-killed at its {limit} limit" if limit else "OOM-killed (no memory limit)",
        Cause.LIVENESS_PROBE_FAILED: "killed by its failing liveness probe",
        Cause.STARTUP_PROBE_FAILED: "killed because its startup probe never passed",
        Cause.APP_ERROR: f"exited with code {lr.exit_code} by itself",
        Cause.CRASHED_SIGNAL: f"crashed with {lr.signal or code}",
        Cause.KILLED: f"killed with SIGKILL ({code})",
        Cause.TERMINATED: f"stopped ({code})",
        Cause.COMPLETED: "exited 0",
    }.get(lr.cause, f"{lr.cause.value} ({code})" if code else lr.cause.value)


class _Judge:
    """The rules for one container. Each returns (cause, confidence, summary, evidence)."""

    def __init__(self, ref, ctx: _Ctx, cevents, probes: dict[str, ProbeStats], last, restarts, limit):
        self.ref, self.ctx, self.events, self.probes = ref, ctx, cevents, probes
        self.last: Termination | None = last
        self.restarts, self.limit = restarts, limit
        self.grace_exceeded = False
        self.starting = False  # not ready, but still within its probes' start-up checks
        self.terminating = False  # stopped because the pod is being deleted
        self.judged: Termination | str | None = None  # the termination the verdict rests on, or "events"
        self.notes: list[str] = []  # for the pod's warnings
        self.extra_steps: list[str] = []  # next steps a crash line adds
        self.name = ref.name
        self.label = {"init": "Init container", "sidecar": "Sidecar container", "ephemeral": "Ephemeral container"}.get(
            ref.type, "Container")

    # -- helpers
    def _restarted(self) -> str:
        if self.restarts == 0:
            return ""
        return f" and restarted {self.restarts} time{'s' if self.restarts != 1 else ''}"

    def _in_window(self, pred) -> list[EventRecord]:
        """Events matching `pred` during the judged instance's life. When the termination
        has no times at all, every matching event (the window is unknown)."""
        t = self.last
        if t is None:
            return []
        start, end = t.started_at, t.finished_at
        if start is None and end is None:
            return [e for e in self.events if pred(e)]
        # an event with no time at all (pasted, reconstructed) may belong to any instance
        return [e for e in self.events if pred(e) and (ev.overlaps(e, start, end) or (e.first is None and e.last is None))]

    def _events_cover(self) -> bool:
        """Do the events reach back to the last termination? If not, their silence means nothing."""
        t = self.last
        if t is None or t.finished_at is None:
            return bool(self.ctx.events)
        first = self.ctx.earliest_event
        return first is not None and first <= t.finished_at + timedelta(seconds=5)

    def _expired_note(self) -> str:
        t = self.last
        if t and t.finished_at and self.ctx.now and self.ctx.now - t.finished_at > EVENT_TTL:
            return (f"No events reach back to that termination ({_ago(self.ctx.now, t.finished_at)}): "
                    "Kubernetes keeps events for about an hour, so probe failures or kills then are not visible.")
        return "No events cover that termination in the input, so probe failures or kills then are not visible."

    def _term_evidence(self) -> list[str]:
        t = self.last
        if t is None:
            return []
        where = "state.terminated" if t.current else "lastState.terminated"
        out = [f"{where}: exit code {t.exit_code} ({t.meaning}), reason {t.reason or 'not set'}"]
        if t.message:
            out.append(f"termination message: {_clip(t.message)}")
        if t.run_seconds is not None:
            out.append(f"that instance ran {human_duration(t.run_seconds)}, until {_ago(self.ctx.now, t.finished_at) or 'unknown'}")
        elif t.finished_at is None and t.reason != PLACEHOLDER:
            out.append("the termination has no timestamps: when it happened is unknown")
        return out

    def _by_deletion(self, t: Termination) -> bool:
        """Did this instance stop because the pod is being deleted?"""
        asked = self.ctx.deletion_requested
        if asked is None:
            return False
        if t.finished_at is None:
            return t.current
        return t.finished_at >= asked - timedelta(seconds=2)

    def current_by_time(self, started_at: datetime | None) -> bool:
        """Did the last restart happen within the recent window? (Unknown counts as yes.)"""
        now = self.ctx.now
        t = self.last
        ended = (t.finished_at if t and not t.current else None) or started_at
        if now is None or ended is None:
            return True
        return now - ended <= self.ctx.recent

    def flapping(self, started_at: datetime | None = None) -> bool:
        """Restarting repeatedly: REPEATED restarts or more in all, on average at least one
        per recent window over the pod's life (60 a day is flapping; 4 in a month is not),
        and the current instance not yet running for much longer than that (four windows, or
        three average gaps): 60 restarts a day ago, fine for 20 hours since, has stopped flapping."""
        if self.restarts < REPEATED:
            return False
        now, born = self.ctx.now, self.ctx.pod_started
        if now is None or born is None:
            return False
        window = self.ctx.recent.total_seconds()
        life = max((now - born).total_seconds(), window)
        if self.restarts * window / life < 1:
            return False
        gap = life / self.restarts
        return started_at is None or (now - started_at).total_seconds() <= max(4 * window, 3 * gap)

    # -- the decision
    def decide(self, state, reason, message, ready, started_at, status):
        if not status:
            if self.ctx.pod.phase == "Pending" or not self.ctx.pod.phase:
                return Cause.HEALTHY, Confidence.LOW, f"{self.label} {self.name} has not been created yet.", ["no status for this container yet"]
            return Cause.UNKNOWN, Confidence.LOW, f"{self.label} {self.name} has no status in the pod.", [
                "the pod's status lists no such container: the object may be incomplete"]
        if state == "waiting":
            r = self._waiting(reason, message)
            if r:
                return r
        t = self.last
        pl = self.ctx.pod_level
        if pl and t is not None and t.current:
            return self._stopped_by_pod(pl)
        if state == "running" and ready is False and t is not None and not t.current and not self.current_by_time(started_at):
            return self._running(ready, started_at)  # unready now: that, not an old exit, is the trouble
        if t is not None and not (state == "running" and self._readiness_now(ready, started_at)):
            return self.from_termination()
        if t is None and (self.restarts > 0 or reason == "CrashLoopBackOff"):
            r = self._restarts_without_termination(reason)
            if r:
                return r
        if state == "running":
            return self._running(ready, started_at)
        if state == "waiting":
            return self._waiting_other(reason, message)
        return Cause.UNKNOWN, Confidence.LOW, f"{self.label} {self.name} reports no state.", [
            "status.state is empty and there is no last termination: the object may be incomplete"]

    def _stopped_by_pod(self, pl: _PodLevel):
        t = self.last
        assert t is not None
        self.judged = t
        evidence = self._term_evidence()
        if t.reason == PLACEHOLDER:
            evidence.append("reason ContainerStatusUnknown: a stand-in the kubelet writes for a container it could not "
                            "find when the pod was stopped, not a kill of its own")
        code = exitcodes.decode(t.exit_code).short()
        return pl.cause, pl.confidence, f"{self.label} {self.name} {pl.what} (exit {code}).", evidence

    def _start_text(self, message: str) -> str:
        """The runtime's start error, wherever it is: the waiting message, the last
        termination's message (StartError / ContainerCannotRun), or `Failed` events."""
        texts = [message]
        t = self.last
        if t and (t.reason in START or t.exit_code in (127, 128)):
            texts.append(t.message)
        texts += [ev.message_of(e) for e in reversed(self.events) if e.reason == "Failed"
                  and not e.message.startswith(("Failed to pull image", "Error: ErrImagePull", "Error: ImagePullBackOff"))]
        texts = [x for x in texts if x]
        for x in texts:
            if start_cause(x):
                return x
        return texts[0] if texts else ""

    def _waiting(self, reason: str, message: str):
        msg = _clip(message)
        ev_line = f"state.waiting.reason is {reason}" + (f": {msg}" if msg else "")
        image = ob.text(self.ref.spec, "image") or ob.text(self.ref.status, "image")
        if reason in IMAGE_PULL:
            failed = [e for e in self.events if e.reason == "Failed" and e.message.startswith("Failed to pull image")]
            evidence = [ev_line] + [f"{e.reason} x{e.count}: {_clip(e.message)}" for e in failed[-2:]]
            detail = _clip(_pull_detail(failed[-1].message if failed else message, image), 200)
            return (Cause.IMAGE_PULL_FAILED, Confidence.HIGH,
                    f"Image {image or '?'} of container {self.name} cannot be pulled ({reason})" + (f": {detail}" if detail else "."),
                    evidence)
        if reason in ("PostStartHookError", "PreStartHookError"):
            # lifecycle/handlers.go: 'Exec lifecycle hook ([...]) for Container "api" in Pod ... failed - error: ...'
            hook = "postStart" if reason.startswith("Post") else "preStart"
            return (Cause.START_ERROR, Confidence.HIGH,
                    f"{self.label} {self.name} does not start: its {hook} hook failed" + (f": {_clip(message, 200)}" if message else "."),
                    [ev_line])
        if reason in CONFIG or reason in START:
            text = self._start_text(message)
            evidence = [ev_line]
            if text and text != message:
                evidence.append(f"the runtime said: {_clip(text)}")
            cause = start_cause(text)
            if cause is None:
                cause = Cause.CONFIG_ERROR if reason == "CreateContainerConfigError" or (
                    reason == "CreateContainerError" and not _RUNTIME_TROUBLE.search(text)) else Cause.START_ERROR
            if self.last and self.last.reason in START:
                self.judged = self.last
            return cause, Confidence.HIGH if text else Confidence.MEDIUM, self._start_summary(cause, text), evidence
        return None

    def _waiting_other(self, reason: str, message: str):
        warns = [e for e in self.ctx.events if e.type == "Warning" and e.reason in POD_WARNINGS]
        missing = [e for e in warns if e.reason == "FailedMount" and _MISSING_REF.search(e.message)]
        if missing:
            # MountVolume.SetUp failed for volume "config" : configmap "app-config" not found: the
            # pod's spec names something that does not exist; it cannot start until it does
            w = missing[-1]
            return (Cause.CONFIG_ERROR, Confidence.HIGH,
                    f"{self.label} {self.name} cannot start: a volume refers to a missing object: {_clip(w.message, 200)}",
                    [f"state.waiting.reason is {reason or 'not set'}", f"{w.reason} x{sum(e.count for e in missing)}: {_clip(w.message)}"])
        if warns:
            w = warns[-1]
            return (Cause.UNKNOWN, Confidence.MEDIUM,
                    f"{self.label} {self.name} is stuck in {reason or 'waiting'}: {w.reason}: {_clip(w.message, 200)}",
                    [f"state.waiting.reason is {reason or 'not set'}"] + [f"{e.reason} x{e.count}: {_clip(e.message)}" for e in warns[-3:]])
        if reason in ("", "ContainerCreating", "PodInitializing"):
            what = "waiting for its init containers" if reason == "PodInitializing" else "being created"
            return (Cause.HEALTHY, Confidence.LOW, f"{self.label} {self.name} is {what}; nothing has failed yet.",
                    [f"state.waiting.reason is {reason or 'not set'}"])
        return (Cause.UNKNOWN, Confidence.LOW,
                f"{self.label} {self.name} is waiting ({reason})" + (f": {_clip(message, 200)}" if message else "."),
                [f"state.waiting.reason is {reason}" + (f": {_clip(message)}" if message else "")])

    def _readiness_now(self, ready, started_at) -> bool:
        """Is the current instance running but unready, its readiness probe failing now, and
        the last restart old news (older than the kubelet's back-off reset)?"""
        if ready is not False or "readiness" not in self.probes:
            return False
        now_fail = [e for e in self.events if (r := ev.probe_result(e)) and r[0] == "readiness" and ev.overlaps(e, started_at, None)]
        if not now_fail:
            return False
        t = self.last
        return t is None or t.finished_at is None or self.ctx.now is None or self.ctx.now - t.finished_at > BACKOFF_RESET

    def _running(self, ready, started_at):
        since = _ago(self.ctx.now, started_at)
        evidence = [f"state.running since {since}" if since else "state.running"]
        rp = self.probes.get("readiness")
        sp = self.probes.get("startup")
        started = ob.get(self.ref.status, "started")
        age = (self.ctx.now - started_at).total_seconds() if self.ctx.now and started_at else None
        if sp and started is False:
            budget = sp.config.budget_seconds if sp.config else None
            if sp.failures and age is not None and budget is not None and age <= budget:
                self.starting = True  # failures within the budget are how a slow start looks
                evidence.append(f"startup probe failed {sp.failures} times so far: {_clip(sp.last_message)}")
                evidence.append(f"started {human_duration(age)} ago, within its startup probe's {budget}s budget")
                return (Cause.STARTUP_PROBE_FAILED, Confidence.LOW,
                        f"{self.label} {self.name} is still starting: its startup probe has not passed yet "
                        f"({human_duration(age)} of its {budget}s budget used).", evidence)
            if sp.failures:
                evidence.append(f"startup probe failed {sp.failures} times: {_clip(sp.last_message)}")
                return (Cause.STARTUP_PROBE_FAILED, Confidence.MEDIUM,
                        f"{self.label} {self.name} has not passed its startup probe yet ({sp.config.describe() if sp.config else 'startup probe'}); "
                        f"the kubelet restarts it once the {budget if budget is not None else '?'}s budget runs out.",
                        evidence)
            if sp.errors:
                evidence.append(f"startup probe errored {sp.errors} times (it could not run; the kubelet discards such results, "
                                f"so it never passes): {_clip(sp.last_message)}")
                return (Cause.STARTUP_PROBE_FAILED, Confidence.MEDIUM,
                        f"{self.label} {self.name} is stuck before its startup probe: the probe cannot run ({_clip(sp.last_message, 160)}).",
                        evidence)
            if ready is False:
                within = age is not None and budget is not None and age <= budget
                if within:
                    self.starting = True
                    evidence.append(f"started {human_duration(age)} ago, within its startup probe's {budget}s budget")
                else:
                    evidence.append("the startup probe has not passed and no startup failure is in the events (expired or not in the input)")
                return (Cause.STARTUP_PROBE_FAILED, Confidence.LOW,
                        f"{self.label} {self.name} runs but has not passed its startup probe yet"
                        + (": it may still be starting." if within else "."), evidence)
        if ready is False:
            recent = [e for e in self.events if (r := ev.probe_result(e)) and r[0] == "readiness" and ev.overlaps(e, started_at, None)]
            if recent:
                n = sum(e.count for e in recent)
                last = recent[-1]
                errored = all(ev.probe_result(e) == ("readiness", "errored") for e in recent)
                if self.ctx.pod.deleting:
                    self.terminating = True  # a draining pod fails its readiness probe on purpose
                    evidence.append("the pod is being deleted: readiness fails while it drains")
                elif rp and rp.config and age is not None and age <= rp.config.initial_delay + rp.config.failure_window:
                    self.starting = True  # readiness starts as Failure until the first success
                    evidence.append(f"it started {human_duration(age)} ago, within its readiness probe's first "
                                    f"{rp.config.initial_delay + rp.config.failure_window}s: it may still be starting")
                verb = "errored (could not run; the container stays unready)" if errored else "failed"
                evidence.append(f"ready is false; readiness probe {verb} x{n} in this instance, last {_ago(self.ctx.now, last.last)}: {_clip(last.message)}")
                if rp and rp.config:
                    evidence.append(f"readiness probe: {rp.config.describe()}")
                if self.last:
                    evidence.append(f"an earlier instance ended {_ago(self.ctx.now, self.last.finished_at)} ({self.last.reason or 'exit ' + str(self.last.exit_code)})")
                tail = (" It is still starting." if self.starting else
                        " The pod is being deleted: expected while it drains." if self.terminating else "")
                return (Cause.READINESS_PROBE_FAILED, Confidence.HIGH,
                        f"{self.label} {self.name} runs but gets no traffic: its readiness probe "
                        + ("cannot run" if errored else "fails") + f" ({_clip(ev.message_of(last), 160)})." + tail,
                        evidence)
            if rp and rp.config:
                budget = rp.config.initial_delay + rp.config.failure_window
                within = age is not None and age <= budget
                evidence.append("ready is false and the readiness probe is configured, but no readiness failure is in the events "
                                "(expired or not in the input): the events that would decide are missing")
                if within:
                    self.starting = True
                    evidence.append(f"it started {human_duration(age)} ago, less than initialDelaySeconds + periodSeconds x "
                                    f"failureThreshold ({budget}s): it may still be starting")
                    self.notes.append(f"{self.label} {self.name} started {human_duration(age)} before the snapshot, within its "
                                      f"readiness probe's first {budget}s: it may still be starting.")
                else:
                    self.notes.append(f"{self.label} {self.name} is not ready, but the readiness-probe events that would say why "
                                      "are missing: the verdict is inferred from the status.")
                return (Cause.READINESS_PROBE_FAILED, Confidence.LOW,
                        f"{self.label} {self.name} runs but is not ready; its readiness probe ({rp.config.handler}) is the likely reason"
                        + (", though it may still be starting." if within else "."),
                        evidence)
            evidence.append("ready is false with no readiness probe configured")
            return Cause.UNKNOWN, Confidence.LOW, f"{self.label} {self.name} runs but is not ready, and nothing says why.", evidence
        if ready is None:
            evidence.append("the status does not say whether it is ready")
            return Cause.HEALTHY, Confidence.MEDIUM, f"{self.label} {self.name} is running.", evidence
        return Cause.HEALTHY, Confidence.HIGH, f"{self.label} {self.name} is running and ready.", evidence

    # -- restarts the status keeps no record of
    def _restarts_without_termination(self, reason: str):
        """A container that restarted (restartCount, CrashLoopBackOff) but whose lastState is
        missing or empty: the events may still say why (posted fragments, old kubelets)."""
        self.judged = "events"
        evidence = ["lastState is empty: the status keeps no record of the last termination"]
        text = self._start_text("")
        cause = start_cause(text)
        if cause is not None:
            evidence.append(f"the runtime said (Failed event): {_clip(text)}")
            return cause, Confidence.HIGH, self._start_summary(cause, text), evidence
        backoff = [e for e in self.events if ev.is_backoff(e)]
        if backoff:
            evidence.append(f"BackOff x{sum(e.count for e in backoff)}: {_clip(ev.message_of(backoff[-1]))}")
        kills = [e for e in self.events if ev.probe_kill(e)]
        if kills:
            kind = ev.probe_kill(kills[-1])
            assert kind is not None
            same = [e for e in kills if ev.probe_kill(e) == kind]
            recent = self.ctx.now is None or same[-1].last is None or self.ctx.now - same[-1].last <= self.ctx.recent
            return self._probe_kill(kind, same, evidence, high=recent)
        for kind in ("startup", "liveness"):
            fails = [e for e in self.events if ev.probe_failed(e, kind)]
            cfg = self.probes.get(kind)
            threshold = cfg.config.failure_threshold if cfg and cfg.config else 3
            if fails and sum(e.count for e in fails) >= threshold:
                return self._probe_kill(kind, [], evidence, high=False)
        if not self.ctx.events:
            evidence.append("no events in the input: what ended it is not visible")
        n = self.restarts
        return (Cause.UNKNOWN, Confidence.LOW,
                f"{self.label} {self.name} restarted{f' {n} time' + ('s' if n != 1 else '') if n else ''}"
                + (" and is in CrashLoopBackOff" if reason == "CrashLoopBackOff" else "")
                + ", but its status keeps no last termination and no event says why.", evidence)

    # -- terminations
    def from_termination(self):
        t = self.last
        assert t is not None
        self.judged = t
        info = exitcodes.decode(t.exit_code)
        evidence = self._term_evidence()
        restarted = self._restarted()
        reason = t.reason
        code = info.short()

        if reason == "OOMKilled":
            evidence.insert(0, f"{'state' if t.current else 'lastState'}.terminated.reason is OOMKilled")
            if t.exit_code != 137:
                evidence.append(f"exit code {t.exit_code}, not 137: the OOM killer ended a process in the container "
                                "(often a child) and the main process then exited on its own")
            where = (f"at its {self.limit} memory limit" if self.limit else
                     "with no memory limit set (the node ran out of memory)" if self.ref.spec else
                     "(its spec is not in the input: the memory limit is unknown)")
            if self.limit:
                evidence.append(f"resources.limits.memory is {self.limit}")
            return Cause.OOM_KILLED, Confidence.HIGH, f"{self.label} {self.name} was OOM-killed {where}{restarted}.", evidence

        if _EXEC_FORMAT.search(t.message or ""):
            # runc execs the entrypoint only after start: a binary for another CPU ends as an
            # ordinary exit (1) with "exec /app: exec format error" in the log tail
            return Cause.START_ERROR, Confidence.HIGH, self._start_summary(Cause.START_ERROR, t.message), evidence
        start = start_cause(t.message) if (reason in START or t.exit_code in (126, 127, 128)) else None
        if reason in START or (t.exit_code == 128 and start):
            text = self._start_text("")
            cause = start_cause(text) or Cause.START_ERROR
            if text and text != t.message:
                evidence.append(f"the runtime said: {_clip(text)}")
            return cause, Confidence.HIGH, self._start_summary(cause, text), evidence

        if t.reason == PLACEHOLDER:
            return self._killed(t, [], True, evidence)
        if reason == "Unknown":
            # containerd CRI: unknownExitCode 255 / reason "Unknown" when it could not tell how
            # the process ended (a runtime or node restart; often with SandboxChanged)
            sandbox = [e for e in self.ctx.events if e.reason == "SandboxChanged"]
            evidence.append("reason Unknown: the runtime could not tell how it ended (its exit code is a placeholder)")
            if sandbox:
                evidence.append(f"SandboxChanged: {_clip(sandbox[-1].message)}: the pod's sandbox was re-created "
                                "(node or runtime restart)")
            return (Cause.UNKNOWN, Confidence.MEDIUM,
                    f"{self.label} {self.name} ended in a way the runtime could not tell (reason Unknown, exit "
                    f"{t.exit_code}){restarted}: typically a node reboot or container runtime restart.", evidence)

        hook = self._in_window(ev.is_hook_kill)
        if hook:
            detail = ob.text(self.ref.status, "state", "waiting", "message") if ob.text(
                self.ref.status, "state", "waiting", "reason") == "PostStartHookError" else ""
            evidence.append(f"{hook[-1].reason}: {_clip(ev.message_of(hook[-1]))}: the kubelet killed it because its "
                            "postStart hook failed (the event leaves the hook's output out on purpose)")
            return (Cause.START_ERROR, Confidence.HIGH,
                    f"{self.label} {self.name} was killed because its postStart hook failed{restarted}"
                    + (f": {_clip(detail, 200)}" if detail else "."), evidence)

        kills = {k: self._in_window(lambda e, k=k: ev.probe_kill(e) == k) for k in ("liveness", "startup")}
        timeless = t.started_at is None and t.finished_at is None
        for kind in ("liveness", "startup"):
            if kills[kind]:
                untimed = timeless or all(e.first is None and e.last is None for e in kills[kind])
                return self._probe_kill(kind, kills[kind], evidence, high=not untimed)
        if info.category not in (exitcodes.CRASH, exitcodes.NOT_FOUND, exitcodes.NOT_EXECUTABLE, exitcodes.RUNTIME) \
                and not self._by_deletion(t):
            for kind in ("startup", "liveness"):
                if self._failures_explain_end(kind, t):
                    return self._probe_kill(kind, [], evidence, high=False)

        changed = self._in_window(ev.is_spec_change)
        if changed:
            self.terminating = True  # a deliberate restart: the spec was changed in place
            evidence.append(f"Killing: {_clip(ev.message_of(changed[-1]))}: the kubelet restarted it because its spec "
                            "changed (an image updated in place, a resize)")
            return (Cause.TERMINATED, Confidence.HIGH,
                    f"{self.label} {self.name} was restarted because its definition changed (exit {code}){restarted}.",
                    evidence)
        if self.ref.type == "sidecar" and t.current and self.ctx.main_done:
            # sidecars are stopped after the main containers finish (terminationOrdering):
            # whatever they exit with then is the normal end
            self.terminating = True
            if t.exit_code == 137:
                self.grace_exceeded = True
            evidence.append("the main containers have finished: the kubelet stops sidecars after them")
            return (Cause.COMPLETED if t.exit_code == 0 else Cause.TERMINATED, Confidence.HIGH,
                    f"{self.label} {self.name} was stopped after the main containers finished (exit {code})"
                    + (": it ignored SIGTERM until the grace period ran out." if t.exit_code == 137 else "."), evidence)

        covered = self._events_cover()
        stops = self._in_window(ev.is_stop)
        deleted = self._by_deletion(t)
        if not covered and not deleted and not stops and t.exit_code in (137, 143):
            timed = self._probe_kill_by_timing(t)
            if timed:
                return self._probe_kill(timed[0], [], evidence + [timed[1]], high=False, inferred=True)
        if not covered and not deleted:
            evidence.append(self._expired_note())
        doubt = Confidence.HIGH if covered else Confidence.MEDIUM

        if info.category == exitcodes.NOT_FOUND:
            return (Cause.COMMAND_NOT_FOUND, Confidence.HIGH,
                    f"{self.label} {self.name} exited {code}: its command was not found{restarted}.", evidence)
        if info.category == exitcodes.NOT_EXECUTABLE:
            return (Cause.PERMISSION_DENIED, Confidence.HIGH,
                    f"{self.label} {self.name} exited {code}: its command exists but cannot be executed{restarted}.", evidence)
        if info.category == exitcodes.CRASH:
            return (Cause.CRASHED_SIGNAL, Confidence.HIGH,
                    f"{self.label} {self.name} crashed with {info.signal or info.meaning} (exit {code}){restarted}.", evidence)
        if info.category == exitcodes.KILL:
            return self._killed(t, stops, covered, evidence)
        if deleted or (stops and info.category in (exitcodes.SUCCESS, exitcodes.STOP, exitcodes.SIGNAL)):
            # asked to stop (deletion, rollout, scale-down): whatever it exited with on SIGTERM
            who = self._stop_who(stops)
            evidence.append(who)
            if t.exit_code == 0:
                evidence.append("it exited 0 after being asked to stop: it handled SIGTERM cleanly")
            if deleted:
                self.terminating = True
            how = "stopped cleanly (exit 0)" if t.exit_code == 0 else f"was stopped with {info.signal or 'a stop request'} (exit {code})"
            return (Cause.TERMINATED, Confidence.HIGH,
                    f"{self.label} {self.name} {how}{restarted}: "
                    + ("the pod is being deleted." if deleted else "asked to stop by the kubelet (deletion, rollout, scale-down or preemption)."),
                    evidence)
        if t.exit_code == 0:
            always = "Under restartPolicy Always it is restarted anyway: a one-shot program run as a long-lived workload." if (
                self.ctx.pod.restart_policy == "Always" and self.ref.type == "container") else ""
            return (Cause.COMPLETED, doubt,
                    f"{self.label} {self.name} exited 0 on its own (Completed){restarted}." + (f" {always}" if always else ""),
                    evidence)
        if info.category == exitcodes.STOP:
            return (Cause.TERMINATED, Confidence.MEDIUM if covered else Confidence.LOW,
                    f"{self.label} {self.name} was stopped with {info.signal or 'a stop request'} (exit {code}){restarted}: "
                    "nothing in the events says who asked.", evidence)
        if info.category == exitcodes.SIGNAL:
            return (Cause.UNKNOWN, Confidence.LOW,
                    f"{self.label} {self.name} was ended by {info.signal} (exit {code}){restarted}; nothing says who sent it.", evidence)
        if info.category == exitcodes.RUNTIME:
            return (Cause.START_ERROR, Confidence.MEDIUM,
                    f"{self.label} {self.name} exited {code} ({info.meaning}){restarted}.", evidence)
        conf = doubt if t.reason in ("Error", "") else Confidence.MEDIUM
        return (Cause.APP_ERROR, conf,
                f"{self.label} {self.name} exited with code {code} ({info.meaning}) by itself{restarted}.", evidence)

    def _failures_explain_end(self, kind: str, t: Termination) -> bool:
        """Failed probes of `kind` during the instance, at least failureThreshold of them, the
        last one shortly before it ended: the kill whose event is missing (the kubelet's
        event spam filter drops it on a chatty pod). Fewer failures than the threshold are
        noise: they change nothing."""
        fails = self._in_window(lambda e: ev.probe_failed(e, kind))
        if not fails:
            return False
        stats = self.probes.get(kind)
        cfg = stats.config if stats else None
        threshold = cfg.failure_threshold if cfg else 3
        if sum(e.count for e in fails) < threshold:
            return False
        last = max((e.last or e.first for e in fails if e.last or e.first), default=None)
        if last is None or t.finished_at is None:
            return True
        grace = ob.integer(self.ctx.spec, "terminationGracePeriodSeconds", default=30) or 0
        if cfg and cfg.termination_grace is not None:
            grace = cfg.termination_grace
        reach = (cfg.failure_window if cfg else 30) + grace + 10
        return timedelta(seconds=-5) <= t.finished_at - last <= timedelta(seconds=reach)

    def _probe_kill_by_timing(self, t: Termination) -> tuple[str, str] | None:
        """With no events to say so, a probe kill can still be read from timing: an instance
        that never got healthy is stopped when its probe's budget (initialDelaySeconds +
        periodSeconds x failureThreshold) runs out, and dies of the SIGTERM (143) or of the
        SIGKILL after the grace period (137)."""
        run = t.run_seconds
        if run is None:
            return None
        grace = ob.integer(self.ctx.spec, "terminationGracePeriodSeconds", default=30) or 0
        order = ("startup", "liveness") if "startup" in self.probes else ("liveness",)
        for kind in order:
            stats = self.probes.get(kind)
            cfg = stats.config if stats else None
            if cfg is None:
                continue
            after = (cfg.termination_grace if cfg.termination_grace is not None else grace) if t.exit_code == 137 else 0
            expected = cfg.budget_seconds + after
            slack = cfg.period + 2
            if abs(run - expected) <= slack:
                return kind, (
                    f"no events say why, but the instance ran {human_duration(run)}: its {kind} probe's budget "
                    f"(initialDelaySeconds {cfg.initial_delay} + periodSeconds {cfg.period} x failureThreshold "
                    f"{cfg.failure_threshold} = {cfg.budget_seconds}s)"
                    + (f" plus the {after}s grace period" if after else "")
                    + ": the kubelet's kill is the likely end, inferred from timing alone")
        return None

    def _probe_kill(self, kind: str, kills: list[EventRecord], evidence: list[str], high: bool, inferred: bool = False):
        t = self.last
        stats = self.probes.get(kind)
        cfg = stats.config if stats else None
        if t is not None:
            fails = self._in_window(lambda e: ev.probe_failed(e, kind))
        else:
            fails = [e for e in self.events if ev.probe_failed(e, kind)]
        n_fail = sum(e.count for e in fails)
        if kills:
            k = kills[-1]
            evidence.insert(0, f"Killing: {_clip(ev.message_of(k))} (x{sum(e.count for e in kills)}, last {_ago(self.ctx.now, k.last) or 'at an unknown time'})")
        elif not inferred:
            evidence.insert(0, f"{kind} probe failures{' during that instance' if t else ''}, but no Killing event in the input (expired or not included)")
        if fails:
            evidence.insert(1, f"{kind} probe failed x{n_fail} around then; last: {_clip(ev.message_of(fails[-1]))}")
            if _EXEC_NOT_FOUND.search(ev.message_of(fails[-1])):
                evidence.append(f"the {kind} probe's own command does not exist in the image: it can never pass "
                                "(install it in the image, or probe with httpGet/tcpSocket)")
        errors = [e for e in self.events if ev.probe_result(e) == (kind, "errored")]
        if errors:
            evidence.append(f"{kind} probe errored x{sum(e.count for e in errors)} (could not run): the kubelet discards those "
                            "results, they count toward no kill")
        if cfg:
            evidence.append(f"{kind} probe: {cfg.describe()} (killed after {cfg.failure_window}s of failures"
                            + (f"; must pass within {cfg.budget_seconds}s of start" if kind == "startup" else "") + ")")
        if t is not None:
            code = t.exit_code
            if code == 137:
                self.grace_exceeded = True
                evidence.append("exit 137: it did not stop within the grace period after SIGTERM, so it was SIGKILLed")
            elif code == 143:
                evidence.append("exit 143: it died of the SIGTERM the kubelet sent (no handler)")
            elif code == 0:
                evidence.append("exit 0: it handled the kubelet's SIGTERM and exited cleanly; the exit code hides the kill")
            else:
                evidence.append(f"exit {code}: what the process returned on the kubelet's SIGTERM")
        handler = cfg.handler if cfg else f"{kind} probe"
        last_msg = _clip(ev.message_of(fails[-1]), 160) if fails else ""
        if kind == "liveness":
            detail = last_msg.split(": ", 1)[-1] if last_msg else ""
            summary = f"{self.label} {self.name} was killed{self._restarted()} because its liveness probe ({handler}) failed" + (
                f": {detail}" if detail else ".")
            cause = Cause.LIVENESS_PROBE_FAILED
        else:
            budget = f" within its {cfg.budget_seconds}s budget" if cfg else ""
            summary = f"{self.label} {self.name} never passed its startup probe ({handler}){budget} and was killed{self._restarted()}."
            cause = Cause.STARTUP_PROBE_FAILED
        if inferred:
            summary = summary.rstrip(".") + " (inferred from timing: no events in the input say so)."
            return cause, Confidence.LOW, summary, evidence
        return cause, Confidence.HIGH if high else Confidence.MEDIUM, summary, evidence

    def _stop_who(self, stops: list[EventRecord]) -> str:
        if stops:
            s = stops[-1]
            return f"Killing: {_clip(ev.message_of(s))} ({_ago(self.ctx.now, s.last) or 'time unknown'}): the kubelet asked it to stop"
        return "the pod is being deleted (metadata.deletionTimestamp is set)"

    def _killed(self, t: Termination, stops, covered, evidence):
        restarted = self._restarted()
        if t.reason == PLACEHOLDER:
            evidence.append("reason ContainerStatusUnknown: the runtime lost the container (node lost, runtime restarted or "
                            "the pod deleted mid-flight); the kubelet reports 137 without a real exit")
            if self._by_deletion(t) or self.ctx.pod.deleting:
                self.terminating = True
                return (Cause.TERMINATED, Confidence.MEDIUM,
                        f"{self.label} {self.name} could not be located when the pod was deleted (exit 137 is a placeholder){restarted}.",
                        evidence)
            return (Cause.KILLED, Confidence.MEDIUM,
                    f"{self.label} {self.name} was lost and reported as killed (exit 137, ContainerStatusUnknown){restarted}.", evidence)
        if stops or self._by_deletion(t):
            grace = ob.integer(self.ctx.spec, "terminationGracePeriodSeconds", default=30)
            self.grace_exceeded = True
            if self._by_deletion(t):
                self.terminating = True
            evidence.append(self._stop_who(stops))
            evidence.append(f"exit 137 after a stop request: it ignored SIGTERM for terminationGracePeriodSeconds ({grace}s) "
                            "and was SIGKILLed: worth fixing (handle SIGTERM), or shutdown work is cut short")
            return (Cause.KILLED, Confidence.HIGH,
                    f"{self.label} {self.name} did not stop within its {grace}s grace period after SIGTERM and was SIGKILLed (exit 137){restarted}"
                    + (": the pod is being deleted." if self.terminating else "."),
                    evidence)
        evidence.append("no OOMKilled reason, no probe kill and no stop request in the events")
        return (Cause.KILLED, Confidence.MEDIUM if covered else Confidence.LOW,
                f"{self.label} {self.name} was killed with SIGKILL (exit 137) from outside, not by the OOM killer"
                + (" or a probe" if covered else "") + f"{restarted}.", evidence)

    # -- start errors
    def _start_summary(self, cause: Cause, message: str) -> str:
        msg = _clip(message, 200)
        tail = f": {msg}" if msg else "."
        if cause is Cause.START_ERROR and _EXEC_FORMAT.search(message or ""):
            return (f"{self.label} {self.name} cannot start: exec format error, the image is built for another CPU "
                    f"architecture (e.g. arm64 on amd64 nodes){tail}")
        return {
            Cause.COMMAND_NOT_FOUND: f"{self.label} {self.name} cannot start: its command was not found{tail}",
            Cause.PERMISSION_DENIED: f"{self.label} {self.name} cannot start: its command cannot be executed{tail}",
            Cause.CONFIG_ERROR: f"{self.label} {self.name} cannot be created from its spec{tail}",
        }.get(cause, f"The runtime could not start container {self.name}{tail}")

    # -- what to do
    def next_steps(self, cause: Cause) -> list[str]:
        ns, pod, c = self.ctx.pod.namespace, self.ctx.pod.name, self.name
        logs_prev = f"kubectl logs -n {ns} {pod} -c {c} --previous"
        logs_now = f"kubectl logs -n {ns} {pod} -c {c}"
        events = f"kubectl get events -n {ns} --field-selector involvedObject.name={pod} --sort-by=.lastTimestamp"
        t = self.last
        logs = logs_now if (t and t.current) or self.restarts == 0 else logs_prev
        owner_kind, owner_name = self.ctx.pod.owner_kind, self.ctx.pod.owner_name
        workload = f"{owner_kind.lower()}/{owner_name}" if owner_kind in ("Deployment", "StatefulSet", "DaemonSet") else ""
        steps: list[str] = []
        if cause is Cause.OOM_KILLED:
            steps.append(logs_prev if self.restarts else logs_now)
            b = ob.quantity_bytes(self.limit)
            if b:
                target = ob.format_bytes(b * 2)
                steps.append(f"raise resources.limits.memory above {self.limit} (e.g. {target}) or find the leak"
                             + (f": kubectl set resources {workload} -n {ns} -c {c} --limits=memory={target}" if workload else ""))
            else:
                steps.append("set resources.requests.memory and resources.limits.memory to what it really uses")
            steps.append(f"kubectl top pod -n {ns} {pod} --containers")
        elif cause in (Cause.LIVENESS_PROBE_FAILED, Cause.STARTUP_PROBE_FAILED):
            kind = "liveness" if cause is Cause.LIVENESS_PROBE_FAILED else "startup"
            stats = self.probes.get(kind)
            cfg = stats.config if stats else None
            steps.append(logs_prev)
            if cfg and kind == "liveness":
                steps.append(f"if it is slow rather than dead, raise livenessProbe.timeoutSeconds (now {cfg.timeout}s) or "
                             f"failureThreshold (now {cfg.failure_threshold}); if it fails right after start, add a startupProbe")
            elif cfg:
                steps.append(f"raise startupProbe.failureThreshold (now {cfg.failure_threshold}, budget {cfg.budget_seconds}s) "
                             "to cover the real start-up time")
            port = self._probe_port(kind)
            if port:
                steps.append(f"kubectl port-forward -n {ns} pod/{pod} {port}:{port}  # then request the probe endpoint yourself")
        elif cause is Cause.READINESS_PROBE_FAILED:
            port = self._probe_port("readiness")
            if port:
                steps.append(f"kubectl port-forward -n {ns} pod/{pod} {port}:{port}  # then request the readiness endpoint")
            steps.append(logs_now)
            steps.append(f"kubectl get endpointslices -n {ns} -o wide  # the pod is left out of its Services' endpoints while unready")
        elif cause in (Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.COMPLETED, Cause.UNKNOWN):
            steps.append(logs)
            if cause is Cause.CRASHED_SIGNAL and t and t.signal == "SIGBUS":
                steps.append("SIGBUS often means /dev/shm is full: mount an emptyDir with medium: Memory at /dev/shm")
            if cause is Cause.COMPLETED and self.ctx.pod.restart_policy == "Always" and self.ref.type == "container":
                steps.append("run one-shot work as a Job (restartPolicy OnFailure/Never), or keep the process in the foreground")
        elif cause is Cause.KILLED and self.terminating:
            steps.append("handle SIGTERM in the program (or a preStop hook) so it stops within terminationGracePeriodSeconds, "
                         "or raise terminationGracePeriodSeconds")
        elif cause is Cause.KILLED:
            steps.append(events)
            if self.ctx.pod.node:
                steps.append(f"kubectl describe node {self.ctx.pod.node}")
            steps.append(logs)
            steps.append("if it was asked to stop: handle SIGTERM, or raise terminationGracePeriodSeconds")
        elif cause is Cause.TERMINATED and self.terminating:
            steps.append("nothing to fix: the pod is being deleted (a rollout, scale-down or manual deletion)")
        elif cause is Cause.TERMINATED:
            steps.append(events)
            if workload:
                steps.append(f"kubectl rollout history {workload} -n {ns}")
            steps.append(logs)
        elif cause in (Cause.COMMAND_NOT_FOUND, Cause.PERMISSION_DENIED, Cause.START_ERROR):
            steps.append(f"kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.containers[?(@.name==\"{c}\")].command}}'")
            text = " ".join(x for x in (self.ref.status and ob.text(self.ref.status, "state", "waiting", "message") or "",
                                        t.message if t else "") if x)
            if _EXEC_FORMAT.search(text) or (cause is Cause.START_ERROR and any(_EXEC_FORMAT.search(e.message) for e in self.events)):
                steps.append("rebuild the image for the nodes' CPU architecture (docker buildx build --platform linux/amd64,linux/arm64), "
                             "or pin the pod to matching nodes with nodeSelector kubernetes.io/arch")
            if cause is Cause.PERMISSION_DENIED:
                steps.append("make the entrypoint executable in the image (chmod +x) and check securityContext.runAsUser")
            else:
                steps.append("check the image's entrypoint and that the binary exists at that path in the image")
            steps.append(events)
        elif cause is Cause.IMAGE_PULL_FAILED:
            steps.append(f"kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.containers[*].image}} {{.spec.imagePullSecrets}}'")
            steps.append("check the image name and tag exist in the registry, and the pull secret for private registries")
            steps.append(events)
        elif cause is Cause.CONFIG_ERROR:
            m = _MISSING_REF.search(self.ref.status and ob.text(self.ref.status, "state", "waiting", "message") or "")
            if m and m.group(1):
                steps.append(f"kubectl get {m.group(1).lower()} {m.group(2)} -n {ns}")
            elif m and m.group(3):
                steps.append(f"kubectl get {m.group(4).lower()} {m.group(5).split('/')[-1]} -n {ns} -o jsonpath='{{.data}}'  # key {m.group(3)} is missing")
            steps.append(events)
        return steps

    def _probe_port(self, kind: str) -> str | None:
        probe = ob.get(self.ref.spec, pr._SPEC_KEY[kind])
        for key in ("httpGet", "tcpSocket", "grpc"):
            port = ob.get(probe, key, "port")
            if isinstance(port, int) and not isinstance(port, bool):
                return str(port)
            if isinstance(port, str) and port:
                for p in ob.dicts(self.ref.spec, "ports"):
                    if p.get("name") == port and isinstance(p.get("containerPort"), int):
                        return str(p["containerPort"])
        return None
