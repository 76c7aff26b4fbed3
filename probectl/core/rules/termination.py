"""Termination rules: why the judged instance ended. T01-T11 read what the kubelet and the
runtime state outright (a reason, a kill event, a probe's failures); T12-T21 read what the
exit code suggests, and take the termination's evidence with a note when no event covers
it (`exit_evidence`): their confidence then drops (`doubt`)."""

from __future__ import annotations

from datetime import timedelta

from probectl.core import events as ev
from probectl.core import exitcodes
from probectl.core import objects as ob
from probectl.core import reasons as rs
from probectl.core import semantics as sem
from probectl.core.facts import ContainerFacts
from probectl.core.model import Cause, Confidence
from probectl.core.rules.base import events, rule
from probectl.core.rules.probekill import probe_kill
from probectl.core.timefmt import ago, human_duration
from probectl.core.verdict import Verdict
from probectl.core.wording import clip


def _v(f: ContainerFacts, cause: Cause, confidence: Confidence, summary: str, evidence: tuple[str, ...], **flags) -> Verdict:
    return Verdict(cause, confidence, summary, evidence, rests_on=f.rests_on, **flags)


@rule("T01", "oom-killed", "state.terminated.reason", "resources.limits.memory")
def oom_killed(f: ContainerFacts) -> Verdict | None:
    """terminated.reason OOMKilled: the kernel's OOM killer, at the memory limit or the node's."""
    t = f.term
    if t.reason != "OOMKilled":
        return None
    evidence = (f"{'state' if t.current else 'lastState'}.terminated.reason is OOMKilled",) + f.term_evidence
    if t.exit_code != 137:
        evidence += (f"exit code {t.exit_code}, not 137: the OOM killer ended a process in the container "
                     "(often a child) and the main process then exited on its own",)
    pod_limit = "" if f.limit else sem.pod_memory_limit(f.pf.spec)
    where = (f"at its {f.limit} memory limit" if f.limit else
             f"at the pod's {pod_limit} memory limit (spec.resources, shared by its containers)" if pod_limit else
             "with no memory limit set (the node ran out of memory)" if f.ref.spec else
             "(its spec is not in the input: the memory limit is unknown)")
    if f.limit:
        evidence += (f"resources.limits.memory is {f.limit}",)
    elif pod_limit:
        evidence += (f"pod-level spec.resources.limits.memory is {pod_limit}; the container sets no limit of its own",)
    return _v(f, Cause.OOM_KILLED, Confidence.HIGH, f"{f.label} {f.name} was OOM-killed {where}{f.restarted}.", evidence)


@rule("T02", "exec-format-error", "state.terminated.message")
def exec_format(f: ContainerFacts) -> Verdict | None:
    """ "exec format error" in the termination message: an image built for another CPU (runc
    execs the entrypoint after start, so it ends as an ordinary exit)."""
    t = f.term
    if not rs.EXEC_FORMAT.search(t.message or ""):
        return None
    return _v(f, Cause.START_ERROR, Confidence.HIGH, f.start_summary(Cause.START_ERROR, t.message), f.term_evidence)


@rule("T03", "start-error", "state.terminated.reason", "state.terminated.message", *events("Failed"))
def start_error(f: ContainerFacts) -> Verdict | None:
    """StartError / ContainerCannotRun / RunContainerError, or exit 128 with a start error
    text: the runtime could not start the process; its text says whether the command is
    missing or not executable."""
    t = f.term
    start = rs.start_cause(t.message) if (t.reason in rs.START or t.exit_code in (126, 127, 128)) else None
    if not (t.reason in rs.START or (t.exit_code == 128 and start)):
        return None
    text = f.start_text("")
    cause = rs.start_cause(text) or Cause.START_ERROR
    evidence = f.term_evidence
    if text and text != t.message:
        evidence += (f"the runtime said: {clip(text)}",)
    return _v(f, cause, Confidence.HIGH, f.start_summary(cause, text), evidence)


def killed(f: ContainerFacts, stops, covered: bool, evidence: tuple[str, ...]) -> Verdict:
    """Exit 137 that is no OOM kill and no probe kill: lost, stopped past its grace period, or
    killed from outside."""
    t = f.term
    if t.reason == rs.PLACEHOLDER:
        evidence += ("reason ContainerStatusUnknown: the runtime lost the container (node lost, runtime restarted or "
                     "the pod deleted mid-flight); the kubelet reports 137 without a real exit",)
        if f.by_deletion(t) or f.pf.pod.deleting:
            return _v(f, Cause.TERMINATED, Confidence.MEDIUM,
                      f"{f.label} {f.name} could not be located when the pod was deleted (exit 137 is a placeholder){f.restarted}.",
                      evidence, terminating=True)
        return _v(f, Cause.KILLED, Confidence.MEDIUM,
                  f"{f.label} {f.name} was lost and reported as killed (exit 137, ContainerStatusUnknown){f.restarted}.", evidence)
    deleted = f.by_deletion(t)
    if stops or deleted:
        grace = ob.integer(f.pf.spec, "terminationGracePeriodSeconds", default=30)
        evidence += (stop_who(f, stops),
                     f"exit 137 after a stop request: it ignored SIGTERM for terminationGracePeriodSeconds ({grace}s) "
                     "and was SIGKILLed: worth fixing (handle SIGTERM), or shutdown work is cut short")
        return _v(f, Cause.KILLED, Confidence.HIGH,
                  f"{f.label} {f.name} did not stop within its {grace}s grace period after SIGTERM and was SIGKILLed (exit 137){f.restarted}"
                  + (": the pod is being deleted." if deleted else "."),
                  evidence, grace_exceeded=True, terminating=deleted)
    evidence += ("no OOMKilled reason, no probe kill and no stop request in the events",)
    return _v(f, Cause.KILLED, Confidence.MEDIUM if covered else Confidence.LOW,
              f"{f.label} {f.name} was killed with SIGKILL (exit 137) from outside, not by the OOM killer"
              + (" or a probe" if covered else "") + f"{f.restarted}.", evidence)


def stop_who(f: ContainerFacts, stops) -> str:
    if stops:
        s = stops[-1]
        return f"Killing: {clip(ev.message_of(s))} ({ago(f.now, s.last) or 'time unknown'}): the kubelet asked it to stop"
    return "the pod is being deleted (metadata.deletionTimestamp is set)"


@rule("T04", "lost-placeholder", "state.terminated.reason")
def lost(f: ContainerFacts) -> Verdict | None:
    """reason ContainerStatusUnknown (exit 137, no times): a stand-in for a container the
    runtime lost, not a kill of its own; terminated when the pod was being deleted."""
    if f.term.reason != rs.PLACEHOLDER:
        return None
    return killed(f, [], True, f.term_evidence)


@rule("T05", "runtime-unknown", "state.terminated.reason", *events("SandboxChanged"))
def runtime_unknown(f: ContainerFacts) -> Verdict | None:
    """reason Unknown: containerd could not tell how the process ended (its exit code is a
    placeholder), typically a node reboot or runtime restart (often with SandboxChanged)."""
    t = f.term
    if t.reason != "Unknown":
        return None
    sandbox = f.pf.with_reason("SandboxChanged")
    evidence = f.term_evidence + ("reason Unknown: the runtime could not tell how it ended (its exit code is a placeholder)",)
    if sandbox:
        evidence += (f"SandboxChanged: {clip(sandbox[-1].message)}: the pod's sandbox was re-created "
                     "(node or runtime restart)",)
    return _v(f, Cause.UNKNOWN, Confidence.MEDIUM,
              f"{f.label} {f.name} ended in a way the runtime could not tell (reason Unknown, exit "
              f"{t.exit_code}){f.restarted}: typically a node reboot or container runtime restart.", evidence)


@rule("T06", "poststart-hook-kill", "state.waiting.message", *events("Killing", "FailedPostStartHook"))
def hook_kill(f: ContainerFacts) -> Verdict | None:
    """Killing "FailedPostStartHook" during the instance: the kubelet killed it because its
    postStart hook failed."""
    hook = f.in_window(ev.is_hook_kill)
    if not hook:
        return None
    detail = ob.text(f.ref.status, "state", "waiting", "message") if ob.text(
        f.ref.status, "state", "waiting", "reason") == "PostStartHookError" else ""
    evidence = f.term_evidence + (f"{hook[-1].reason}: {clip(ev.message_of(hook[-1]))}: the kubelet killed it because its "
                                  "postStart hook failed (the event leaves the hook's output out on purpose)",)
    return _v(f, Cause.START_ERROR, Confidence.HIGH,
              f"{f.label} {f.name} was killed because its postStart hook failed{f.restarted}"
              + (f": {clip(detail, 200)}" if detail else "."), evidence)


@rule("T07", "probe-kill-event", *events("Killing", "Unhealthy"))
def probe_kill_event(f: ContainerFacts) -> Verdict | None:
    """Killing "... failed liveness/startup probe, will be restarted" during the instance:
    the kubelet's probe kill, whatever the exit code."""
    t = f.term
    timeless = t.started_at is None and t.finished_at is None
    for kind in ("liveness", "startup"):
        kills = f.in_window(lambda e, k=kind: ev.probe_kill(e) == k)
        if kills:
            untimed = timeless or all(e.first is None and e.last is None for e in kills)
            return probe_kill(f, kind, kills, f.term_evidence, high=not untimed)
    return None


def probe_ruled_out(f: ContainerFacts, kind: str) -> str:
    """Why a failing probe of `kind` cannot have killed the judged instance: it did not live
    initialDelaySeconds + (failureThreshold - 1) x periodSeconds (core/semantics.py); "" when
    it could have, or when no failure of that kind falls in its life."""
    if not f.in_window(lambda e: ev.probe_failed(e, kind)):
        return ""
    stats, startup = f.probes.get(kind), f.probes.get("startup")
    return sem.probe_kill_impossible(stats.config if stats else None, f.term.run_seconds,
                                     startup.config if startup else None)


def _failures_explain_end(f: ContainerFacts, kind: str) -> bool:
    """Failed probes of `kind` during the instance, at least failureThreshold of them, the
    last one shortly before it ended: the kill whose event is missing (the kubelet's
    event spam filter drops it on a chatty pod). Fewer failures than the threshold are
    noise: they change nothing."""
    t = f.term
    fails = f.in_window(lambda e: ev.probe_failed(e, kind))
    if not fails:
        return False
    stats = f.probes.get(kind)
    cfg = stats.config if stats else None
    if probe_ruled_out(f, kind):
        return False
    threshold = cfg.failure_threshold if cfg else 3
    if sum(e.count for e in fails) < threshold:
        return False
    last = max((e.last or e.first for e in fails if e.last or e.first), default=None)
    if last is None or t.finished_at is None:
        return True
    grace = f.grace
    if cfg and cfg.termination_grace is not None:
        grace = cfg.termination_grace
    reach = (cfg.failure_window if cfg else 30) + grace + 10
    return timedelta(seconds=-5) <= t.finished_at - last <= timedelta(seconds=reach)


@rule("T08", "probe-failures-at-end", *events("Unhealthy"), "spec.probes")
def failures_at_end(f: ContainerFacts) -> Verdict | None:
    """At least failureThreshold failed startup/liveness probes, the last just before the
    end: a probe kill whose Killing event is missing. Not for exits that explain themselves
    (crash signals, 126/127, runtime codes) nor for a pod being deleted."""
    if f.exit.category in (exitcodes.CRASH, exitcodes.NOT_FOUND, exitcodes.NOT_EXECUTABLE, exitcodes.RUNTIME) \
            or f.by_deletion(f.term):
        return None
    for kind in ("startup", "liveness"):
        if _failures_explain_end(f, kind):
            return probe_kill(f, kind, [], f.term_evidence, high=False)
    return None


@rule("T09", "spec-changed", *events("Killing"))
def spec_changed(f: ContainerFacts) -> Verdict | None:
    """Killing "Container ... definition changed, will be restarted": restarted on purpose
    (an image updated in place, a resize)."""
    changed = f.in_window(ev.is_spec_change)
    if not changed:
        return None
    evidence = f.term_evidence + (f"Killing: {clip(ev.message_of(changed[-1]))}: the kubelet restarted it because its spec "
                                  "changed (an image updated in place, a resize)",)
    return _v(f, Cause.TERMINATED, Confidence.HIGH,
              f"{f.label} {f.name} was restarted because its definition changed (exit {f.exit.short()}){f.restarted}.",
              evidence, terminating=True)


@rule("T22", "resize-restart", *events("Killing"), "resizePolicy")
def resize_restart(f: ContainerFacts) -> Verdict | None:
    """Killing "Container X resize requires restart": an in-place resize of a resource whose
    resizePolicy is RestartContainer (KEP-1287): a restart by design."""
    if not any(e.reason == "Killing" for e in f.events):
        return None  # the common case, without a pass over the instance's window
    resized = f.in_window(lambda e: e.reason == "Killing" and sem.resize_restart(ev.message_of(e)))
    if not resized:
        return None
    policy = ", ".join(sem.resize_restarts(f.ref.spec))
    evidence = f.term_evidence + (f"Killing: {clip(ev.message_of(resized[-1]))}: an in-place resize of a resource whose "
                                  "resizePolicy is RestartContainer" + (f" ({policy})" if policy else "") + " (KEP-1287)",)
    return _v(f, Cause.TERMINATED, Confidence.HIGH,
              f"{f.label} {f.name} was restarted to apply an in-place resize (resizePolicy RestartContainer; "
              f"exit {f.exit.short()}){f.restarted}: a restart by design.", evidence, by_design=True)


@rule("T23", "restart-all-sibling", "restartPolicyRules", "state.terminated", "condition:AllContainersRestarting")
def restart_all_sibling(f: ContainerFacts) -> Verdict | None:
    """Its run ended when another container's exit fired a RestartAllContainers rule
    (KEP-5532): the kubelet stops every container without a grace period and starts the pod
    again. Not its own failure."""
    t, ra = f.term, f.pf.restart_all
    if ra is None or not sem.killed_by_restart_all(ra, f.name, t.finished_at, t.started_at):
        return None
    evidence = f.term_evidence + (f"{ra.trigger} exited {ra.exit_code}, which its {ra.rule.describe()} answers by "
                                  "restarting every container of the pod: the kubelet stopped this one without a grace "
                                  "period (KEP-5532)",)
    return _v(f, Cause.TERMINATED, Confidence.HIGH,
              f"{f.label} {f.name} was restarted with the rest of the pod because {ra.trigger} exited {ra.exit_code} "
              f"(RestartAllContainers; exit {f.exit.short()}){f.restarted}: not its own failure.", evidence, by_design=True)


@rule("T10", "sidecar-after-main", "state.terminated", "status.containerStatuses")
def sidecar_after_main(f: ContainerFacts) -> Verdict | None:
    """A sidecar stopped after every main container finished: the kubelet's normal order,
    whatever it exits with."""
    t = f.term
    if not (f.ref.type == "sidecar" and t.current and f.pf.main_done):
        return None
    evidence = f.term_evidence + ("the main containers have finished: the kubelet stops sidecars after them",)
    return _v(f, Cause.COMPLETED if t.exit_code == 0 else Cause.TERMINATED, Confidence.HIGH,
              f"{f.label} {f.name} was stopped after the main containers finished (exit {f.exit.short()})"
              + (": it ignored SIGTERM until the grace period ran out." if t.exit_code == 137 else "."),
              evidence, terminating=True, grace_exceeded=t.exit_code == 137)


def _by_timing(f: ContainerFacts) -> tuple[str, str] | None:
    """With no events to say so, a probe kill can still be read from timing: an instance
    that never got healthy is stopped when its probe's budget (initialDelaySeconds +
    periodSeconds x failureThreshold) runs out, and dies of the SIGTERM (143) or of the
    SIGKILL after the grace period (137)."""
    t = f.term
    run = t.run_seconds
    if run is None:
        return None
    order = ("startup", "liveness") if "startup" in f.probes else ("liveness",)
    for kind in order:
        stats = f.probes.get(kind)
        cfg = stats.config if stats else None
        if cfg is None:
            continue
        after = (cfg.termination_grace if cfg.termination_grace is not None else f.grace) if t.exit_code == 137 else 0
        if abs(run - (cfg.budget_seconds + after)) <= cfg.period + 2:
            return kind, (
                f"no events say why, but the instance ran {human_duration(run)}: its {kind} probe's budget "
                f"(initialDelaySeconds {cfg.initial_delay} + periodSeconds {cfg.period} x failureThreshold "
                f"{cfg.failure_threshold} = {cfg.budget_seconds}s)"
                + (f" plus the {after}s grace period" if after else "")
                + ": the kubelet's kill is the likely end, inferred from timing alone")
    return None


@rule("T11", "probe-kill-by-timing", "state.terminated.startedAt", "state.terminated.finishedAt", "spec.probes")
def probe_kill_by_timing(f: ContainerFacts) -> Verdict | None:
    """Exit 137/143 with no events covering it, after running exactly its startup/liveness
    probe's budget (plus the grace period for 137): a probe kill inferred from timing
    (low confidence)."""
    if f.covered or f.deleted or f.stops or f.term.exit_code not in (137, 143, sem.stop_exit_code(f.ref.spec, f.ref.status)):
        return None
    timed = _by_timing(f)
    if not timed:
        return None
    return probe_kill(f, timed[0], [], f.term_evidence + (timed[1],), high=False, inferred=True)


STATED = (oom_killed, exec_format, start_error, lost, runtime_unknown, hook_kill,
          restart_all_sibling,  # T23 before the probe rules: a sibling's kill is the rule's, not a probe's
          probe_kill_event, failures_at_end,
          resize_restart,  # T22 before T09: the resize wording is the more specific
          spec_changed, sidecar_after_main, probe_kill_by_timing)
