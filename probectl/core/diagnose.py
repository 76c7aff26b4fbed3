"""diagnose(pod, events, now) -> Diagnosis: the rules, in one readable place.

Pure: the pod and its events as the API returns them go in, a frozen Diagnosis comes out.
The order of the rules is the order of authority: what the kubelet and the runtime state
outright (a termination reason, a waiting reason, a kill announced for a probe) decides
before what an exit code suggests; when the deciding evidence is missing, the
confidence says so.
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
    PodInfo,
    ProbeStats,
    Severity,
    Termination,
)
from probectl.core.objects import human_duration

EVENT_TTL = timedelta(hours=1)  # kube-apiserver --event-ttl default
BACKOFF_RESET = timedelta(minutes=10)  # the kubelet forgets the back-off after 10 min of running
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
_NOT_FOUND = re.compile(r"executable file not found|no such file or directory|not found in \$PATH", re.I)
_PERMISSION = re.compile(r"permission denied", re.I)
_BACKOFF = re.compile(r"back-off (\S+) restarting failed container")
_MISSING_REF = re.compile(r'(configmap|secret) "([^"]+)" not found|couldn\'t find key (\S+) in (ConfigMap|Secret) (\S+)', re.I)


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
        see(ob.get(pod, "metadata", "deletionTimestamp"))
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
class _Ctx:
    pod: PodInfo
    spec: dict
    now: datetime | None
    events: tuple[EventRecord, ...]  # the pod's events
    earliest_event: datetime | None

    def cmd(self, s: str) -> str:
        return s.format(ns=self.pod.namespace, pod=self.pod.name)

    @property
    def terminal(self) -> bool:
        return self.pod.phase in ("Succeeded", "Failed")


def _container_of(e: EventRecord, names: list[str]) -> str | None:
    if e.container:
        return e.container
    for rx in (ev._KILL, ev._STOPPING, ev._BACKOFF_RESTART):
        m = rx.match(e.message)
        if m and m.group(1) in names:
            return m.group(1)
    if len(names) == 1 and ev.probe_result(e):
        return names[0]
    return None


def diagnose(pod: dict, events: list, now: datetime | None = None, *, events_note: str | None = None,
             earliest_event: datetime | None = None) -> Diagnosis:
    """Why this pod's containers restart, crash or get no traffic.

    `events` are raw Event objects of either API (anything else is ignored); `now` is the
    moment to judge ages against: the wall clock for a live cluster, the snapshot time
    for files (snapshot_time() when None). `events_note` replaces the warning about
    missing events when the caller knows why there are none (e.g. RBAC forbids them).
    Events may also come normalised (EventRecord), as a scan keeps them; its index then
    passes `earliest_event`, how far back the pod's events reach.
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
    by_container: dict[str, list[EventRecord]] = {n: [] for n in names}
    for e in pod_events:
        c = _container_of(e, names)
        if c in by_container:
            by_container[c].append(e)
    times = [e.first or e.last for e in pod_events if e.first or e.last]
    if earliest_event:
        times.append(earliest_event)
    ctx = _Ctx(info, ob.get(pod, "spec", default={}) or {}, now, tuple(pod_events), min(times) if times else None)

    diags = [_container(ref, by_container.get(ref.name, []), ctx) for ref in refs]
    warnings: list[str] = []
    if events_note:
        warnings.append(events_note)
    elif not pod_events and not earliest_event:
        warnings.append(
            "No events for this pod in the input: Kubernetes keeps events for about an hour, and "
            "with files they must be included (kubectl get events -n "
            f"{info.namespace} -o json)."
        )
    if not refs:
        warnings.append("The pod has no containers in its spec or status: the object looks incomplete.")

    pod_level = _pod_level(pod, ctx, diags)
    timeline = tuple(ev.dedupe(pod_events))
    if pod_level:
        cause, confidence, summary, evidence, steps = pod_level
        return Diagnosis(info, cause, confidence, SEVERITY[cause], summary, tuple(diags), timeline,
                         tuple(evidence), tuple(steps), tuple(warnings), now, None)

    culprit = _culprit(diags)
    if culprit is None:
        return Diagnosis(info, Cause.UNKNOWN, Confidence.LOW, Severity.WARNING,
                         f"Pod {info.name} has no container status to judge.", (), timeline,
                         (), (ctx.cmd("kubectl describe pod -n {ns} {pod}"),), tuple(warnings), now, None)
    if culprit.severity is Severity.OK:
        if info.phase == "Succeeded":
            cause, summary = Cause.COMPLETED, f"Pod {info.name} ran to completion: every container exited 0."
        else:
            cause, summary = Cause.HEALTHY, _healthy_summary(info, diags)
        confidence = min((d.confidence for d in diags), key=_conf_rank) if diags else Confidence.LOW
        return Diagnosis(info, cause, confidence, Severity.OK, summary, tuple(diags), timeline,
                         (), (), tuple(warnings), now, None)
    return Diagnosis(info, culprit.cause, culprit.confidence, culprit.severity, culprit.summary,
                     tuple(diags), timeline, culprit.evidence, culprit.next_steps, tuple(warnings),
                     now, culprit.name)


def _conf_rank(c: Confidence) -> int:
    return {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}[c]


def _healthy_summary(info: PodInfo, diags: list[ContainerDiagnosis]) -> str:
    if any(d.state == "waiting" for d in diags if d.type != "init"):
        return f"Pod {info.name} is starting: nothing has failed yet."
    return f"Pod {info.name} is running and ready; nothing to report."


def _culprit(diags: list[ContainerDiagnosis]) -> ContainerDiagnosis | None:
    """The container that explains the pod's trouble best."""
    if not diags:
        return None

    def key(d: ContainerDiagnosis):
        active = d.state == "waiting" or d.ready is False or (d.state == "terminated" and d.cause is not Cause.COMPLETED)
        blocking = d.type == "init" and d.state != "terminated"
        return (d.severity.rank, active, blocking, _conf_rank(d.confidence), d.restart_count)

    return max(diags, key=key)


def _pod_level(pod: dict, ctx: _Ctx, diags) -> tuple | None:
    info = ctx.pod
    describe_node = f"kubectl describe node {info.node}" if info.node else "kubectl describe nodes"
    events_cmd = ctx.cmd("kubectl get events -n {ns} --field-selector involvedObject.name={pod} --sort-by=.lastTimestamp")
    if info.reason == "Evicted":
        msg = _clip(info.message) or "no message"
        evidence = [f"status.reason is Evicted: {msg}"]
        evidence += [f"{e.reason}: {_clip(e.message)}" for e in ctx.events if e.reason in ("Evicted", "Preempted")][-2:]
        hog = re.search(r"Container (\S+) was using (\S+), request is (\S+)", info.message)
        resource = re.search(r"low on resource: ([\w-]+)", info.message)
        summary = f"Pod {info.name} was evicted by the kubelet"
        summary += f" because node {info.node} ran low on {resource.group(1)}." if resource and info.node else f": {msg}"
        steps = [describe_node, events_cmd]
        if hog:
            steps.append(f"Container {hog.group(1)} used {hog.group(2)} against a request of {hog.group(3)}: "
                         "set requests close to real use so the scheduler and the kubelet account for it")
        steps.append(ctx.cmd("kubectl delete pod -n {ns} {pod}") + "  (evicted pods stay as records until deleted)")
        return Cause.EVICTED, Confidence.HIGH, summary, evidence, steps
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
        return Cause.DEADLINE_EXCEEDED, Confidence.HIGH, summary, evidence, steps
    sched = ob.condition(pod, "PodScheduled")
    failed_sched = [e for e in ctx.events if e.reason == "FailedScheduling"]
    if (sched.get("status") == "False" and sched.get("reason") == "Unschedulable") or (
        info.phase == "Pending" and not info.node and failed_sched
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
        return Cause.UNSCHEDULABLE, Confidence.HIGH, summary, evidence, steps
    return None


# --------------------------------------------------------------------------- containers


def _termination(state: dict, current: bool) -> Termination | None:
    t = ob.get(state, "terminated")
    if not isinstance(t, dict):
        return None
    code = ob.integer(t, "exitCode", default=None)
    if code is None:
        code = 0 if ob.text(t, "reason") == "Completed" else -1
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


def _container(ref: ob.ContainerRef, cevents: list[EventRecord], ctx: _Ctx) -> ContainerDiagnosis:
    status, spec = ref.status, ref.spec
    state_obj = ob.get(status, "state", default={})
    state_obj = state_obj if isinstance(state_obj, dict) else {}
    state = next((k for k in ("running", "waiting", "terminated") if isinstance(state_obj.get(k), dict)), "unknown")
    state_reason = ob.text(state_obj, state, "reason") if state != "unknown" else ""
    state_message = ob.text(state_obj, state, "message") if state != "unknown" else ""
    current = _termination(state_obj, True)
    last = current or _termination(ob.get(status, "lastState", default={}), False)
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
    severity = SEVERITY[cause]
    if cause is Cause.COMPLETED and will and ref.type == "container":
        severity = Severity.WARNING
    if (
        severity is Severity.CRITICAL and state == "running" and ready is not False and last and not last.current
        and last.finished_at and ctx.now and ctx.now - last.finished_at > EVENT_TTL
    ):
        severity = Severity.WARNING  # it recovered: the restart is history
        evidence.append(f"It has been running since {_ago(ctx.now, started_at) or 'then'}: the failure is history.")
    if restarts and state == "waiting" and state_reason == "CrashLoopBackOff":
        m = _BACKOFF.search(state_message)
        evidence.append(
            f"waiting in CrashLoopBackOff after {restarts} restarts"
            + (f": the kubelet waits {m.group(1)} before the next start" if m else "")
        )
    if ref.type == "init" and severity is not Severity.OK and ctx.pod.phase == "Pending":
        evidence.append("the pod's other containers cannot start until this init container succeeds")
    steps = j.next_steps(cause)
    return ContainerDiagnosis(
        name=ref.name, type=ref.type, image=ob.text(spec, "image") or ob.text(status, "image"),
        cause=cause, confidence=confidence, severity=severity, summary=summary, ready=ready, grace_exceeded=j.grace_exceeded,
        restart_count=restarts, state=state, state_reason=state_reason, state_message=state_message,
        started_at=started_at, last_termination=last, will_restart=will, restart_explanation=why_restart,
        probes=probes, memory_limit=limit, evidence=tuple(dict.fromkeys(evidence)), next_steps=tuple(steps),
    )


class _Judge:
    """The rules for one container. Each returns (cause, confidence, summary, evidence)."""

    def __init__(self, ref, ctx: _Ctx, cevents, probes: dict[str, ProbeStats], last, restarts, limit):
        self.ref, self.ctx, self.events, self.probes = ref, ctx, cevents, probes
        self.last: Termination | None = last
        self.restarts, self.limit = restarts, limit
        self.grace_exceeded = False
        self.name = ref.name
        self.label = {"init": "Init container", "sidecar": "Sidecar container", "ephemeral": "Ephemeral container"}.get(
            ref.type, "Container")

    # -- helpers
    def _restarted(self) -> str:
        if self.restarts == 0:
            return ""
        return f" and restarted {self.restarts} time{'s' if self.restarts != 1 else ''}"

    def _in_window(self, pred) -> list[EventRecord]:
        t = self.last
        start = t.started_at if t else None
        end = t.finished_at if t else None
        if t is None or (start is None and end is None):
            return []
        return [e for e in self.events if pred(e) and ev.overlaps(e, start, end)]

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
        return out

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
        if self.last is not None and not (state == "running" and self._readiness_now(ready, started_at)):
            return self._from_termination()
        if state == "running":
            return self._running(ready, started_at)
        if state == "waiting":
            return self._waiting_other(reason, message)
        return Cause.UNKNOWN, Confidence.LOW, f"{self.label} {self.name} reports no state.", ["status.state is empty"]

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
        if reason in CONFIG or reason in START:
            cause = self._start_cause(message, Cause.CONFIG_ERROR if reason in CONFIG else Cause.START_ERROR)
            return cause, Confidence.HIGH, self._start_summary(cause, message), [ev_line]
        return None

    def _waiting_other(self, reason: str, message: str):
        warns = [e for e in self.ctx.events if e.type == "Warning" and e.reason in POD_WARNINGS]
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
        if sp and started is False and (sp.failures or sp.errors):
            evidence.append(f"startup probe failed {sp.failures + sp.errors} times: {_clip(sp.last_message)}")
            return (Cause.STARTUP_PROBE_FAILED, Confidence.MEDIUM,
                    f"{self.label} {self.name} has not passed its startup probe yet ({sp.config.describe() if sp.config else 'startup probe'}); "
                    f"the kubelet restarts it once the {sp.config.budget_seconds if sp.config else '?'}s budget runs out.",
                    evidence)
        if ready is False:
            recent = [e for e in self.events if (r := ev.probe_result(e)) and r[0] == "readiness" and ev.overlaps(e, started_at, None)]
            if recent:
                n = sum(e.count for e in recent)
                last = recent[-1]
                evidence.append(f"ready is false; readiness probe failed x{n} in this instance, last {_ago(self.ctx.now, last.last)}: {_clip(last.message)}")
                if rp and rp.config:
                    evidence.append(f"readiness probe: {rp.config.describe()}")
                if self.last:
                    evidence.append(f"an earlier instance ended {_ago(self.ctx.now, self.last.finished_at)} ({self.last.reason or 'exit ' + str(self.last.exit_code)})")
                return (Cause.READINESS_PROBE_FAILED, Confidence.HIGH,
                        f"{self.label} {self.name} runs but gets no traffic: its readiness probe fails ({_clip(last.message, 160)}).",
                        evidence)
            if rp and rp.config:
                age = (self.ctx.now - started_at).total_seconds() if self.ctx.now and started_at else None
                if age is not None and age <= rp.config.initial_delay + rp.config.failure_window:
                    evidence.append(f"ready is false, but it started {human_duration(age)} ago: within the readiness probe's first checks")
                    return Cause.HEALTHY, Confidence.LOW, f"{self.label} {self.name} is starting and not ready yet.", evidence
                evidence.append("ready is false and the readiness probe is configured, but no readiness failure is in the events (expired or not in the input)")
                return (Cause.READINESS_PROBE_FAILED, Confidence.LOW,
                        f"{self.label} {self.name} runs but is not ready; its readiness probe ({rp.config.handler}) is the likely reason.",
                        evidence)
            evidence.append("ready is false with no readiness probe configured")
            return Cause.UNKNOWN, Confidence.LOW, f"{self.label} {self.name} runs but is not ready, and nothing says why.", evidence
        return Cause.HEALTHY, Confidence.HIGH, f"{self.label} {self.name} is running" + (" and ready." if ready else "."), evidence

    # -- terminations
    def _from_termination(self):
        t = self.last
        assert t is not None
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
            where = f"at its {self.limit} memory limit" if self.limit else "with no memory limit set (the node ran out of memory)"
            if self.limit:
                evidence.append(f"resources.limits.memory is {self.limit}")
            return Cause.OOM_KILLED, Confidence.HIGH, f"{self.label} {self.name} was OOM-killed {where}{restarted}.", evidence

        if reason in START or (t.exit_code == 128 and t.message and (_NOT_FOUND.search(t.message) or _PERMISSION.search(t.message))):
            cause = self._start_cause(t.message, Cause.START_ERROR)
            return cause, Confidence.HIGH, self._start_summary(cause, t.message), evidence

        kills = {k: self._in_window(lambda e, k=k: ev.probe_kill(e) == k) for k in ("liveness", "startup")}
        for kind in ("liveness", "startup"):
            if kills[kind]:
                return self._probe_kill(kind, kills[kind], evidence, high=True)
        fails = {k: self._in_window(lambda e, k=k: (r := ev.probe_result(e)) is not None and r[0] == k) for k in ("liveness", "startup")}
        if info.category in (exitcodes.KILL, exitcodes.STOP):
            for kind in ("startup", "liveness"):
                if fails[kind]:
                    return self._probe_kill(kind, [], evidence, high=False)

        covered = self._events_cover()
        stops = self._in_window(ev.is_stop)
        if not covered:
            evidence.append(self._expired_note())
        doubt = Confidence.HIGH if covered else Confidence.MEDIUM

        if info.category == exitcodes.NOT_FOUND:
            return (Cause.COMMAND_NOT_FOUND, Confidence.HIGH,
                    f"{self.label} {self.name} exited {code}: its command was not found{restarted}.", evidence)
        if info.category == exitcodes.NOT_EXECUTABLE:
            return (Cause.PERMISSION_DENIED, Confidence.HIGH,
                    f"{self.label} {self.name} exited {code}: its command exists but cannot be executed{restarted}.", evidence)
        if t.exit_code == 0:
            always = "Under restartPolicy Always it is restarted anyway: a one-shot program run as a long-lived workload." if (
                self.ctx.pod.restart_policy == "Always" and self.ref.type == "container") else ""
            if stops or self.ctx.pod.deleting:
                evidence.append("it exited 0 after being asked to stop: it handled SIGTERM cleanly")
            return (Cause.COMPLETED, doubt,
                    f"{self.label} {self.name} exited 0 on its own (Completed){restarted}." + (f" {always}" if always else ""),
                    evidence)
        if info.category == exitcodes.CRASH:
            return (Cause.CRASHED_SIGNAL, Confidence.HIGH,
                    f"{self.label} {self.name} crashed with {info.signal or info.meaning} (exit {code}){restarted}.", evidence)
        if info.category == exitcodes.KILL:
            return self._killed(t, stops, covered, evidence)
        if info.category == exitcodes.STOP or (info.category == exitcodes.SIGNAL and (stops or self.ctx.pod.deleting)):
            who = self._stop_who(stops)
            if stops or self.ctx.pod.deleting:
                evidence.append(who)
            conf = Confidence.HIGH if (stops or self.ctx.pod.deleting) else (Confidence.MEDIUM if covered else Confidence.LOW)
            return (Cause.TERMINATED, conf,
                    f"{self.label} {self.name} was stopped with {info.signal or 'a stop request'} (exit {code}){restarted}: "
                    + ("asked to stop by the kubelet (deletion, rollout, scale-down or preemption)." if stops or self.ctx.pod.deleting
                       else "nothing in the events says who asked."), evidence)
        if info.category == exitcodes.SIGNAL:
            return (Cause.UNKNOWN, Confidence.LOW,
                    f"{self.label} {self.name} was ended by {info.signal} (exit {code}){restarted}; nothing says who sent it.", evidence)
        if info.category == exitcodes.RUNTIME:
            return (Cause.START_ERROR, Confidence.MEDIUM,
                    f"{self.label} {self.name} exited {code} ({info.meaning}){restarted}.", evidence)
        conf = doubt if t.reason in ("Error", "") else Confidence.MEDIUM
        return (Cause.APP_ERROR, conf,
                f"{self.label} {self.name} exited with code {code} ({info.meaning}) by itself{restarted}.", evidence)

    def _probe_kill(self, kind: str, kills: list[EventRecord], evidence: list[str], high: bool):
        t = self.last
        assert t is not None
        stats = self.probes.get(kind)
        cfg = stats.config if stats else None
        fails = self._in_window(lambda e: (r := ev.probe_result(e)) is not None and r[0] == kind)
        n_fail = sum(e.count for e in fails)
        if kills:
            k = kills[-1]
            evidence.insert(0, f"Killing: {_clip(k.message)} (x{sum(e.count for e in kills)}, last {_ago(self.ctx.now, k.last)})")
        else:
            evidence.insert(0, f"{kind} probe failures during that instance, but no Killing event in the input (expired or not included)")
        if fails:
            evidence.insert(1, f"{kind} probe failed x{n_fail} around then; last: {_clip(fails[-1].message)}")
        if cfg:
            evidence.append(f"{kind} probe: {cfg.describe()} (killed after {cfg.failure_window}s of failures"
                            + (f"; must pass within {cfg.budget_seconds}s of start" if kind == "startup" else "") + ")")
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
        last_msg = _clip(fails[-1].message, 160) if fails else ""
        if kind == "liveness":
            summary = f"{self.label} {self.name} was killed{self._restarted()} because its liveness probe ({handler}) failed" + (
                f": {last_msg.split(': ', 1)[-1]}" if last_msg else ".")
            cause = Cause.LIVENESS_PROBE_FAILED
        else:
            budget = f" within its {cfg.budget_seconds}s budget" if cfg else ""
            summary = f"{self.label} {self.name} never passed its startup probe ({handler}){budget} and was killed{self._restarted()}."
            cause = Cause.STARTUP_PROBE_FAILED
        return cause, Confidence.HIGH if high else Confidence.MEDIUM, summary, evidence

    def _stop_who(self, stops: list[EventRecord]) -> str:
        if stops:
            s = stops[-1]
            return f"Killing: {_clip(s.message)} ({_ago(self.ctx.now, s.last)}): the kubelet asked it to stop"
        return "the pod is being deleted (metadata.deletionTimestamp is set)"

    def _killed(self, t: Termination, stops, covered, evidence):
        restarted = self._restarted()
        if t.reason == "ContainerStatusUnknown":
            evidence.append("reason ContainerStatusUnknown: the runtime lost the container (node lost, runtime restarted or "
                            "the pod deleted mid-flight); the kubelet reports 137 without a real exit")
            return (Cause.KILLED, Confidence.MEDIUM,
                    f"{self.label} {self.name} was lost and reported as killed (exit 137, ContainerStatusUnknown){restarted}.", evidence)
        if stops or self.ctx.pod.deleting:
            grace = ob.integer(self.ctx.spec, "terminationGracePeriodSeconds", default=30)
            self.grace_exceeded = True
            evidence.append(self._stop_who(stops))
            evidence.append(f"exit 137 after a stop request: it ignored SIGTERM for terminationGracePeriodSeconds ({grace}s) "
                            "and was SIGKILLed")
            return (Cause.KILLED, Confidence.HIGH,
                    f"{self.label} {self.name} did not stop within its {grace}s grace period after SIGTERM and was SIGKILLed (exit 137){restarted}.",
                    evidence)
        evidence.append("no OOMKilled reason, no probe kill and no stop request in the events")
        return (Cause.KILLED, Confidence.MEDIUM if covered else Confidence.LOW,
                f"{self.label} {self.name} was killed with SIGKILL (exit 137) from outside, not by the OOM killer"
                + (" or a probe" if covered else "") + f"{restarted}.", evidence)

    # -- start errors
    def _start_cause(self, message: str, default: Cause) -> Cause:
        if _NOT_FOUND.search(message or ""):
            return Cause.COMMAND_NOT_FOUND
        if _PERMISSION.search(message or ""):
            return Cause.PERMISSION_DENIED
        return default

    def _start_summary(self, cause: Cause, message: str) -> str:
        msg = _clip(message, 200)
        tail = f": {msg}" if msg else "."
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
        elif cause is Cause.KILLED:
            steps.append(events)
            if self.ctx.pod.node:
                steps.append(f"kubectl describe node {self.ctx.pod.node}")
            steps.append(logs)
            steps.append("if it was asked to stop: handle SIGTERM, or raise terminationGracePeriodSeconds")
        elif cause is Cause.TERMINATED:
            steps.append(events)
            if workload:
                steps.append(f"kubectl rollout history {workload} -n {ns}")
            steps.append(logs)
        elif cause in (Cause.COMMAND_NOT_FOUND, Cause.PERMISSION_DENIED, Cause.START_ERROR):
            steps.append(f"kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.containers[?(@.name==\"{c}\")].command}}'")
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
