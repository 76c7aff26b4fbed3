"""The rule tables. The order of authority is the order of these tuples, top to bottom:
the first stage that applies and the first of its rules that decides, wins.

    POD     pod-level verdicts, which outrank the containers'
    STAGES  one container: what its state is decides which rules are tried

EVENT_REASONS, the reasons of the events some rule reads, is derived from the rules'
declared `reads`: scan and watch keep those events (and every Warning) and no others.
"""

from __future__ import annotations

from probectl.core import reasons as rs
from probectl.core.facts import ContainerFacts, PodFacts
from probectl.core.rules import exitcode, pod, running, termination, waiting
from probectl.core.rules.base import EVENT, Rule, Stage, first, judge
from probectl.core.verdict import PodVerdict, Verdict

POD: tuple[Rule, ...] = (
    pod.stuck_terminating,  # P01 first: whatever stopped it, the pod should be gone by now
    pod.node_shutdown,  # P02 before P03: a node shutdown also carries DisruptionTarget TerminationByKubelet
    pod.evicted,  # P03
    pod.deadline_exceeded,  # P04
    pod.disrupted,  # P05
    pod.node_lost,  # P06
    pod.rejected,  # P07
    pod.node_not_ready,  # P08
    pod.scheduling_gated,  # P09 before P10: a gated pod is Pending with no node on purpose
    pod.unschedulable,  # P10
)

NO_STATUS = (waiting.not_created, waiting.no_status)
WAITING_STATED = (waiting.image_pull, waiting.hook_error, waiting.create_or_start_error)
STOPPED_BY_POD = (waiting.stopped_by_pod,)
# STATED before BY_EXIT_CODE: the exit code never outranks what the kubelet or runtime said.
# Inside STATED, T08 (failures explain the end) is guarded against the exit codes T12-T14
# and T20 own; T11 (timing) only speaks when no event covers the termination.
TERMINATION = termination.STATED + exitcode.BY_EXIT_CODE
NO_RECORD = running.NO_RECORD
RUNNING = running.RUNNING
WAITING_OTHER = (waiting.missing_object, waiting.pod_warning, waiting.creating, waiting.waiting_unknown)
NO_STATE = (waiting.no_state,)


def _no_status(f: ContainerFacts) -> bool:
    return not f.status


def _waiting(f: ContainerFacts) -> bool:
    return f.state == "waiting"


def _stopped_by_pod(f: ContainerFacts) -> bool:
    return f.pod_verdict is not None and f.last is not None and f.last.current


def _unready_now(f: ContainerFacts) -> bool:
    """Running unready, and its last exit is old news: the unreadiness is the trouble."""
    t = f.last
    return f.state == "running" and f.ready is False and t is not None and not t.current and not f.recent_restart


def _terminated(f: ContainerFacts) -> bool:
    """A termination to judge, unless the running instance's readiness failure is the news."""
    return f.last is not None and not (f.state == "running" and f.readiness_now)


def _no_record(f: ContainerFacts) -> bool:
    return f.last is None and (f.restarts > 0 or f.reason == "CrashLoopBackOff")


def _running(f: ContainerFacts) -> bool:
    return f.state == "running"


def _always(f: ContainerFacts) -> bool:
    return True


STAGES: tuple[Stage, ...] = (
    Stage("no-status", _no_status, NO_STATUS, "the pod's status lists no such container"),
    Stage("waiting-stated", _waiting, WAITING_STATED, "the waiting reason states the trouble"),
    Stage("stopped-by-pod", _stopped_by_pod, STOPPED_BY_POD, "it ended with its pod (a pod rule decided)"),
    # before the termination: unready now beats an exit older than the recent window
    Stage("unready-now", _unready_now, RUNNING, "running unready, its last exit old news"),
    Stage("termination", _terminated, TERMINATION, "why the last instance ended"),
    Stage("no-record", _no_record, NO_RECORD, "restarted, but lastState keeps no termination"),
    Stage("running", _running, RUNNING, "running: startup, readiness, healthy"),
    Stage("waiting-other", _waiting, WAITING_OTHER, "waiting for another reason"),
    Stage("no-state", _always, NO_STATE, "nothing else applies"),
)

ALL: tuple[Rule, ...] = tuple(dict.fromkeys(POD + tuple(r for s in STAGES for r in s.rules)))
BY_ID: dict[str, Rule] = {r.id: r for r in ALL}

# Every event reason some rule reads. Warnings are always kept on top of these.
EVENT_REASONS: frozenset[str] = frozenset().union(*(r.event_reasons for r in ALL)) | frozenset(rs.PROBE_RESULT_REASONS)


def kept(e) -> bool:
    """Does a surface that filters events (scan's index, watch's buffers) keep this one for
    the engine? What some rule reads, and every Warning."""
    return e.reason in EVENT_REASONS or e.type == "Warning"


def judge_pod(f: PodFacts) -> PodVerdict | None:
    return first(POD, f)


def judge_container(f: ContainerFacts) -> Verdict:
    v = judge(STAGES, f)
    assert v is not None  # the last stage always decides
    return v


def judge_termination(f: ContainerFacts) -> Verdict:
    """Why the termination in `f.last` ended (lastRestart judges the previous instance so)."""
    v = first(TERMINATION, f)
    assert v is not None  # T21 always decides
    return v


__all__ = ["ALL", "BY_ID", "EVENT", "EVENT_REASONS", "POD", "STAGES", "Rule", "Stage", "judge_container",
           "judge_pod", "judge_termination", "kept"]
