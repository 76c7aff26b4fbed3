"""Many pods -> a ScanReport: the join of pods and events, grouping, severities, --since.

Pure: pods and events come in as iterables of raw dicts (a page at a time from the API,
or all at once from files); only compact records are kept, so memory is bounded by the
number of troubled pods, not by the size of the cluster.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from probectl.core import events as ev
from probectl.core.diagnose import RECENT, diagnose
from probectl.core.model import API_VERSION, Cause, Diagnosis, EventRecord, Severity, iso
from probectl.core.objects import compact_pod, get, text
from probectl.core.rules import EVENT_REASONS, kept
from probectl.core.select import field_matcher, label_matcher  # noqa: F401 - re-exported
from probectl.core.timefmt import human_duration

# Events that can change a verdict: the reasons some rule reads (rules.EVENT_REASONS,
# derived from the rule tables), plus every Warning. Lifecycle chatter (Scheduled, Pulling,
# Pulled, Created, Started, SuccessfulCreate, ...) only tells how far back events reach,
# which is kept per pod as one timestamp.
DECISIVE_REASONS = EVENT_REASONS


FAIL_ON = {"critical": Severity.CRITICAL, "warning": Severity.WARNING}

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def compact_id(ident: str):
    """A key for the sets of uids a scan has seen (every event's and every pod's): a
    canonical UUID becomes its 128-bit number (44 bytes instead of an 85-byte string);
    anything else stays the string it is (a str never equals an int)."""
    return int(ident.replace("-", ""), 16) if _UUID.fullmatch(ident) else ident


@dataclass
class EventIndex:
    """Events joined to pods by uid (or namespace/name when the uid is missing)."""

    by_key: dict[str, list[EventRecord]] = field(default_factory=dict)
    earliest: dict[str, datetime] = field(default_factory=dict)
    seen: int = 0
    _ids: set = field(default_factory=set)

    @staticmethod
    def key_for(uid: str, namespace: str, name: str) -> str:
        return uid or f"{namespace}/{name}"

    def add(self, raw: dict) -> None:
        ident = text(raw, "metadata", "uid") or None
        if ident:
            ident = compact_id(ident)
            if ident in self._ids:
                return  # a list restarted after 410 Gone hands out items twice
            self._ids.add(ident)
        e = ev.normalise(raw)
        if e is None or (e.kind and e.kind != "Pod"):
            return
        self.seen += 1
        key = self.key_for(e.uid, e.namespace, e.name)
        t = e.first or e.last
        if t and (key not in self.earliest or t < self.earliest[key]):
            self.earliest[key] = t
        if kept(e):
            self.by_key.setdefault(key, []).append(e)

    def for_pod(self, pod: dict, cutoff: datetime | None = None) -> tuple[list[EventRecord], datetime | None]:
        """The pod's decisive events (those last seen at or after `cutoff`, if given) and
        how far back all its events reach."""
        uid = text(pod, "metadata", "uid")
        ns = text(pod, "metadata", "namespace") or "default"
        name = text(pod, "metadata", "name")
        found = list(self.by_key.get(uid, [])) if uid else []
        fallback = self.by_key.get(f"{ns}/{name}", [])
        found += [e for e in fallback if not e.uid]
        if cutoff:
            found = [e for e in found if not e.last or e.last >= cutoff]
        earliest = [t for t in (self.earliest.get(uid) if uid else None, self.earliest.get(f"{ns}/{name}")) if t]
        return found, min(earliest) if earliest else None


@dataclass
class ScanReport:
    """What a scan found. `findings` are the pods with trouble now (severity above ok);
    `history` the pods that restarted earlier and are fine now (kept only when they are to
    be listed); `healthy` a sample of healthy pods (with --all). Counters cover every pod."""

    findings: list[Diagnosis]
    examined: int
    healthy_count: int
    by_cause: Counter
    by_severity: Counter
    scope: dict
    warnings: list[str]
    as_of: datetime | None
    fail_on: str
    since: str | None
    events_seen: int = 0
    history: list[Diagnosis] = field(default_factory=list)
    healthy: list[Diagnosis] = field(default_factory=list)
    history_count: int = 0
    terminating_count: int = 0
    outside_since: int = 0
    include_history: bool = False
    recent: str = "1h"
    items: list[Diagnosis] = field(default_factory=list)  # every pod for -o json/yaml, when collected (not streamed)
    groups: list = field(default_factory=list)  # the findings grouped (Group), built as they come
    findings_count: int = 0  # pods with trouble now, whether or not `findings` keeps them
    worst: Severity = Severity.OK  # the highest severity found
    workloads: list = field(default_factory=list)  # WorkloadDiagnosis findings (core/workload.py judge_scope)
    workloads_examined: int | None = None  # None: the workload pass did not run (files without workloads)

    @property
    def failed(self) -> bool:
        threshold = FAIL_ON.get(self.fail_on)
        if threshold is None:
            return False
        return self.worst.rank >= threshold.rank and (self.findings_count > 0 or bool(self.workloads))

    def add_workloads(self, findings: list, examined: int) -> None:
        """The workload pass's findings (pods that cannot be created, rollouts past their
        deadline): counted, and shown first among the groups of the grouped formats."""
        self.workloads_examined = examined
        self.workloads = list(findings)
        for d in findings:
            if d.severity.rank > self.worst.rank:
                self.worst = d.severity
        self.groups[:0] = [workload_group(d) for d in findings]

    def summary(self) -> dict:
        return {
            "podsExamined": self.examined,
            "podsWithFindings": self.findings_count,
            "podsHealthy": self.healthy_count,
            "podsRestartedEarlier": self.history_count,
            "podsTerminating": self.terminating_count,
            "eventsRead": self.events_seen,
            "byCause": dict(sorted(self.by_cause.items(), key=lambda kv: (-kv[1], kv[0]))),
            "bySeverity": {s.value: self.by_severity.get(s.value, 0) for s in (Severity.CRITICAL, Severity.WARNING, Severity.OK)},
            "failOn": self.fail_on,
            "failed": self.failed,
            "since": self.since,
            "recent": self.recent,
            "asOf": iso(self.as_of),
            "scope": self.scope,
            "warnings": list(self.warnings),
            "workloadsExamined": self.workloads_examined,
            "workloadsWithFindings": len(self.workloads),
        }

    def to_dict(self) -> dict:
        return {"apiVersion": API_VERSION, "kind": "ScanReport", "items": [d.to_dict() for d in self.items],
                "workloads": [w.to_dict() for w in self.workloads], "summary": self.summary()}


def recent(d: Diagnosis, cutoff: datetime) -> bool:
    """Does the pod's trouble fall inside the --since window? Current trouble (waiting,
    unready, pending, a container stopped now with no finish time) always does."""
    if d.cause in (Cause.UNSCHEDULABLE,):
        return True
    for c in d.containers:
        if c.severity is Severity.OK:
            continue
        t = c.last_termination
        if t and t.finished_at:
            if t.finished_at >= cutoff:
                return True
            if c.state == "waiting" and c.state_reason == "CrashLoopBackOff":
                continue  # waiting because of that old termination: judged by its time
        if c.state == "waiting" and c.state_reason != "CrashLoopBackOff":
            return True  # image pull, config error, ...: a problem right now
        if c.state == "running" and c.ready is False and c.cause is Cause.READINESS_PROBE_FAILED:
            probe = c.probes.get("readiness")
            if probe and probe.last_seen and probe.last_seen >= cutoff:
                return True
        if t and not t.finished_at:
            return True
    if d.cause in (Cause.EVICTED, Cause.DEADLINE_EXCEEDED, Cause.TERMINATED):
        times = [c.last_termination.finished_at for c in d.containers if c.last_termination and c.last_termination.finished_at]
        times += [e.last for e in d.events if e.last]
        return not times or max(times) >= cutoff
    return False


def is_history(d: Diagnosis) -> bool:
    """Healthy now, with a restart that is history (the contract's lastRestart)."""
    return d.severity is Severity.OK and d.cause is Cause.HEALTHY and any(c.history for c in d.containers)


class Scanner:
    """Diagnose pods one at a time against the indexed events, keeping only counters, the
    findings and what is to be listed: memory grows with the findings, not the cluster.

    `add(pod)` returns the pod's Diagnosis when it belongs in a JSON/YAML report (a finding,
    a pod that restarted earlier, or any pod with include_healthy), else None.

    Findings are grouped as they come (one example pod kept per group: what the table,
    Markdown and GitHub formats show). With keep_findings=False (no report needs every
    finding whole: JUnit does) they are only counted and grouped, not kept: memory then
    grows with the number of groups, not of pods in trouble."""

    KEEP_HEALTHY = 100  # healthy pods kept for the table (with --all); the rest are counted

    def __init__(self, index: EventIndex, now: datetime | None, *, include_healthy: bool = False,
                 include_history: bool = False, fail_on: str = "critical", since: timedelta | None = None,
                 since_text: str | None = None, recent: timedelta | None = None, recent_text: str | None = None,
                 scope: dict | None = None, warnings: list[str] | None = None, keep_items: bool = False,
                 keep_findings: bool = True, keep_history: bool = True, group_findings: bool = True, explain=None,
                 clock_known: bool = True):
        self.index, self.now = index, now
        self.include_healthy, self.include_history = include_healthy, include_history
        self.cutoff = now - since if (now and since) else None
        self.recent = recent
        self.explain = explain  # explain(d, pod, events, earliest) -> d, for each finding (crash lines from logs)
        self.keep_items = keep_items
        self.clock_known = clock_known
        self.keep_findings = keep_findings
        self.keep_history = keep_history  # with include_history: listed by the table, Markdown and JUnit
        self.group_findings = group_findings  # the table, Markdown and GitHub formats read the groups
        self.report = ScanReport([], 0, 0, Counter(), Counter(), scope or {}, list(warnings or []), now, fail_on,
                                 since_text, include_history=include_history,
                                 recent=recent_text or human_duration((recent or RECENT).total_seconds()))
        self._seen: set[str] = set()
        self._grouper = Grouper()

    def add(self, pod) -> Diagnosis | None:
        if not isinstance(pod, dict):
            return None
        r = self.report
        pod = compact_pod(pod)
        ident = compact_id(text(pod, "metadata", "uid") or f"{text(pod, 'metadata', 'namespace')}/{text(pod, 'metadata', 'name')}")
        if ident in self._seen:
            return None
        self._seen.add(ident)
        # every event is evidence: --since decides what counts as a finding (recent()), it
        # never hides the kill that explains a termination inside the window
        events, earliest = self.index.for_pod(pod)
        r.examined += 1
        if not self.include_healthy and not events and plainly_healthy(pod):
            r.healthy_count += 1
            r.by_severity[Severity.OK.value] += 1
            return None
        d = diagnose(pod, events, self.now, earliest_event=earliest, recent=self.recent, clock_known=self.clock_known)
        if self.cutoff and d.severity is not Severity.OK and not recent(d, self.cutoff):
            d = _outside_since(d)
            r.outside_since += 1
        if d.severity is not Severity.OK and self.explain is not None:
            d = self.explain(d, pod, events, earliest)
        r.by_severity[d.severity.value] += 1
        emit: Diagnosis | None = d
        if d.severity is not Severity.OK:
            r.by_cause[d.cause.value] += 1
            r.findings_count += 1
            if d.severity.rank > r.worst.rank:
                r.worst = d.severity
            if self.group_findings or self.keep_findings:
                kept = d if self.keep_items else _lean(d)
                if self.group_findings:
                    self._grouper.add(kept)
                if self.keep_findings:
                    r.findings.append(kept)
        elif is_history(d):
            r.history_count += 1
            r.healthy_count += 1
            if self.include_history and self.keep_history:
                r.history.append(d)
            elif self.include_healthy and len(r.healthy) < self.KEEP_HEALTHY:
                r.healthy.append(d)  # --all: healthy now, listed with the healthy pods
        else:
            r.healthy_count += 1
            if d.pod.deleting:
                r.terminating_count += 1
            if self.include_healthy:
                if len(r.healthy) < self.KEEP_HEALTHY:
                    r.healthy.append(d)
            else:
                emit = None
        if emit is not None and self.keep_items:
            r.items.append(emit)
        return emit

    def finish(self) -> ScanReport:
        r = self.report
        r.events_seen = self.index.seen
        r.groups = self._grouper.groups()
        r.findings.sort(key=lambda d: (-d.severity.rank, d.pod.namespace, d.pod.owner_kind, d.pod.owner_name, d.pod.name))
        return r


def scan(pods: Iterable[dict], index: EventIndex, now: datetime | None, **options) -> ScanReport:
    """Diagnose every pod against the indexed events (see Scanner); the report keeps every
    listed pod in `items`, for -o json/yaml without streaming."""
    scanner = Scanner(index, now, keep_items=True, **options)
    for pod in pods:
        scanner.add(pod)
    return scanner.finish()


def plainly_healthy(pod: dict) -> bool:
    """A pod the engine could only call healthy: running, not terminating, every container
    running and ready with no restart, and (checked by the caller) no decisive event. Most
    pods of a cluster; skipping their full diagnosis makes a scan several times faster."""
    status = pod.get("status")
    if not isinstance(status, dict) or status.get("phase") != "Running" or status.get("reason"):
        return False
    if get(pod, "metadata", "deletionTimestamp") is not None:
        return False
    main = status.get("containerStatuses")
    if not isinstance(main, list) or not main:
        return False
    specs = get(pod, "spec", "containers", default=[])
    if not isinstance(specs, list) or len(specs) != len(main):
        return False
    names = {c.get("name") for c in specs if isinstance(c, dict)}
    if names != {c.get("name") for c in main if isinstance(c, dict)}:
        return False
    for c in main:
        if not isinstance(c, dict) or c.get("ready") is not True or c.get("restartCount") != 0:
            return False
        state = c.get("state")
        if not isinstance(state, dict) or not isinstance(state.get("running"), dict) or len(state) != 1:
            return False
        if c.get("lastState"):
            return False
    init = status.get("initContainerStatuses") or []
    if not isinstance(init, list):
        return False
    for c in init:  # done init containers (exit 0, no restart) or running, ready sidecars
        if not isinstance(c, dict) or c.get("restartCount") != 0 or c.get("lastState"):
            return False
        term = get(c, "state", "terminated")
        done = isinstance(term, dict) and term.get("exitCode") == 0
        sidecar = isinstance(get(c, "state", "running"), dict) and c.get("ready") is True
        if not (done or sidecar):
            return False
    conditions = status.get("conditions")
    if not isinstance(conditions, (list, type(None))):
        return False
    for cond in conditions or []:
        if isinstance(cond, dict) and cond.get("type") in ("DisruptionTarget", "Ready") and (
                cond.get("status") == ("True" if cond.get("type") == "DisruptionTarget" else "False")):
            return False
    return not status.get("ephemeralContainerStatuses")


def _lean(d: Diagnosis) -> Diagnosis:
    """A finding as the table, Markdown, GitHub and JUnit formats need it: without its event
    timeline (most of a Diagnosis's memory), which only `why` and -o json/yaml show."""
    import dataclasses

    return dataclasses.replace(d, events=(), logs=()) if d.events or d.logs else d


def _outside_since(d: Diagnosis) -> Diagnosis:
    """Outside the --since window: reported as fine for this run, saying why."""
    import dataclasses

    note = f"Its last trouble ({d.cause.value}) is older than the --since window."
    return dataclasses.replace(d, severity=Severity.OK, warnings=d.warnings + (note,))


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Example:
    """What the grouped formats show of a group's example pod: a few strings, not the whole
    Diagnosis (a scan of a broken cluster may hold thousands of groups)."""

    namespace: str
    name: str
    summary: str
    evidence: tuple[str, ...]
    next_steps: tuple[str, ...]
    crash: object | None  # core/crash.py Crash of the culprit container

    @staticmethod
    def of(d: Diagnosis) -> Example:
        c = next((c for c in d.containers if c.name == d.culprit), None)
        return Example(d.pod.namespace, d.pod.name, d.summary, d.evidence, d.next_steps, c.crash if c else None)


@dataclass(frozen=True)
class Group:
    """Pods of one workload whose same container fails the same way, read as one line:
    counts summed over its pods, and one example pod kept whole."""

    namespace: str
    owner: str  # "Deployment/web", or "" for a bare pod
    container: str
    cause: str
    severity: Severity
    exits: tuple[str, ...]  # the distinct last exits, e.g. ("137 SIGKILL", "143 SIGTERM")
    count: int
    restarts: int
    probe_failures: int  # failed probe results in the events (errored ones, which count toward nothing, left out)
    last_terminated: datetime | None
    example: Example  # the pod that shows the group best: one with a crash line, then the most restarts
    first_pod: str  # the name of the group's first pod (its only one when count is 1)

    @property
    def exit(self) -> str:
        return ", ".join(self.exits)

    @property
    def crash(self):
        return self.example.crash


class _GroupAcc:
    """A group being built, one pod at a time: O(1) memory whatever its size."""

    __slots__ = ("key", "severity", "count", "restarts", "probe_failures", "codes", "last", "example", "rank", "first")

    def __init__(self, key: tuple, d: Diagnosis):
        self.key, self.first = key, d.pod.name
        self.severity, self.count, self.restarts, self.probe_failures = d.severity, 0, 0, 0
        self.codes: set[int] = set()
        self.last: datetime | None = None
        self.example, self.rank = Example.of(d), (-1, -1)

    def add(self, d: Diagnosis) -> None:
        self.count += 1
        if d.severity.rank > self.severity.rank:
            self.severity = d.severity
        container = self.key[3]
        crash = False
        for c in d.containers:
            if container and c.name != container:
                continue
            self.restarts += c.restart_count
            self.probe_failures += sum(s.failures for s in c.probes.values())
            t = c.last_termination
            if t is not None:
                if c.name == d.culprit:
                    self.codes.add(t.exit_code)
                if t.finished_at and (self.last is None or t.finished_at > self.last):
                    self.last = t.finished_at
            crash = crash or (c.name == d.culprit and c.crash is not None)
        rank = (int(crash), sum(c.restart_count for c in d.containers))
        if rank > self.rank or (rank == self.rank and d.pod.name < self.example.name):  # ties: by name, stable
            self.example, self.rank = Example.of(d), rank

    def group(self) -> Group:
        ns, owner, _alone, container, cause = self.key
        return Group(ns, owner, container, cause, self.severity, tuple(_exit_short(x) for x in sorted(self.codes)),
                     self.count, self.restarts, self.probe_failures, self.last, self.example, self.first)


def workload_group(d) -> Group:
    """A workload finding as a row of the grouped formats: no pods (count 0), the workload
    as its owner, the verdict's summary, evidence and next steps as its example's."""
    return Group(d.namespace, f"{d.kind}/{d.name}", "", d.cause.value, d.severity, (), 0, 0, 0, None,
                 Example(d.namespace, d.name, d.summary, d.evidence, d.next_steps, None), "")


def _exit_short(code: int) -> str:
    from probectl.core.exitcodes import decode

    info = decode(code)
    return str(code) if info.signal is None else f"{code} {info.signal}"


def group_key(d: Diagnosis) -> tuple:
    """(namespace, owner, pod name for pods that stand alone, container, cause)."""
    owner = f"{d.pod.owner_kind}/{d.pod.owner_name}" if d.pod.owner_kind else ""
    # replicas group by owner; a bare pod, a Job's pod or a static pod stands alone
    alone = d.pod.owner_kind in ("", "Job", "Node")
    return (d.pod.namespace, owner, d.pod.name if alone else "", d.culprit or "", d.cause.value)


class Grouper:
    """Findings grouped as they come (namespace + owner + container + cause)."""

    def __init__(self) -> None:
        self._groups: dict[tuple, _GroupAcc] = {}

    def add(self, d: Diagnosis) -> None:
        key = group_key(d)
        acc = self._groups.get(key)
        if acc is None:
            acc = self._groups[key] = _GroupAcc(key, d)
        acc.add(d)

    def groups(self) -> list[Group]:
        out = [acc.group() for acc in self._groups.values()]
        out.sort(key=lambda g: (-g.severity.rank, -g.count, g.namespace, g.owner, g.container))
        return out


def group(items: list[Diagnosis]) -> list[Group]:
    """One group per problem: namespace + owner workload + container + cause. A workload
    whose pods die with 137 and 143 from the same startup probe is one group."""
    grouper = Grouper()
    for d in items:
        grouper.add(d)
    return grouper.groups()
