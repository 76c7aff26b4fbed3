"""After the cause: what turns a container's verdict into its ContainerDiagnosis, as named
steps applied in order (REFINE). Each takes the facts and the draft so far and returns a
new draft; none decides the cause (only `history` turns a past restart into healthy)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from probectl.core import objects as ob
from probectl.core import reasons as rs
from probectl.core import rules
from probectl.core import semantics as sem
from probectl.core.facts import ContainerFacts
from probectl.core.model import SEVERITY, Cause, Confidence, LastRestart, Severity
from probectl.core.timefmt import ago, human_duration
from probectl.core.verdict import Verdict
from probectl.core.wording import CRASH_SOURCE, plural, short

# What a crash line adds to a verdict: kind -> (evidence, next step)
_HEAP = {
    "java-out-of-memory": ("the JVM ran out of heap: its -Xmx / -XX:MaxRAMPercentage, not (only) the container's limit",
                           "raise the JVM heap (-Xmx or -XX:MaxRAMPercentage) within the container's limit, or find the leak"),
    "node-out-of-memory": ("V8 reached its heap limit (--max-old-space-size), not (only) the container's limit",
                           "raise --max-old-space-size (NODE_OPTIONS) within the container's limit, or find the leak"),
    "go-out-of-memory": ("the Go runtime could not allocate memory", "set GOMEMLIMIT below the container's limit, or find the leak"),
}


@dataclass(frozen=True)
class Draft:
    verdict: Verdict  # the rule's verdict (its cause, confidence, summary, evidence as refined so far)
    crash: object = None  # the crash line (core.crash), if any
    severity: Severity = Severity.OK
    last_restart: LastRestart | None = None
    history: bool = False
    extra_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # for the pod's warnings

    def with_verdict(self, **changes) -> Draft:
        return replace(self, verdict=replace(self.verdict, **changes))


def crash_line(f: ContainerFacts, log: tuple[str, str] | None):
    """The line that says why the process died: from the termination message first (with
    FallbackToLogsOnError it is the log's tail), else from the log the caller read."""
    from probectl.core import crash as cr

    t = f.last
    if t is not None and t.message and t.reason != rs.PLACEHOLDER:
        found = cr.find(t.message, "termination-message")
        if found is not None:
            return found
    if log:
        return cr.find(log[0], log[1])
    return None


def fold_crash_line(f: ContainerFacts, d: Draft) -> Draft:
    """Quote the crash line as evidence; raise the confidence where it confirms the cause;
    for an out-of-memory line, say which memory ran out."""
    crash, v = d.crash, d.verdict
    if crash is None:
        return d
    evidence = v.evidence + (f"crash line ({crash.kind}, from the {CRASH_SOURCE.get(crash.source, crash.source)}): {crash.line}",)
    steps: tuple[str, ...] = ()
    heap = _HEAP.get(crash.kind)
    if heap and v.cause in (Cause.OOM_KILLED, Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.UNKNOWN):
        if v.cause is Cause.OOM_KILLED:
            evidence += (f"{heap[0]}; the kernel also OOM-killed the container" + (f" at its {f.limit} limit" if f.limit else ""),)
        else:
            evidence += (heap[0],)
        steps = (heap[1],)
    confidence = v.confidence
    if v.cause in (Cause.APP_ERROR, Cause.CRASHED_SIGNAL, Cause.COMMAND_NOT_FOUND) and confidence is not Confidence.HIGH:
        confidence = Confidence.HIGH  # the program said why it died
    return replace(d.with_verdict(evidence=evidence, confidence=confidence), extra_steps=d.extra_steps + steps)


def completed_under_always(f: ContainerFacts, d: Draft) -> Draft:
    """A completed container that restartPolicy Always restarts is a warning, not ok."""
    if d.verdict.cause is Cause.COMPLETED and f.ref.type == "container" and f.will_restart:
        return replace(d, severity=Severity.WARNING)
    return d


def attach_last_restart(f: ContainerFacts, d: Draft) -> Draft:
    """lastRestart: why the previous instance ended, whatever the verdict on the container
    now. Taken before the evidence is extended for the current instance."""
    previous = f.previous
    if previous is None:
        return d
    v = d.verdict if d.verdict.rests_on == "previous" else rules.judge_termination(replace(f, last=previous))
    lr = LastRestart(v.cause, v.confidence, previous.exit_code, previous.signal, previous.reason,
                     previous.finished_at, v.summary, tuple(dict.fromkeys(v.evidence)))
    return replace(d, last_restart=lr)


def _fine_now(f: ContainerFacts, d: Draft) -> bool:
    """Running and ready now, the verdict resting on an earlier instance: maybe history."""
    rests_on = d.verdict.rests_on
    return f.state == "running" and f.ready is True and d.verdict.cause is not Cause.HEALTHY and (
        (d.last_restart is not None and rests_on == "previous") or (f.previous is None and rests_on == "events"))


def history_or_unknown_clock(f: ContainerFacts, d: Draft) -> Draft:
    """A restart followed by running ready: history (healthy, lastRestart keeps why) once
    older than the recent window and not flapping; with no clock to tell (a lone pod from a
    file), a warning at most and a note."""
    if not _fine_now(f, d):
        return d
    pf = f.pf
    if not pf.clock_known:
        # one pod from a file, no events: "now" is its own newest timestamp, so how long it
        # has run fine since this restart is unknown; neither history nor critical
        note = (f"How long ago {f.label.lower()} {f.name} restarted is unknown: the input's only times are the "
                f"pod's own, and it has run ready since. If that was more than "
                f"{human_duration(pf.recent.total_seconds())} ago, the restart is history; add the namespace's "
                "events (kubectl get events -o json) to tell.")
        severity = Severity.WARNING if d.severity is Severity.CRITICAL else d.severity
        return replace(d, severity=severity, notes=d.notes + (note,))
    if f.recent_restart or f.flapping:
        return d
    previous = f.previous
    ended = previous.finished_at if previous and previous.finished_at else f.started_at
    evidence = (f"state.running since {ago(pf.now, f.started_at) or '?'} and ready: the restart is history "
                f"(older than the {human_duration(pf.recent.total_seconds())} recent window)",)
    if f.restarts:
        evidence += (f"{plural(f.restarts, 'restart')} in all, not repeated recently",)
    pod_limit = "" if f.limit else sem.pod_memory_limit(f.pf.spec)
    what = (short(d.last_restart, f.limit or pod_limit, "the pod's" if pod_limit else "its") if d.last_restart
            else "why is not recorded (its lastState is empty)")
    summary = f"{f.label} {f.name} is healthy now; last restart {ago(pf.now, ended) or 'a while ago'}: {what}."
    return replace(d.with_verdict(cause=Cause.HEALTHY, confidence=Confidence.HIGH, summary=summary, evidence=evidence),
                   severity=Severity.OK, history=True)


def quiet_if_expected(f: ContainerFacts, d: Draft) -> Draft:
    """Still within its start-up checks, stopped by the pod's deletion, or a kubectl debug
    container: not a finding."""
    if d.verdict.starting or d.verdict.terminating or d.verdict.by_design or f.ref.type == ob.EPHEMERAL:
        return replace(d, severity=Severity.OK)
    return d


def crashloop_evidence(f: ContainerFacts, d: Draft) -> Draft:
    """Waiting in CrashLoopBackOff: say so, and how long the kubelet waits."""
    if not (f.restarts and f.state == "waiting" and f.reason == "CrashLoopBackOff"):
        return d
    m = rs.BACKOFF.search(f.message)
    line = (f"waiting in CrashLoopBackOff after {plural(f.restarts, 'restart')}"
            + (f": the kubelet waits {m.group(1)} before the next start" if m else ""))
    return d.with_verdict(evidence=d.verdict.evidence + (line,))


def init_blocks_pod(f: ContainerFacts, d: Draft) -> Draft:
    """A failing init container of a Pending pod holds the others back."""
    if f.ref.type == "init" and d.severity is not Severity.OK and f.pf.pod.phase == "Pending":
        return d.with_verdict(evidence=d.verdict.evidence + ("the pod's other containers cannot start until this init container succeeds",))
    return d


def pod_notes(f: ContainerFacts, d: Draft) -> Draft:
    """The rule's notes join the pod's warnings."""
    return replace(d, notes=d.notes + d.verdict.notes) if d.verdict.notes else d


REFINE = (fold_crash_line, completed_under_always, attach_last_restart, history_or_unknown_clock, quiet_if_expected,
          crashloop_evidence, init_blocks_pod, pod_notes)


def refine(f: ContainerFacts, v: Verdict, log: tuple[str, str] | None) -> Draft:
    d = Draft(v, crash=crash_line(f, log), severity=SEVERITY[v.cause])  # the cause's default severity
    for step in REFINE:
        d = step(f, d)
    return d
