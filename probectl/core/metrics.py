"""Restart causes as metrics: the exporter's state, fed by pod and event updates.

Pure (no clock, no I/O): the exporter's shell feeds the initial lists, then each watch
event or relist, and passes `now`; this module keeps a compact record per live pod and
derives two series families from the shared engine (`probectl.core.diagnose.diagnose`):

- restarts: a counter per (namespace, owner_kind, owner, container, cause); each container
  termination is counted once, keyed on pod uid + container + the terminated instance's
  identity (containerID, else finishedAt), with the cause the engine gives that termination;
- problems: a gauge per (namespace, owner_kind, owner, cause, severity): the pods whose
  current verdict is a finding, the set `probectl scan` reports.

Labels name workloads, never pods: a ReplicaSet's pod counts under its Deployment (as scan
groups), a Job's pod under its CronJob when the Job's name is the CronJob controller's
`<cronjob>-<scheduled time in Unix minutes>` (kubernetes pkg/controller/cronjob getJobName:
fmt.Sprintf("%s-%d", cj.Name, getTimeHashInMinutes(scheduledTime)), getTimeHashInMinutes =
Unix()/60). A pod with no owner has empty owner labels. State is dropped with deleted pods.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from probectl.core import events as ev
from probectl.core.diagnose import diagnose
from probectl.core.model import Cause, Diagnosis, EventRecord, Severity
from probectl.core.objects import compact_pod, containers, get, integer, owner, text
from probectl.core.scan import DECISIVE_REASONS, plainly_healthy

RESTARTS = "probectl_container_restarts_total"
PROBLEM_PODS = "probectl_problem_pods"
RESTART_LABELS = ("namespace", "owner_kind", "owner", "container", "cause")
PROBLEM_LABELS = ("namespace", "owner_kind", "owner", "cause", "severity")

EVENTS_PER_POD = 64  # decisive events kept per pod (newest)
MAX_EVENT_KEYS = 100_000  # pods (keys) whose events are kept, including pods not seen yet
MAX_REFUSED = 10_000  # refused series remembered, so that each is counted as dropped once
SETTLE = timedelta(seconds=3)  # a termination is counted this long after it is seen: its events come separately
DEFAULT_MAX_SERIES = 10_000

_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-(?P<minutes>[0-9]{8,10})$")
_POD_LEVEL = (Cause.EVICTED, Cause.DEADLINE_EXCEEDED)


def workload(pod: dict) -> tuple[str, str, str]:
    """(namespace, owner_kind, owner): the labels a pod counts under. Never the pod's name."""
    ns = text(pod, "metadata", "namespace") or "default"
    kind, name = owner(pod)
    if kind == "Job":
        m = _CRONJOB_JOB.match(name)
        if m:
            kind, name = "CronJob", m.group("cronjob")
    elif kind == "Pod":  # not a controller a user runs; never a pod's name in a label
        kind, name = "", ""
    return ns, kind, name


def _identity(t: dict, restarts: int) -> str:
    """One terminated instance: its containerID, else its finish time; a placeholder
    (ContainerStatusUnknown with no ID and no times) by what it says and the restart count."""
    cid, finished = text(t, "containerID"), text(t, "finishedAt")
    if cid or finished:
        return f"{cid}|{finished}"
    return f"?|{text(t, 'reason')}|{t.get('exitCode')}|{restarts}"


def _implied(status: dict) -> int:
    """How many terminations a container's status accounts for. The kubelet reports the
    newest runtime container's restart count, so an instance that ended and was not yet
    replaced (state.terminated, or waiting with a lastState) is one more than restartCount."""
    rc = integer(status, "restartCount", default=0) or 0
    state = get(status, "state") if isinstance(get(status, "state"), dict) else {}
    ended = isinstance(state.get("terminated"), dict) or (
        isinstance(state.get("waiting"), dict) and isinstance(get(status, "lastState", "terminated"), dict))
    return rc + (1 if ended else 0)


@dataclass
class _Container:
    seen: tuple[str, ...] = ()  # identities of the terminated instances already seen (newest last, at most 4)
    accounted: int = 0  # terminations accounted for (see _implied)


@dataclass
class _Pending:
    """Terminations seen and not counted yet (they wait SETTLE for their events)."""

    key: str
    container: str
    identity: str | None  # None: restarts missed while the watch was down (no instance left to see)
    where: str  # "state" | "lastState"
    count: int
    seen_at: datetime
    labels: tuple[str, str, str]


@dataclass
class _Pod:
    pod: dict  # compact (objects.compact_pod)
    labels: tuple[str, str, str]
    containers: dict[str, _Container] = field(default_factory=dict)
    problem: tuple | None = None  # its key in the problems gauge


class MetricsState:
    def __init__(self, *, recent: timedelta | None = None, max_series: int = DEFAULT_MAX_SERIES) -> None:
        self.recent = recent
        self.max_series = max_series
        self.pods: dict[str, _Pod] = {}
        self.names: dict[tuple[str, str], str] = {}  # (namespace, name) -> pod key
        self.events: OrderedDict[str, OrderedDict[str, EventRecord]] = OrderedDict()
        self.earliest: dict[str, datetime] = {}
        self.restarts: dict[tuple, int] = {}
        self.problems: Counter = Counter()
        self.pending: list[_Pending] = []
        self.admitted: set[tuple] = set()  # (metric, labels) exposed
        self.refused: OrderedDict[tuple, None] = OrderedDict()
        self.dropped_series = 0
        self.terminations_counted = 0

    # ------------------------------------------------------------------ keys

    @staticmethod
    def _key(pod: dict) -> str:
        return text(pod, "metadata", "uid") or f"{text(pod, 'metadata', 'namespace') or 'default'}/{text(pod, 'metadata', 'name')}"

    def _event_keys(self, key: str, pod: dict) -> list[str]:
        keys = [key]
        named = f"{text(pod, 'metadata', 'namespace') or 'default'}/{text(pod, 'metadata', 'name')}"
        if named != key:
            keys.append(named)
        return keys

    # ------------------------------------------------------------------ series

    def _admit(self, metric: str, labels: tuple) -> bool:
        k = (metric, labels)
        if k in self.admitted:
            return True
        if len(self.admitted) < self.max_series:
            self.admitted.add(k)
            self.refused.pop(k, None)
            return True
        if k not in self.refused:
            self.dropped_series += 1
            self.refused[k] = None
            if len(self.refused) > MAX_REFUSED:
                self.refused.popitem(last=False)
        return False

    def _count(self, labels: tuple[str, str, str], container: str, cause: str, n: int) -> None:
        if n <= 0:
            return
        self.terminations_counted += n
        series = (*labels, container, cause)
        if self._admit(RESTARTS, series):
            self.restarts[series] = self.restarts.get(series, 0) + n

    def _set_problem(self, p: _Pod, problem: tuple | None) -> None:
        if p.problem == problem:
            return
        if p.problem is not None:
            self.problems[p.problem] -= 1
            if self.problems[p.problem] <= 0:
                del self.problems[p.problem]
                self.admitted.discard((PROBLEM_PODS, p.problem))
        p.problem = problem
        if problem is not None:
            self.problems[problem] += 1
            self._admit(PROBLEM_PODS, problem)

    def problem_samples(self) -> dict[tuple, int]:
        """The problems gauge as exposed: series beyond --max-series are left out (counted as dropped)."""
        return {k: n for k, n in sorted(self.problems.items()) if self._admit(PROBLEM_PODS, k)}

    def restart_samples(self) -> dict[tuple, int]:
        return dict(sorted(self.restarts.items()))

    # ------------------------------------------------------------------ the engine

    def _pod_events(self, key: str, pod: dict) -> tuple[list[EventRecord], datetime | None]:
        found: list[EventRecord] = []
        times = []
        for i, k in enumerate(self._event_keys(key, pod)):
            bucket = self.events.get(k)
            if bucket:
                found += [e for e in bucket.values() if i == 0 or not e.uid]
            if k in self.earliest:
                times.append(self.earliest[k])
        return found, (min(times) if times else None)

    def _diagnose(self, key: str, pod: dict, now: datetime | None) -> Diagnosis:
        events, earliest = self._pod_events(key, pod)
        return diagnose(pod, events, now, earliest_event=earliest, recent=self.recent)

    def _judge(self, key: str, p: _Pod, now: datetime | None) -> None:
        """The pod's current verdict into the problems gauge (as scan judges it)."""
        events, _ = self._pod_events(key, p.pod)
        if not events and plainly_healthy(p.pod):
            self._set_problem(p, None)
            return
        d = self._diagnose(key, p.pod, now)
        self._set_problem(p, None if d.severity is Severity.OK else (*p.labels, d.cause.value, d.severity.value))

    @staticmethod
    def _cause_of(d: Diagnosis, container: str, where: str) -> str | None:
        """The engine's cause for a container's termination (its current state or its
        lastState); None when it is not a failure worth counting (a clean completion that
        is not restarted, a sidecar stopped because the pod finished)."""
        cd = next((c for c in d.containers if c.name == container), None)
        if cd is None:
            return None
        if where == "state":
            if d.cause in _POD_LEVEL:
                return d.cause.value
            if cd.type == "sidecar" and d.pod.phase in ("Succeeded", "Failed"):
                return None  # stopped by the kubelet after the pod's main containers finished
            cause = cd.cause
            if cause is Cause.COMPLETED and not cd.will_restart:
                return None
            if cause is Cause.HEALTHY:
                cause = cd.last_restart.cause if cd.last_restart else Cause.UNKNOWN
            return cause.value
        cause = cd.last_restart.cause if cd.last_restart else cd.cause
        if cause is Cause.COMPLETED and cd.type == "init":
            return None  # an init container that did its job
        return (Cause.UNKNOWN if cause is Cause.HEALTHY else cause).value

    # ------------------------------------------------------------------ pods

    def baseline_pod(self, pod: dict) -> None:
        """A pod from the first list: its terminations so far are history, not counted."""
        if isinstance(pod, dict):
            self._update(pod, None, baseline=True)

    def finish_baseline(self, now: datetime | None) -> None:
        """After the first lists of pods and events: judge every pod once."""
        for key, p in self.pods.items():
            self._judge(key, p, now)

    def pod_update(self, pod: dict, now: datetime) -> None:
        if isinstance(pod, dict):
            self._update(pod, now, baseline=False)

    def _update(self, pod: dict, now: datetime | None, *, baseline: bool) -> None:
        key = self._key(pod)
        pod = compact_pod(pod)
        p = self.pods.get(key)
        if p is None:
            p = self.pods[key] = _Pod(pod, workload(pod))
            self.names[(p.labels[0], text(pod, "metadata", "name"))] = key
        else:
            p.pod = pod
        deleting = get(pod, "metadata", "deletionTimestamp") is not None
        seen_now: set[str] = set()
        for ref in containers(pod):
            if ref.type == "ephemeral":
                continue
            seen_now.add(ref.name)
            status = ref.status if isinstance(ref.status, dict) else {}
            c = p.containers.get(ref.name)
            if c is None:
                c = p.containers[ref.name] = _Container()
            rc = integer(status, "restartCount", default=0) or 0
            fresh: list[tuple[str, str]] = []
            for where in ("lastState", "state"):  # oldest first
                t = get(status, where, "terminated")
                if isinstance(t, dict):
                    ident = _identity(t, rc if where == "state" else max(rc - 1, 0))
                    if ident not in c.seen:
                        fresh.append((ident, where))
                        c.seen = (*c.seen, ident)[-4:]
            implied = _implied(status)
            if baseline or deleting:
                c.accounted = max(c.accounted, implied)
                continue
            missed = max(0, implied - (c.accounted + len(fresh)))
            c.accounted = max(c.accounted + len(fresh), implied)
            if not fresh and missed:
                # restarts while the watch was down whose instances are no longer shown: counted
                # with the cause of the newest termination the pod still shows
                fresh = [(None, "lastState")]
            for i, (ident, where) in enumerate(fresh):
                n = (1 if ident is not None else 0) + (missed if i == len(fresh) - 1 else 0)
                self.pending.append(_Pending(key, ref.name, ident, where, n, now, p.labels))  # type: ignore[arg-type]
        for gone in [n for n in p.containers if n not in seen_now]:
            del p.containers[gone]
        if not baseline:
            self._judge(key, p, now)

    def pod_deleted(self, pod: dict, now: datetime) -> None:
        key = self._key(pod)
        if key in self.pods and isinstance(pod, dict) and pod.get("status"):
            self.pods[key].pod = compact_pod(pod)  # its final status
        self.settle(now, only=key, force=True)
        self._drop(key)

    def _drop(self, key: str) -> None:
        p = self.pods.pop(key, None)
        if p is None:
            return
        self._set_problem(p, None)
        named = (p.labels[0], text(p.pod, "metadata", "name"))
        if self.names.get(named) == key:
            del self.names[named]
        for k in self._event_keys(key, p.pod):
            self.events.pop(k, None)
            self.earliest.pop(k, None)

    def relist_pods(self, pods: list[dict], now: datetime, *, namespace: str | None = None) -> None:
        """After 410 Gone: the new list (of `namespace`, or of all) is the truth. Terminations
        that happened while the watch was down are counted (those still visible, and restarts
        the counts imply); pods missing from it were deleted."""
        alive = set()
        for pod in pods:
            if isinstance(pod, dict):
                alive.add(self._key(pod))
                self._update(pod, now, baseline=False)
        for key in [k for k, p in self.pods.items() if k not in alive and namespace in (None, p.labels[0])]:
            self.settle(now, only=key, force=True)
            self._drop(key)

    # ------------------------------------------------------------------ counting

    def settle(self, now: datetime, *, only: str | None = None, force: bool = False,
               after: timedelta = SETTLE) -> int:
        """Count the terminations seen at least SETTLE ago (their events have had time to
        arrive), with the engine's cause. Returns how many were counted."""
        keep, counted = [], 0
        verdicts: dict[str, Diagnosis | None] = {}
        for pend in self.pending:
            if (only is not None and pend.key != only) or (not force and now - pend.seen_at < after):
                keep.append(pend)
                continue
            p = self.pods.get(pend.key)
            cause: str | None = Cause.UNKNOWN.value
            if p is not None:
                if pend.key not in verdicts:
                    verdicts[pend.key] = self._diagnose(pend.key, p.pod, now)
                where = pend.where
                if pend.identity is not None:
                    where = self._where(p, pend.container, pend.identity) or where
                cause = self._cause_of(verdicts[pend.key], pend.container, where)
            if cause is None:
                continue
            self._count(pend.labels, pend.container, cause, pend.count)
            counted += pend.count
        self.pending = keep
        return counted

    @staticmethod
    def _where(p: _Pod, container: str, identity: str) -> str | None:
        ref = next((r for r in containers(p.pod) if r.name == container), None)
        if ref is None:
            return None
        rc = integer(ref.status, "restartCount", default=0) or 0
        for where in ("state", "lastState"):
            t = get(ref.status, where, "terminated")
            if isinstance(t, dict) and _identity(t, rc if where == "state" else max(rc - 1, 0)) == identity:
                return where
        return None

    def refresh(self, now: datetime) -> None:
        """Time passes: a pod in trouble may now be history. Judges again only the pods in
        the problems gauge (few), not the cluster."""
        for key, p in list(self.pods.items()):
            if p.problem is not None:
                self._judge(key, p, now)

    # ------------------------------------------------------------------ events

    def baseline_event(self, raw: dict) -> None:
        self._event(raw, None, judge=False)

    def event_update(self, raw: dict, now: datetime) -> None:
        self._event(raw, now, judge=True)

    def _event(self, raw: dict, now: datetime | None, *, judge: bool) -> None:
        e = ev.normalise(raw)
        if e is None or (e.kind and e.kind != "Pod"):
            return
        key = e.uid or f"{e.namespace or 'default'}/{e.name}"
        t = e.first or e.last
        if t and (key not in self.earliest or t < self.earliest[key]):
            self.earliest[key] = t
        if not (e.reason in DECISIVE_REASONS or e.type == "Warning"):
            return
        ident = text(raw, "metadata", "uid") or f"{e.reason}|{e.container}|{e.message}|{e.first}"
        bucket = self.events.setdefault(key, OrderedDict())
        bucket[ident] = e
        bucket.move_to_end(ident)
        while len(bucket) > EVENTS_PER_POD:
            bucket.popitem(last=False)
        self.events.move_to_end(key)
        while len(self.events) > MAX_EVENT_KEYS:
            old, _ = self.events.popitem(last=False)
            self.earliest.pop(old, None)
        if judge:
            self._judge_for(key, e, now)

    def _judge_for(self, key: str, e: EventRecord, now: datetime | None) -> None:
        pkey = key if key in self.pods else self.names.get((e.namespace or "default", e.name))
        if pkey is not None and pkey in self.pods:
            self._judge(pkey, self.pods[pkey], now)

    def event_deleted(self, raw: dict, now: datetime) -> None:
        """Events expire (an hour by default): the verdict may change, as a new scan's would."""
        e = ev.normalise(raw)
        if e is None:
            return
        key = e.uid or f"{e.namespace or 'default'}/{e.name}"
        ident = text(raw, "metadata", "uid") or f"{e.reason}|{e.container}|{e.message}|{e.first}"
        bucket = self.events.get(key)
        if bucket and bucket.pop(ident, None) is not None:
            self._judge_for(key, e, now)

    def relist_events(self, items: list[dict], now: datetime, *, namespace: str | None = None) -> None:
        """After 410 Gone on events: the new list (of `namespace`, or of all) replaces what was
        kept; the pods are judged again."""
        if namespace is None:
            self.events.clear()
            self.earliest.clear()
        else:
            for key in [k for k, b in self.events.items() if any((e.namespace or "default") == namespace for e in b.values())]:
                del self.events[key]
                self.earliest.pop(key, None)
        for raw in items:
            self._event(raw, now, judge=False)
        for key, p in self.pods.items():
            self._judge(key, p, now)

    # ------------------------------------------------------------------ health

    def stats(self) -> dict[str, int]:
        return {"pods": len(self.pods), "pending": len(self.pending), "series": len(self.admitted),
                "dropped_series": self.dropped_series, "event_keys": len(self.events)}
