"""Probe configuration and the failure counts seen in events."""

from __future__ import annotations

from probectl.core import events as ev
from probectl.core.model import EventRecord, ProbeConfig, ProbeStats
from probectl.core.objects import get, integer, text

KINDS = ("liveness", "readiness", "startup")
SPEC_KEY = {"liveness": "livenessProbe", "readiness": "readinessProbe", "startup": "startupProbe"}


def _positive(probe: dict, key: str, default: int, minimum: int) -> int:
    v = integer(probe, key)
    return v if v is not None and v >= minimum else default


def handler(probe: dict) -> str:
    """The probe's action as `kubectl describe` prints it."""
    http = get(probe, "httpGet")
    if isinstance(http, dict):
        scheme = (text(http, "scheme") or "HTTP").lower()
        host = text(http, "host")
        return f"http-get {scheme}://{host}:{text(http, 'port')}{text(http, 'path') or '/'}"
    tcp = get(probe, "tcpSocket")
    if isinstance(tcp, dict):
        return f"tcp-socket {text(tcp, 'host')}:{text(tcp, 'port')}"
    grpc = get(probe, "grpc")
    if isinstance(grpc, dict):
        service = text(grpc, "service")
        return f"grpc <pod>:{text(grpc, 'port')}" + (f" {service}" if service else "")
    exe = get(probe, "exec")
    if isinstance(exe, dict):
        cmd = get(exe, "command")
        parts = [str(c) for c in cmd] if isinstance(cmd, list) else []
        return f"exec [{' '.join(parts)}]"
    return "unknown"


def config(spec: dict, kind: str) -> ProbeConfig | None:
    """The container's probe of `kind` with the API's defaults filled in, or None."""
    probe = get(spec, SPEC_KEY[kind])
    if not isinstance(probe, dict):
        return None
    return ProbeConfig(
        kind=kind,
        handler=handler(probe),
        initial_delay=_positive(probe, "initialDelaySeconds", 0, 0),
        period=_positive(probe, "periodSeconds", 10, 1),
        timeout=_positive(probe, "timeoutSeconds", 1, 1),
        success_threshold=_positive(probe, "successThreshold", 1, 1),
        failure_threshold=_positive(probe, "failureThreshold", 3, 1),
        termination_grace=integer(probe, "terminationGracePeriodSeconds"),
    )


def stats(spec: dict, events: list[EventRecord]) -> dict[str, ProbeStats]:
    """Per probe kind: its configuration and the failures, errors and kills in `events`
    (already narrowed to one container). Kinds with neither configuration nor events are
    left out."""
    out: dict[str, ProbeStats] = {}
    for kind in KINDS:
        failures = errors = kills = 0
        last_message, last_seen = "", None
        for e in events:
            result = ev.probe_result(e)
            if result and result[0] == kind:
                if result[1] == "failed":
                    failures += e.count
                else:
                    errors += e.count
                if last_seen is None or (e.last and e.last >= last_seen):
                    last_message, last_seen = e.message, e.last
            elif ev.probe_kill(e) == kind:
                kills += e.count
        cfg = config(spec, kind)
        if cfg or failures or errors or kills:
            out[kind] = ProbeStats(kind, cfg, failures, errors, kills, last_message, last_seen)
    return out
