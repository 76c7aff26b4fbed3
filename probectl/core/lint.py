"""`probectl lint`: probe and resource settings judged before they bite (static rules over
pod templates) and against what the cluster did (observed rules over pods and events).

Pure: manifests and pods as dicts in, findings out. Each rule has a stable id, a
severity, an explanation and a concrete fix with the value that would have passed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from probectl.core import events as ev
from probectl.core import probes as pr
from probectl.core.diagnose import diagnose
from probectl.core.model import API_VERSION, Cause, Severity
from probectl.core.objects import (
    dicts,
    format_bytes,
    get,
    integer,
    owner,
    quantity_bytes,
    text,
)
from probectl.core.timefmt import human_duration


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    kind: str  # static | observed
    summary: str
    exceptions: str  # where the rule does not apply, as the code below decides it


RULES = {r.id: r for r in (
    Rule("PL001", "liveness-equals-readiness", Severity.WARNING, "static",
         "The liveness probe is identical to the readiness probe: a container that is only busy or waiting on a "
         "dependency gets restarted instead of taken out of rotation.",
         "when the two probes differ in anything, thresholds and timing included (the same endpoint with more "
         "failures tolerated by liveness is the shape to aim for)."),
    Rule("PL002", "liveness-without-readiness", Severity.WARNING, "static",
         "A liveness probe without a readiness probe: traffic reaches the container before it is ready, and a "
         "struggling container is restarted rather than drained.",
         "in Jobs and CronJobs (nothing routes traffic to them), in init containers other than sidecars (a sidecar "
         "is an init container with restartPolicy: Always), or when there is no liveness probe either."),
    Rule("PL003", "liveness-initial-delay", Severity.WARNING, "static",
         "A long initialDelaySeconds on the liveness probe stands in for a startupProbe: every restart waits it out, "
         "and a start-up slower than the delay is killed.",
         "for an initialDelaySeconds below 30s, or when the container has a startupProbe."),
    Rule("PL004", "liveness-failure-threshold-1", Severity.CRITICAL, "static",
         "livenessProbe.failureThreshold is 1: one slow or dropped check restarts the container.",
         "for a failureThreshold of 2 or more (unset means 3), or on readiness and startup probes."),
    Rule("PL005", "timeout-not-below-period", Severity.WARNING, "static",
         "timeoutSeconds is not below periodSeconds: checks overlap and a slow endpoint is probed again before the "
         "last check has ended.",
         "when timeoutSeconds is below periodSeconds, unset values counting as the API's defaults (timeoutSeconds 1, "
         "periodSeconds 10). Liveness, readiness and startup probes are all judged."),
    Rule("PL006", "probe-port-not-declared", Severity.CRITICAL, "static",
         "The probe's port is not one the container declares: a named port that does not exist makes every check fail "
         "(\"port X not found\"); a number that is not declared is often a typo (reported as a warning).",
         "for exec probes; for a numeric port when the container declares no ports at all (declaring them is "
         "optional: there is nothing to compare with); for a named port this container declares (other containers' "
         "ports do not count, as for the kubelet). The protocol of the declared port is not judged."),
    Rule("PL007", "no-memory-limit", Severity.WARNING, "static",
         "No memory limit, whether or not a memory request is set: the container can grow until the node runs short, "
         "and it is OOM-killed or evicted along with its neighbours. With no request either, the scheduler cannot "
         "account for it at all.",
         "when resources.limits.memory is set. CPU settings, and a mistyped key such as `mem:`, do not count as a "
         "memory limit; a default from a namespace's LimitRange is not visible in a manifest."),
    Rule("PL008", "grace-shorter-than-prestop", Severity.CRITICAL, "static",
         "terminationGracePeriodSeconds is not longer than the preStop sleep: the container is SIGKILLed before it even "
         "gets SIGTERM.",
         "when the preStop hook is not a sleep probectl can read (the sleep action, or an exec command running "
         "`sleep N` in whole seconds), e.g. an httpGet hook. An unset terminationGracePeriodSeconds counts as 30s."),
    Rule("PL101", "startup-budget-too-short", Severity.CRITICAL, "observed",
         "Containers were killed by a startup or liveness probe while still starting: the start-up budget "
         "(initialDelaySeconds + periodSeconds x failureThreshold) is shorter than the real start-up time.",
         "for a liveness kill later than the budget plus one period (the container had started), or a liveness kill "
         "in a container with a startupProbe."),
    Rule("PL102", "probe-timeout-too-tight", Severity.WARNING, "observed",
         "The probe keeps timing out while the container recovers on its own: timeoutSeconds is tighter than the "
         "endpoint's real response time under load.",
         "for fewer than two timeouts, for failures that are not timeouts (refused connections, error statuses), "
         "or when the container did not recover (not ready again, or restarted). Startup probes are not judged."),
    Rule("PL103", "grace-period-too-short", Severity.WARNING, "observed",
         "A container asked to stop was SIGKILLed (exit 137) when the grace period ran out: shutdown takes longer than "
         "terminationGracePeriodSeconds.",
         "for an exit 137 with no stop request before it (an OOM kill, a kill from inside the container), or a "
         "container the runtime lost (ContainerStatusUnknown)."),
    Rule("PL104", "oom-killed", Severity.CRITICAL, "observed",
         "Containers were OOM-killed at their memory limit.",
         "for an exit 137 without the OOMKilled reason."),
)}


@dataclass(frozen=True)
class LintFinding:
    rule: str
    severity: Severity
    kind: str
    namespace: str
    name: str
    container: str
    message: str
    fix: str
    file: str = ""
    line: int = 0  # of the offending field (from 1); 0 when not from a file
    pods: int = 0  # observed rules: how many pods showed it
    column: int = 0  # of the offending field's key (from 1); 0 when unknown

    @property
    def object(self) -> str:
        return f"{self.kind}/{self.name}" if self.kind else self.name

    def to_dict(self) -> dict:
        r = RULES[self.rule]
        return {"rule": self.rule, "name": r.name, "severity": self.severity.value, "type": r.kind,
                "object": {"kind": self.kind, "namespace": self.namespace or None, "name": self.name},
                "container": self.container or None, "message": self.message, "fix": self.fix,
                "file": self.file or None, "line": self.line or None, "column": self.column or None,
                "pods": self.pods or None}


@dataclass
class LintReport:
    findings: list[LintFinding]
    objects: int
    pods_observed: int
    fail_on: str
    disabled: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        threshold = {"critical": Severity.CRITICAL, "warning": Severity.WARNING}.get(self.fail_on)
        return threshold is not None and any(f.severity.rank >= threshold.rank for f in self.findings)

    def to_dict(self) -> dict:
        by_rule: dict[str, int] = {}
        for f in self.findings:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        return {"apiVersion": API_VERSION, "kind": "LintReport", "items": [f.to_dict() for f in self.findings],
                "summary": {"objects": self.objects, "podsObserved": self.pods_observed, "findings": len(self.findings),
                            "byRule": dict(sorted(by_rule.items())), "failOn": self.fail_on, "failed": self.failed,
                            "disabled": self.disabled, "warnings": self.warnings}}


# --------------------------------------------------------------------------- templates

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod")


Position = tuple[int, int]  # (line, column), both from 1


@dataclass(frozen=True)
class Located:
    """A manifest object and where it was read: the file, the line its document starts on,
    and `positions`, where each of its fields is: a path tuple such as
    ('spec', 'template', 'spec', 'containers', 0, 'livenessProbe') -> (line, column) of the
    key, as the file reader found it. Empty when not known (the live cluster, large JSON)."""

    obj: dict
    file: str = ""
    line: int = 0
    positions: Mapping[tuple, Position] = field(default_factory=dict)


def spec_path(kind: str) -> tuple:
    """Where `pod_spec` finds the pod spec in an object of `kind`."""
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def locate(positions: Mapping[tuple, Position], *paths: tuple, default: Position = (0, 0)) -> Position:
    """The position of the first of `paths` that the map holds, else of the nearest
    enclosing part of the first path (at worst the document), else `default`."""
    for path in paths:
        if path in positions:
            return positions[path]
    if paths:
        path = paths[0]
        while path:
            path = path[:-1]
            if path in positions:
                return positions[path]
    return default


def pod_spec(obj: dict) -> dict | None:
    """The pod template's spec of a workload, or a Pod's spec."""
    kind = text(obj, "kind")
    if kind == "Pod":
        spec = get(obj, "spec")
    elif kind == "CronJob":
        spec = get(obj, "spec", "jobTemplate", "spec", "template", "spec")
    elif kind in WORKLOAD_KINDS:
        spec = get(obj, "spec", "template", "spec")
    else:
        return None
    return spec if isinstance(spec, dict) else None


def _probe_port(probe: dict) -> tuple[str, object] | None:
    for key in ("httpGet", "tcpSocket", "grpc"):
        port = get(probe, key, "port")
        if port is not None:
            return key, port
    return None


_SLEEP = re.compile(r"(?:^|[\s;&|])sleep\s+([0-9]+)")


def _prestop_sleep(container: dict) -> int | None:
    pre = get(container, "lifecycle", "preStop")
    if not isinstance(pre, dict):
        return None
    seconds = integer(pre, "sleep", "seconds")
    if seconds is not None:
        return seconds
    cmd = get(pre, "exec", "command")
    if isinstance(cmd, list):
        m = _SLEEP.search(" ".join(str(c) for c in cmd))
        if m:
            return int(m.group(1))
    return None


def lint_static(obj: dict, *, file: str = "", line: int = 0,
                positions: Mapping[tuple, Position] | None = None) -> list[LintFinding]:
    """The static rules over one manifest object. Each finding points at the offending
    field's line and column when `positions` (see Located) holds them, else at `line`."""
    spec = pod_spec(obj)
    if spec is None:
        return []
    kind, ns, name = text(obj, "kind"), text(obj, "metadata", "namespace"), text(obj, "metadata", "name")
    pos = positions or {}
    doc_start = (line, 1) if line else (0, 0)
    out: list[LintFinding] = []

    def add(rule: str, container: str, at: tuple[tuple, ...], message: str, fix: str,
            severity: Severity | None = None) -> None:
        ln, col = locate(pos, *at, default=doc_start)
        out.append(LintFinding(rule, severity or RULES[rule].severity, kind, ns, name, container, message, fix, file, ln,
                               column=col))

    base = spec_path(kind)
    grace = integer(spec, "terminationGracePeriodSeconds", default=30)
    for list_name in ("initContainers", "containers"):
        items = spec.get(list_name)
        for index, c in enumerate(items if isinstance(items, list) else []):
            if isinstance(c, dict):
                _lint_container(c, (*base, list_name, index), list_name == "containers", kind, base, grace, add)
    return out


def _lint_container(c: dict, cpath: tuple, main: bool, kind: str, base: tuple, grace: int | None, add) -> None:
    cname = text(c, "name")
    here = ((*cpath, "name"), cpath)  # the container's `- name:` line
    sidecar_or_main = main or text(c, "restartPolicy") == "Always"
    live, ready, start = (get(c, k) for k in ("livenessProbe", "readinessProbe", "startupProbe"))
    live = live if isinstance(live, dict) else None
    ready = ready if isinstance(ready, dict) else None
    start = start if isinstance(start, dict) else None
    live_at = (*cpath, "livenessProbe")
    if live and ready and live == ready:
        add("PL001", cname, (live_at, *here), "livenessProbe and readinessProbe are identical.",
            "Make liveness check only that the process is alive (no dependency checks) and let it tolerate more "
            f"failures than readiness, e.g. livenessProbe.failureThreshold: {max(3, 2 * pr.config(c, 'readiness').failure_threshold)}.")
    if live and not ready and sidecar_or_main and kind != "Job" and kind != "CronJob":
        add("PL002", cname, (live_at, *here), "livenessProbe without a readinessProbe.",
            "Add a readinessProbe (often the same endpoint with a lower failureThreshold) so traffic waits for readiness.")
    if live:
        cfg = pr.config(c, "liveness")
        if cfg.initial_delay >= 30 and not start:
            threshold = math.ceil(cfg.initial_delay / cfg.period) + cfg.failure_threshold
            add("PL003", cname, ((*live_at, "initialDelaySeconds"), live_at),
                f"livenessProbe.initialDelaySeconds is {cfg.initial_delay}s and there is no startupProbe.",
                f"Use a startupProbe with the same handler, periodSeconds: {cfg.period} and failureThreshold: {threshold} "
                f"(a {cfg.period * threshold}s budget), and set livenessProbe.initialDelaySeconds: 0.")
        if cfg.failure_threshold == 1:
            add("PL004", cname, ((*live_at, "failureThreshold"), live_at), "livenessProbe.failureThreshold is 1.",
                "Set livenessProbe.failureThreshold: 3.")
    for kind_name, probe in (("liveness", live), ("readiness", ready), ("startup", start)):
        if probe:
            _lint_probe(c, cname, cpath, kind_name, probe, add)
    limits, requests_ = get(c, "resources", "limits", "memory"), get(c, "resources", "requests", "memory")
    if limits is None:
        add("PL007", cname, ((*cpath, "resources"), *here),
            "No resources.limits.memory" + ("" if requests_ is not None else " and no resources.requests.memory") + ".",
            "Set resources.requests.memory to typical use and resources.limits.memory to the most it may use"
            + (f" (at least the request, {requests_})." if requests_ is not None else "."))
    sleep = _prestop_sleep(c)
    if sleep is not None and grace is not None and grace <= sleep:
        # the pod's terminationGracePeriodSeconds, or where it would go: the pod spec's `spec:` key
        add("PL008", cname, ((*base, "terminationGracePeriodSeconds"), base),
            f"preStop sleeps {sleep}s but terminationGracePeriodSeconds is {grace}s.",
            f"Set terminationGracePeriodSeconds: {sleep + 30} (the preStop sleep plus time to shut down).")


def _lint_probe(c: dict, cname: str, cpath: tuple, kind_name: str, probe: dict, add) -> None:
    """PL005 (timeout not below period) and PL006 (a port the container does not declare)."""
    probe_at = (*cpath, f"{kind_name}Probe")
    cfg = pr.config(c, kind_name)
    if cfg.timeout >= cfg.period:
        add("PL005", cname, ((*probe_at, "timeoutSeconds"), (*probe_at, "periodSeconds"), probe_at),
            f"{kind_name}Probe.timeoutSeconds ({cfg.timeout}) is not below periodSeconds ({cfg.period}).",
            (f"Set {kind_name}Probe.timeoutSeconds: {max(1, cfg.period // 2)} or periodSeconds: {cfg.timeout * 2}."
             if cfg.period >= 2 else  # timeoutSeconds cannot go below 1: only a longer period helps
             f"Set {kind_name}Probe.periodSeconds: {max(2, cfg.timeout * 2)} (timeoutSeconds cannot go below 1)."))
    found = _probe_port(probe)
    if found:
        handler, port = found
        port_at = ((*probe_at, handler, "port"), probe_at)
        ports = dicts(c, "ports")
        names = {text(p, "name") for p in ports if text(p, "name")}
        numbers = {p.get("containerPort") for p in ports}
        if isinstance(port, str) and not port.isdigit() and port not in names:
            add("PL006", cname, port_at, f"{kind_name}Probe.{handler}.port is the named port \"{port}\", which the container "
                f"does not declare ({', '.join(sorted(names)) or 'no named ports'}).",
                f"Declare ports: [{{name: {port}, containerPort: <port>}}] or use the number.")
        elif isinstance(port, int) and ports and port not in numbers:
            add("PL006", cname, port_at, f"{kind_name}Probe.{handler}.port {port} is not among the declared ports "
                f"({', '.join(str(n) for n in sorted(x for x in numbers if isinstance(x, int)))}).",
                "Probe a declared port, or declare this one.", Severity.WARNING)


# --------------------------------------------------------------------------- observed

_TIMEOUT = re.compile(r"context deadline exceeded|Client\.Timeout exceeded|i/o timeout|command timed out|timed out|"
                      r"DeadlineExceeded", re.I)


def lint_observed(pods: Iterable[dict], events: list[dict], now: datetime | None) -> list[LintFinding]:
    """The observed rules: what the cluster did, per workload (one finding per rule,
    workload and container, with the number of pods that showed it)."""
    grouped: dict[tuple, LintFinding] = {}
    counts: dict[tuple, int] = {}

    def add(pod: dict, rule: str, container: str, message: str, fix: str) -> None:
        okind, oname = owner(pod)
        kind, name = (okind, oname) if okind else ("Pod", text(pod, "metadata", "name"))
        ns = text(pod, "metadata", "namespace") or "default"
        key = (rule, ns, kind, name, container)
        counts[key] = counts.get(key, 0) + 1
        if key not in grouped:
            grouped[key] = LintFinding(rule, RULES[rule].severity, kind, ns, name, container, message, fix)

    pod_events = ev.by_pod(events)
    for pod in pods:
        if not isinstance(pod, dict) or not isinstance(pod.get("status"), dict):
            continue
        d = diagnose(pod, ev.for_pod_key(pod_events, pod), now)
        grace = integer(pod, "spec", "terminationGracePeriodSeconds", default=30)
        for c in d.containers:
            _observe_container(pod, c, grace, add)
    out = []
    for key, f in grouped.items():
        out.append(LintFinding(f.rule, f.severity, f.kind, f.namespace, f.name, f.container, f.message, f.fix,
                               pods=counts[key]))
    return out


def _observe_container(pod: dict, c, grace: int | None, add) -> None:
    """PL101-PL104 for one diagnosed container."""
    t = c.last_termination
    live, start = c.probes.get("liveness"), c.probes.get("startup")
    if c.cause is Cause.OOM_KILLED and t:
        b = quantity_bytes(c.memory_limit)
        target = format_bytes(b * 2) if b else None
        add(pod, "PL104", c.name, f"OOM-killed (exit {t.exit_code}) at its {c.memory_limit or 'unset'} memory limit"
            f" ({c.restart_count} restarts).",
            f"Raise resources.limits.memory to {target} and measure (kubectl top pod --containers)." if target
            else "Set resources.limits.memory to the container's real peak use, with headroom.")
    if c.cause is Cause.STARTUP_PROBE_FAILED and start and start.config and t:
        cfg = start.config
        need = max(cfg.budget_seconds * 2, math.ceil((t.run_seconds or 0) * 1.5))
        threshold = math.ceil((need - cfg.initial_delay) / cfg.period)
        add(pod, "PL101", c.name, f"Killed by the startup probe after {cfg.budget_seconds}s of start-up "
            f"({start.kills} kills seen); it needs longer.",
            f"Set startupProbe.failureThreshold: {threshold} (a {cfg.initial_delay + cfg.period * threshold}s budget), "
            "or make start-up faster.")
    elif c.cause is Cause.LIVENESS_PROBE_FAILED and live and live.config and t and t.run_seconds is not None and not start:
        cfg = live.config
        if t.run_seconds <= cfg.budget_seconds + cfg.period:
            need = max(math.ceil(t.run_seconds * 2), cfg.budget_seconds * 2)
            threshold = math.ceil(need / cfg.period)
            add(pod, "PL101", c.name, f"Killed by the liveness probe {human_duration(t.run_seconds)} after starting, within "
                f"its {cfg.budget_seconds}s budget: it was still starting.",
                f"Add a startupProbe with the liveness handler, periodSeconds: {cfg.period} and failureThreshold: "
                f"{threshold} (a {cfg.period * threshold}s budget).")
    for kind_name in ("liveness", "readiness"):
        st = c.probes.get(kind_name)
        if st and st.config and (st.failures + st.errors) >= 2 and _TIMEOUT.search(st.last_message or ""):
            recovers = c.ready is True or (kind_name == "liveness" and c.state == "running" and c.restart_count == 0)
            if recovers:
                cfg = st.config
                add(pod, "PL102", c.name, f"The {kind_name} probe timed out {st.failures + st.errors} times "
                    f"(timeoutSeconds: {cfg.timeout}) while the container recovered.",
                    f"Set {kind_name}Probe.timeoutSeconds: {max(cfg.timeout * 3, 3)}"
                    + (f" and periodSeconds: {cfg.timeout * 3 + 2}" if cfg.timeout * 3 >= cfg.period else "") + ".")
    if c.grace_exceeded:
        probe_grace = live.config.termination_grace if live and live.config else None
        g = probe_grace or grace
        add(pod, "PL103", c.name, f"SIGKILLed (exit 137) {g}s after SIGTERM: shutdown outlasted the grace period.",
            f"Handle SIGTERM promptly, or set terminationGracePeriodSeconds: {g * 2}.")


def run(objects: Iterable[Located], pods: Iterable[dict], events: list[dict], now: datetime | None, *,
        disabled: Iterable[str] = (), fail_on: str = "critical") -> LintReport:
    """Lint manifest objects and observe pods with their events."""
    off = set(disabled)
    findings: list[LintFinding] = []
    n = 0
    for x in objects:
        if pod_spec(x.obj) is None:
            continue
        n += 1
        findings += [f for f in lint_static(x.obj, file=x.file, line=x.line, positions=x.positions) if f.rule not in off]
    pods = list(pods)
    findings += [f for f in lint_observed(pods, events, now) if f.rule not in off]
    findings.sort(key=lambda f: (-f.severity.rank, f.rule, f.namespace, f.kind, f.name, f.container))
    return LintReport(findings, n, len(pods), fail_on, sorted(off))

