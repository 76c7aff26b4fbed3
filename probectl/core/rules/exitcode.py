"""Termination rules by exit code (T12-T21), tried after the stated ones (T01-T11): what
the code suggests, with the termination's evidence noted when no event covers it."""

from __future__ import annotations

from probectl.core import exitcodes
from probectl.core import semantics as sem
from probectl.core.facts import ContainerFacts
from probectl.core.model import Cause, Confidence
from probectl.core.rules.base import events, rule
from probectl.core.rules.termination import _v, killed, probe_ruled_out, stop_who
from probectl.core.verdict import Verdict


@rule("T12", "exit-not-found", "state.terminated.exitCode")
def not_found(f: ContainerFacts) -> Verdict | None:
    """Exit 127: the shell could not find the command."""
    if f.exit.category != exitcodes.NOT_FOUND:
        return None
    return _v(f, Cause.COMMAND_NOT_FOUND, Confidence.HIGH,
              f"{f.label} {f.name} exited {f.exit.short()}: its command was not found{f.restarted}.", f.exit_evidence)


@rule("T13", "exit-not-executable", "state.terminated.exitCode")
def not_executable(f: ContainerFacts) -> Verdict | None:
    """Exit 126: the command exists but cannot be executed."""
    if f.exit.category != exitcodes.NOT_EXECUTABLE:
        return None
    return _v(f, Cause.PERMISSION_DENIED, Confidence.HIGH,
              f"{f.label} {f.name} exited {f.exit.short()}: its command exists but cannot be executed{f.restarted}.",
              f.exit_evidence)


@rule("T14", "crash-signal", "state.terminated.exitCode")
def crash_signal(f: ContainerFacts) -> Verdict | None:
    """128+N for SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV: a crash of its own making."""
    if f.exit.category != exitcodes.CRASH or f.term.exit_code == sem.stop_exit_code(f.ref.spec, f.ref.status):
        return None
    info = f.exit
    return _v(f, Cause.CRASHED_SIGNAL, Confidence.HIGH,
              f"{f.label} {f.name} crashed with {info.signal or info.meaning} (exit {info.short()}){f.restarted}.",
              f.exit_evidence)


@rule("T15", "sigkill", "state.terminated.exitCode", "metadata.deletionTimestamp", *events("Killing"))
def sigkill(f: ContainerFacts) -> Verdict | None:
    """Exit 137 with no OOM reason and no probe kill: past its grace period after a stop
    request (Killing "Stopping container", deletion), else killed from outside."""
    if f.exit.category != exitcodes.KILL:
        return None
    return killed(f, f.stops, f.covered, f.exit_evidence)


@rule("T16", "asked-to-stop", "state.terminated.exitCode", "metadata.deletionTimestamp", *events("Killing"))
def asked_to_stop(f: ContainerFacts) -> Verdict | None:
    """Exit 0, 143 or another signal after a stop request (deletion, rollout, scale-down):
    terminated, whatever it exited with on SIGTERM."""
    info, t, deleted, stops = f.exit, f.term, f.deleted, f.stops
    if not (deleted or (stops and info.category in (exitcodes.SUCCESS, exitcodes.STOP, exitcodes.SIGNAL))):
        return None
    evidence = f.exit_evidence + (stop_who(f, stops),)
    if t.exit_code == 0:
        evidence += ("it exited 0 after being asked to stop: it handled SIGTERM cleanly",)
    how = "stopped cleanly (exit 0)" if t.exit_code == 0 else f"was stopped with {info.signal or 'a stop request'} (exit {info.short()})"
    return _v(f, Cause.TERMINATED, Confidence.HIGH,
              f"{f.label} {f.name} {how}{f.restarted}: "
              + ("the pod is being deleted." if deleted else "asked to stop by the kubelet (deletion, rollout, scale-down or preemption)."),
              evidence, terminating=deleted)


@rule("T17", "exit-0", "state.terminated.exitCode", "spec.restartPolicy")
def exit_0(f: ContainerFacts) -> Verdict | None:
    """Exit 0 on its own: completed (under restartPolicy Always, restarted anyway)."""
    if f.term.exit_code != 0:
        return None
    always = "Under restartPolicy Always it is restarted anyway: a one-shot program run as a long-lived workload." if (
        f.pf.pod.restart_policy == "Always" and f.ref.type == "container") else ""
    return _v(f, Cause.COMPLETED, f.doubt,
              f"{f.label} {f.name} exited 0 on its own (Completed){f.restarted}." + (f" {always}" if always else ""),
              f.exit_evidence)


@rule("T18", "sigterm", "state.terminated.exitCode")
def sigterm(f: ContainerFacts) -> Verdict | None:
    """Exit 143 (or 128 + its lifecycle.stopSignal: 130, 131, ...) with no stop request in
    the events: stopped, nothing says who asked."""
    stop_code = sem.stop_exit_code(f.ref.spec, f.ref.status)
    if f.exit.category != exitcodes.STOP and f.term.exit_code != stop_code:
        return None
    info = f.exit
    evidence = f.exit_evidence
    if f.term.exit_code == stop_code:
        evidence += (f"exit {f.term.exit_code} is death by its stop signal {sem.stop_signal(f.ref.spec, f.ref.status)} "
                     "(lifecycle.stopSignal), not a crash",)
    return _v(f, Cause.TERMINATED, Confidence.MEDIUM if f.covered else Confidence.LOW,
              f"{f.label} {f.name} was stopped with {info.signal or 'a stop request'} (exit {info.short()}){f.restarted}: "
              "nothing in the events says who asked.", evidence)


@rule("T19", "other-signal", "state.terminated.exitCode")
def other_signal(f: ContainerFacts) -> Verdict | None:
    """128+N for another signal (SIGHUP, SIGINT, ...): nothing says who sent it."""
    if f.exit.category != exitcodes.SIGNAL:
        return None
    info = f.exit
    return _v(f, Cause.UNKNOWN, Confidence.LOW,
              f"{f.label} {f.name} was ended by {info.signal} (exit {info.short()}){f.restarted}; nothing says who sent it.",
              f.exit_evidence)


@rule("T20", "runtime-exit-code", "state.terminated.exitCode")
def runtime_code(f: ContainerFacts) -> Verdict | None:
    """An exit code the runtime itself uses (e.g. 128 without a start error text)."""
    if f.exit.category != exitcodes.RUNTIME:
        return None
    return _v(f, Cause.START_ERROR, Confidence.MEDIUM,
              f"{f.label} {f.name} exited {f.exit.short()} ({f.exit.meaning}){f.restarted}.", f.exit_evidence)


@rule("T21", "app-error", "state.terminated.exitCode", "state.terminated.reason")
def app_error(f: ContainerFacts) -> Verdict | None:
    """Any other non-zero exit: the process exited by itself."""
    conf = f.doubt if f.term.reason in ("Error", "") else Confidence.MEDIUM
    evidence = f.exit_evidence + tuple(why for kind in ("startup", "liveness") if (why := probe_ruled_out(f, kind)))
    rule = sem.restart_rule(f.ref.spec, f.term.exit_code)
    if rule is not None:
        evidence += (f"its exit code matched {rule.describe()}"
                     + (": the kubelet restarted every container of the pod" if rule.action == "RestartAllContainers"
                        else ": the kubelet restarts it whatever the restartPolicy"),)
    return _v(f, Cause.APP_ERROR, conf,
              f"{f.label} {f.name} exited with code {f.exit.short()} ({f.exit.meaning}) by itself{f.restarted}.",
              evidence)


BY_EXIT_CODE = (not_found, not_executable, crash_signal, sigkill, asked_to_stop, exit_0, sigterm, other_signal,
                runtime_code, app_error)
