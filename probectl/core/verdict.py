"""The engine's internal records: what a rule decides. Never serialised (Diagnosis is)."""

from __future__ import annotations

from dataclasses import dataclass

from probectl.core.model import Cause, Confidence, Severity


@dataclass(frozen=True)
class Verdict:
    """A container rule's decision. The flags say how the refinement steps treat it."""

    cause: Cause
    confidence: Confidence
    summary: str
    evidence: tuple[str, ...]
    rule: str = ""  # id of the deciding rule (internal, not in the JSON)
    rests_on: str = ""  # "current" | "previous" (a termination) | "events" | "" (the state now)
    starting: bool = False  # not ready, but still within its probes' start-up checks
    terminating: bool = False  # stopped on purpose: the pod is being deleted, its spec changed, ...
    grace_exceeded: bool = False  # SIGKILLed after ignoring SIGTERM for the grace period
    by_design: bool = False  # restarted on purpose (resize, a RestartAllContainers sibling): nothing to fix
    notes: tuple[str, ...] = ()  # for the pod's warnings


@dataclass(frozen=True)
class PodVerdict:
    """A verdict about the whole pod (eviction, preemption, deadline, scheduling)."""

    cause: Cause
    confidence: Confidence
    summary: str
    evidence: tuple[str, ...]
    steps: tuple[str, ...]
    what: str = ""  # "stopped when the pod was evicted", ...: how its stopped containers are described
    severity: Severity | None = None  # instead of the cause's default
    rule: str = ""
