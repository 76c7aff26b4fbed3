"""Results of the analysis: frozen records, and their JSON form (../shared/spec/diagnosis.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # crash.py is pure and stdlib-only too; only its type is needed here
    from probectl.core.crash import Crash

API_VERSION = "probectl/v1"


class Cause(str, Enum):
    """The fixed verdict vocabulary. Never rename or remove a value: scripts parse them."""

    HEALTHY = "healthy"
    COMPLETED = "completed"
    OOM_KILLED = "oom-killed"
    LIVENESS_PROBE_FAILED = "liveness-probe-failed"
    STARTUP_PROBE_FAILED = "startup-probe-failed"
    READINESS_PROBE_FAILED = "readiness-probe-failed"
    APP_ERROR = "app-error"
    CRASHED_SIGNAL = "crashed-signal"
    KILLED = "killed"
    TERMINATED = "terminated"
    COMMAND_NOT_FOUND = "command-not-found"
    PERMISSION_DENIED = "permission-denied"
    START_ERROR = "start-error"
    IMAGE_PULL_FAILED = "image-pull-failed"
    CONFIG_ERROR = "config-error"
    EVICTED = "evicted"
    DEADLINE_EXCEEDED = "deadline-exceeded"
    UNSCHEDULABLE = "unschedulable"
    UNKNOWN = "unknown"
    # workload-level (WorkloadDiagnosis only): the controller's pod creations are refused
    # (quota, PodSecurity, an admission webhook, a missing service account, ...)
    CREATE_REFUSED = "create-refused"


class Confidence(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Severity(str, Enum):
    """How bad a finding is: `critical` needs action, `warning` deserves a look."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.OK: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}

# Default severity of each cause; `completed` under restartPolicy Always is raised to
# warning by the engine (a one-shot program run as a long-lived workload).
SEVERITY: dict[Cause, Severity] = {
    Cause.HEALTHY: Severity.OK,
    Cause.COMPLETED: Severity.OK,
    Cause.OOM_KILLED: Severity.CRITICAL,
    Cause.LIVENESS_PROBE_FAILED: Severity.CRITICAL,
    Cause.STARTUP_PROBE_FAILED: Severity.CRITICAL,
    Cause.READINESS_PROBE_FAILED: Severity.WARNING,
    Cause.APP_ERROR: Severity.CRITICAL,
    Cause.CRASHED_SIGNAL: Severity.CRITICAL,
    Cause.KILLED: Severity.CRITICAL,
    Cause.TERMINATED: Severity.WARNING,
    Cause.COMMAND_NOT_FOUND: Severity.CRITICAL,
    Cause.PERMISSION_DENIED: Severity.CRITICAL,
    Cause.START_ERROR: Severity.CRITICAL,
    Cause.IMAGE_PULL_FAILED: Severity.CRITICAL,
    Cause.CONFIG_ERROR: Severity.CRITICAL,
    Cause.EVICTED: Severity.CRITICAL,
    Cause.DEADLINE_EXCEEDED: Severity.CRITICAL,
    Cause.UNSCHEDULABLE: Severity.CRITICAL,
    Cause.UNKNOWN: Severity.WARNING,
    Cause.CREATE_REFUSED: Severity.CRITICAL,
}


def iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


@dataclass(frozen=True)
class Termination:
    exit_code: int
    signal: str | None
    reason: str
    meaning: str
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    current: bool = False  # state.terminated (the container is stopped now), not lastState

    @property
    def run_seconds(self) -> float | None:
        if self.started_at and self.finished_at and self.finished_at >= self.started_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def to_dict(self) -> dict:
        return {
            "exitCode": self.exit_code,
            "signal": self.signal,
            "reason": self.reason or None,
            "meaning": self.meaning,
            "message": self.message or None,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.finished_at),
            "runSeconds": self.run_seconds,
        }


@dataclass(frozen=True)
class ProbeConfig:
    kind: str  # liveness | readiness | startup
    handler: str  # "http-get http://:8080/healthz", "tcp-socket :5432", "exec [cat /tmp/ok]", "grpc :9090"
    initial_delay: int
    period: int
    timeout: int
    success_threshold: int
    failure_threshold: int
    termination_grace: int | None = None  # probe-level terminationGracePeriodSeconds

    @property
    def budget_seconds(self) -> int:
        """initialDelaySeconds + periodSeconds x failureThreshold."""
        return self.initial_delay + self.period * self.failure_threshold

    @property
    def failure_window(self) -> int:
        """Seconds of consecutive failures before the kubelet acts (kill or unready)."""
        return self.period * self.failure_threshold

    def describe(self) -> str:
        """Like kubectl describe: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`."""
        return (
            f"{self.handler} delay={self.initial_delay}s timeout={self.timeout}s period={self.period}s "
            f"#success={self.success_threshold} #failure={self.failure_threshold}"
        )

    def to_dict(self) -> dict:
        return {
            "handler": self.handler,
            "initialDelaySeconds": self.initial_delay,
            "periodSeconds": self.period,
            "timeoutSeconds": self.timeout,
            "successThreshold": self.success_threshold,
            "failureThreshold": self.failure_threshold,
            "budgetSeconds": self.budget_seconds,
        }


@dataclass(frozen=True)
class ProbeStats:
    kind: str
    config: ProbeConfig | None
    failures: int = 0  # "<Kind> probe failed" occurrences in the events
    errors: int = 0  # "<Kind> probe errored ..." occurrences
    kills: int = 0  # "Container X failed <kind> probe, will be restarted"
    last_message: str = ""
    last_seen: datetime | None = None

    def to_dict(self) -> dict:
        return {
            "configured": self.config is not None,
            "failures": self.failures,
            "errors": self.errors,
            "kills": self.kills,
            "lastMessage": self.last_message or None,
            "lastSeen": iso(self.last_seen),
            "config": self.config.to_dict() if self.config else None,
        }


@dataclass(frozen=True)
class EventRecord:
    """An event, normalised from core/v1 or events.k8s.io/v1."""

    type: str
    reason: str
    message: str
    count: int
    first: datetime | None
    last: datetime | None
    source: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    uid: str = ""
    field_path: str = ""
    container: str | None = None

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "reason": self.reason,
            "message": self.message,
            "count": self.count,
            "firstTimestamp": iso(self.first),
            "lastTimestamp": iso(self.last),
            "source": self.source or None,
            "container": self.container,
        }


@dataclass(frozen=True)
class LastRestart:
    """Why a container's previous instance ended (its lastState), whether that is current
    trouble or history (the contract's `lastRestart`)."""

    cause: Cause
    confidence: Confidence
    exit_code: int | None
    signal: str | None
    reason: str
    finished_at: datetime | None
    summary: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "exitCode": self.exit_code,
            "signal": self.signal,
            "reason": self.reason or None,
            "finishedAt": iso(self.finished_at),
            "summary": self.summary,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class ContainerDiagnosis:
    name: str
    type: str  # container | init | sidecar | ephemeral
    image: str
    cause: Cause
    confidence: Confidence
    severity: Severity
    summary: str
    ready: bool | None
    restart_count: int
    state: str  # running | waiting | terminated | unknown
    state_reason: str = ""
    state_message: str = ""
    started_at: datetime | None = None
    last_termination: Termination | None = None
    will_restart: bool = False
    restart_explanation: str = ""
    probes: dict[str, ProbeStats] = field(default_factory=dict)
    memory_limit: str | None = None
    evidence: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    grace_exceeded: bool = False  # the last termination: SIGKILL when the grace period after SIGTERM ran out
    last_restart: LastRestart | None = None
    history: bool = False  # restarted earlier, fine now: `cause` is healthy, `last_restart` says why it restarted
    crash: Crash | None = None  # the line that says why the process died (core/crash.py)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "image": self.image or None,
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "severity": self.severity.value,
            "summary": self.summary,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "state": self.state,
            "stateReason": self.state_reason or None,
            "stateMessage": self.state_message or None,
            "startedAt": iso(self.started_at),
            "lastTermination": self.last_termination.to_dict() if self.last_termination else None,
            "willRestart": self.will_restart,
            "restartExplanation": self.restart_explanation,
            "memoryLimit": self.memory_limit,
            "graceExceeded": self.grace_exceeded,
            "lastRestart": self.last_restart.to_dict() if self.last_restart else None,
            "history": self.history,
            "crash": self.crash.to_dict() if self.crash else None,
            "probes": {k: v.to_dict() for k, v in self.probes.items()},
            "evidence": list(self.evidence),
            "nextSteps": list(self.next_steps),
        }


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    uid: str = ""
    phase: str = ""
    restart_policy: str = "Always"
    node: str = ""
    created: datetime | None = None
    reason: str = ""
    message: str = ""
    owner_kind: str = ""
    owner_name: str = ""
    deleting: bool = False
    qos: str = ""

    def to_dict(self) -> dict:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid or None,
            "phase": self.phase or None,
            "restartPolicy": self.restart_policy,
            "node": self.node or None,
            "createdAt": iso(self.created),
            "reason": self.reason or None,
            "message": self.message or None,
            "owner": {"kind": self.owner_kind, "name": self.owner_name} if self.owner_kind else None,
            "deleting": self.deleting,
            "qosClass": self.qos or None,
        }


@dataclass(frozen=True)
class LogTail:
    """The last lines of a container's log (previous instance when it restarted)."""

    container: str
    previous: bool
    lines: tuple[str, ...] = ()
    error: str = ""

    def to_dict(self) -> dict:
        return {"container": self.container, "previous": self.previous, "lines": list(self.lines),
                "error": self.error or None}


@dataclass(frozen=True)
class Diagnosis:
    pod: PodInfo
    cause: Cause
    confidence: Confidence
    severity: Severity
    summary: str
    containers: tuple[ContainerDiagnosis, ...]
    events: tuple[EventRecord, ...] = ()
    evidence: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    as_of: datetime | None = None
    culprit: str | None = None  # the container whose cause is the pod's, if any
    logs: tuple[LogTail, ...] = ()  # attached by the CLI (--logs N), never by the engine

    def to_dict(self) -> dict:
        return {
            "apiVersion": API_VERSION,
            "kind": "Diagnosis",
            "pod": self.pod.to_dict(),
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "severity": self.severity.value,
            "summary": self.summary,
            "culprit": self.culprit,
            "asOf": iso(self.as_of),
            "containers": [c.to_dict() for c in self.containers],
            "evidence": list(self.evidence),
            "nextSteps": list(self.next_steps),
            "warnings": list(self.warnings),
            "events": [e.to_dict() for e in self.events],
            "logs": [t.to_dict() for t in self.logs],
        }


@dataclass(frozen=True)
class PodGroup:
    """Pods of a workload failing the same way: the cause, how many, and one pod's whole
    diagnosis (the representative: the one that shows the trouble best)."""

    cause: Cause
    severity: Severity
    count: int
    representative: Diagnosis
    pods: tuple[str, ...] = ()  # names, at most a few

    def to_dict(self) -> dict:
        return {"cause": self.cause.value, "severity": self.severity.value, "count": self.count,
                "representative": self.representative.pod.name, "pods": list(self.pods)}


@dataclass(frozen=True)
class WorkloadDiagnosis:
    """One verdict for a workload's rollout (core/workload.py): why its pods fail, cannot be
    created, or are not ready; or that it is complete, progressing or paused."""

    kind: str  # Deployment | StatefulSet | DaemonSet | Job | ReplicaSet (CronJob: its latest Job, via)
    namespace: str
    name: str
    cause: Cause
    confidence: Confidence
    severity: Severity
    summary: str
    rollout: str  # complete | progressing | degraded | paused | stuck | failed | scaled-to-zero | suspended | no-job
    uid: str = ""
    via: tuple[str, str] | None = None  # ("CronJob", name) when the workload is a CronJob's latest Job
    revision: dict = field(default_factory=dict)
    replicas: dict = field(default_factory=dict)
    conditions: tuple[dict, ...] = ()
    groups: tuple[PodGroup, ...] = ()
    events: tuple[EventRecord, ...] = ()
    evidence: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    refused: str = ""  # the controller's own message when pod creation is refused
    refusal: str = ""  # quota | pod-security | webhook | service-account | limit-range | other
    as_of: datetime | None = None
    rule: str = ""  # id of the deciding workload rule, D01... (internal, not in the JSON)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def pods(self) -> tuple[Diagnosis, ...]:
        return tuple(g.representative for g in self.groups)

    def to_dict(self) -> dict:
        return {
            "apiVersion": API_VERSION,
            "kind": "WorkloadDiagnosis",
            "workload": {"kind": self.kind, "namespace": self.namespace, "name": self.name, "uid": self.uid or None,
                         "via": {"kind": self.via[0], "name": self.via[1]} if self.via else None},
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "severity": self.severity.value,
            "summary": self.summary,
            "rollout": self.rollout,
            "createRefused": ({"reason": "FailedCreate", "refusal": self.refusal, "message": self.refused}
                              if self.refused else None),
            "asOf": iso(self.as_of),
            "revision": self.revision,
            "replicas": self.replicas,
            "conditions": list(self.conditions),
            "podGroups": [g.to_dict() for g in self.groups],
            "pods": [d.to_dict() for d in self.pods],
            "evidence": list(self.evidence),
            "nextSteps": list(self.next_steps),
            "warnings": list(self.warnings),
            "events": [e.to_dict() for e in self.events],
        }
