"""Everything the rules read, computed once: facts about the pod, about one container and
its last termination. Frozen records; the costlier facts are cached properties."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from probectl.core import events as ev
from probectl.core import exitcodes
from probectl.core import objects as ob
from probectl.core import reasons as rs
from probectl.core import semantics as sem
from probectl.core import wording as wd
from probectl.core.model import Confidence, EventRecord, PodInfo, ProbeStats, Termination
from probectl.core.timefmt import ago, human_duration
from probectl.core.verdict import PodVerdict

EVENT_TTL = timedelta(hours=1)  # kube-apiserver --event-ttl default
RECENT = timedelta(hours=1)  # default --recent: a termination older than this (and fine since) is history
REPEATED = 3  # at least this many restarts, and one or more per recent window on average: flapping, current
BACKOFF_RESET = timedelta(minutes=10)  # the kubelet forgets the back-off after 10 min of running
STUCK_TERMINATING = timedelta(minutes=5)  # past its deletion deadline this long: stuck, not terminating


# --------------------------------------------------------------------------- time


def snapshot_time(pods: list[dict], events: list[dict]) -> datetime | None:
    """The newest timestamp in the input: the moment a file snapshot was taken, near enough."""
    best: datetime | None = None

    def see(value) -> None:
        nonlocal best
        t = value if isinstance(value, datetime) else ob.parse_time(value)
        if t and (best is None or t > best):
            best = t

    for pod in pods:
        see(ob.get(pod, "metadata", "creationTimestamp"))
        see(deletion_requested(pod, ob.get(pod, "spec", default={})))  # deletionTimestamp is a deadline
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
        see(event_time(raw))
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


def deletion_requested(pod: dict, spec: dict) -> datetime | None:
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
class PodFacts:
    raw: dict  # the pod as the API returns it
    pod: PodInfo
    spec: dict
    now: datetime | None
    events: tuple[EventRecord, ...]  # the pod's events
    earliest_event: datetime | None  # how far back the pod's events reach
    recent: timedelta = RECENT
    deletion_requested: datetime | None = None  # deletionTimestamp minus its grace period
    pod_started: datetime | None = None
    main_done: bool = False  # every regular container has stopped: sidecars are then stopped on purpose
    clock_known: bool = True  # False: "now" is only this pod's own newest timestamp (a lone pod from a file)

    @property
    def has_events(self) -> bool:
        """Any event about the pod in the input: kept ones, or (from a scan's index) how far
        back the ones it did not keep reach."""
        return bool(self.events) or self.earliest_event is not None

    def cmd(self, s: str) -> str:
        return s.format(ns=self.pod.namespace, pod=self.pod.name)

    @property
    def terminal(self) -> bool:
        return self.pod.phase in ("Succeeded", "Failed")

    def with_reason(self, *reasons: str) -> list[EventRecord]:
        """The pod's events with one of these reasons, oldest first."""
        return [e for e in self.events if e.reason in reasons]

    def recent_enough(self, e: EventRecord) -> bool:
        """Last seen within the recent window (or when is unknown)."""
        return self.now is None or e.last is None or self.now - e.last <= self.recent

    @property
    def describe_node(self) -> str:
        return f"kubectl describe node {self.pod.node}" if self.pod.node else "kubectl describe nodes"

    @property
    def events_cmd(self) -> str:
        return self.cmd("kubectl get events -n {ns} --field-selector involvedObject.name={pod} --sort-by=.lastTimestamp")

    @cached_property
    def disruption(self) -> tuple[str, str]:
        """(reason, message) of the DisruptionTarget condition; the reason only when it is True."""
        dt = ob.condition(self.raw, "DisruptionTarget")
        return (ob.text(dt, "reason") if ob.text(dt, "status") == "True" else ""), ob.text(dt, "message")

    @cached_property
    def shutdown(self) -> bool:
        info, (dt_reason, dt_message) = self.pod, self.disruption
        return sem.node_shutdown(info.phase, info.reason, info.message, dt_reason, dt_message)

    @cached_property
    def restart_all(self) -> sem.RestartAll | None:
        """The most recent exit that fired a RestartAllContainers rule (KEP-5532)."""
        return sem.restart_all(self.raw)


def build_pod_facts(pod: dict, events: list[EventRecord], now: datetime | None, earliest_event: datetime | None,
                    recent: timedelta, clock_known: bool, info: PodInfo | None = None,
                    refs: list[ob.ContainerRef] | None = None) -> PodFacts:
    info = info or pod_info(pod)
    times = [e.first or e.last for e in events if e.first or e.last]
    if earliest_event:
        times.append(earliest_event)
    spec = ob.get(pod, "spec", default={}) or {}
    spec = spec if isinstance(spec, dict) else {}
    main = [r for r in (ob.containers(pod) if refs is None else refs) if r.type == ob.CONTAINER]
    main_done = bool(main) and all(isinstance(ob.get(r.status, "state", "terminated"), dict) for r in main)
    return PodFacts(pod, info, spec, now, tuple(events), min(times) if times else None, recent,
                    deletion_requested(pod, spec), ob.parse_time(ob.get(pod, "status", "startTime")) or info.created,
                    main_done or info.phase in ("Succeeded", "Failed"), clock_known)


def container_of(e: EventRecord, names: list[str], only: str | None, probed: dict[str, list[str]]) -> str | None:
    """The container an event is about: its fieldPath, else the name in its message, else
    the pod's only container for container-level reasons, else for a probe result the only
    container with that kind of probe (old kubelets, pasted events)."""
    if e.container:
        return e.container
    named = ev.named_container(e)
    if named in names:
        return named
    if only and (e.reason in rs.CONTAINER_REASONS or ev.probe_result(e)):
        return only
    result = ev.probe_result(e)
    if result and len(probed.get(result[0], [])) == 1:
        return probed[result[0]][0]
    return None


# --------------------------------------------------------------------------- containers


def termination(state: dict, current: bool) -> Termination | None:
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


def will_restart(ref: ob.ContainerRef, pf: PodFacts, exit_code: int | None) -> tuple[bool, str]:
    info = pf.pod
    if info.deleting:
        return False, "no: the pod is being deleted"
    if pf.terminal:
        return False, f"no: the pod has finished (phase {info.phase})"
    if ref.type == "ephemeral":
        return False, "no: ephemeral containers are never restarted"
    if ref.type == "sidecar":
        return True, "yes: a sidecar (init container with restartPolicy Always) is restarted whenever it stops"
    rule = sem.restart_rule(ref.spec, exit_code)
    if rule is not None:
        return True, ("yes: " + rule.describe()
                      + (": the kubelet restarts every container of the pod" if rule.action == "RestartAllContainers" else ""))
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


@dataclass(frozen=True)
class ContainerFacts:
    """One container as the rules see it. `last` is the termination being judged: the
    current one, else the previous (lastState); lastRestart judges `previous` on a copy."""

    pf: PodFacts
    pod_verdict: PodVerdict | None
    ref: ob.ContainerRef
    events: tuple[EventRecord, ...]  # this container's events
    probes: dict[str, ProbeStats]
    last: Termination | None
    previous: Termination | None
    restarts: int
    limit: str | None  # resources.limits.memory
    state: str  # running | waiting | terminated | unknown
    reason: str  # of the state
    message: str
    ready: bool | None
    started_at: datetime | None  # of the running instance
    status: dict = field(default_factory=dict)
    will_restart: bool = False
    restart_explanation: str = ""

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def label(self) -> str:
        return wd.label(self.ref.type)

    @property
    def restarted(self) -> str:
        return wd.restarted(self.restarts)

    @property
    def now(self) -> datetime | None:
        return self.pf.now

    @property
    def grace(self) -> int:
        """spec.terminationGracePeriodSeconds (30 by default)."""
        return ob.integer(self.pf.spec, "terminationGracePeriodSeconds", default=30) or 0

    def in_window(self, pred: Callable[[EventRecord], bool]) -> list[EventRecord]:
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

    @cached_property
    def readiness_results(self) -> list[EventRecord]:
        """Readiness probe results (failed or errored) during the running instance."""
        return [e for e in self.events if (r := ev.probe_result(e)) and r[0] == "readiness"
                and ev.overlaps(e, self.started_at, None)]

    def by_deletion(self, t: Termination) -> bool:
        """Did this instance stop because the pod is being deleted?"""
        asked = self.pf.deletion_requested
        if asked is None:
            return False
        if t.finished_at is None:
            return t.current
        return t.finished_at >= asked - timedelta(seconds=2)

    @cached_property
    def recent_restart(self) -> bool:
        """Did the last restart happen within the recent window? (Unknown counts as yes.)"""
        now, t = self.now, self.last
        ended = (t.finished_at if t and not t.current else None) or self.started_at
        if now is None or ended is None:
            return True
        return now - ended <= self.pf.recent

    @cached_property
    def flapping(self) -> bool:
        """Restarting repeatedly: REPEATED restarts or more in all, on average at least one
        per recent window over the pod's life (60 a day is flapping; 4 in a month is not),
        and the current instance not yet running for much longer than that (four windows, or
        three average gaps): 60 restarts a day ago, fine for 20 hours since, has stopped flapping."""
        if self.restarts < REPEATED:
            return False
        now, born = self.now, self.pf.pod_started
        if now is None or born is None:
            return False
        window = self.pf.recent.total_seconds()
        life = max((now - born).total_seconds(), window)
        if self.restarts * window / life < 1:
            return False
        gap = life / self.restarts
        return self.started_at is None or (now - self.started_at).total_seconds() <= max(4 * window, 3 * gap)

    @cached_property
    def readiness_now(self) -> bool:
        """Is the current instance running but unready, its readiness probe failing now, and
        the last restart old news (older than the kubelet's back-off reset)?"""
        if self.ready is not False or "readiness" not in self.probes:
            return False
        if not self.readiness_results:
            return False
        t = self.last
        return t is None or t.finished_at is None or self.now is None or self.now - t.finished_at > BACKOFF_RESET

    def start_text(self, message: str) -> str:
        """The runtime's start error, wherever it is: the waiting message, the last
        termination's message (StartError / ContainerCannotRun), or `Failed` events."""
        texts = [message]
        t = self.last
        if t and (t.reason in rs.START or t.exit_code in (127, 128)):
            texts.append(t.message)
        texts += [ev.message_of(e) for e in reversed(self.events) if e.reason == "Failed"
                  and not e.message.startswith(("Failed to pull image", "Error: ErrImagePull", "Error: ImagePullBackOff"))]
        texts = [x for x in texts if x]
        for x in texts:
            if rs.start_cause(x):
                return x
        return texts[0] if texts else ""

    def start_summary(self, cause, text: str) -> str:
        return wd.start_summary(self.label, self.name, cause, text)

    # -- the termination being judged
    @property
    def term(self) -> Termination:
        assert self.last is not None
        return self.last

    @property
    def rests_on(self) -> str:
        return "current" if self.term.current else "previous"

    @cached_property
    def exit(self) -> exitcodes.ExitCodeInfo:
        return exitcodes.decode(self.term.exit_code)

    @cached_property
    def term_evidence(self) -> tuple[str, ...]:
        t = self.last
        if t is None:
            return ()
        where = "state.terminated" if t.current else "lastState.terminated"
        out = [f"{where}: exit code {t.exit_code} ({t.meaning}), reason {t.reason or 'not set'}"]
        if t.message:
            out.append(f"termination message: {wd.clip(t.message)}")
        if t.run_seconds is not None:
            out.append(f"that instance ran {human_duration(t.run_seconds)}, until {ago(self.now, t.finished_at) or 'unknown'}")
        elif t.finished_at is None and t.reason != rs.PLACEHOLDER:
            out.append("the termination has no timestamps: when it happened is unknown")
        return tuple(out)

    @cached_property
    def covered(self) -> bool:
        """Do the events reach back to the last termination? If not, their silence means nothing."""
        t = self.last
        if t is None or t.finished_at is None:
            return self.pf.has_events
        first = self.pf.earliest_event
        return first is not None and first <= t.finished_at + timedelta(seconds=5)

    @cached_property
    def stops(self) -> list[EventRecord]:
        return self.in_window(ev.is_stop)

    @cached_property
    def deleted(self) -> bool:
        return self.by_deletion(self.term)

    @property
    def expired_note(self) -> str:
        t, now = self.last, self.now
        if t and t.finished_at and now and now - t.finished_at > EVENT_TTL:
            return (f"No events reach back to that termination ({ago(now, t.finished_at)}): "
                    "Kubernetes keeps events for about an hour, so probe failures or kills then are not visible.")
        return "No events cover that termination in the input, so probe failures or kills then are not visible."

    @cached_property
    def exit_evidence(self) -> tuple[str, ...]:
        """The termination's evidence as the exit-code rules take it: with a note when no
        event covers the termination (their silence then decides nothing)."""
        if not self.covered and not self.deleted:
            return self.term_evidence + (self.expired_note,)
        return self.term_evidence

    @property
    def doubt(self) -> Confidence:
        """What an exit code alone is worth: high when events cover the termination."""
        return Confidence.HIGH if self.covered else Confidence.MEDIUM
