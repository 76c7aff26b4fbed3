"""Kubernetes restart semantics that the verdict rules consult (issue 22).

Pure functions over the raw pod dict and the core's records: no I/O, no clock. Each one
states a fact of the kubelet or the API and names where it comes from; `diagnose` calls
them from a few places, so that the rule tables of the engine can call them the same way.

- Probe arithmetic (prober/worker.go): a probe kill needs failureThreshold consecutive
  failures, one period apart, counted only after initialDelaySeconds, inside ONE instance
  (the worker's failure streak starts again for each new container ID).
- Who stopped a pod: DisruptionTarget reasons (core/v1 types.go, KEP-3329) and the node
  shutdown manager's status.reason Terminated / Shutdown.
- 1.34+ per-container restart rules (KEP-5307) and the RestartAllContainers action
  (KEP-5532), 1.33+ stop signals (KEP-4960), pod-level resources (KEP-2837), in-place
  resize with resizePolicy RestartContainer (KEP-1287).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from probectl.core import objects as ob
from probectl.core.model import ProbeConfig

# Timestamps in the API have whole seconds; the worker's first tick can come up to a
# period late but never early, so only the rounding needs slack.
_SLACK = 2


def probe_kill_floor(cfg: ProbeConfig) -> int:
    """The shortest life of an instance the kubelet can kill for a failing probe:
    initialDelaySeconds + (failureThreshold - 1) x periodSeconds. prober/worker.go skips
    probes until the container has run initialDelaySeconds, ticks every periodSeconds and
    acts on the failureThreshold-th consecutive failure; the streak is per container ID."""
    return cfg.initial_delay + (cfg.failure_threshold - 1) * cfg.period


def probe_kill_impossible(cfg: ProbeConfig | None, run_seconds: float | None, startup: ProbeConfig | None = None) -> str:
    """Why a probe cannot have killed an instance that ran `run_seconds`; "" when it could
    have (or when the config or the run time is unknown). With a startup probe, liveness
    probing starts only once it has passed (prober/worker.go skips liveness while the
    container is not Started), at the earliest after its initialDelaySeconds."""
    if cfg is None or run_seconds is None:
        return ""
    floor = probe_kill_floor(cfg) + (startup.initial_delay if startup and cfg.kind == "liveness" else 0)
    if run_seconds >= floor - _SLACK:
        return ""
    waits = "; liveness probing starts only after the startup probe passes" if startup and cfg.kind == "liveness" else ""
    return (f"its {cfg.kind} probe cannot have killed it: a kill needs {cfg.failure_threshold} consecutive failures "
            f"{cfg.period}s apart after initialDelaySeconds {cfg.initial_delay} (at least {floor}s of life{waits}), "
            f"and that instance ran {int(run_seconds)}s; failures counted across restarts do not add up to a kill")


# DisruptionTarget reasons (core/v1 types.go; KEP-3329). 1.25/1.26 wrote the scheduler's as
# PreemptionByKubeScheduler, renamed PreemptionByScheduler in 1.27 (kubernetes#114623).
DISRUPTION = {
    "PreemptionByScheduler": ("preempted", "the scheduler preempted it to make room for a higher-priority pod"),
    "PreemptionByKubeScheduler": ("preempted", "the scheduler preempted it to make room for a higher-priority pod"),
    "DeletionByTaintManager": ("deleted by the taint manager",
                               "its node got a NoExecute taint (not ready, unreachable) that the pod does not tolerate"),
    "EvictionByEvictionAPI": ("evicted through the Eviction API",
                              "kubectl drain, the cluster autoscaler or a descheduler evicted it (a graceful deletion)"),
    "DeletionByPodGC": ("deleted by the pod garbage collector", "its node is gone, or it was orphaned"),
}


def disruption(reason: str) -> tuple[str, str] | None:
    """(what happened, why) for a DisruptionTarget reason, also for one this release does
    not know (the condition itself says Kubernetes chose to stop the pod). None for the
    kubelet's TerminationByKubelet, whose meaning depends on its message."""
    if not reason or reason == "TerminationByKubelet":
        return None
    return DISRUPTION.get(reason) or ("stopped by Kubernetes", f"its DisruptionTarget condition gives the reason {reason}")


_SHUTDOWN = re.compile(r"node shutdown|node is shutting", re.I)


def node_shutdown(phase: str, reason: str, message: str, dt_reason: str, dt_message: str) -> bool:
    """Did the kubelet's node shutdown manager stop this pod? nodeshutdown_manager.go sets
    status.reason Terminated (1.21: Shutdown) and "Pod was terminated in response to
    imminent node shutdown." (1.21: "Node is shutting, evicting pods"); NodeShutdown is the
    reason for pods refused while the node shuts down. A pasted, trimmed pod may keep the
    reason alone: a Failed pod whose reason is Terminated has no other writer."""
    if reason in ("Shutdown", "NodeShutdown"):
        return True
    said = _SHUTDOWN.search(message or dt_message or "")
    if said and (reason == "Terminated" or dt_reason == "TerminationByKubelet"):
        return True
    return reason == "Terminated" and phase == "Failed" and not message


# -- per-container restart rules (KEP-5307, KEP-5532)


@dataclass(frozen=True)
class RuleHit:
    index: int
    action: str  # "Restart" | "RestartAllContainers"
    operator: str
    values: tuple[int, ...]

    def describe(self) -> str:
        return (f"restartPolicyRules[{self.index}] ({self.action} on exit codes {self.operator} "
                f"{list(self.values)})")


def restart_rule(spec: dict, exit_code: int | None) -> RuleHit | None:
    """The first of the container's restartPolicyRules that matches the exit code (the
    kubelet checks them in order; core/v1 types.go ContainerRestartRule). None when none
    matches: the container's restartPolicy, else the pod's, decides."""
    if exit_code is None:
        return None
    for i, rule in enumerate(ob.dicts(spec, "restartPolicyRules")):
        codes = rule.get("exitCodes")
        if not isinstance(codes, dict):
            continue
        values = tuple(v for v in codes.get("values") or [] if isinstance(v, int) and not isinstance(v, bool))
        op = codes.get("operator")
        if (op == "In" and exit_code in values) or (op == "NotIn" and exit_code not in values):
            action = ob.text(rule, "action")
            if action in ("Restart", "RestartAllContainers"):
                return RuleHit(i, action, op, values)
    return None


@dataclass(frozen=True)
class RestartAll:
    """A RestartAllContainers rule fired: `trigger` exited `exit_code` at `at`."""

    trigger: str
    exit_code: int
    at: datetime | None
    rule: RuleHit
    restarting: bool  # condition AllContainersRestarting is True now


def restart_all(pod: dict, refs: list[ob.ContainerRef] | None = None) -> RestartAll | None:
    """The most recent exit that fired a RestartAllContainers rule (KEP-5532): the kubelet
    then kills every other container without grace or preStop, removes them and starts the
    pod again from its init containers; each container's lastState keeps the killed run.
    `refs` are the pod's containers when the caller has them already."""
    if not any(isinstance(c, dict) and c.get("restartPolicyRules")
               for key in ("containers", "initContainers") for c in ob.get(pod, "spec", key) or ()):
        return None  # the common case, cheaply
    best: RestartAll | None = None
    for ref in refs if refs is not None else ob.containers(pod):
        if ref.type == ob.EPHEMERAL or not ob.dicts(ref.spec, "restartPolicyRules"):
            continue
        for where in ("state", "lastState"):
            t = ob.get(ref.status, where, "terminated")
            if not isinstance(t, dict):
                continue
            code = ob.integer(t, "exitCode", default=None)
            hit = restart_rule(ref.spec, code)
            if hit is None or hit.action != "RestartAllContainers" or code is None:
                continue
            at = ob.parse_time(t.get("finishedAt"))
            if best is None or (at is not None and (best.at is None or at > best.at)):
                best = RestartAll(ref.name, code, at, hit, False)
    if best is None:
        return None
    cond = ob.condition(pod, "AllContainersRestarting")
    return RestartAll(best.trigger, best.exit_code, best.at, best.rule, ob.text(cond, "status") == "True")


# KEP-5532 aims to restart the pod within a minute of the triggering exit; the siblings'
# kills end shortly after it (never before: the exit is what starts them).
_COLLATERAL = timedelta(seconds=90)


def killed_by_restart_all(ra: RestartAll | None, name: str, finished_at: datetime | None,
                          started_at: datetime | None = None) -> bool:
    """Did this container's run end because another container fired RestartAllContainers?
    The run was under way when the trigger exited, and ended shortly after (a run started
    after it is the re-run, which ends on its own)."""
    if ra is None or name == ra.trigger:
        return False
    if ra.at is None or finished_at is None:
        return ra.restarting
    if started_at is not None and started_at > ra.at + timedelta(seconds=_SLACK):
        return False
    return ra.at - timedelta(seconds=_SLACK) <= finished_at <= ra.at + _COLLATERAL


def rerun_after_trigger(ra: RestartAll | None, name: str, current, previous) -> bool:
    """Is this the container whose exit fired RestartAllContainers, now run again to
    completion (an init container)? Its previous run, not the clean re-run, says why the
    pod restarted."""
    return (ra is not None and name == ra.trigger and current is not None and previous is not None
            and current.exit_code == 0 and previous.exit_code == ra.exit_code)


# -- stop signals (KEP-4960)

_SIGNALS = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGABRT": 6, "SIGKILL": 9, "SIGUSR1": 10, "SIGUSR2": 12,
            "SIGTERM": 15, "SIGWINCH": 28}


def stop_signal(spec: dict, status: dict) -> str:
    """The container's stop signal: containerStatuses[].stopSignal (the effective one), else
    lifecycle.stopSignal; "" when neither says (the image's STOPSIGNAL, usually SIGTERM)."""
    return ob.text(status, "stopSignal") or ob.text(spec, "lifecycle", "stopSignal")


def stop_exit_code(spec: dict, status: dict) -> int | None:
    """The exit code of a process that died of its stop signal (128 + N): 130 for SIGINT,
    131 for SIGQUIT; None when the stop signal is the default or unknown."""
    n = _SIGNALS.get(stop_signal(spec, status).upper())
    return 128 + n if n and n != 15 else None


# -- pod-level resources (KEP-2837)


def pod_memory_limit(spec: dict) -> str:
    """spec.resources.limits.memory: the pod cgroup's limit that containers without their own share."""
    return ob.text(spec, "resources", "limits", "memory")


# -- in-place resize (KEP-1287)

# kuberuntime_manager.go computePodResizeAction: Killing "Container %s resize requires restart"
_RESIZE = re.compile(r"(?:Init c|C)ontainer (\S+) resize requires restart")


def resize_restart(message: str) -> bool:
    return bool(_RESIZE.search(message or ""))


def resize_restarts(spec: dict) -> list[str]:
    """Resources whose resizePolicy restarts the container (restartPolicy RestartContainer)."""
    return [ob.text(p, "resourceName") for p in ob.dicts(spec, "resizePolicy")
            if ob.text(p, "restartPolicy") == "RestartContainer" and ob.text(p, "resourceName")]
