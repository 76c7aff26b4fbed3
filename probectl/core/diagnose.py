"""diagnose(pod, events, now) -> Diagnosis: the pipeline over the rule tables.

Pure: the pod and its events as the API returns them go in, a frozen Diagnosis comes out.

    facts      the pod's facts, its events joined to it and to its containers (core.facts)
    pod rules  a pod-level verdict (eviction, preemption, deadline, scheduling; rules.POD)
    containers each container's facts -> its stages' rules (rules.STAGES) -> a Verdict ->
               refinement (crash line, severity, lastRestart, history; core.refine) and
               next steps (core.steps) -> ContainerDiagnosis
    outcome    the pod's verdict: the pod rule's, else the culprit container's (core.outcome)

The order of authority is the order of the rule tables (docs/verdict-rules.md lists it):
pod-level evidence first, then what the kubelet and the runtime state outright (a
termination reason, a waiting reason, a kill announced for a probe), then what an exit
code suggests; when the deciding evidence is missing, the confidence says so.

Current versus history: a container's trouble is *current* when it is not running and
ready now, or its last termination ended within the recent window (1 hour by default), or
it restarts repeatedly (REPEATED restarts or more in all, and on average one or more per
window over the pod's life). Otherwise the restart is history: the container is `healthy`
and `lastRestart` keeps the explanation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from probectl.core import events as ev
from probectl.core import objects as ob
from probectl.core import outcome, rules
from probectl.core import probes as pr
from probectl.core import semantics as sem
from probectl.core.facts import (  # noqa: F401  (the engine's public names, re-exported)
    BACKOFF_RESET,
    EVENT_TTL,
    RECENT,
    REPEATED,
    STUCK_TERMINATING,
    ContainerFacts,
    PodFacts,
    build_pod_facts,
    container_of,
    event_time,
    pod_info,
    snapshot_time,
    termination,
    will_restart,
)
from probectl.core.model import Cause, ContainerDiagnosis, Diagnosis, EventRecord
from probectl.core.reasons import CONFIG, IMAGE_PULL, PLACEHOLDER, POD_WARNINGS, START, start_cause  # noqa: F401
from probectl.core.refine import refine
from probectl.core.steps import next_steps
from probectl.core.verdict import PodVerdict
from probectl.core.wording import CRASH_SOURCE, MESSAGE_LIMIT  # noqa: F401

# A container that ended by itself or crashed: its log is worth one request to find why.
CRASH_LOG_CAUSES = frozenset({Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.UNKNOWN, Cause.COMMAND_NOT_FOUND, Cause.START_ERROR})


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
    if now is None:
        now = snapshot_time([pod], [e for e in events if isinstance(e, dict)])
    info = pod_info(pod)
    normalised = [e for e in (r if isinstance(r, EventRecord) else ev.normalise(r) for r in events) if e is not None]
    pod_events = ev.for_pod(normalised, info.namespace, info.name, info.uid)
    refs = ob.containers(pod)
    pf = build_pod_facts(pod, pod_events, now, earliest_event, recent or RECENT, clock_known, info, refs)
    pv = rules.judge_pod(pf)
    by_container = _events_by_container(refs, pod_events)
    notes: list[str] = []
    diags = []
    for ref in refs:
        d, more = _container(pf, pv, ref, by_container.get(ref.name, []), (logs or {}).get(ref.name))
        diags.append(d)
        notes += more
    warnings = _warnings(pf, refs, events_note, earliest_event, notes)
    timeline = tuple(ev.dedupe(pod_events))
    if pv:
        return outcome.from_pod_verdict(pf, pv, diags, timeline, warnings)
    return (outcome.not_scheduled(pf, any(r.status for r in refs), diags, timeline, warnings)
            or outcome.from_containers(pf, diags, timeline, warnings))


def _events_by_container(refs: list[ob.ContainerRef], pod_events: list[EventRecord]) -> dict[str, list[EventRecord]]:
    names = [r.name for r in refs]
    regular = [r.name for r in refs if r.type != ob.EPHEMERAL]
    only = regular[0] if len(regular) == 1 else None
    probed = {k: [r.name for r in refs if isinstance(ob.get(r.spec, key), dict)] for k, key in pr.SPEC_KEY.items()}
    by_container: dict[str, list[EventRecord]] = {n: [] for n in names}
    for e in pod_events:
        c = container_of(e, names, only, probed)
        if c in by_container:
            by_container[c].append(e)
    return by_container


def _warnings(pf: PodFacts, refs, events_note: str | None, earliest_event: datetime | None,
              notes: list[str]) -> tuple[str, ...]:
    info = pf.pod
    warnings: list[str] = []
    if events_note:
        warnings.append(events_note)
    elif not pf.events and not earliest_event:
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
    return tuple(dict.fromkeys(warnings))


def container_facts(pf: PodFacts, pv: PodVerdict | None, ref: ob.ContainerRef, cevents: list[EventRecord]) -> ContainerFacts:
    status = ref.status
    state_obj = ob.get(status, "state", default={})
    state_obj = state_obj if isinstance(state_obj, dict) else {}
    state = next((k for k in ("running", "waiting", "terminated") if isinstance(state_obj.get(k), dict)), "unknown")
    current = termination(state_obj, True)
    previous = termination(ob.get(status, "lastState", default={}), False)
    last = current or previous
    if sem.rerun_after_trigger(pf.restart_all, ref.name, current, previous):
        last = previous  # an init container that fired RestartAllContainers, then completed on the re-run
    ready = ob.get(status, "ready") if isinstance(ob.get(status, "ready"), bool) and status else None
    will, why = will_restart(ref, pf, last.exit_code if last else None)
    return ContainerFacts(
        pf, pv, ref, tuple(cevents), pr.stats(ref.spec, cevents), last, previous,
        ob.integer(status, "restartCount", default=0) or 0, ob.memory_limit(ref.spec), state,
        ob.text(state_obj, state, "reason") if state != "unknown" else "",
        ob.text(state_obj, state, "message") if state != "unknown" else "",
        ready, ob.parse_time(ob.get(state_obj, "running", "startedAt")), status, will, why)


def _container(pf: PodFacts, pv: PodVerdict | None, ref: ob.ContainerRef, cevents: list[EventRecord],
               log: tuple[str, str] | None) -> tuple[ContainerDiagnosis, tuple[str, ...]]:
    f = container_facts(pf, pv, ref, cevents)
    d = refine(f, rules.judge_container(f), log)
    v = d.verdict
    steps = () if d.history else tuple(next_steps(f, v)) + d.extra_steps
    return ContainerDiagnosis(
        name=ref.name, type=ref.type, image=ob.text(ref.spec, "image") or ob.text(ref.status, "image"),
        cause=v.cause, confidence=v.confidence, severity=d.severity, summary=v.summary, ready=f.ready,
        grace_exceeded=v.grace_exceeded, restart_count=f.restarts, state=f.state, state_reason=f.reason,
        state_message=f.message, started_at=f.started_at, last_termination=f.last, will_restart=f.will_restart,
        restart_explanation=f.restart_explanation, probes=f.probes, memory_limit=f.limit,
        evidence=tuple(dict.fromkeys(v.evidence)), next_steps=steps, last_restart=d.last_restart, history=d.history,
        crash=d.crash,
    ), d.notes


def wants_crash_log(d: Diagnosis, c: ContainerDiagnosis) -> bool:
    """Is this container's log worth one request to explain its death? Not for a healthy or
    OOM-killed container (read only when asked for), nor when its termination message
    already holds the telling line, nor when there is no ended instance to read."""
    if c.type == ob.EPHEMERAL or c.crash is not None or c.last_termination is None:
        return False
    job = d.pod.owner_kind == "Job" and c.cause not in (Cause.HEALTHY, Cause.COMPLETED, Cause.OOM_KILLED)
    return c.cause in CRASH_LOG_CAUSES or job
