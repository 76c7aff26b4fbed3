"""Rules for a running container (R01-R09: startup, readiness, healthy) and for restarts
the status keeps no record of (N01-N04: lastState empty, the events may still say why)."""

from __future__ import annotations

from probectl.core import events as ev
from probectl.core import objects as ob
from probectl.core import reasons as rs
from probectl.core.facts import ContainerFacts
from probectl.core.model import Cause, Confidence
from probectl.core.rules.base import events, rule
from probectl.core.rules.probekill import probe_kill
from probectl.core.timefmt import ago, human_duration
from probectl.core.verdict import Verdict
from probectl.core.wording import clip

PROBE_RESULTS = events(*rs.PROBE_RESULT_REASONS)


def _since(f: ContainerFacts) -> tuple[str, ...]:
    since = ago(f.now, f.started_at)
    return (f"state.running since {since}" if since else "state.running",)


def _age(f: ContainerFacts) -> float | None:
    return (f.now - f.started_at).total_seconds() if f.now and f.started_at else None


def _startup(f: ContainerFacts):
    """The startup probe's stats and budget when it has not passed yet, else None."""
    sp = f.probes.get("startup")
    if not sp or ob.get(f.ref.status, "started") is not False:
        return None
    return sp, (sp.config.budget_seconds if sp.config else None)


@rule("R01", "startup-within-budget", "status.started", "spec.startupProbe", *PROBE_RESULTS)
def startup_within_budget(f: ContainerFacts) -> Verdict | None:
    """Startup probe failures while still within its budget: how a slow start looks (quiet)."""
    s, age = _startup(f), _age(f)
    if not s or not s[0].failures or age is None or s[1] is None or age > s[1]:
        return None
    sp, budget = s
    return Verdict(Cause.STARTUP_PROBE_FAILED, Confidence.LOW,
                   f"{f.label} {f.name} is still starting: its startup probe has not passed yet "
                   f"({human_duration(age)} of its {budget}s budget used).",
                   _since(f) + (f"startup probe failed {sp.failures} times so far: {clip(sp.last_message)}",
                                f"started {human_duration(age)} ago, within its startup probe's {budget}s budget"),
                   starting=True)


@rule("R02", "startup-failing", "status.started", "spec.startupProbe", *PROBE_RESULTS)
def startup_failing(f: ContainerFacts) -> Verdict | None:
    """Startup probe failing past its budget: the kubelet restarts it once the budget runs out."""
    s = _startup(f)
    if not s or not s[0].failures:
        return None
    sp, budget = s
    return Verdict(Cause.STARTUP_PROBE_FAILED, Confidence.MEDIUM,
                   f"{f.label} {f.name} has not passed its startup probe yet ({sp.config.describe() if sp.config else 'startup probe'}); "
                   f"the kubelet restarts it once the {budget if budget is not None else '?'}s budget runs out.",
                   _since(f) + (f"startup probe failed {sp.failures} times: {clip(sp.last_message)}",))


@rule("R03", "startup-errored", "status.started", "spec.startupProbe", *PROBE_RESULTS)
def startup_errored(f: ContainerFacts) -> Verdict | None:
    """The startup probe cannot run (errored): the kubelet discards such results, so it never passes."""
    s = _startup(f)
    if not s or not s[0].errors:
        return None
    sp = s[0]
    return Verdict(Cause.STARTUP_PROBE_FAILED, Confidence.MEDIUM,
                   f"{f.label} {f.name} is stuck before its startup probe: the probe cannot run ({clip(sp.last_message, 160)}).",
                   _since(f) + (f"startup probe errored {sp.errors} times (it could not run; the kubelet discards such results, "
                                f"so it never passes): {clip(sp.last_message)}",))


@rule("R04", "startup-not-passed", "status.started", "status.ready", "spec.startupProbe")
def startup_not_passed(f: ContainerFacts) -> Verdict | None:
    """Unready, its startup probe not passed, no failure in the events: maybe still starting."""
    s, age = _startup(f), _age(f)
    if not s or f.ready is not False:
        return None
    budget = s[1]
    within = age is not None and budget is not None and age <= budget
    line = (f"started {human_duration(age)} ago, within its startup probe's {budget}s budget" if within else
            "the startup probe has not passed and no startup failure is in the events (expired or not in the input)")
    return Verdict(Cause.STARTUP_PROBE_FAILED, Confidence.LOW,
                   f"{f.label} {f.name} runs but has not passed its startup probe yet"
                   + (": it may still be starting." if within else "."), _since(f) + (line,), starting=within)


@rule("R05", "readiness-failing", "status.ready", "spec.readinessProbe", *PROBE_RESULTS)
def readiness_failing(f: ContainerFacts) -> Verdict | None:
    """Unready with readiness failures in this instance: it gets no traffic. Quiet while the
    pod is deleted (it drains) or within the probe's first initialDelay + failure window."""
    recent = f.readiness_results
    if f.ready is not False or not recent:
        return None
    rp, age = f.probes.get("readiness"), _age(f)
    n, last = sum(e.count for e in recent), recent[-1]
    errored = all(ev.probe_result(e) == ("readiness", "errored") for e in recent)
    evidence, starting, terminating = _since(f), False, False
    if f.pf.pod.deleting:
        terminating = True  # a draining pod fails its readiness probe on purpose
        evidence += ("the pod is being deleted: readiness fails while it drains",)
    elif rp and rp.config and age is not None and age <= rp.config.initial_delay + rp.config.failure_window:
        starting = True  # readiness starts as Failure until the first success
        evidence += (f"it started {human_duration(age)} ago, within its readiness probe's first "
                     f"{rp.config.initial_delay + rp.config.failure_window}s: it may still be starting",)
    verb = "errored (could not run; the container stays unready)" if errored else "failed"
    evidence += (f"ready is false; readiness probe {verb} x{n} in this instance, last {ago(f.now, last.last)}: {clip(last.message)}",)
    if rp and rp.config:
        evidence += (f"readiness probe: {rp.config.describe()}",)
    if f.last:
        evidence += (f"an earlier instance ended {ago(f.now, f.last.finished_at)} ({f.last.reason or 'exit ' + str(f.last.exit_code)})",)
    tail = (" It is still starting." if starting else " The pod is being deleted: expected while it drains." if terminating else "")
    return Verdict(Cause.READINESS_PROBE_FAILED, Confidence.HIGH,
                   f"{f.label} {f.name} runs but gets no traffic: its readiness probe "
                   + ("cannot run" if errored else "fails") + f" ({clip(ev.message_of(last), 160)})." + tail,
                   evidence, starting=starting, terminating=terminating)


@rule("R06", "readiness-no-events", "status.ready", "spec.readinessProbe")
def readiness_no_events(f: ContainerFacts) -> Verdict | None:
    """Unready with a readiness probe but no readiness event: the probe is the likely reason
    (low confidence), or it may still be starting."""
    rp, age = f.probes.get("readiness"), _age(f)
    if f.ready is not False or not (rp and rp.config):
        return None
    budget = rp.config.initial_delay + rp.config.failure_window
    within = age is not None and age <= budget
    evidence = _since(f) + ("ready is false and the readiness probe is configured, but no readiness failure is in the events "
                            "(expired or not in the input): the events that would decide are missing",)
    if within:
        evidence += (f"it started {human_duration(age)} ago, less than initialDelaySeconds + periodSeconds x "
                     f"failureThreshold ({budget}s): it may still be starting",)
        note = (f"{f.label} {f.name} started {human_duration(age)} before the snapshot, within its "
                f"readiness probe's first {budget}s: it may still be starting.")
    else:
        note = (f"{f.label} {f.name} is not ready, but the readiness-probe events that would say why "
                "are missing: the verdict is inferred from the status.")
    return Verdict(Cause.READINESS_PROBE_FAILED, Confidence.LOW,
                   f"{f.label} {f.name} runs but is not ready; its readiness probe ({rp.config.handler}) is the likely reason"
                   + (", though it may still be starting." if within else "."),
                   evidence, starting=within, notes=(note,))


@rule("R07", "unready-unexplained", "status.ready")
def unready_unexplained(f: ContainerFacts) -> Verdict | None:
    """Unready with no readiness probe: nothing says why."""
    if f.ready is not False:
        return None
    return Verdict(Cause.UNKNOWN, Confidence.LOW, f"{f.label} {f.name} runs but is not ready, and nothing says why.",
                   _since(f) + ("ready is false with no readiness probe configured",))


@rule("R08", "ready-unknown", "status.ready")
def ready_unknown(f: ContainerFacts) -> Verdict | None:
    """Running, and the status does not say whether it is ready."""
    if f.ready is not None:
        return None
    return Verdict(Cause.HEALTHY, Confidence.MEDIUM, f"{f.label} {f.name} is running.",
                   _since(f) + ("the status does not say whether it is ready",))


@rule("R09", "running-ready", "state.running", "status.ready")
def running_ready(f: ContainerFacts) -> Verdict | None:
    """Running and ready: healthy."""
    return Verdict(Cause.HEALTHY, Confidence.HIGH, f"{f.label} {f.name} is running and ready.", _since(f))


RUNNING = (startup_within_budget, startup_failing, startup_errored, startup_not_passed, readiness_failing,
           readiness_no_events, unready_unexplained, ready_unknown, running_ready)

# -------------------------------------------------------------------- no record

_NO_RECORD = ("lastState is empty: the status keeps no record of the last termination",)


def _no_record_evidence(f: ContainerFacts) -> tuple[str, ...]:
    backoff = [e for e in f.events if ev.is_backoff(e)]
    if backoff:
        return _NO_RECORD + (f"BackOff x{sum(e.count for e in backoff)}: {clip(ev.message_of(backoff[-1]))}",)
    return _NO_RECORD


@rule("N01", "no-record-runtime-said", *events("Failed"))
def runtime_said(f: ContainerFacts) -> Verdict | None:
    """Restarted with no last termination, and a Failed event carries the runtime's start
    error: command not found, not executable, ..."""
    text = f.start_text("")
    cause = rs.start_cause(text)
    if cause is None:
        return None
    return Verdict(cause, Confidence.HIGH, f.start_summary(cause, text),
                   _NO_RECORD + (f"the runtime said (Failed event): {clip(text)}",), rests_on="events")


@rule("N02", "no-record-kill-event", *events("Killing", "BackOff", "Unhealthy"))
def kill_event(f: ContainerFacts) -> Verdict | None:
    """Restarted with no last termination, and a Killing event announced a probe kill."""
    kills = [e for e in f.events if ev.probe_kill(e)]
    if not kills:
        return None
    kind = ev.probe_kill(kills[-1])
    assert kind is not None
    same = [e for e in kills if ev.probe_kill(e) == kind]
    return probe_kill(f, kind, same, _no_record_evidence(f), high=f.pf.recent_enough(same[-1]))


@rule("N03", "no-record-failures", *PROBE_RESULTS, *events("BackOff"), "spec.probes")
def failures_over_threshold(f: ContainerFacts) -> Verdict | None:
    """Restarted with no last termination, and at least failureThreshold failed startup or
    liveness probes: a probe kill whose event is missing."""
    for kind in ("startup", "liveness"):
        fails = [e for e in f.events if ev.probe_failed(e, kind)]
        cfg = f.probes.get(kind)
        threshold = cfg.config.failure_threshold if cfg and cfg.config else 3
        if fails and sum(e.count for e in fails) >= threshold:
            return probe_kill(f, kind, [], _no_record_evidence(f), high=False)
    return None


@rule("N04", "no-record-unknown", *events("BackOff"))
def no_record_unknown(f: ContainerFacts) -> Verdict | None:
    """Restarted, no last termination, no event that says why."""
    evidence = _no_record_evidence(f)
    if not f.pf.has_events:
        evidence += ("no events in the input: what ended it is not visible",)
    n = f.restarts
    return Verdict(Cause.UNKNOWN, Confidence.LOW,
                   f"{f.label} {f.name} restarted{f' {n} time' + ('s' if n != 1 else '') if n else ''}"
                   + (" and is in CrashLoopBackOff" if f.reason == "CrashLoopBackOff" else "")
                   + ", but its status keeps no last termination and no event says why.", evidence, rests_on="events")


NO_RECORD = (runtime_said, kill_event, failures_over_threshold, no_record_unknown)
