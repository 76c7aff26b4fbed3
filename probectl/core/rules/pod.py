"""Pod rules (P01-P10): verdicts about the whole pod, which outrank its containers'."""

from __future__ import annotations

import re

from probectl.core import objects as ob
from probectl.core import reasons as rs
from probectl.core import semantics as sem
from probectl.core.facts import STUCK_TERMINATING, PodFacts
from probectl.core.model import Cause, Confidence, Severity
from probectl.core.rules.base import events, rule
from probectl.core.timefmt import ago, elapsed
from probectl.core.verdict import PodVerdict
from probectl.core.wording import clip


@rule("P01", "stuck-terminating", "metadata.deletionTimestamp", "metadata.finalizers")
def stuck_terminating(f: PodFacts) -> PodVerdict | None:
    """Deleted, and still there more than 5 minutes past its deletion deadline: finalizers
    not removed, or a node that cannot stop its containers."""
    info = f.pod
    deadline = ob.parse_time(ob.get(f.raw, "metadata", "deletionTimestamp"))
    if deadline is None or f.now is None or f.now - deadline <= STUCK_TERMINATING:
        return None
    finalizers = [x for x in (ob.get(f.raw, "metadata", "finalizers") or []) if isinstance(x, str)]
    why = (f"finalizers {', '.join(finalizers)} have not been removed" if finalizers else
           f"its node {info.node} may be unreachable, or the kubelet cannot stop its containers" if info.node else
           "nothing has removed it")
    return PodVerdict(
        Cause.UNKNOWN, Confidence.MEDIUM,
        f"Pod {info.name} has been terminating for {elapsed(f.now, deadline)} "
        f"past its grace period: {why}.",
        (f"metadata.deletionTimestamp passed {ago(f.now, deadline)}",)
        + ((f"metadata.finalizers: {', '.join(finalizers)}",) if finalizers else ()),
        (f.describe_node, f.cmd("kubectl get pod -n {ns} {pod} -o jsonpath='{{.metadata.finalizers}}'"),
         "once the cause is understood: kubectl delete pod --force --grace-period=0 (the containers may still run)"),
        "left behind while the pod is stuck terminating", Severity.WARNING)


@rule("P02", "node-shutdown", "status.reason", "status.message", "condition:DisruptionTarget")
def node_shutdown(f: PodFacts) -> PodVerdict | None:
    """The kubelet's graceful node shutdown stopped the pod (status.reason Shutdown /
    NodeShutdown / Terminated with a shutdown message). Before P03: a shutdown also carries
    DisruptionTarget TerminationByKubelet."""
    if not f.shutdown:
        return None
    info, (dt_reason, dt_message) = f.pod, f.disruption
    msg = clip(info.message or dt_message) or "no message (the node shutdown manager writes this reason)"
    evidence = (f"status.reason is {info.reason}: {msg}" if info.reason else f"condition DisruptionTarget: {dt_reason}: {msg}",)
    if dt_reason and info.reason:
        evidence += (f"condition DisruptionTarget is True, reason {dt_reason}",)
    return PodVerdict(Cause.TERMINATED, Confidence.HIGH,
                      f"Pod {info.name} was stopped because its node {info.node or ''} shut down: {msg}".replace("node  ", "node "),
                      evidence, (f.describe_node, f.events_cmd), "stopped by the node's shutdown")


@rule("P03", "evicted", "status.reason", "condition:DisruptionTarget", *events("Evicted"))
def evicted(f: PodFacts) -> PodVerdict | None:
    """The kubelet evicted the pod (node pressure): status.reason Evicted, an Evicted event,
    or DisruptionTarget TerminationByKubelet."""
    info, (dt_reason, dt_message) = f.pod, f.disruption
    evicted_events = f.with_reason("Evicted")
    if not (info.reason == "Evicted" or evicted_events or dt_reason == "TerminationByKubelet"):
        return None
    msg_src = info.message or (evicted_events[-1].message if evicted_events else "") or dt_message
    msg = clip(msg_src) or "no message"
    evidence: tuple[str, ...] = ()
    if info.reason == "Evicted":
        evidence += (f"status.reason is Evicted: {msg}",)
    if dt_reason == "TerminationByKubelet":
        evidence += (f"condition DisruptionTarget is True, reason TerminationByKubelet: {clip(dt_message) or 'no message'}",)
    evidence += tuple(f"{e.reason}: {clip(e.message)}" for e in evicted_events)[-2:]
    hog = re.search(r"Container (\S+) was using (\S+), (?:request is|which exceeds its request of) (\S+?)[,.]? ", msg_src + " ")
    resource = re.search(r"low on resource: ([\w-]+)", msg_src)
    summary = f"Pod {info.name} was evicted by the kubelet"
    if resource:
        summary += (f" because node {info.node} ran low on {resource.group(1)}." if info.node
                    else f" because its node ran low on {resource.group(1)}.")
    else:
        summary += f": {msg}"
    steps = (f.describe_node, f.events_cmd)
    if hog:
        steps += (f"Container {hog.group(1)} used {hog.group(2)} against a request of {hog.group(3)}: "
                  "set requests close to real use so the scheduler and the kubelet account for it",)
    steps += (f.cmd("kubectl delete pod -n {ns} {pod}") + "  (evicted pods stay as records until deleted)",)
    return PodVerdict(Cause.EVICTED, Confidence.HIGH, summary, evidence, steps, "stopped when the pod was evicted")


@rule("P04", "deadline-exceeded", "status.reason", "spec.activeDeadlineSeconds", *events("DeadlineExceeded"))
def deadline_exceeded(f: PodFacts) -> PodVerdict | None:
    """activeDeadlineSeconds ran out: status.reason DeadlineExceeded, or (a fragment without
    it) a failed pod with the kubelet's DeadlineExceeded event."""
    info = f.pod
    noted = f.with_reason("DeadlineExceeded")
    if info.reason == "DeadlineExceeded":
        evidence = (f"status.reason is DeadlineExceeded: {clip(info.message) or 'no message'}",)
    elif info.phase == "Failed" and noted:
        # kubelet active_deadline.go: Eventf(pod, Normal, "DeadlineExceeded", "Pod was active
        # on the node longer than the specified deadline")
        evidence = (f"DeadlineExceeded: {clip(noted[-1].message) or 'no message'}",)
    else:
        return None
    deadline = ob.integer(f.spec, "activeDeadlineSeconds")
    if deadline is not None:
        evidence += (f"spec.activeDeadlineSeconds is {deadline}",)
    summary = f"Pod {info.name} was stopped because it ran longer than its activeDeadlineSeconds" + (
        f" ({deadline}s)." if deadline is not None else ".")
    steps = (f.cmd("kubectl logs -n {ns} {pod} --all-containers"),
             "raise activeDeadlineSeconds (in the pod spec or the Job) if the work legitimately takes longer",
             f.events_cmd)
    return PodVerdict(Cause.DEADLINE_EXCEEDED, Confidence.HIGH, summary, evidence, steps,
                      "stopped when the pod's deadline ran out")


@rule("P05", "disrupted", "condition:DisruptionTarget", *events("Preempted", "Preempting"))
def disrupted(f: PodFacts) -> PodVerdict | None:
    """Stopped on purpose by the control plane: preempted by the scheduler (DisruptionTarget
    PreemptionByScheduler or a Preempted event), the taint manager, the Eviction API or the
    pod garbage collector."""
    info, (dt_reason, dt_message) = f.pod, f.disruption
    preempted = f.with_reason("Preempted", "Preempting")
    if not (sem.disruption(dt_reason) or preempted):
        return None
    what, why = sem.disruption(dt_reason) or rs.DISRUPTION["PreemptionByScheduler"]
    evidence: tuple[str, ...] = ()
    if dt_reason:
        evidence += (f"condition DisruptionTarget is True, reason {dt_reason}" + (f": {clip(dt_message)}" if dt_message else ""),)
    evidence += tuple(f"{e.reason}: {clip(e.message)}" for e in preempted)[-2:]
    steps: tuple[str, ...] = (f.events_cmd,)
    if what == "preempted":
        steps += ("give the workload a higher priorityClassName, or add capacity so preemption is not needed",)
    elif dt_reason == "DeletionByTaintManager":
        steps = (f.describe_node,) + steps
    return PodVerdict(Cause.TERMINATED, Confidence.HIGH, f"Pod {info.name} was {what}: {why}.", evidence, steps,
                      f"stopped when the pod was {what}")


@rule("P06", "node-lost", "status.phase", "status.reason")
def node_lost(f: PodFacts) -> PodVerdict | None:
    """Its node stopped reporting: phase Unknown or status.reason NodeLost (the node
    controller of older releases, or a status nobody updates)."""
    info = f.pod
    if not (info.reason == "NodeLost" or info.phase == "Unknown"):
        return None
    msg = clip(info.message) or "no message"
    return PodVerdict(
        Cause.UNKNOWN, Confidence.MEDIUM,
        f"Pod {info.name}'s node {info.node or '?'} stopped reporting: its containers' state is unknown ({msg}).",
        (f"status.phase is {info.phase or '?'}" + (f", status.reason {info.reason}" if info.reason else "") + f": {msg}",),
        (f.describe_node, "kubectl get nodes", f.events_cmd), "last reported before its node went silent")


@rule("P07", "rejected-at-admission", "status.phase", "status.reason")
def rejected(f: PodFacts) -> PodVerdict | None:
    """The kubelet refused to admit the pod (phase Failed, reason OutOfcpu, OutOfmemory,
    NodeAffinity, ...)."""
    info = f.pod
    if not (info.phase == "Failed" and rs.REJECTED.fullmatch(info.reason or "")):
        return None
    msg = clip(info.message) or "no message"
    return PodVerdict(
        Cause.UNSCHEDULABLE, Confidence.HIGH,
        f"Pod {info.name} was rejected by the kubelet on node {info.node or '?'} ({info.reason}): {msg}",
        (f"status.reason is {info.reason}: {msg}", "phase Failed: the kubelet refused to admit the pod"),
        (f.describe_node, "a controller re-creates the pod; if it keeps happening, check the node's allocatable resources"),
        "never started: the kubelet rejected the pod")


@rule("P08", "node-not-ready", "status.phase", "condition:Ready", *events("NodeNotReady"))
def node_not_ready(f: PodFacts) -> PodVerdict | None:
    """Running, Ready False, and a recent NodeNotReady event: the node lifecycle controller
    marked its pods unready (they leave their endpoints)."""
    info = f.pod
    not_ready = f.with_reason("NodeNotReady")
    if not (not_ready and info.phase == "Running" and ob.condition(f.raw, "Ready").get("status") == "False"
            and f.recent_enough(not_ready[-1])):
        return None
    return PodVerdict(
        Cause.UNKNOWN, Confidence.MEDIUM,
        f"Pod {info.name} is not ready because its node {info.node or '?'} is not ready "
        "(the node controller marked its pods unready): it gets no traffic.",
        (f"NodeNotReady: {clip(not_ready[-1].message)} ({ago(f.now, not_ready[-1].last) or 'time unknown'})",
         "condition Ready is False while its containers report ready"),
        (f.describe_node, "kubectl get nodes", f.events_cmd), "")


@rule("P09", "scheduling-gated", "condition:PodScheduled", "spec.schedulingGates")
def scheduling_gated(f: PodFacts) -> PodVerdict | None:
    """Held back by spec.schedulingGates (PodScheduled False, reason SchedulingGated): fine
    for a while, a warning once older than the recent window."""
    info = f.pod
    sched = ob.condition(f.raw, "PodScheduled")
    if not (sched.get("status") == "False" and sched.get("reason") == "SchedulingGated"):
        return None
    gates = [ob.text(g, "name") for g in ob.dicts(f.spec, "schedulingGates")]
    age = (f.now - info.created).total_seconds() if f.now and info.created else None
    return PodVerdict(
        Cause.UNKNOWN, Confidence.MEDIUM,
        f"Pod {info.name} is held back from scheduling by its scheduling gates"
        + (f" ({', '.join(gates)})" if gates else "") + ": the controller that owns them must remove them.",
        ("condition PodScheduled is False, reason SchedulingGated",) + ((f"spec.schedulingGates: {', '.join(gates)}",) if gates else ()),
        (f.cmd("kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.schedulingGates}}'"), f.events_cmd),
        "not started: held by scheduling gates",
        Severity.WARNING if age is not None and age > f.recent.total_seconds() else Severity.OK)


def _scheduling_steps(f: PodFacts, msg: str) -> tuple[str, ...]:
    steps = ("kubectl get nodes -o wide", "kubectl describe nodes", f.events_cmd)
    low = msg.lower()
    if "insufficient" in low:
        steps = ("lower the pod's resource requests, or add node capacity (the scheduler found too little free CPU/memory)",) + steps
    if "taint" in low:
        steps = ("add a toleration for the node taints named above, or schedule on untainted nodes",) + steps
    if "affinity" in low or "selector" in low:
        steps = (f.cmd("kubectl get pod -n {ns} {pod} -o jsonpath='{{.spec.nodeSelector}} {{.spec.affinity}}'"),) + steps
    if "persistentvolumeclaim" in low:
        steps = (f.cmd("kubectl get pvc -n {ns}"),) + steps
    return steps


@rule("P10", "unschedulable", "condition:PodScheduled", "spec.nodeName", *events("FailedScheduling", "TriggeredScaleUp"))
def unschedulable(f: PodFacts) -> PodVerdict | None:
    """No node fits the pod: PodScheduled False reason Unschedulable, or Pending with no node
    and FailedScheduling events. A warning, not critical, while a recent TriggeredScaleUp
    says the cluster autoscaler is adding a node."""
    info = f.pod
    sched = ob.condition(f.raw, "PodScheduled")
    failed = f.with_reason("FailedScheduling")
    if not ((sched.get("status") == "False" and sched.get("reason") == "Unschedulable")
            or (info.phase in ("Pending", "") and not info.node and failed)):
        return None
    msg = ob.text(sched, "message") or (failed[-1].message if failed else "")
    evidence = ("condition PodScheduled is False, reason Unschedulable" if sched else "the pod has no node",)
    if msg:
        evidence += (f"scheduler: {clip(msg, 500)}",)
    if failed:
        evidence += (f"FailedScheduling x{sum(e.count for e in failed)}, last {ago(f.now, failed[-1].last)}",)
    scale_up = f.with_reason("TriggeredScaleUp")
    severity = None
    if scale_up and f.recent_enough(scale_up[-1]):
        evidence += (f"TriggeredScaleUp: {clip(scale_up[-1].message)}: the cluster autoscaler is adding a node, "
                     "so it may be scheduled soon",)
        severity = Severity.WARNING
    return PodVerdict(Cause.UNSCHEDULABLE, Confidence.HIGH,
                      f"Pod {info.name} cannot be scheduled: {clip(msg, 200) or 'no node fits it'}",
                      evidence, _scheduling_steps(f, msg), "not started: the pod has no node", severity)
