"""The verdict for a startup or liveness probe kill, shared by the termination rules and
the rules for restarts the status keeps no record of."""

from __future__ import annotations

from probectl.core import events as ev
from probectl.core import reasons as rs
from probectl.core.facts import ContainerFacts
from probectl.core.model import Cause, Confidence, EventRecord
from probectl.core.timefmt import ago
from probectl.core.verdict import Verdict
from probectl.core.wording import clip

_EXIT_AFTER_KILL = {
    137: "exit 137: it did not stop within the grace period after SIGTERM, so it was SIGKILLed",
    143: "exit 143: it died of the SIGTERM the kubelet sent (no handler)",
    0: "exit 0: it handled the kubelet's SIGTERM and exited cleanly; the exit code hides the kill",
}


def _head(f: ContainerFacts, kind: str, kills: list[EventRecord], inferred: bool) -> tuple[str, ...]:
    """What leads the evidence: the Killing event, or the note that it is missing."""
    if kills:
        k = kills[-1]
        return (f"Killing: {clip(ev.message_of(k))} (x{sum(e.count for e in kills)}, last {ago(f.now, k.last) or 'at an unknown time'})",)
    if not inferred:
        return (f"{kind} probe failures{' during that instance' if f.last else ''}, but no Killing event in the input (expired or not included)",)
    return ()


def _evidence(f: ContainerFacts, kind: str, kills, fails, base: tuple[str, ...], inferred: bool) -> tuple[str, ...]:
    evidence = _head(f, kind, kills, inferred) + tuple(base)
    if fails:
        line = f"{kind} probe failed x{sum(e.count for e in fails)} around then; last: {clip(ev.message_of(fails[-1]))}"
        evidence = evidence[:1] + (line,) + evidence[1:]  # right after the kill (or the first line)
        if rs.EXEC_NOT_FOUND.search(ev.message_of(fails[-1])):
            evidence += (f"the {kind} probe's own command does not exist in the image: it can never pass "
                         "(install it in the image, or probe with httpGet/tcpSocket)",)
    errors = [e for e in f.events if ev.probe_result(e) == (kind, "errored")]
    if errors:
        evidence += (f"{kind} probe errored x{sum(e.count for e in errors)} (could not run): the kubelet discards those "
                     "results, they count toward no kill",)
    stats = f.probes.get(kind)
    cfg = stats.config if stats else None
    if cfg:
        evidence += (f"{kind} probe: {cfg.describe()} (killed after {cfg.failure_window}s of failures"
                     + (f"; must pass within {cfg.budget_seconds}s of start" if kind == "startup" else "") + ")",)
    if f.last is not None:
        code = f.last.exit_code
        evidence += (_EXIT_AFTER_KILL.get(code, f"exit {code}: what the process returned on the kubelet's SIGTERM"),)
    return evidence


def probe_kill(f: ContainerFacts, kind: str, kills: list[EventRecord], base: tuple[str, ...] | list[str], high: bool,
               inferred: bool = False) -> Verdict:
    """`kind` is "liveness" or "startup"; `kills` the Killing events that announced it (none
    when inferred from failures or timing); `high` whether the evidence is timed and current."""
    t = f.last
    if t is not None:
        fails = f.in_window(lambda e: ev.probe_failed(e, kind))
    else:
        fails = [e for e in f.events if ev.probe_failed(e, kind)]
    evidence = _evidence(f, kind, kills, fails, tuple(base), inferred)
    stats = f.probes.get(kind)
    cfg = stats.config if stats else None
    handler = cfg.handler if cfg else f"{kind} probe"
    last_msg = clip(ev.message_of(fails[-1]), 160) if fails else ""
    if kind == "liveness":
        detail = last_msg.split(": ", 1)[-1] if last_msg else ""
        summary = f"{f.label} {f.name} was killed{f.restarted} because its liveness probe ({handler}) failed" + (
            f": {detail}" if detail else ".")
        cause = Cause.LIVENESS_PROBE_FAILED
    else:
        budget = f" within its {cfg.budget_seconds}s budget" if cfg else ""
        summary = f"{f.label} {f.name} never passed its startup probe ({handler}){budget} and was killed{f.restarted}."
        cause = Cause.STARTUP_PROBE_FAILED
    if inferred:
        summary = summary.rstrip(".") + " (inferred from timing: no events in the input say so)."
        confidence = Confidence.LOW
    else:
        confidence = Confidence.HIGH if high else Confidence.MEDIUM
    return Verdict(cause, confidence, summary, evidence, rests_on=f.rests_on if t is not None else "events",
                   grace_exceeded=t is not None and t.exit_code == 137)
