"""The pod's verdict from its containers': a pod rule's, else the culprit's, else healthy
or completed; old terminal pods are demoted from critical (`aged`)."""

from __future__ import annotations

import dataclasses

from probectl.core import objects as ob
from probectl.core.facts import PodFacts
from probectl.core.model import SEVERITY, Cause, Confidence, ContainerDiagnosis, Diagnosis, Severity
from probectl.core.timefmt import ago, human_duration
from probectl.core.verdict import PodVerdict

_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


def conf_rank(c: Confidence) -> int:
    return _CONFIDENCE_RANK[c]


def from_pod_verdict(pf: PodFacts, pv: PodVerdict, diags, timeline, warnings) -> Diagnosis:
    return aged(Diagnosis(pf.pod, pv.cause, pv.confidence, pv.severity or SEVERITY[pv.cause], pv.summary, tuple(diags),
                          timeline, pv.evidence, pv.steps, warnings, pf.now, None), pf)


def not_scheduled(pf: PodFacts, any_status: bool, diags, timeline, warnings) -> Diagnosis | None:
    """Pending with no node and no container status, and no rule that says why: not yet judged."""
    info, now = pf.pod, pf.now
    if not (info.phase in ("Pending", "") and not info.node and not any_status):
        return None
    age = (now - info.created).total_seconds() if now and info.created else None
    young = age is not None and 0 < age < 60
    return Diagnosis(info, Cause.UNKNOWN, Confidence.LOW, Severity.OK if young else Severity.WARNING,
                     f"Pod {info.name} is Pending and has not been scheduled"
                     + (" yet (created under a minute ago)." if young else
                        "; nothing in the input says why (no PodScheduled condition, no FailedScheduling event)."),
                     tuple(diags), timeline, ("status.phase is Pending, spec.nodeName is empty",),
                     (pf.cmd("kubectl describe pod -n {ns} {pod}"),
                      pf.cmd("kubectl get events -n {ns} --field-selector involvedObject.name={pod}")),
                     warnings, now, None)


def culprit(diags: list[ContainerDiagnosis]) -> ContainerDiagnosis | None:
    """The container that explains the pod's trouble best. Ephemeral (kubectl debug)
    containers never decide the pod's cause."""
    candidates = [d for d in diags if d.type != ob.EPHEMERAL]
    if not candidates:
        return None

    def key(d: ContainerDiagnosis):
        active = d.state == "waiting" or d.ready is False or (d.state == "terminated" and d.cause is not Cause.COMPLETED)
        blocking = d.type == "init" and d.state != "terminated"
        unhealthy = d.cause not in (Cause.HEALTHY, Cause.COMPLETED)
        return (d.severity.rank, unhealthy, active, blocking, conf_rank(d.confidence), d.restart_count)

    return max(candidates, key=key)


def healthy_summary(pf: PodFacts, diags: list[ContainerDiagnosis]) -> str:
    info = pf.pod
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


def from_containers(pf: PodFacts, diags: list[ContainerDiagnosis], timeline, warnings) -> Diagnosis:
    info = pf.pod
    c = culprit(diags)
    if c is None:
        return Diagnosis(info, Cause.UNKNOWN, Confidence.LOW, Severity.WARNING,
                         f"Pod {info.name} has no container status to judge.", tuple(diags), timeline,
                         (), (pf.cmd("kubectl describe pod -n {ns} {pod}"),), warnings, pf.now, None)
    finished = info.phase == "Succeeded" and not info.deleting
    if c.severity is Severity.OK and (c.cause in (Cause.HEALTHY, Cause.COMPLETED) or finished):
        if finished:
            cause, summary = Cause.COMPLETED, f"Pod {info.name} ran to completion: its containers exited 0."
        else:
            cause, summary = Cause.HEALTHY, healthy_summary(pf, diags)
        regular = [d for d in diags if d.type != ob.EPHEMERAL] or diags
        confidence = min((d.confidence for d in regular), key=conf_rank)
        return Diagnosis(info, cause, confidence, Severity.OK, summary, tuple(diags), timeline,
                         (), (), warnings, pf.now, None)
    summary = c.summary
    if info.deleting and c.severity is Severity.OK:
        summary = f"Pod {info.name} is being deleted (terminating): {summary}"
    return aged(Diagnosis(info, c.cause, c.confidence, c.severity, summary, tuple(diags), timeline, c.evidence,
                          c.next_steps, warnings, pf.now, c.name), pf)


def aged(d: Diagnosis, pf: PodFacts) -> Diagnosis:
    """A pod that finished (phase Succeeded/Failed) before the recent window stays a record
    worth a look (a failed CronJob run kept by its history limit, an evicted pod not yet
    deleted), but it is no longer critical trouble now."""
    if d.severity is not Severity.CRITICAL or not pf.terminal or pf.now is None:
        return d
    times = [c.last_termination.finished_at for c in d.containers if c.last_termination and c.last_termination.finished_at]
    times += [e.last for e in pf.events if e.last]
    times += [t for c in ob.dicts(pf.raw, "status", "conditions") if (t := ob.parse_time(c.get("lastTransitionTime")))]
    if not times:
        return d
    ended = max(times)
    if pf.now - ended <= pf.recent:
        return d
    note = (f"It finished {ago(pf.now, ended)}, before the recent window ({human_duration(pf.recent.total_seconds())}): "
            "a warning now, not critical (delete the pod once it is understood).")
    return dataclasses.replace(d, severity=Severity.WARNING, warnings=d.warnings + (note,))
